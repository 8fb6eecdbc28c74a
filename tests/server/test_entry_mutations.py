"""The store's side of the entry mutations, on both engines (through server/transaction.py):
a feedback item reassigned (it leaves one timeline under a tombstone and joins another under
its new id) or unlinked, a survey response ignored and tagged field by field, and what is
rejected."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from test_server import TOKEN, Remote, small_profile

from agentdesk.model import demo
from agentdesk.model.kinds import Channel, Direction, EntryKind
from agentdesk.model.records import TimelineEntry
from agentdesk.server.run import ServerThread
from agentdesk.server.store import Store

import httpx

FEEDBACK = TimelineEntry(id="fb_1", at=demo.EPOCH, channel=Channel.WEB, direction=Direction.INBOUND,
                         kind=EntryKind.FEEDBACK, author="Typeform", subject="Product survey",
                         body="Love it", details={"source": "Typeform"})
RESPONSE = TimelineEntry(id="rs_1", at=demo.EPOCH, channel=Channel.EMAIL, direction=Direction.INBOUND,
                         kind=EntryKind.RESPONSE, subject="Score 9", details={
                             "score": 9, "campaign": "Quarterly NPS", "tags": ["support"],
                             "ignored": False})


@pytest.fixture
def remote(make_store: Callable[[], Store]) -> Iterator[Remote]:
    store = make_store()
    store.add_token(TOKEN, "alice")
    a, b = small_profile("cus_a", "Ada Lovelace", "ada@example.com"), small_profile("cus_b", "Bruno")
    store.bulk_load([(a[0], [*a[1], FEEDBACK, RESPONSE]), b])
    with ServerThread(store) as server, httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        yield Remote(store, server.url, client)


def entries(remote: Remote, cid: str) -> dict[str, dict[str, Any]]:
    r = remote.client.get(f"/v1/customers/{cid}")
    assert r.status_code == 200
    return {c["id"]: c["data"] for c in r.json()["changes"] if c["type"] == "entry"}


def mutation(mid: str, kind: str, target: str, data: dict[str, Any], cid: str = "cus_a") -> dict[str, Any]:
    return {"id": mid, "kind": kind, "customer_id": cid, "target": target, "data": data}


def test_feedback_reassigned_moves_to_the_other_customer(remote: Remote) -> None:
    cursor = remote.all_changes()[1]
    [result] = remote.mutate(mutation("m1", "feedback.reassign", "fb_1", {"to": "cus_b", "new_id": "fb_1b"}))
    assert result["status"] == "applied"
    assert "fb_1" not in entries(remote, "cus_a")
    moved = entries(remote, "cus_b")["fb_1b"]
    assert moved["kind"] == "feedback" and moved["body"] == "Love it" and moved["at"] == FEEDBACK.model_dump(mode="json")["at"]
    changes, _ = remote.all_changes(cursor)
    ops = [(c.op, c.customer_id, c.id) for c in changes]
    assert ("delete", "cus_a", "fb_1") in ops and ("upsert", "cus_b", "fb_1b") in ops
    tombstone = next(c for c in changes if c.id == "fb_1")
    assert tombstone.data == {"at": FEEDBACK.model_dump(mode="json")["at"]}  # no personal data kept
    # Sent again (a retry): answered from its stored result, nothing written twice.
    assert remote.mutate(mutation("m1", "feedback.reassign", "fb_1", {"to": "cus_b", "new_id": "fb_1b"})) == [result]


@pytest.mark.parametrize(("data", "why"), [
    ({"to": "cus_nobody", "new_id": "x1"}, "does not exist"),
    ({"to": "cus_a", "new_id": "x1"}, "already"),
    ({"to": "cus_b"}, "new_id"),
])
def test_a_bad_reassign_is_rejected_and_changes_nothing(remote: Remote, data: dict[str, Any], why: str) -> None:
    [result] = remote.mutate(mutation("m2", "feedback.reassign", "fb_1", data))
    assert result["status"] == "rejected" and why in result["reason"]
    assert "fb_1" in entries(remote, "cus_a")


def test_only_feedback_is_reassigned_or_unlinked(remote: Remote) -> None:
    [result] = remote.mutate(mutation("m3", "feedback.unlink", "rs_1", {}))
    assert result["status"] == "rejected" and "feedback items only" in result["reason"]
    [result] = remote.mutate(mutation("m4", "feedback.unlink", "fb_1", {}))
    assert result["status"] == "applied"
    assert "fb_1" not in entries(remote, "cus_a")
    [result] = remote.mutate(mutation("m5", "feedback.unlink", "fb_1", {}))
    assert result["status"] == "rejected" and "no longer" in result["reason"]


def test_response_ignored_and_tagged_field_by_field(remote: Remote) -> None:
    [result] = remote.mutate(mutation("m6", "response.update", "rs_1", {
        "set": {"ignored": True, "tags": ["support", "pricing"]},
        "base": {"ignored": False, "tags": ["support"]}}))
    assert result["status"] == "applied"
    details = entries(remote, "cus_a")["rs_1"]["details"]
    assert details["ignored"] is True and details["tags"] == ["support", "pricing"]
    assert details["score"] == 9  # the rest of the details as they were
    # Based on tags that changed meanwhile: the store's tags win, the rest applies.
    [result] = remote.mutate(mutation("m7", "response.update", "rs_1", {
        "set": {"ignored": False, "tags": ["delivery"]}, "base": {"ignored": True, "tags": ["support"]}}))
    assert result["status"] == "conflict" and result["conflicts"] == ["tags"]
    details = entries(remote, "cus_a")["rs_1"]["details"]
    assert details["ignored"] is False and details["tags"] == ["support", "pricing"]
    [result] = remote.mutate(mutation("m8", "response.update", "rs_1", {"set": {"score": 1}, "base": {}}))
    assert result["status"] == "rejected"


def test_a_conversation_started_writes_it_and_its_first_entry(remote: Remote) -> None:
    conv = {"id": "conv_new", "topic": "Survey response: Quarterly NPS", "status": "open",
            "channels": ["email"], "started": "2026-01-05T09:00:00Z", "ended": None, "assignee": ""}
    note = {"id": "ent_new", "conversation_id": "conv_new", "at": "2026-01-05T09:00:00Z",
            "channel": "note", "direction": "internal", "author": "Sam", "subject": "",
            "body": "> Score 9", "kind": "message", "status": "", "details": {}}
    [result] = remote.mutate(mutation("m9", "conversation.start", "conv_new",
                                      {"conversation": conv, "entry": note}))
    assert result["status"] == "applied"
    assert entries(remote, "cus_a")["ent_new"]["body"] == "> Score 9"
    r = remote.client.get("/v1/customers/cus_a")
    assert "conv_new" in {c["id"] for c in r.json()["changes"] if c["type"] == "conversation"}
    [again] = remote.mutate(mutation("m10", "conversation.start", "conv_new",
                                     {"conversation": conv, "entry": note}))
    assert again["status"] == "applied"  # the same conversation again: already there
    [bad] = remote.mutate(mutation("m11", "conversation.start", "conv_other",
                                   {"conversation": {**conv, "id": "conv_other"}, "entry": note}))
    assert bad["status"] == "rejected" and "belongs to the conversation" in bad["reason"]
