"""The closed vocabularies of the domain model, without pydantic: the desk draws with them
before it loads the models (see `agentdesk.model.views`)."""

from __future__ import annotations

from enum import StrEnum


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


class ConversationStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer (was "waiting": read as pending)
    SNOOZED = "snoozed"  # put aside until `snoozed_until`
    CLOSED = "closed"


# Statuses stored by older versions, and what they are read as.
OLD_STATUSES = {"waiting": "pending"}


def conversation_status(value: str) -> ConversationStatus:
    """A stored or received status, old names read as today's."""
    return ConversationStatus(OLD_STATUSES.get(value, value))


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


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
