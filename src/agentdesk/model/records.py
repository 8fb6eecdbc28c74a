"""Domain model of a customer profile.

Plain pydantic models, so data from any source (cache, demo generator, a remote store, a form)
is validated the same way. New kinds of profile data (surveys, consent, events, properties)
are added as new models and new lists on `Profile`; nothing else needs to change.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from agentdesk.model.base import (  # noqa: F401  (re-exported: imported from here)
    EARLIEST,
    LATEST,
    Id,
    Instant,
    Model,
    new_id,
    parse_instant,
    utcnow,
)
from agentdesk.model.contact_values import normalize_contact
from agentdesk.model.fields import Field as ProfileField
from agentdesk.model.identifiers import Identifier, Segment, Subscription
from agentdesk.model.kinds import (
    STATUSES_OF,
    Channel,
    ContactKind,
    ConversationStatus,
    CustomerStatus,
    Direction,
    EntryKind,
    EntryStatus,
    Priority,
    conversation_status,
)
from agentdesk.model.views import converted, primary_of

M = TypeVar("M", bound="Model")


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


def _read_status(value: Any) -> Any:
    """Statuses older versions wrote ("waiting") read as today's."""
    return conversation_status(value) if isinstance(value, str) else value


Status = Annotated[ConversationStatus, BeforeValidator(_read_status)]
LAST_LINE = 200  # characters of an entry's first line a conversation keeps as its `last_line`


def last_line_of(body: str) -> str:
    """What a conversation shows of its latest entry: the first line that has text, cut."""
    for line in body.splitlines():
        if line.strip():
            return line.strip()[:LAST_LINE]
    return ""


class Conversation(Model):
    id: Id = Field(default_factory=lambda: new_id("conv"))
    topic: str
    status: Status = ConversationStatus.NEW
    channels: list[Channel] = Field(default_factory=list)
    started: Instant
    ended: Instant | None = None
    # The agent's name as the store knows it ("" = unassigned).
    assignee: str = ""
    snoozed_until: Instant | None = None  # status snoozed: back in the queue then
    priority: Priority = Priority.NORMAL
    tags: list[str] = []  # a plain default (pydantic copies it): a record may leave it out
    # Since when the customer waits for an answer (their message no agent answered yet), set
    # by the store: the queue's "oldest waiting first" without reading timelines.
    waiting_since: Instant | None = None
    last_line: str = ""  # the latest entry's first line (`last_line_of`), set by the store


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
    fields: list[ProfileField] = Field(default_factory=list)
    identifiers: list[Identifier] = Field(default_factory=list)
    subscriptions: list[Subscription] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)

    def primary(self, kind: ContactKind) -> ContactPoint | None:
        """The primary contact point of a kind, else the first one, else None."""
        return primary_of(self.contacts, kind)


class CannedReply(Model):
    """A reply template kept in the store, with placeholders such as {customer.first_name}."""

    id: Id = Field(default_factory=lambda: new_id("can"))
    title: str
    body: str
    tags: list[str] = Field(default_factory=list)


class AgentInfo(Model):
    """An agent the store knows: `name` is what a conversation's assignee holds."""

    name: Id
    display_name: str = ""


# The kind of record (see `stored.CONVERTERS`) each model is stored as.
_STORED_KINDS: dict[type[Model], str] = {
    ContactPoint: "contact",
    Relationship: "relationship",
    Note: "note",
    Conversation: "conversation",
    TimelineEntry: "entry",
    Customer: "customer",
    ProfileField: "field",
    Identifier: "identifier",
    Subscription: "subscription",
    Segment: "segment",
}
_PROFILE_LISTS = {"contacts": ContactPoint, "relationships": Relationship, "notes": Note,
                  "conversations": Conversation, "fields": ProfileField,
                  "identifiers": Identifier, "subscriptions": Subscription, "segments": Segment}
# Kinds read back through pydantic however short the list: a field's values are models too.
_VALIDATED_KINDS = (ProfileField,)


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
    if cls in _VALIDATED_KINDS or (len(docs) >= LONG_LIST and cls is not ContactPoint):
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
    "field": ProfileField,
    "identifier": Identifier,
    "subscription": Subscription,
    "segment": Segment,
}
