"""How the desk lists a customer's fields, without pydantic (the desk draws before it loads
the models: see `model.views`): the common fields, the views, the filter, a value as text.
The fields themselves and the source priority rule are `model.fields`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentdesk.model.profile_kinds import FieldType


def shown(value: Any) -> str:
    """A value as one line of text (its type says how)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


# The fields most customers have ("common fields", the default view), in the order shown; a
# common field no source has filled is listed as unknown.
COMMON: tuple[tuple[str, str, FieldType], ...] = (
    ("first_name", "First name", FieldType.TEXT),
    ("last_name", "Last name", FieldType.TEXT),
    ("birth_year", "Birth year", FieldType.NUMBER),
    ("gender", "Gender", FieldType.TEXT),
    ("timezone", "Time zone", FieldType.TEXT),
    ("language", "Language", FieldType.TEXT),
    ("address.city", "City", FieldType.TEXT),
    ("address.country", "Country", FieldType.TEXT),
    ("persona", "Persona", FieldType.TEXT),
)
COMMON_KEYS = frozenset(key for key, _, _ in COMMON)
VIEWS = ("common", "known", "all")
COMPANY = "company"  # the group `company.*` properties are shown in


def shown_group(key: str, group: str) -> str:
    """The group a field is listed under: the customer's company for `company.*` keys."""
    return COMPANY if key.startswith("company.") else group


def listed(fields: Sequence[Any], view: str, text: str = "") -> list[tuple[str, Any]]:
    """The (key, field or None) pairs a view shows, filtered by `text` (in the key, label or
    winning value, any case). `common`: the common fields, known or not; `known`: the fields
    with a value; `all`: both. Works on stored views and models alike (`key`, `values`)."""
    by_key = {f.key: f for f in fields}
    if view == "common":
        pairs = [(key, by_key.get(key)) for key in COMMON_KEYS_ORDERED]
    elif view == "known":
        pairs = sorted(by_key.items())
    else:
        pairs = sorted({**{k: None for k in COMMON_KEYS}, **by_key}.items())
    needle = text.strip().casefold()
    if not needle:
        return pairs
    return [(key, f) for key, f in pairs if needle in _haystack(key, f)]


COMMON_KEYS_ORDERED = tuple(key for key, _, _ in COMMON)
LABELS = {key: label for key, label, _ in COMMON}


def _haystack(key: str, f: Any) -> str:
    if f is None:
        return f"{key} {LABELS.get(key, '')}".casefold()
    return f"{key} {getattr(f, 'label', '')} {shown(f.values[0].value)}".casefold()
