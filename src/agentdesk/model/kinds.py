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
