"""What the mutations of working a conversation carry, checked the same way at both ends.

A desk makes these edits (reply, change a conversation's status or assignee, start a
conversation, create or erase a customer, relationships) and the store applies them; both
check them with the functions here, so what the desk refuses up front is exactly what the
store would reject, and a conversation changed by the desk reads the same as the one the
store then sends back (`conversation_after_update`, `conversation_after_entry`). No I/O.
The kinds and their rules are described for people in docs/sync-protocol.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from agentdesk.model.kinds import Channel, ConversationStatus, Direction, conversation_status
from agentdesk.model.records import (
    Conversation,
    Customer,
    ContactPoint,
    Relationship,
    TimelineEntry,
    last_line_of,
)
from agentdesk.model.sanitize import clean_line

# The fields `conversation.update` may set.
CONVERSATION_FIELDS = ("status", "snoozed_until", "assignee", "topic", "tags", "priority")
# Statuses a conversation is in the queue with.
QUEUED = frozenset({ConversationStatus.NEW, ConversationStatus.OPEN, ConversationStatus.PENDING,
                    ConversationStatus.SNOOZED})
MAX_BODY = 1 << 20  # characters of a reply or first message


class Refused(ValueError):
    """An edit either end refuses; the message says why, for the agent (no value echoed)."""


def why(error: ValidationError) -> str:
    """A validation error as one line: where, and the validator's words."""
    parts = []
    for e in error.errors():
        message = str(e["ctx"]["error"]) if e["type"] == "value_error" and "ctx" in e else e["msg"]
        where = ".".join(str(p) for p in e["loc"])
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _status(value: Any) -> ConversationStatus | None:
    try:
        return conversation_status(value) if isinstance(value, str) else None
    except ValueError:
        return None


def conversation_after_update(current: dict[str, Any], set_: dict[str, Any],
                              now: datetime) -> dict[str, Any]:
    """The fields `set_` changes on the conversation `current` (JSON), with what follows from
    them: leaving snoozed clears `snoozed_until`; closing sets `ended` (now), reopening clears
    it. Refused: an unknown field, a value the model refuses, snoozed without a
    `snoozed_until` in the future, a `snoozed_until` on a conversation not snoozed, a topic
    set empty. Returns the changed fields as JSON values."""
    unknown = sorted(set(set_) - set(CONVERSATION_FIELDS))
    if unknown:
        raise Refused(f"conversation.update cannot set: {', '.join(unknown)}")
    out = dict(set_)
    status = _status(out.get("status", current.get("status")))
    if "status" in out and status is not None:
        if status != ConversationStatus.SNOOZED:
            out["snoozed_until"] = None
        if status == ConversationStatus.CLOSED:
            if not current.get("ended"):
                out["ended"] = now
        elif current.get("ended"):
            out["ended"] = None
    if "tags" in out and isinstance(out["tags"], list):
        out["tags"] = list(dict.fromkeys(t.strip() for t in out["tags"]
                                         if isinstance(t, str) and t.strip()))
    try:
        conv = Conversation.model_validate({**current, **out})
    except ValidationError as error:
        raise Refused(why(error)) from None
    if "topic" in out and not conv.topic.strip():  # (one that came without: left alone)
        raise Refused("topic: a conversation needs a topic")
    if conv.status == ConversationStatus.SNOOZED:
        if conv.snoozed_until is None or conv.snoozed_until <= now:
            raise Refused("snoozed_until: a snoozed conversation needs a time in the future")
    elif conv.snoozed_until is not None:
        raise Refused("snoozed_until: only a snoozed conversation has one")
    dumped = conv.model_dump(mode="json")
    return {k: dumped[k] for k in out}


def conversation_after_entry(conversation: dict[str, Any], entry: dict[str, Any]
                             ) -> dict[str, Any]:
    """The fields an added entry changes on its conversation (JSON): `last_line`; an inbound
    one starts the customer's wait (`waiting_since`, if not waiting already); an agent's reply
    ends it, reopens a closed or snoozed conversation as pending and makes a new one open.
    An internal note changes nothing but `last_line`."""
    out: dict[str, Any] = {}
    line = last_line_of(str(entry.get("body") or entry.get("subject") or ""))
    if line != conversation.get("last_line", ""):
        out["last_line"] = line
    direction = entry.get("direction")
    if direction == Direction.INBOUND.value:
        if not conversation.get("waiting_since"):
            out["waiting_since"] = entry.get("at")
    elif direction == Direction.OUTBOUND.value:
        if conversation.get("waiting_since") is not None:
            out["waiting_since"] = None
        status = _status(conversation.get("status"))
        if status in (ConversationStatus.CLOSED, ConversationStatus.SNOOZED):
            out.update(status=ConversationStatus.PENDING.value, snoozed_until=None, ended=None)
        elif status == ConversationStatus.NEW:
            out["status"] = ConversationStatus.OPEN.value
    return out


def reply_channel(conversation: dict[str, Any]) -> Channel:
    """The channel a reply goes out on: the conversation's first (not an internal note's)."""
    for value in conversation.get("channels") or []:
        if value != Channel.NOTE.value:
            return Channel(value)
    return Channel.EMAIL


def is_note(entry: dict[str, Any]) -> bool:
    """Whether a `reply.add` entry is an internal note on the conversation (which the
    customer never sees), not a reply to the customer."""
    return entry.get("direction") == Direction.INTERNAL.value


def check_reply(entry: dict[str, Any], target: str) -> TimelineEntry:
    """A `reply.add` entry as both ends accept it: its id is the mutation's target, with
    text; outbound on a customer's channel (a reply), or internal on the note channel (an
    internal note on the conversation, `is_note`)."""
    if entry.get("id", target) != target:
        raise Refused("the reply's id must equal the mutation's target")
    if is_note(entry):
        return check_note_entry(entry, target)
    try:
        checked = TimelineEntry.model_validate({**entry, "id": target})
    except ValidationError as error:
        raise Refused(why(error)) from None
    if checked.direction != Direction.OUTBOUND:
        raise Refused("direction: a reply is outbound (an internal note: internal)")
    if checked.channel == Channel.NOTE:
        raise Refused("channel: a reply goes to the customer, not to an internal note (a note "
                      "is internal)")
    if not checked.body.strip():
        raise Refused("body: a reply needs text")
    if len(checked.body) > MAX_BODY:
        raise Refused(f"body: at most {MAX_BODY} characters")
    return checked


def check_start(data: dict[str, Any], target: str) -> tuple[Conversation, TimelineEntry]:
    """`conversation.start`'s conversation (id = target) and first entry: a message to the
    customer, or an internal note."""
    conv, entry = data.get("conversation"), data.get("entry")
    if not isinstance(conv, dict) or not isinstance(entry, dict):
        raise Refused("conversation.start needs data.conversation and data.entry objects")
    if conv.get("id", target) != target:
        raise Refused("the conversation's id must equal the mutation's target")
    try:
        conversation = Conversation.model_validate({**conv, "id": target})
    except ValidationError as error:
        raise Refused(why(error)) from None
    if not conversation.topic.strip():
        raise Refused("topic: a conversation needs a topic")
    if entry.get("conversation_id", target) != target:
        raise Refused("the first message belongs to the conversation started")
    entry_id = entry.get("id")
    if not isinstance(entry_id, str) or not entry_id:
        raise Refused("the first message needs its id")
    if entry.get("direction") == Direction.INTERNAL.value:  # (one started from a survey response)
        first = check_note_entry({**entry, "conversation_id": target}, entry_id)
    else:
        first = check_reply({**entry, "conversation_id": target}, entry_id)
    return conversation, first


def check_note_entry(entry: dict[str, Any], target: str) -> TimelineEntry:
    """An internal note on a conversation: on the note channel, with text (a conversation's
    first entry when it was started from a survey response, which it quotes; or one an agent
    adds later, `reply.add`)."""
    try:
        checked = TimelineEntry.model_validate({**entry, "id": target})
    except ValidationError as error:
        raise Refused(why(error)) from None
    if checked.channel != Channel.NOTE or checked.kind.value != "message":
        raise Refused("channel: an internal note is on the note channel")
    if not checked.body.strip():
        raise Refused("body: a note needs text")
    if len(checked.body) > MAX_BODY:
        raise Refused(f"body: at most {MAX_BODY} characters")
    return checked


def check_new_customer(data: dict[str, Any], target: str) -> tuple[Customer, list[ContactPoint]]:
    """`customer.create`'s customer (id = target, with a name) and contact points (one at
    least, each valid)."""
    customer, contacts = data.get("customer"), data.get("contacts")
    if not isinstance(customer, dict) or not isinstance(contacts, list):
        raise Refused("customer.create needs data.customer (an object) and data.contacts (a list)")
    if customer.get("id", target) != target:
        raise Refused("the customer's id must equal the mutation's target")
    try:
        made = Customer.model_validate({**customer, "id": target})
        points = [ContactPoint.model_validate(c) for c in contacts]
    except ValidationError as error:
        raise Refused(why(error)) from None
    if not made.name.strip():
        raise Refused("name: a customer needs a name")
    if not points:
        raise Refused("contacts: a customer needs at least one contact point")
    if len({p.id for p in points}) != len(points):
        raise Refused("contacts: two contact points with one id")
    return made, points


def check_relationship(data: dict[str, Any], target: str, customer_id: str) -> Relationship:
    """`relationship.upsert`'s relationship (id = target, to another customer, labelled)."""
    set_ = data.get("set")
    if not isinstance(set_, dict) or not (data.get("base") is None
                                          or isinstance(data.get("base"), dict)):
        raise Refused("relationship.upsert needs data.set (a relationship) and data.base "
                      "(a relationship or null)")
    if set_.get("id", target) != target:
        raise Refused("the relationship's id must equal the mutation's target")
    try:
        rel = Relationship.model_validate({**set_, "id": target})
    except ValidationError as error:
        raise Refused(why(error)) from None
    if rel.customer_id == customer_id:
        raise Refused("customer_id: a customer cannot be related to themselves")
    if not rel.label.strip():
        raise Refused("label: a relationship needs a label")
    return rel


def names_match(confirm: Any, name: str) -> bool:
    """Whether the name the agent typed to confirm an erasure is the customer's (as typed or
    as the desk shows it: control characters removed; spaces around ignored)."""
    if not isinstance(confirm, str):
        return False
    typed = confirm.strip()
    return bool(typed) and typed in (name.strip(), clean_line(name).strip())
