"""Domain model of a customer profile.

Plain pydantic models, so data from any source (cache, demo generator, a remote store, a form)
is validated the same way. New kinds of profile data (surveys, consent, events, properties)
are added as new models and new lists on `Profile`; nothing else needs to change.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, model_validator

from agentdesk.core.validation import normalize_contact

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]


def new_id(prefix: str) -> str:
    """A client-made id: unique without asking a server, so a retried create never duplicates."""
    return f"{prefix}_{uuid.uuid4().hex}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    """Base of every domain model: unknown fields are kept, so newer data survives a round trip."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    VIP = "vip"
    PROSPECT = "prospect"
    CHURNED = "churned"
    BLOCKED = "blocked"


class ContactKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    SOCIAL = "social"


class ContactPoint(Model):
    """One way to reach the customer: an email, phone, postal address or social handle.

    Frozen: a value is checked against its kind once, when made; an edit makes a new one.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    id: Id = Field(default_factory=lambda: new_id("cp"))
    kind: ContactKind
    value: str
    label: str = ""
    primary: bool = False

    @model_validator(mode="after")
    def _check_value(self, info: ValidationInfo) -> ContactPoint:
        # Data read back from our own cache was checked when it was written: skip the check
        # (and the import of the e-mail checker) on the start-up path.
        if not (info.context or {}).get("stored"):
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
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class ConversationStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    CLOSED = "closed"


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    SMS = "sms"
    VOICE = "voice"
    SOCIAL = "social"
    NOTE = "note"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class Conversation(Model):
    id: Id = Field(default_factory=lambda: new_id("conv"))
    topic: str
    status: ConversationStatus = ConversationStatus.NEW
    channels: list[Channel] = Field(default_factory=list)
    started: datetime
    ended: datetime | None = None
    assignee: str = ""


class TimelineEntry(Model):
    """One interaction in the merged, cross-channel history."""

    id: Id = Field(default_factory=lambda: new_id("ent"))
    conversation_id: Id
    at: datetime
    channel: Channel
    direction: Direction
    author: str = ""
    subject: str = ""
    body: str = ""


class Customer(Model):
    id: Id = Field(default_factory=lambda: new_id("cus"))
    name: str
    company: str = ""
    status: CustomerStatus = CustomerStatus.ACTIVE
    tags: list[str] = Field(default_factory=list)
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)
    source: str = ""


class Profile(Model):
    """Everything the desk shows about one customer except the timeline entries.

    The timeline is kept apart because it can hold 100,000 entries: it is read a chunk at a
    time (see `agentdesk.core.cache.Timeline`).
    """

    customer: Customer
    contacts: list[ContactPoint] = Field(default_factory=list)
    relationships: list[Relationship] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    conversations: list[Conversation] = Field(default_factory=list)

    def primary(self, kind: ContactKind) -> ContactPoint | None:
        """The primary contact point of a kind, else the first one, else None."""
        points = [c for c in self.contacts if c.kind == kind]
        return next((c for c in points if c.primary), points[0] if points else None)


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
