"""The customers table's columns as data: what each shows, how wide, how it sorts.

A column is one entry of `COLUMNS`: its id (also its export field and the name remembered
in the panel state), its title, its width on screen, how to read its value from an index
row, how to show the value and how to sort it. Adding a column (a new `IndexRow` attribute)
is adding one entry here; the table, the column picker, the sort keys and the export follow.

Values are kept as read (`str`, or a tuple of `str` for lists), so the table can share equal
values between rows (`repeats`: statuses, companies, tags) and the export writes them as
`agentdesk export` does (lists stay lists in JSON).

Besides these fixed columns, any field of the customers (`model.fields`, the winning value
the index row keeps) is a column: `field:<key>`, made from its id by `column_of`, not listed
in `COLUMNS` (the keys are whatever the customers have).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agentdesk.cache.search_index import IndexRow
from agentdesk.model.field_views import LABELS
from agentdesk.model.field_views import shown as shown_value
from agentdesk.model.fold import fold
from agentdesk.model.sanitize import clean_line

# A field column's value is also a float, or None for a customer without the field.
Value = str | tuple[str, ...] | bool | int | float | None
FIELD = "field:"  # the prefix of a field column's id


def _attr(name: str) -> Callable[[IndexRow], Value]:
    def get(row: IndexRow) -> Value:
        value = getattr(row, name)
        if isinstance(value, list):
            return tuple(value)
        # Yes/no and counts stay themselves: they sort as such and export as `agentdesk export`
        # writes them (true/false, numbers).
        return value if isinstance(value, bool | int) else str(value)
    return get


def _text(value: Value) -> str:
    return ", ".join(value) if isinstance(value, tuple) else str(value)


def _folded(value: Value) -> Any:
    """Text sorts case and accents folded, empty values last (ascending)."""
    text = _text(value)
    return (not text, fold(text))


def _date(value: Value) -> str:
    """An ISO time shown as its date (the table has no room for the time of day)."""
    return str(value)[:10]


def _as_is(value: Value) -> Any:
    return (not value, value)


def _yes_no(value: Value) -> str:
    return "yes" if value else "no"


def _number(value: Value) -> Any:
    return value


@dataclass(frozen=True)
class Column:
    id: str  # the IndexRow attribute and the export field
    title: str
    width: int  # cells on screen (the last column shown takes what is left)
    get: Callable[[IndexRow], Value]
    show: Callable[[Value], str] = _text
    key: Callable[[Value], Any] = _folded
    repeats: bool = False  # few distinct values: rows share them (memory)


def column(id: str, title: str, width: int, **options: Any) -> Column:
    return Column(id, title, width, _attr(id), **options)


COLUMNS: tuple[Column, ...] = (
    column("name", "Name", 22),
    column("company", "Company", 16, repeats=True),
    column("email", "E-mail", 27),
    column("phone", "Phone", 16),
    column("status", "Status", 10, repeats=True),
    column("tags", "Tags", 14, repeats=True),
    column("segments", "Segments", 18, repeats=True),
    column("channels", "Channels", 14, repeats=True),
    column("last_contact", "Last contact", 12, show=_date, key=_as_is),
    column("id", "Id", 12),
    # The chart's facts (schema 9), also offered by `agentdesk export --fields`.
    column("since", "Since", 11, show=_date, key=_as_is),
    column("reachable", "Reachable", 10, show=_yes_no, key=_number, repeats=True),
    column("open_conversations", "Open", 5, show=str, key=_number, repeats=True),
)
BY_ID = {c.id: c for c in COLUMNS}
DEFAULT_SHOWN = ("name", "company", "email", "phone", "status", "tags", "last_contact")


def field_key(column_id: str) -> str | None:
    """The field key of a field column's id (`field:plan` -> `plan`); None for another id."""
    return column_id[len(FIELD):] or None if column_id.startswith(FIELD) else None


def column_of(column_id: str) -> Column | None:
    """The column of an id: a fixed one, a field column (`field:<key>`), None for neither."""
    found = BY_ID.get(column_id)
    if found is not None:
        return found
    key = field_key(column_id)
    return None if key is None else _field_column(key)


@lru_cache(maxsize=1024)  # a column is made once per key (the table draws it line by line)
def _field_column(key: str) -> Column:
    def get(row: IndexRow) -> Value:
        value = row.fields.get(key) if row.fields else None
        return tuple(value) if isinstance(value, list) else value

    # The key is the customer data's own text: its title is cleaned like any value shown.
    return Column(FIELD + key, clean_line(LABELS.get(key, key)), 14, get, show=_field_shown,
                  key=_field_sort, repeats=True)


def _field_shown(value: Value) -> str:
    if value is None:
        return ""
    return shown_value(list(value) if isinstance(value, tuple) else value)


def _field_sort(value: Value) -> Any:
    """Customers without the field (or with it empty) last; numbers by their value, before
    the rest; yes/no as a number (no before yes); text, dates (ISO: in order as text) and
    lists as folded text. One key can hold values of different types (a field is typed per
    customer): the second item keeps them from being compared with each other."""
    if value is None or value == "" or value == ():
        return (True, 0, 0)
    if isinstance(value, bool | int | float):
        return (False, 0, value)
    return (False, 1, fold(_text(value)))
