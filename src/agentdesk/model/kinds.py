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
    APP = "app"  # in-app and push: surveys shown in the app, push campaigns
    WEB = "web"  # the customer's own actions on the website or in the shop


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class EntryKind(StrEnum):
    """What a timeline entry is. Everything but MESSAGE happened outside a conversation (its
    `conversation_id` is empty) and carries `details`."""

    MESSAGE = "message"  # a conversation's message or internal note
    CAMPAIGN = "campaign"  # a marketing message, with its delivery status
    TRANSACTIONAL = "transactional"  # an order confirmation, a password reset: with its status
    SUBSCRIPTION = "subscription"  # subscribed to or left a list, consent given or withdrawn
    EVENT = "event"  # something the customer did: viewed a page, filled or emptied a cart
    ORDER = "order"  # an order placed, with its total and items
    SURVEY = "survey"  # a survey sent, with its status
    RESPONSE = "response"  # a survey answered: a score and what they wrote
    FEEDBACK = "feedback"  # feedback from another tool (survey tools, reviews, imported notes)


class KindGroup(StrEnum):
    """The timeline's kind filter: one key each."""

    CONVERSATIONS = "conversations"
    CAMPAIGN = "campaign"
    SUBSCRIPTION = "subscription"
    ECOMMERCE = "e-commerce"
    SURVEYS = "surveys"
    FEEDBACK = "feedback"


GROUP_OF: dict[EntryKind, KindGroup] = {
    EntryKind.MESSAGE: KindGroup.CONVERSATIONS,
    EntryKind.CAMPAIGN: KindGroup.CAMPAIGN,
    EntryKind.TRANSACTIONAL: KindGroup.CAMPAIGN,
    EntryKind.SUBSCRIPTION: KindGroup.SUBSCRIPTION,
    EntryKind.EVENT: KindGroup.ECOMMERCE,
    EntryKind.ORDER: KindGroup.ECOMMERCE,
    EntryKind.SURVEY: KindGroup.SURVEYS,
    EntryKind.RESPONSE: KindGroup.SURVEYS,
    EntryKind.FEEDBACK: KindGroup.FEEDBACK,
}


class EntryStatus(StrEnum):
    """Where a message or a survey got to. Messages: delivered, read, clicked, undelivered,
    unsubscribed; surveys: queued, sending, sent, opened, scored, responded, unsubscribed."""

    NONE = ""
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    READ = "read"
    CLICKED = "clicked"
    SCORED = "scored"
    RESPONDED = "responded"
    UNDELIVERED = "undelivered"
    UNSUBSCRIBED = "unsubscribed"


MESSAGE_STATUSES = frozenset({EntryStatus.DELIVERED, EntryStatus.READ, EntryStatus.CLICKED,
                              EntryStatus.UNDELIVERED, EntryStatus.UNSUBSCRIBED})
SURVEY_STATUSES = frozenset({EntryStatus.QUEUED, EntryStatus.SENDING, EntryStatus.SENT,
                             EntryStatus.OPENED, EntryStatus.SCORED, EntryStatus.RESPONDED,
                             EntryStatus.UNSUBSCRIBED})
# The statuses each kind may carry (a kind not named carries none).
STATUSES_OF: dict[EntryKind, frozenset[EntryStatus]] = {
    EntryKind.CAMPAIGN: MESSAGE_STATUSES,
    EntryKind.TRANSACTIONAL: MESSAGE_STATUSES,
    EntryKind.SURVEY: SURVEY_STATUSES,
}
