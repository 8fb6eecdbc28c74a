"""A customer's fields: a key, a typed value, a group, and where each value came from.

One record per field and customer. Every source that supplied a value keeps it in `values`
(one value per source: the desk, the API, each integration by name), ordered by the source
priority rule, so the first is the value shown and the rest are the values that lost:

    a value entered in the desk beats one sent by API, which beats one from integrations;
    among integrations the most recently synced wins.

The rule is `ranked`; the model applies it whenever a field is made, so the store, the desk
and a merge of two customers order the values the same way. Every kind of field (standard,
custom, third-party, properties, the header's figures) is this one record: new fields are
data, not code.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field as Attr, StringConstraints, field_validator, model_validator

from agentdesk.model.profile_kinds import FieldGroup, FieldSource, FieldType
from agentdesk.model.base import Id, Instant, Model
from agentdesk.model.field_views import (  # noqa: F401  (re-exported: how the desk lists fields)
    COMMON,
    COMMON_KEYS,
    LABELS,
    VIEWS,
    listed,
    shown,
    shown_group,
)

MAX_VALUES = 32  # sources one field can hold values from
MAX_TEXT = 4000
MAX_LIST = 100
Key = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
_KEY = re.compile(r"^[^\x00-\x1f\x7f-\x9f]+$")  # no control characters in a key

RANK = {FieldSource.DESK: 2, FieldSource.API: 1, FieldSource.INTEGRATION: 0}


def field_id(customer_id: str, key: str) -> str:
    """The id of a customer's field `key`: the same wherever it is made (the desk adding a
    field, an integration sending one, a merge), so every source's value lands in one record."""
    return "fld_" + hashlib.sha256(f"{customer_id}\0{key}".encode()).hexdigest()[:40]


def check_value(kind: FieldType | str, value: Any) -> Any:
    """`value` as a field of type `kind` holds it; ValueError if it is not one."""
    match kind:
        case FieldType.TEXT:
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise ValueError(f"a text field holds text (up to {MAX_TEXT} characters)")
        case FieldType.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value \
                    or value in (float("inf"), float("-inf")) or abs(value) > 2**53:
                raise ValueError("a number field holds a number")
        case FieldType.DATE:
            if not isinstance(value, str):
                raise ValueError("a date field holds a day as YYYY-MM-DD")
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError("a date field holds a day as YYYY-MM-DD") from None
            if len(value) != 10:
                raise ValueError("a date field holds a day as YYYY-MM-DD")
        case FieldType.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError("a yes/no field holds true or false")
        case FieldType.LIST:
            if not isinstance(value, list) or len(value) > MAX_LIST or not all(
                    isinstance(v, str) and len(v) <= 200 for v in value):
                raise ValueError(f"a list field holds up to {MAX_LIST} short texts")
        case _:
            raise ValueError(f"unknown field type {kind!r:.30}")
    return value


def parse_value(kind: FieldType | str, text: str) -> Any:
    """What an agent typed, as a value of type `kind` (ValueError with a readable reason)."""
    text = text.strip()
    match kind:
        case FieldType.NUMBER:
            try:
                number = float(text)
            except ValueError:
                raise ValueError("a number, e.g. 42 or 3.5") from None
            return check_value(kind, int(number) if number.is_integer() and "." not in text else number)
        case FieldType.BOOLEAN:
            answers = {"yes": True, "true": True, "y": True, "no": False, "false": False, "n": False}
            if text.lower() not in answers:
                raise ValueError("yes or no")
            return answers[text.lower()]
        case FieldType.LIST:
            return check_value(kind, [part.strip() for part in text.split(",") if part.strip()])
        case _:
            return check_value(kind, text)


class FieldValue(Model):
    """One source's value of a field, who or what set it and when."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    value: Any
    source: FieldSource
    integration: str = Attr(default="", max_length=120)  # the integration's name
    by: str = Attr(default="", max_length=200)  # the agent, API client or sync job
    at: Instant

    @model_validator(mode="after")
    def _named(self) -> FieldValue:
        if self.source == FieldSource.INTEGRATION and not self.integration.strip():
            raise ValueError("a value from an integration names the integration")
        if self.source != FieldSource.INTEGRATION and self.integration:
            raise ValueError("only a value from an integration names one")
        return self

    @property
    def origin(self) -> tuple[str, str]:
        """Which source this is: one value per origin."""
        return (self.source.value, self.integration)


def rank(source: str, at: Any, integration: str = "") -> tuple[int, Any, str]:
    """The sort key of the priority rule (higher wins): the source's rank, then the more
    recent; then the name, so two values of one instant still order the same everywhere."""
    return (RANK[FieldSource(source)], at, integration)


def ranked(values: Iterable[FieldValue]) -> list[FieldValue]:
    """The values in the rule's order: the winner first."""
    return sorted(values, key=lambda v: rank(v.source, v.at, v.integration), reverse=True)


def fold(old: Iterable[FieldValue], new: Iterable[FieldValue]) -> list[FieldValue]:
    """`old` values with `new` ones in: a source's new value replaces its old one (whatever
    their times: a source's latest word is its value), then the rule orders them."""
    by_origin = {v.origin: v for v in old}
    for value in new:
        by_origin[value.origin] = value
    return ranked(by_origin.values())


class Field(Model):
    """One field of a customer: every source's value of it, the winner first."""

    id: Id
    key: Key
    label: str = Attr(default="", max_length=200)  # how to name it; the key if empty
    type: FieldType = FieldType.TEXT
    group: FieldGroup = FieldGroup.CUSTOM
    values: list[FieldValue] = Attr(min_length=1, max_length=MAX_VALUES)

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        if not _KEY.match(key):
            raise ValueError("a field's key has no control characters")
        return key

    @model_validator(mode="after")
    def _checked(self) -> Field:
        origins = [v.origin for v in self.values]
        if len(set(origins)) != len(origins):
            raise ValueError("values: one value per source")
        for v in self.values:
            check_value(self.type, v.value)
        order = ranked(self.values)
        if order != self.values:
            self.__dict__["values"] = order
        return self

    @property
    def winner(self) -> FieldValue:
        return self.values[0]
