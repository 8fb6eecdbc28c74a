"""The store's rules for working conversations, over real HTTP on both engines: each applied
once however often it is retried, conflicts field by field, rejections with their reasons;
canned replies and agents served to every agent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdesk.model import demo
from agentdesk.model.records import Conversation, Customer, Profile, TimelineEntry
from agentdesk.server.run import ServerThread, import_lists, seed_demo
from agentdesk.server.store import Store, StoreError

TOKEN = "work-token-" + "w" * 24
SCOPED = "work-scoped-" + "s" * 24
EPOCH = demo.EPOCH


def _profile(cid: str, name: str, status: str = "open") -> tuple[Profile, list[TimelineEntry]]:
    conv = Conversation(id=f"conv_{cid}", topic="Billing", status=status, channels=["chat"],
                        started=EPOCH, assignee="alice")
    entry = TimelineEntry(id=f"ent_{cid}", conversation_id=conv.id, at=EPOCH, channel="chat",
                          direction="inbound", body="Where is my refund?")
    customer = Customer(id=cid, name=name, created=EPOCH, updated=EPOCH)
    return Profile(customer=customer, conversations=[conv]), [entry]


class Desk:
    def __init__(self, store: Store, client: httpx.Client) -> None:
        self.store, self.client, self.n = store, client, 0

    def mutate(self, kind: str, customer_id: str, target: str, data: dict[str, Any],
               base_revision: int | None = None, mid: str | None = None,
               token: str = TOKEN) -> dict[str, Any]:
        self.n += 1
        m = {"id": mid or f"mut_{self.n}", "kind": kind, "customer_id": customer_id,
             "target": target, "data": data, "base_revision": base_revision,
             "made_at": datetime.now(UTC).isoformat()}
        r = self.client.post("/v1/mutations", json={"mutations": [m]},
                             headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        [result] = r.json()["results"]
        return result

    def record(self, customer_id: str, type: str, id: str) -> dict[str, Any] | None:
        r = self.client.get(f"/v1/customers/{customer_id}")
        if r.status_code == 404:
            return None
        found = [c for c in r.json()["changes"] if c["type"] == type and c["id"] == id]
        return found[0]["data"] if found else None

    def conversation(self, cid: str = "cus_a") -> dict[str, Any]:
        conv = self.record(cid, "conversation", f"conv_{cid}")
        assert conv is not None
        return conv

    def records(self, type: str) -> int:
        """How many live records of a type the store holds (through its digest's input)."""
        r = self.client.get("/v1/changes", params={"limit": 5000})
        return sum(1 for c in r.json()["changes"] if c["type"] == type and c["op"] == "upsert")


@pytest.fixture
def desk(make_store: Callable[[], Store]) -> Iterator[Desk]:
    store = make_store()
    store.add_token(TOKEN, "alice")
    store.add_token(SCOPED, "bob", scoped=True)
    store.put_agent({"name": "carol", "display_name": "Carol Diaz"})
    store.bulk_load([_profile("cus_a", "Ada Lovelace"), _profile("cus_b", "Bruno Silva"),
                     _profile("cus_c", "Chiara Rossi", "closed")])
    with ServerThread(store) as server, httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        yield Desk(store, client)


def _future(hours: int = 3) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def _reply(eid: str, conv: str = "conv_cus_a", body: str = "On it!") -> dict[str, Any]:
    return {"id": eid, "conversation_id": conv, "at": EPOCH.isoformat(), "channel": "chat",
            "direction": "outbound", "author": "alice", "body": body}


# -- every kind: applied once, however often it is sent --------------------------------------

ONCE: list[tuple[str, str, str, Callable[[], dict[str, Any]]]] = [
    ("conversation.update", "cus_a", "conv_cus_a",
     lambda: {"set": {"status": "pending", "assignee": "carol"},
              "base": {"status": "open", "assignee": "alice"}}),
    ("reply.add", "cus_a", "ent_r1", lambda: _reply("ent_r1")),
    ("conversation.start", "cus_a", "conv_new",
     lambda: {"conversation": {"id": "conv_new", "topic": "Hello", "status": "pending",
                               "channels": ["sms"], "started": EPOCH.isoformat()},
              "entry": {**_reply("ent_first", "conv_new", "Hi there"), "channel": "sms"}}),
    ("customer.create", "cus_new", "cus_new",
     lambda: {"customer": {"id": "cus_new", "name": "Nia Okafor"},
              "contacts": [{"id": "cp_new", "kind": "email", "value": "nia@example.com"}]}),
    ("relationship.upsert", "cus_a", "rel_1",
     lambda: {"set": {"id": "rel_1", "customer_id": "cus_b", "label": "spouse"}, "base": None}),
    ("customer.erase", "cus_b", "cus_b", lambda: {"confirm": "Bruno Silva"}),
]


@pytest.mark.parametrize(("kind", "customer_id", "target", "data"), ONCE,
                         ids=[k for k, *_ in ONCE])
def test_applied_once_however_often_retried(desk: Desk, kind: str, customer_id: str,
                                            target: str, data: Callable[[], dict[str, Any]]) -> None:
    first = desk.mutate(kind, customer_id, target, data(), mid="mut_same")
    assert first["status"] == "applied", first
    head = desk.client.get("/v1/status").json()["head"]
    again = [desk.mutate(kind, customer_id, target, data(), mid="mut_same") for _ in range(3)]
    assert all(a == first for a in again)
    assert desk.client.get("/v1/status").json()["head"] == head  # nothing written again


def test_what_each_kind_writes(desk: Desk) -> None:
    for kind, customer_id, target, data in ONCE:
        assert desk.mutate(kind, customer_id, target, data())["status"] == "applied"
    conv = desk.conversation()
    assert (conv["status"], conv["assignee"], conv["last_line"], conv["waiting_since"]) == \
        ("pending", "carol", "On it!", None)
    assert desk.record("cus_a", "entry", "ent_r1")["direction"] == "outbound"
    started = desk.record("cus_a", "conversation", "conv_new")
    assert started["last_line"] == "Hi there"
    assert desk.record("cus_a", "entry", "ent_first") is not None
    assert desk.record("cus_new", "contact", "cp_new")["value"] == "nia@example.com"
    assert desk.client.get("/v1/search", params={"q": "nia@"}).json()["hits"][0]["id"] == "cus_new"
    rel = desk.record("cus_a", "relationship", "rel_1")
    assert rel is None  # cus_b was erased after: the link to them went with them
    assert desk.client.get("/v1/customers/cus_b").status_code == 404


def test_a_reply_reopens_and_an_inbound_entry_starts_the_wait(desk: Desk) -> None:
    assert desk.mutate("reply.add", "cus_c", "ent_c2", _reply("ent_c2", "conv_cus_c"))["status"] \
        == "applied"
    conv = desk.conversation("cus_c")
    assert conv["status"] == "pending" and conv["ended"] is None
    later = TimelineEntry(id="ent_c3", conversation_id="conv_cus_c",
                          at=EPOCH + timedelta(hours=1), channel="chat", direction="inbound",
                          body="Thanks\nbut one more thing")
    desk.store.upsert("entry", later.model_dump(mode="json"), "cus_c")
    conv = desk.conversation("cus_c")
    assert conv["waiting_since"] == "2026-01-05T10:00:00Z" and conv["last_line"] == "Thanks"


def test_an_internal_note_is_written_once_and_leaves_the_conversation_as_it_was(desk: Desk) -> None:
    note = {**_reply("ent_n1", "conv_cus_c", "Called [bold]her[/bold], no answer"),
            "channel": "note", "direction": "internal"}
    before = desk.conversation("cus_c")
    first = desk.mutate("reply.add", "cus_c", "ent_n1", note, mid="mut_note")
    assert first["status"] == "applied", first
    head = desk.client.get("/v1/status").json()["head"]
    assert desk.mutate("reply.add", "cus_c", "ent_n1", note, mid="mut_note") == first
    assert desk.client.get("/v1/status").json()["head"] == head  # a retry writes nothing
    held = desk.record("cus_c", "entry", "ent_n1")
    assert (held["channel"], held["direction"], held["body"]) == \
        ("note", "internal", "Called [bold]her[/bold], no answer")
    conv = desk.conversation("cus_c")  # still closed, no wait started or ended: only the line
    assert {**before, "last_line": "Called [bold]her[/bold], no answer"} == \
        {k: conv[k] for k in before}
    wrong = desk.mutate("reply.add", "cus_c", "ent_n2", {**note, "id": "ent_n2", "channel": "chat"})
    assert wrong["status"] == "rejected" and "note channel" in wrong["reason"]


# -- conflicts ---------------------------------------------------------------------------------


def test_status_and_assignee_conflict_field_by_field(desk: Desk) -> None:
    # Another agent changed the status and the assignee first.
    other = desk.mutate("conversation.update", "cus_a", "conv_cus_a",
                        {"set": {"status": "pending", "assignee": "carol"},
                         "base": {"status": "open", "assignee": "alice"}})
    assert other["status"] == "applied"
    # This desk, based on what it saw before: status and assignee conflict, priority applies.
    mine = desk.mutate("conversation.update", "cus_a", "conv_cus_a",
                       {"set": {"status": "closed", "assignee": "", "priority": "high"},
                        "base": {"status": "open", "assignee": "alice", "priority": "normal"}},
                       base_revision=1)
    assert mine["status"] == "conflict" and sorted(mine["conflicts"]) == ["assignee", "status"]
    assert mine["current"]["status"] == "pending" and mine["current"]["assignee"] == "carol"
    assert mine["current"]["priority"] == "high"
    conv = desk.conversation()
    assert (conv["status"], conv["assignee"], conv["priority"]) == ("pending", "carol", "high")
    # Keep mine: sent again on the store's version, it applies.
    again = desk.mutate("conversation.update", "cus_a", "conv_cus_a",
                        {"set": {"status": "closed", "assignee": ""},
                         "base": {"status": "pending", "assignee": "carol"}},
                        base_revision=mine["revision"])
    assert again["status"] == "applied"
    conv = desk.conversation()
    assert (conv["status"], conv["assignee"]) == ("closed", "") and conv["ended"]


def test_the_same_value_set_twice_is_no_conflict(desk: Desk) -> None:
    for _ in range(2):
        result = desk.mutate("conversation.update", "cus_a", "conv_cus_a",
                             {"set": {"status": "pending"}, "base": {"status": "open"}})
        assert result["status"] == "applied"


def test_relationship_conflicts_and_deletes(desk: Desk) -> None:
    made = desk.mutate("relationship.upsert", "cus_a", "rel_1",
                       {"set": {"id": "rel_1", "customer_id": "cus_b", "label": "spouse"},
                        "base": None})
    assert made["status"] == "applied"
    assert desk.record("cus_a", "relationship", "rel_1")["name"] == "Bruno Silva"
    changed = desk.mutate("relationship.upsert", "cus_a", "rel_1",
                          {"set": {"id": "rel_1", "customer_id": "cus_b", "label": "partner"},
                           "base": {"customer_id": "cus_b", "label": "spouse"}})
    assert changed["status"] == "applied"
    stale = desk.mutate("relationship.delete", "cus_a", "rel_1",
                        {"base": {"id": "rel_1", "customer_id": "cus_b", "label": "spouse"}},
                        base_revision=made["revision"])
    assert stale["status"] == "conflict" and stale["conflicts"] == ["label"]
    gone = desk.mutate("relationship.delete", "cus_a", "rel_1",
                       {"base": {"id": "rel_1", "customer_id": "cus_b", "label": "partner"}})
    assert gone["status"] == "applied" and desk.record("cus_a", "relationship", "rel_1") is None


# -- rejections, with reasons --------------------------------------------------------------------

REJECTED: list[tuple[str, str, str, Callable[[], dict[str, Any]], str]] = [
    ("conversation.update", "cus_a", "conv_cus_a",
     lambda: {"set": {"assignee": "mallory"}, "base": {}}, "no agent mallory"),
    ("conversation.update", "cus_a", "conv_cus_a",
     lambda: {"set": {"status": "snoozed"}, "base": {}}, "snoozed_until"),
    ("conversation.update", "cus_a", "conv_cus_a",
     lambda: {"set": {"status": "snoozed", "snoozed_until": _future(-1)}, "base": {}}, "future"),
    ("conversation.update", "cus_a", "conv_cus_a",
     lambda: {"set": {"ended": None}, "base": {}}, "cannot set: ended"),
    ("conversation.update", "cus_a", "conv_nope",
     lambda: {"set": {"status": "open"}, "base": {}}, "conversation conv_nope does not exist"),
    ("conversation.update", "cus_b", "conv_cus_a",
     lambda: {"set": {"status": "open"}, "base": {}}, "conversation conv_cus_a does not exist"),
    ("reply.add", "cus_a", "ent_x", lambda: _reply("ent_x", "conv_nope"),
     "conversation conv_nope does not exist"),
    ("reply.add", "cus_a", "ent_x", lambda: {**_reply("ent_x"), "direction": "inbound"},
     "outbound"),
    ("reply.add", "cus_a", "ent_x", lambda: _reply("ent_x", body="  "), "needs text"),
    ("reply.add", "cus_gone", "ent_x", lambda: _reply("ent_x"), "no longer exists"),
    ("conversation.start", "cus_a", "conv_n",
     lambda: {"conversation": {"id": "conv_n", "topic": " ", "started": EPOCH.isoformat()},
              "entry": _reply("ent_n", "conv_n")}, "topic"),
    ("customer.create", "cus_n", "cus_n",
     lambda: {"customer": {"name": "Nia"}, "contacts": []}, "at least one contact"),
    ("customer.create", "cus_n", "cus_n",
     lambda: {"customer": {"name": "Nia"}, "contacts": [{"kind": "email", "value": "nope"}]},
     "email"),
    ("customer.create", "cus_a", "cus_a",
     lambda: {"customer": {"name": "Nia"}, "contacts": [{"kind": "phone", "value": "+1 555 0100"}]},
     None),  # the customer exists: taken as created already
    ("relationship.upsert", "cus_a", "rel_x",
     lambda: {"set": {"customer_id": "cus_nobody", "label": "friend"}, "base": None},
     "customer cus_nobody does not exist"),
    ("relationship.upsert", "cus_a", "rel_x",
     lambda: {"set": {"customer_id": "cus_a", "label": "me"}, "base": None}, "themselves"),
    ("customer.erase", "cus_a", "cus_a", lambda: {"confirm": "Someone Else"},
     "not the customer's"),
]


@pytest.mark.parametrize(("kind", "customer_id", "target", "data", "why"), REJECTED,
                         ids=[f"{k}-{n}" for n, (k, *_) in enumerate(REJECTED)])
def test_rejected_with_a_reason_and_nothing_written(desk: Desk, kind: str, customer_id: str,
                                                   target: str, data: Callable[[], dict[str, Any]],
                                                   why: str | None) -> None:
    head = desk.client.get("/v1/status").json()["head"]
    result = desk.mutate(kind, customer_id, target, data())
    if why is None:
        assert result["status"] == "applied"
    else:
        assert result["status"] == "rejected" and why in result["reason"], result
    assert desk.client.get("/v1/status").json()["head"] == head


def test_a_scoped_agent_sees_the_customer_it_created(desk: Desk) -> None:
    result = desk.mutate("customer.create", "cus_s", "cus_s",
                         {"customer": {"name": "Sven"},
                          "contacts": [{"kind": "email", "value": "sven@example.com"}]},
                         token=SCOPED)
    assert result["status"] == "applied"
    r = desk.client.get("/v1/changes", headers={"Authorization": f"Bearer {SCOPED}"})
    assert {c["customer_id"] for c in r.json()["changes"]} == {"cus_s"}


# -- canned replies and agents -----------------------------------------------------------------


def test_canned_replies_and_agents_are_served(desk: Desk, tmp_path: Path) -> None:
    assert desk.client.get("/v1/canned").json()["replies"] == []
    agents = desk.client.get("/v1/agents").json()
    assert agents["me"] == "alice"
    assert [(a["name"], a["display_name"]) for a in agents["agents"]] == [
        ("alice", "alice"), ("bob", "bob"), ("carol", "Carol Diaz")]
    path = tmp_path / "canned.json"
    path.write_text(json.dumps([{"id": "c1", "title": "Hello", "body": "Hi {customer.first_name}"},
                                {"id": "c2", "title": "Bye", "body": "Bye", "tags": ["x"]}]))
    assert "2 canned replies" in import_lists(desk.store, path, None)
    replies = desk.client.get("/v1/canned").json()["replies"]
    assert [r["id"] for r in replies] == ["c2", "c1"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "c3", "title": "", "body": "x"}]))
    with pytest.raises(StoreError, match="entry 1"):
        import_lists(desk.store, bad, None)
    assert desk.client.get("/v1/canned", headers={"Authorization": "Bearer nope" * 4}
                           ).status_code == 401


def test_the_demo_store_has_agents_canned_replies_and_a_queue(make_store: Callable[[], Store]
                                                              ) -> None:
    store = make_store()
    seed_demo(store, customers=20, big_entries=0)
    assert len(store.agents()) == 5 and len(store.canned()) == 6
    assert all("{" in r.body for r in store.canned())
