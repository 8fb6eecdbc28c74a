"""Working conversations against the real store on 127.0.0.1: made offline, delivered once
when the store is back; another agent's change arrives; status and assignee conflicts kept
under Unsynced edits; canned replies and agents fetched at each sync, their failure no
failure of the sync; the queue built by a first sync, however it is filed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agentdesk.cache.queue_index import rows_of_tables
from agentdesk.cache.files import read_json
from agentdesk.model.protocol import Mutation, MutationKind
from agentdesk.model.records import ContactPoint, Relationship, new_id, utcnow
from agentdesk.server.store import Agent
from agentdesk.sync.client import Offline
from support.sync_world import FaultProxy, World, read_all_entries

CUSTOMER = "cus_000003"


def _open_conv(w: World, customer_id: str = CUSTOMER) -> str:
    profile = w.cache.load_profile(customer_id)
    return next(c.id for c in reversed(profile.conversations) if c.status.value != "closed")


def _server_conv(w: World, customer_id: str, conv_id: str) -> dict[str, Any]:
    [conv] = [c for c in w.server_records(customer_id, "conversation") if c["id"] == conv_id]
    return conv


def _queue(w: World) -> list[tuple[str, str, str, str, str]]:
    return sorted((r.customer_id, r.conversation_id, r.status.value, r.assignee, r.last_line)
                  for r in w.cache.queue_rows())


def _queue_from_profiles(w: World) -> list[tuple[str, str, str, str, str]]:
    return sorted((r["customer_id"], r["conversation_id"], r["status"], r["assignee"],
                   r["last_line"])
                  for row in w.cache.index_rows()
                  for r in rows_of_tables(read_json(w.cache.profile_path(row.id)) or {}))


def test_worked_offline_then_delivered_once_when_the_store_is_back(synced: World) -> None:
    w = synced
    conv_id = _open_conv(w)
    w.stop_server()
    reply_id = w.cache.add_reply(CUSTOMER, conv_id, "Your refund is on its way.", "Sam Rivera")
    w.cache.update_conversation(CUSTOMER, conv_id, status="pending", assignee="Jo Park",
                                priority="high", tags=["refund"])
    started = w.cache.start_conversation(CUSTOMER, "Loyalty offer", "email", "A gift for you",
                                         "Sam Rivera")
    created = w.cache.create_customer("Nia Okafor", "Okafor Ltd",
                                      [ContactPoint(kind="email", value="nia@example.com")])
    rel = Relationship(customer_id=created, label="colleague")
    w.cache.put_relationship(CUSTOMER, rel)
    erased_name = w.cache.load_profile("cus_000005").customer.name
    w.cache.erase_customer("cus_000005", erased_name)
    with pytest.raises(Offline):
        w.sync()
    assert len(w.cache.outbox.pending()) == 6
    w.start_server()
    report = w.sync()
    assert report.pushed == 6 and not w.cache.outbox.items()
    # The store holds each once.
    entries = [e for e in w.server_records(CUSTOMER, "entry") if e["id"] == reply_id]
    assert len(entries) == 1 and entries[0]["direction"] == "outbound"
    conv = _server_conv(w, CUSTOMER, conv_id)
    assert (conv["status"], conv["assignee"], conv["priority"], conv["tags"], conv["last_line"]) \
        == ("pending", "Jo Park", "high", ["refund"], "Your refund is on its way.")
    assert _server_conv(w, CUSTOMER, started)["topic"] == "Loyalty offer"
    assert w.server_records(created, "customer")[0]["name"] == "Nia Okafor"
    [link] = [r for r in w.server_records(CUSTOMER, "relationship") if r["id"] == rel.id]
    assert link["name"] == "Nia Okafor"
    assert w.client().search("Nia").hits[0].id == created
    with pytest.raises(Exception, match="does not exist|404"):
        w.server_profile("cus_000005")
    w.assert_in_sync()
    assert _queue(w) == _queue_from_profiles(w)
    # Synced again: nothing sent twice, nothing changes.
    assert w.sync().pushed == 0
    w.assert_in_sync()


def test_a_reply_whose_answer_is_lost_is_applied_once(synced: World, proxy: FaultProxy) -> None:
    w = synced
    conv_id = _open_conv(w)
    reply_id = w.cache.add_reply(CUSTOMER, conv_id, "Sent once", "Sam Rivera")
    proxy.add("drop_after", "/v1/mutations", times=2)
    w.sync(w.client(proxy.url))
    assert len(proxy.forwarded_mutation_ids()) >= 2  # sent more than once...
    assert [e["id"] for e in w.server_records(CUSTOMER, "entry")].count(reply_id) == 1  # ...kept once
    assert not w.cache.outbox.items()
    assert [e["id"] for e in read_all_entries(w.cache, CUSTOMER)].count(reply_id) == 1
    w.assert_in_sync()


def test_another_agents_change_arrives_in_the_open_desk(synced: World) -> None:
    w = synced
    conv_id = _open_conv(w)
    carol = Agent("Max Weber")
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    seen = _server_conv(w, CUSTOMER, conv_id)
    [result] = w.store.apply([Mutation(
        id=new_id("mut"), kind=MutationKind.CONVERSATION_UPDATE, customer_id=CUSTOMER,
        target=conv_id, data={"set": {"status": "snoozed", "snoozed_until": until,
                                      "assignee": "Max Weber"},
                              "base": {k: seen[k] for k in ("status", "snoozed_until", "assignee")}},
        made_at=utcnow().isoformat())], carol)
    assert result.status.value == "applied", result
    [result] = w.store.apply([Mutation(
        id=new_id("mut"), kind=MutationKind.REPLY_ADD, customer_id=CUSTOMER, target="ent_carol",
        data={"id": "ent_carol", "conversation_id": conv_id, "at": utcnow().isoformat(),
              "channel": "email", "direction": "outbound", "author": "Max Weber",
              "body": "Handled by Max"})], carol)
    assert result.status.value == "applied", result
    report = w.sync()
    assert report.applied.customers.get(CUSTOMER)
    conv = next(c for c in w.cache.load_profile(CUSTOMER).conversations if c.id == conv_id)
    # A reply reopens a snoozed conversation as pending (the store's rule, kept by the desk).
    assert (conv.status.value, conv.assignee, conv.last_line) == ("pending", "Max Weber",
                                                                  "Handled by Max")
    [row] = [r for r in w.cache.queue_rows() if r.conversation_id == conv_id]
    assert (row.assignee, row.last_line, row.status.value) == ("Max Weber", "Handled by Max",
                                                               "pending")
    assert "ent_carol" in [e["id"] for e in read_all_entries(w.cache, CUSTOMER)]
    w.assert_in_sync()


@pytest.mark.parametrize("keep", [True, False], ids=["keep mine", "discard mine"])
def test_status_and_assignee_conflict(synced: World, keep: bool) -> None:
    w = synced
    conv_id = _open_conv(w)
    w.cache.update_conversation(CUSTOMER, conv_id, status="closed", assignee="Alex Kim")
    # Meanwhile, another agent set both.
    seen = _server_conv(w, CUSTOMER, conv_id)
    [other] = w.store.apply([Mutation(
        id=new_id("mut"), kind=MutationKind.CONVERSATION_UPDATE, customer_id=CUSTOMER,
        target=conv_id, data={"set": {"status": "open", "assignee": "Jo Park"},
                              "base": {"status": seen["status"], "assignee": seen["assignee"]}},
        made_at=utcnow().isoformat())], Agent("Jo Park"))
    assert other.status.value == "applied"
    report = w.sync()
    assert report.conflicts == 1
    [item] = w.cache.outbox.items()
    assert item.status == "conflict" and sorted(item.conflicts) == ["assignee", "status"]
    conv = next(c for c in w.cache.load_profile(CUSTOMER).conversations if c.id == conv_id)
    assert (conv.status.value, conv.assignee) == ("open", "Jo Park")  # the store's won
    [row] = [r for r in w.cache.queue_rows() if r.conversation_id == conv_id]
    assert row.assignee == "Jo Park"
    # Shown under Unsynced edits: yours and the store's, per field.
    from agentdesk.ui.unsynced import describe

    shown = describe(item).plain if hasattr(describe(item), "plain") else str(describe(item))
    w.cache.resolve(item.mutation.id, keep=keep)
    w.sync()
    assert not w.cache.outbox.items()
    server = _server_conv(w, CUSTOMER, conv_id)
    expected = ("closed", "Alex Kim") if keep else ("open", "Jo Park")
    assert (server["status"], server["assignee"]) == expected
    w.assert_in_sync()
    assert "conversation changed" in shown and "Jo Park" in shown and "Alex Kim" in shown


def test_a_rejected_reply_is_taken_back_and_an_erase_refetched(synced: World) -> None:
    w = synced
    conv_id = _open_conv(w)
    reply_id = w.cache.add_reply(CUSTOMER, conv_id, "Too late", "Sam Rivera")
    name = w.cache.load_profile("cus_000006").customer.name
    w.cache.erase_customer("cus_000006", name)
    w.store.erase_customer(CUSTOMER)  # the customer went meanwhile: the reply is rejected
    w.store.upsert("customer", {**w.server_records("cus_000006", "customer")[0],
                                "name": "Renamed Meanwhile"}, "cus_000006")
    report = w.sync()
    assert report.rejected == 2
    reasons = sorted(i.reason for i in w.cache.outbox.items())
    assert any("no longer exists" in r for r in reasons)
    assert any("not the customer's" in r for r in reasons)
    assert reply_id not in [e["id"] for e in read_all_entries(w.cache, CUSTOMER)]
    w.sync()  # the erase the store refused: the customer is fetched again
    assert w.cache.load_profile("cus_000006").customer.name == "Renamed Meanwhile"


def test_canned_replies_and_agents_come_with_each_sync(synced: World, proxy: FaultProxy) -> None:
    w = synced
    w.sync()
    assert len(w.cache.canned_replies()) == 6 and len(w.cache.agents()) >= 5
    assert w.cache.me() == "agent"
    w.store.put_canned({"id": "can_new", "title": "New one", "body": "Hi {customer.name}"})
    proxy.add("status", "/v1/agents", times=None, status=500)
    report = w.sync(w.client(proxy.url))  # agents fail: the sync does not
    assert any("agents" in why for why in report.held_lists)
    assert "can_new" in [r.id for r in w.cache.canned_replies()]
    assert w.cache.me() == "agent"  # the last copy is kept
    proxy.clear()
    proxy.add("status", "/v1/canned", times=None, status=404)
    w.sync(w.client(proxy.url))
    assert "can_new" in [r.id for r in w.cache.canned_replies()]


def test_a_first_sync_builds_the_queue(world: World, first_sync_way: str) -> None:
    world.sync()
    world.assert_in_sync()
    rows = _queue(world)
    assert rows and rows == _queue_from_profiles(world)
    assert any(r[3] == "" for r in rows) and any(r[3] == "Sam Rivera" for r in rows)


def test_the_echo_of_our_own_work_is_not_news(synced: World) -> None:
    w = synced
    conv_id = _open_conv(w)
    w.cache.add_reply(CUSTOMER, conv_id, "Echo?", "Sam Rivera")
    w.cache.start_conversation(CUSTOMER, "Another", "chat", "Hello again", "Sam Rivera")
    w.cache.update_conversation(CUSTOMER, conv_id, priority="urgent")
    created = w.cache.create_customer("Echo Person", "",
                                      [ContactPoint(kind="phone", value="+1 503 555 0199")])
    w.cache.put_relationship(CUSTOMER, Relationship(customer_id="cus_000004", label="friend"))
    report = w.sync()
    assert report.pushed == 5
    assert report.applied.customers.get(CUSTOMER, 0) == 0, report.applied.customers
    assert report.applied.customers.get(created, 0) == 0, report.applied.customers
    w.assert_in_sync()
