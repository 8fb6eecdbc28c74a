"""Records the cache wrote, read back for display without pydantic.

Everything in the cache was validated by the models before it was written. The desk shows
what it reads through these read-only views: nothing is checked a second time, and nothing
waits for pydantic, whose import and model classes are a large part of a start-up.
Whatever changes data goes through the models (`agentdesk.model.records`), which load then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Protocol, TypeVar, overload

from agentdesk.model.kinds import (
    OLD_STATUSES,
    Channel,
    ContactKind,
    ConversationStatus,
    CustomerStatus,
    Direction,
    EntryKind,
    EntryStatus,
    Priority,
)
from agentdesk.model.profile_kinds import (
    Consent,
    FieldGroup,
    FieldSource,
    FieldType,
    IdentifierKind,
    SubscriptionKind,
)


_EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)  # as records.EARLIEST / LATEST
_LATEST = datetime(9999, 12, 30, tzinfo=timezone.utc)


def _time(value: str | None) -> datetime | None:
    """A stored time. One the checks would refuse now (no zone, out of range: written by a
    version that checked less) is a ValueError here, so the cache names the customer as
    damaged and it is rebuilt, instead of a comparison failing in the middle of a draw."""
    if value is None:
        return None
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError(f"a stored time without its zone: {value[:40]}")
    try:
        if _EARLIEST <= when <= _LATEST:
            return when
    except OverflowError:
        pass
    raise ValueError(f"a stored time out of range: {value[:40]}")


_fromisoformat = datetime.fromisoformat


def _times(values: list[str | None]) -> list[datetime | None]:
    """`_time` of a whole column, checked in bulk: opening a customer converts the start
    and end of each of up to thousands of conversations. Any doubt, and each value is
    converted again by `_time`, which names the one at fault."""
    whens = [None if value is None else _fromisoformat(value) for value in values]
    try:
        present = [when for when in whens if when is not None] if None in whens else whens
        # min/max compare in C; a time without its zone cannot be compared with one with.
        if present and (min(present) < _EARLIEST or max(present) > _LATEST):  # type: ignore[type-var]
            raise ValueError("out of range")
    except (TypeError, ValueError, OverflowError):
        return [_time(value) for value in values]
    return whens


def _member(enum: type[StrEnum]) -> Callable[[str], Any]:
    """The member of a stored value: a dict lookup (calling the enum is several times dearer,
    and a customer with thousands of conversations has thousands of such fields)."""
    return {member.value: member for member in enum}.__getitem__


_channel = _member(Channel)
# A conversation's status; names older versions stored are read as today's ("waiting").
_status = {**{m.value: m for m in ConversationStatus},
           **{old: ConversationStatus(new) for old, new in OLD_STATUSES.items()}}.__getitem__
_priorities = {m.value: m for m in Priority}


def _priority(value: str | None) -> Priority:
    """Conversations stored before priorities were kept have none: normal."""
    return _priorities[value] if value is not None else Priority.NORMAL


def _channels(values: list[str]) -> list[Channel]:
    return [_channel(v) for v in values]


# How each stored field's JSON becomes its type again, per kind of record (the keys of
# models.RECORD_MODELS); fields not named here are stored as they are shown.
CONVERTERS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "customer": {"status": _member(CustomerStatus), "created": _time, "updated": _time},
    "contact": {"kind": _member(ContactKind)},
    "relationship": {},
    "note": {"created": _time, "updated": _time},
    "conversation": {"status": _status, "channels": _channels, "started": _time,
                     "ended": _time, "priority": _priority, "snoozed_until": _time,
                     "waiting_since": _time},
    "entry": {"at": _time, "channel": _channel, "direction": _member(Direction),
              "kind": _member(EntryKind), "status": _member(EntryStatus)},
    "field": {"type": _member(FieldType), "group": _member(FieldGroup),
              "values": lambda values: [Stored("field_value", v) for v in values]},
    "field_value": {"source": _member(FieldSource), "at": _time},  # inside a field
    "identifier": {"kind": _member(IdentifierKind), "consent": _member(Consent),
                   **{name: _time for name in ("last_seen", "consent_at", "blacklisted_at",
                                               "spam_report_at", "unsubscribed_at",
                                               "ccpa_opt_out_at")}},
    "subscription": {"kind": _member(SubscriptionKind), "subscribed_at": _time},
    "segment": {"since": _time},
}


# Fields newer than some stored records, and what a record without them reads as (every entry
# of a cache older than schema 7 is a message, with no status).
DEFAULTS: dict[str, dict[str, Any]] = {
    "conversation": {"priority": Priority.NORMAL, "tags": [], "snoozed_until": None,
                     "waiting_since": None, "last_line": ""},
    "entry": {"kind": EntryKind.MESSAGE, "status": EntryStatus.NONE, "details": {},
              "conversation_id": ""},
}


def converted(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
    return _convert(CONVERTERS[kind].items(), dict(doc))


def _convert(converters: Iterable[tuple[str, Callable[[Any], Any]]],
             values: dict[str, Any]) -> dict[str, Any]:
    """`values` with the named fields converted in place: a copy and a few lookups, not a
    Python loop over every field (a customer can have 1,200 conversations)."""
    for name, convert in converters:
        if name in values:
            values[name] = convert(values[name])
    return values


class Stored:
    """One stored record, its fields as attributes (`note.text`, `entry.at`)."""

    def __init__(self, kind: str, doc: dict[str, Any]) -> None:
        if kind in DEFAULTS:
            self.__dict__.update(DEFAULTS[kind])
        self.__dict__.update(doc)
        defaults = DEFAULTS.get(kind)
        if defaults and not defaults.keys() <= doc.keys():  # written before they existed
            for name, value in defaults.items():
                self.__dict__.setdefault(name, value)
        _convert(CONVERTERS[kind].items(), self.__dict__)

    def __getattr__(self, name: str) -> Any:  # for type checkers: fields are dynamic
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"Stored({self.__dict__!r})"


class StoredRecords(Sequence[Stored]):
    """Stored records of one kind, each made into a view when first read: opening a long
    timeline draws about ten entries of the 200 in its newest file, and the details panel
    shows a few of a customer's (up to thousands of) conversations."""

    def __init__(self, kind: str, docs: list[dict[str, Any]]) -> None:
        self._kind = kind
        self._docs = docs
        self._made: list[Stored | None] = [None] * len(docs)
        self._fields: dict[str, list[Any]] = {}  # `field`'s answers: the docs never change

    def __len__(self) -> int:
        return len(self._docs)

    @overload
    def __getitem__(self, index: int) -> Stored: ...

    @overload
    def __getitem__(self, index: slice) -> list[Stored]: ...

    def __getitem__(self, index: int | slice) -> Stored | list[Stored]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._docs)))]
        made = self._made[index]
        if made is None:
            made = self._made[index] = Stored(self._kind, self._docs[index])
        return made

    def field(self, name: str) -> list[Any]:
        """One field of every record, converted, without making the views: what sorting or
        grouping them needs, at a tenth of the cost of making every view. Kept, and shared
        (not to be changed): opening a customer asks for the conversations' start times twice
        (checked, then grouped)."""
        if name in self._fields:
            return self._fields[name]
        convert = CONVERTERS[self._kind].get(name)
        default = DEFAULTS.get(self._kind, {}).get(name)
        if default is not None:
            values = [convert(doc[name]) if convert and name in doc else doc.get(name, default)
                      for doc in self._docs]
        else:
            values = [doc.get(name) for doc in self._docs]
            if convert is _time:
                values = _times(values)
            elif convert:
                values = [convert(v) for v in values]
        self._fields[name] = values
        return values


class _Contact(Protocol):
    kind: ContactKind
    primary: bool


C = TypeVar("C", bound=_Contact)


def primary_of(contacts: Iterable[C], kind: ContactKind) -> C | None:
    """The primary contact point of a kind, else the first one, else None."""
    points = [c for c in contacts if c.kind == kind]
    return next((c for c in points if c.primary), points[0] if points else None)


class StoredProfile:
    """A profile as the desk shows it: the customer and the lists of `Stored` records."""

    def __init__(self, tables: dict[str, Any]) -> None:
        self.customer = Stored("customer", tables["customer"])
        self.contacts = [Stored("contact", d) for d in tables["contacts"]]
        self.relationships = [Stored("relationship", d) for d in tables["relationships"]]
        self.notes = [Stored("note", d) for d in tables["notes"]]
        self.conversations = StoredRecords("conversation", tables["conversations"])
        # Made into views when first read (the pane that shows them may never be opened); a
        # cache of schema 5 or older never held them: absent means none.
        self.fields = StoredRecords("field", tables.get("fields") or [])
        self.identifiers = StoredRecords("identifier", tables.get("identifiers") or [])
        self.subscriptions = StoredRecords("subscription", tables.get("subscriptions") or [])
        self.segments = StoredRecords("segment", tables.get("segments") or [])

    def primary(self, kind: ContactKind) -> Stored | None:
        return primary_of(self.contacts, kind)
