"""The records and checks of working conversations, the same at both ends (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agentdesk.model.changes import validate
from agentdesk.model.kinds import ConversationStatus, Priority
from agentdesk.model.mutations import make, reapply, record_type_of, table_of
from agentdesk.model.protocol import MutationKind
from agentdesk.model.records import Conversation, from_stored, last_line_of
from agentdesk.model.views import Stored
from agentdesk.model.work_mutations import (
    Refused,
    check_new_customer,
    check_relationship,
    check_reply,
    is_note,
    check_start,
    conversation_after_entry,
    conversation_after_update,
    names_match,
)

NOW = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
CONV = {"id": "conv_1", "topic": "Billing", "status": "open", "channels": ["chat"],
        "started": "2026-01-01T00:00:00Z", "assignee": "jo"}


def test_waiting_is_read_as_pending_everywhere() -> None:
    old = {**CONV, "status": "waiting"}
    assert Conversation.model_validate(old).status == ConversationStatus.PENDING
    assert from_stored(Conversation, old).status == ConversationStatus.PENDING
    assert Stored("conversation", old).status == ConversationStatus.PENDING
    checked = validate({"seq": 1, "op": "upsert", "type": "conversation", "id": "conv_1",
                        "customer_id": "cus_1", "revision": 1, "data": old})
    assert checked.data["status"] in ("waiting", "pending")
    assert Conversation.model_validate(checked.data).status == ConversationStatus.PENDING


def test_old_conversations_read_with_the_new_fields_defaulted() -> None:
    view = Stored("conversation", CONV)
    assert (view.priority, view.tags, view.snoozed_until, view.waiting_since, view.last_line) == \
        (Priority.NORMAL, [], None, None, "")
    conv = Conversation.model_validate(CONV)
    assert conv.priority == Priority.NORMAL and conv.tags == []


def test_update_rules() -> None:
    until = (NOW + timedelta(hours=2)).isoformat()
    assert conversation_after_update(CONV, {"status": "snoozed", "snoozed_until": until}, NOW) == \
        {"status": "snoozed", "snoozed_until": "2026-01-06T11:00:00Z"}
    snoozed = {**CONV, "status": "snoozed", "snoozed_until": until}
    assert conversation_after_update(snoozed, {"status": "closed"}, NOW) == \
        {"status": "closed", "snoozed_until": None, "ended": "2026-01-06T09:00:00Z"}
    closed = {**CONV, "status": "closed", "ended": "2026-01-02T00:00:00Z"}
    assert conversation_after_update(closed, {"status": "open"}, NOW) == \
        {"status": "open", "snoozed_until": None, "ended": None}
    assert conversation_after_update(CONV, {"tags": ["a", " a ", "", "b"]}, NOW) == \
        {"tags": ["a", "b"]}
    # A conversation a store sent without a topic can still be worked on.
    assert conversation_after_update({**CONV, "topic": ""}, {"status": "pending"}, NOW) == \
        {"status": "pending", "snoozed_until": None}
    for bad, why in (({"status": "snoozed"}, "future"),
                     ({"status": "snoozed", "snoozed_until": NOW.isoformat()}, "future"),
                     ({"snoozed_until": until}, "only a snoozed"),
                     ({"status": "waiting-ish"}, "status"),
                     ({"priority": "meh"}, "priority"),
                     ({"ended": None}, "cannot set: ended"),
                     ({"topic": " "}, "topic")):
        with pytest.raises(Refused, match=why):
            conversation_after_update(CONV, bad, NOW)


def test_what_an_entry_does_to_its_conversation() -> None:
    inbound = {"direction": "inbound", "at": "2026-01-05T10:00:00Z", "body": "\n  Help!\nplease"}
    assert conversation_after_entry(CONV, inbound) == {
        "last_line": "Help!", "waiting_since": "2026-01-05T10:00:00Z"}
    waiting = {**CONV, "waiting_since": "2026-01-04T00:00:00Z", "last_line": "Help!"}
    assert conversation_after_entry(waiting, inbound) == {}  # waits since the first
    reply = {"direction": "outbound", "at": "2026-01-05T11:00:00Z", "body": "Done"}
    assert conversation_after_entry(waiting, reply) == {"last_line": "Done", "waiting_since": None}
    closed = {**CONV, "status": "closed", "ended": "2026-01-05T00:00:00Z"}
    assert conversation_after_entry(closed, reply)["status"] == "pending"
    assert conversation_after_entry({**CONV, "status": "new"}, reply)["status"] == "open"
    assert last_line_of("x" * 500) == "x" * 200


def test_reply_start_create_relationship_checks() -> None:
    entry = {"id": "ent_1", "conversation_id": "conv_1", "at": "2026-01-05T11:00:00Z",
             "channel": "chat", "direction": "outbound", "body": "Hi"}
    assert check_reply(entry, "ent_1").body == "Hi"
    for bad, why in (({**entry, "direction": "inbound"}, "outbound"),
                     ({**entry, "channel": "note"}, "internal"),
                     ({**entry, "body": "  "}, "text"),
                     ({**entry, "id": "ent_2"}, "target")):
        with pytest.raises(Refused, match=why):
            check_reply(bad, "ent_1")
    # An internal note on the conversation is a reply.add too: internal, on the note channel.
    note = {**entry, "channel": "note", "direction": "internal", "body": "Called, no answer"}
    assert is_note(note) and not is_note(entry)
    assert check_reply(note, "ent_1").direction.value == "internal"
    for bad, why in (({**note, "channel": "chat"}, "note channel"),
                     ({**note, "body": " "}, "text"),
                     ({**note, "id": "ent_2"}, "target")):
        with pytest.raises(Refused, match=why):
            check_reply(bad, "ent_1")
    assert conversation_after_entry({**CONV, "status": "closed", "waiting_since": None},
                                    {**note, "at": "2026-01-05T12:00:00Z"}) == \
        {"last_line": "Called, no answer"}  # a note neither reopens nor ends a wait
    conv, first = check_start({"conversation": CONV, "entry": entry}, "conv_1")
    assert conv.id == first.conversation_id == "conv_1"
    with pytest.raises(Refused, match="its id"):
        check_start({"conversation": CONV, "entry": {k: v for k, v in entry.items() if k != "id"}},
                    "conv_1")
    customer, points = check_new_customer(
        {"customer": {"name": "Ada"}, "contacts": [{"kind": "phone", "value": "+1 503 555 0100"}]},
        "cus_new")
    assert customer.id == "cus_new" and len(points) == 1
    with pytest.raises(Refused, match="email"):
        check_new_customer({"customer": {"name": "Ada"},
                            "contacts": [{"kind": "email", "value": "not an address"}]}, "cus_new")
    with pytest.raises(Refused, match="themselves"):
        check_relationship({"set": {"customer_id": "cus_1", "label": "x"}}, "rel_1", "cus_1")
    assert names_match(" Ada \x1b[31m", "Ada \x1b[31m") and names_match("Ada", "Ada\x1b[2J")
    assert not names_match("", "") and not names_match("Bob", "Ada")


def test_new_kinds_name_their_record_and_reapply() -> None:
    m = make(MutationKind.CONVERSATION_UPDATE, "cus_1", "conv_1",
             {"set": {"status": "snoozed", "snoozed_until": "2026-02-01T00:00:00Z",
                      "assignee": "jo"}, "base": {"status": "open", "assignee": ""}}, 3)
    assert (record_type_of(m), table_of(m)) == ("conversation", "conversations")
    again = reapply(m, {**CONV, "status": "pending"}, 7, ["status"])
    assert again.data == {"set": {"status": "snoozed", "snoozed_until": "2026-02-01T00:00:00Z"},
                          "base": {"status": "pending", "snoozed_until": None}}
    assert again.base_revision == 7 and again.id != m.id
    reply = make(MutationKind.REPLY_ADD, "cus_1", "ent_1", {"body": "x"}, None)
    assert record_type_of(reply) == "entry"
    assert record_type_of(make(MutationKind.CONVERSATION_START, "c", "conv_2", {}, None)) == \
        "conversation"
    assert table_of(make(MutationKind.RELATIONSHIP_DELETE, "c", "rel_1", {}, None)) == \
        "relationships"
