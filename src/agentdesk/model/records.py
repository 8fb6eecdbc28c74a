"""Domain model of a customer profile.

Plain pydantic models, so data from any source (cache, demo generator, a remote store, a form)
is validated the same way. New kinds of profile data (surveys, consent, events, properties)
are added as new models and new lists on `Profile`; nothing else needs to change.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from agentdesk.model.kinds import (
    STATUSES_OF,
    Channel,
    ContactKind,
    ConversationStatus,
    CustomerStatus,
    Direction,
    EntryKind,
    EntryStatus,
)
from agentdesk.model.views import converted, primary_of
from agentdesk.model.contact_values import normalize_contact

M = TypeVar("M", bound="Model")
Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]


# The times a record may hold: a day inside what Python's datetime can represent, so every
# one of them can be shifted to any time zone (for display, for comparing two of them) and
# written back. Outside it, comparing or converting raised OverflowError in the desk.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


_fromisoformat = datetime.fromisoformat


def parse_instant(value: Any) -> datetime:
    """A stored or received time as the desk reads it back (`datetime.fromisoformat`, as
    `model.views` does), refused unless it names its zone and lies in EARLIEST..LATEST.

    Only ISO 8601 text (or a datetime) is taken: pydantic alone would also read `0` or
    "1717236000" as a Unix time and a bare "2024-06-01" as midnight without a zone, and the
    cache keeps the text as received, which the desk then could not read (or compare).
    """
    if type(value) is str:
        try:
            when = _fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 date and time") from None
        if when.tzinfo is not None and 1 < when.year < 9999:  # the common case, first: a
            return when  # fixed offset, and any zone's shift of it stays in range
    elif isinstance(value, datetime):
        when = value
    else:
        raise ValueError(f"a date and time must be ISO 8601 text, not {type(value).__name__}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("a date and time needs its time zone (e.g. Z or +02:00)")
    if 1 < when.year < 9999:  # any zone's shift stays inside: the common case, no comparing
        return when
    try:
        in_range = EARLIEST <= when <= LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError("a date and time out of range (years 1 to 9999, UTC)")
    return when


# Every time in a record: aware, in range, and readable the way the desk reads it back.
Instant = Annotated[datetime, BeforeValidator(parse_instant)]


def new_id(prefix: str) -> str:
    """A client-made id: unique without asking a server, so a retried create never duplicates."""
    return f"{prefix}_{uuid.uuid4().hex}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    """Base of every domain model: unknown fields are kept, so newer data survives a round trip."""

    # Schemas are built on first validation, not at import: the desk paints its first profile
    # from stored data (see `from_stored`) without building any.
    model_config = ConfigDict(extra="allow", validate_assignment=True, defer_build=True)


class ContactPoint(Model):
    """One way to reach the customer: an email, phone, postal address or social handle.

    Frozen: a value is checked against its kind once, when made; an edit makes a new one.
    """

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    id: Id = Field(default_factory=lambda: new_id("cp"))
    kind: ContactKind
    value: str
    label: str = ""
    primary: bool = False

    @model_validator(mode="after")
    def _check_value(self) -> ContactPoint:
        value = normalize_contact(self.kind.value, self.value)
        if value != self.value:
            self.__dict__["value"] = value
        return self


class Relationship(Model):
    """A link to another customer, e.g. "spouse" or "assistant"."""

    id: Id = Field(default_factory=lambda: new_id("rel"))
    customer_id: Id
    label: str
    name: str = ""  # the other customer's name when the link was made; refreshed on display


class Note(Model):
    """A detail the agents learned about the customer ("allergic to nuts")."""

    id: Id = Field(default_factory=lambda: new_id("note"))
    text: str
    author: str = ""
    created: Instant = Field(default_factory=utcnow)
    updated: Instant = Field(default_factory=utcnow)


class Conversation(Model):
    id: Id = Field(default_factory=lambda: new_id("conv"))
    topic: str
    status: ConversationStatus = ConversationStatus.NEW
    channels: list[Channel] = Field(default_factory=list)
    started: Instant
    ended: Instant | None = None
    assignee: str = ""


DetailKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# A detail's value: text, a number, a yes/no, or a list of words (a response's tags).
DetailValue = str | bool | int | float | list[str] | None


class TimelineEntry(Model):
    """One thing that happened to the customer, in the merged history of every kind: a
    conversation's message or note, a survey sent or answered, a campaign or transactional
    message with its delivery status, an event, an order, feedback from another tool.

    `subject` is the entry's title (a campaign's name, "Order #1234"), `body` its text (what
    the customer wrote), `details` what the entry shows expanded (a response's score and tags,
    an order's items): named values, drawn as they are, never interpreted.
    """

    id: Id = Field(default_factory=lambda: new_id("ent"))
    conversation_id: str = Field(default="", max_length=128)  # empty: not in a conversation
    at: Instant
    channel: Channel
    direction: Direction
    author: str = ""
    subject: str = ""
    body: str = ""
    kind: EntryKind = EntryKind.MESSAGE
    status: EntryStatus = EntryStatus.NONE
    details: dict[DetailKey, DetailValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_kind(self) -> TimelineEntry:
        why = entry_problem(self.kind.value, self.status.value, self.conversation_id)
        if why:
            raise ValueError(why)
        return self


_STATUSES = {kind.value: {s.value for s in statuses} for kind, statuses in STATUSES_OF.items()}


def entry_problem(kind: str, status: str, conversation_id: str) -> str | None:
    """Why an entry's kind, status and conversation do not go together, or None (values
    already checked one by one)."""
    if kind == EntryKind.MESSAGE.value and not conversation_id:
        return "conversation_id: a message belongs to a conversation"
    if status and status not in _STATUSES.get(kind, ()):
        return f"status: a {kind} entry cannot be {status}"
    return None


def _entry_fields_problem(data: dict[str, Any]) -> str | None:
    return entry_problem(data.get("kind") or "message", data.get("status") or "",
                         data.get("conversation_id") or "")


class Customer(Model):
    id: Id = Field(default_factory=lambda: new_id("cus"))
    name: str
    company: str = ""
    status: CustomerStatus = CustomerStatus.ACTIVE
    tags: list[str] = Field(default_factory=list)
    created: Instant = Field(default_factory=utcnow)
    updated: Instant = Field(default_factory=utcnow)
    source: str = ""
    # The customer's time zone, an IANA name ("Europe/Paris"), when known: the desk shows their
    # local time beside the agent's. A name the system does not know is kept and not shown.
    timezone: str = ""


class Profile(Model):
    """Everything the desk shows about one customer except the timeline entries.

    The timeline is kept apart because it can hold 100,000 entries: it is read a chunk at a
    time (see `agentdesk.cache.cache.Timeline`).
    """

    customer: Customer
    contacts: list[ContactPoint] = Field(default_factory=list)
    relationships: list[Relationship] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    conversations: list[Conversation] = Field(default_factory=list)

    def primary(self, kind: ContactKind) -> ContactPoint | None:
        """The primary contact point of a kind, else the first one, else None."""
        return primary_of(self.contacts, kind)


# The kind of record (see `stored.CONVERTERS`) each model is stored as.
_STORED_KINDS: dict[type[Model], str] = {
    ContactPoint: "contact",
    Relationship: "relationship",
    Note: "note",
    Conversation: "conversation",
    TimelineEntry: "entry",
    Customer: "customer",
}
_PROFILE_LISTS = {"contacts": ContactPoint, "relationships": Relationship, "notes": Note,
                  "conversations": Conversation}


def from_stored(cls: type[M], doc: dict[str, Any]) -> M:
    """A model made from data the cache wrote, without validating it again.

    Everything in the cache was validated before it was written; reading it back through
    pydantic would build every schema before the desk's first paint and
    check each of a timeline's entries a second time. Fields are converted, not checked.
    """
    if cls is Profile:
        values = {k: (_stored_list(_PROFILE_LISTS[k], v) if k in _PROFILE_LISTS
                      else from_stored(Customer, v) if k == "customer" else v)
                  for k, v in doc.items()}
    else:
        values = converted(_STORED_KINDS[cls], doc)
    return cls.model_construct(**values)


LONG_LIST = 500  # a stored list this long is validated rather than converted


def _stored_list(cls: type[M], docs: list[dict[str, Any]]) -> list[M]:
    """Long lists (a customer with 1,200 conversations) go through pydantic's validator: in
    Rust it is faster than converting in Python, once its schema is built (the first time a
    long list is read). Contacts never: their check could refuse an old value."""
    if len(docs) >= LONG_LIST and cls is not ContactPoint:
        return [cls.model_validate(d) for d in docs]
    return [from_stored(cls, d) for d in docs]


# Checks of a record type across its fields, besides each field's own (what a model-level
# validator checks, for data checked field by field: `model.changes`).
RECORD_CHECKS: dict[str, Any] = {"entry": _entry_fields_problem}

# The domain model each kind of synced record is validated with, by the store on every write
# and by the desk on every record it receives (keys are protocol.RecordType values).
RECORD_MODELS: dict[str, type[Model]] = {
    "customer": Customer,
    "contact": ContactPoint,
    "relationship": Relationship,
    "note": Note,
    "conversation": Conversation,
    "entry": TimelineEntry,
}
