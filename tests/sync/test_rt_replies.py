"""Replies written in the desk, sent to a real Request Tracker 5 as Correspond transactions:
the agent's text exactly, once however the push is cut and retried, and one timeline entry
after the next pull (RT's transaction replaces the pending reply)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentdesk.cache.cache import Cache
from agentdesk.cache.outbox import Outbox
from agentdesk.sync.client import Offline
from agentdesk.sync.engine import SyncEngine
from agentdesk.sync.remote import RemoteStore, connect
from agentdesk.sync.rt.reply_push import MARKER
from support.cache_reading import timeline_of
from support.rt_world import PASSWORD, USER, RTServer, RTStaff, rt, staff  # noqa: F401 (fixtures)
from support.sync_world import FaultProxy, fast_retry

# Markup, a bidi override, an escape sequence: sent and kept as typed, never interpreted.
HOSTILE = "Thanks [bold]Mia[/bold]!\nSecond line \u202e reversed \x1b[31mred"


def remote_at(url: str) -> RemoteStore:
    return connect("rt+" + url, user=USER, password=PASSWORD, retry=fast_retry(), timeout=10.0)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache") as opened:
        yield opened


def sync(cache: Cache, url: str) -> Any:
    with remote_at(url) as remote:
        return SyncEngine(cache, remote, page_size=50).run()


def messages(staff: RTStaff, ticket: int, kind: str) -> list[tuple[int, str, str]]:
    """(transaction id, author, text) of each transaction of `kind` on the ticket, as RT
    holds them."""
    found = staff.http.get("/transactions", params={
        "query": f"ObjectType = 'RT::Ticket' AND ObjectId = {ticket} AND Type = '{kind}'",
        "fields": "Creator", "orderby": "id"}).json()["items"]
    out = []
    for txn in found:
        parts = staff.http.get(f"/transaction/{txn['id']}/attachments",
                               params={"fields": "Content,ContentType"}).json()["items"]
        text = next((p["Content"] for p in parts if p["ContentType"].startswith("text/plain")), "")
        out.append((int(txn["id"]), txn["Creator"]["id"], text))
    return out


def corresponds(staff: RTStaff, ticket: int) -> list[tuple[int, str, str]]:
    return messages(staff, ticket, "Correspond")


def entries(cache: Cache, cid: str) -> list[dict[str, Any]]:
    t = timeline_of(cache, cid)
    return [e.model_dump(mode="json") for i in range(len(t.summary.chunk_sizes)) for e in t.chunk(i)]


def started(staff: RTStaff, cache: Cache, url: str, name: str) -> tuple[str, str, int]:
    """A customer with a ticket, synced into the cache: (customer id, conversation, ticket)."""
    uid = staff.user(name)
    ticket = staff.ticket(uid, f"Question from {name}", "my widget broke")
    sync(cache, url)
    return f"rt-user-{uid}", f"rt-ticket-{ticket}", ticket


def test_a_reply_arrives_as_a_correspond_from_the_agent_and_comes_back_as_one_entry(
        rt: RTServer, staff: RTStaff, cache: Cache) -> None:  # noqa: F811
    cid, conv, ticket = started(staff, cache, rt.url, "Reply Rhea")
    entry_id = cache.add_reply(cid, conv, HOSTILE, "Desk Dana")
    report = sync(cache, rt.url)
    assert report.pushed == 1 and not cache.outbox.items()
    [(txn, author, text)] = corresponds(staff, ticket)
    assert (author, text) == (USER, HOSTILE)  # from the desk's RT user, the text exact
    # RT's transaction is the reply's entry now: the pending one is gone, no second copy.
    mine = [e for e in entries(cache, cid) if e["body"] == HOSTILE]
    assert [(e["id"], e["direction"], e["channel"]) for e in mine] == [
        (f"rt-txn-{txn}", "outbound", "email")]
    assert entry_id not in {e["id"] for e in entries(cache, cid)}
    again = sync(cache, rt.url)
    assert [e["id"] for e in entries(cache, cid) if e["body"] == HOSTILE] == [f"rt-txn-{txn}"]
    assert again.pushed == 0 and len(corresponds(staff, ticket)) == 1


@pytest.mark.parametrize("note, endpoint, kind", [(False, "correspond", "Correspond"),
                                                   (True, "comment", "Comment")])
def test_a_reply_or_note_whose_answer_was_lost_is_looked_up_not_sent_twice(
        rt: RTServer, staff: RTStaff, cache: Cache, note: bool, endpoint: str,  # noqa: F811
        kind: str) -> None:
    """A reply (a Correspond) or an internal note (a Comment) that RT applied but whose answer
    was lost: the retry looks the marker up, finds it, and sends nothing again."""
    cid, conv, ticket = started(staff, cache, rt.url, f"Cut {kind}")
    cache.add_reply(cid, conv, "sent once, answered never", "Desk Dana", note=note)
    path = f"/REST/2.0/ticket/{ticket}/{endpoint}"
    with FaultProxy(rt.url) as proxy:
        rule = proxy.add("drop_after", path, method="POST", times=1)
        sync(cache, proxy.url)
        assert rule.hits == 1  # RT applied it and its answer was lost
        lookups = [s for s in proxy.requests("/REST/2.0/transactions", "GET")
                   if MARKER in str(s.params.get("query"))]
        assert len(lookups) == 1  # so the retry looked for it, found it...
        assert len(proxy.requests(path, "POST")) == 1  # ...and did not send it again
    assert not cache.outbox.items()
    assert [t for _, _, t in messages(staff, ticket, kind)] == ["sent once, answered never"]
    sync(cache, rt.url)
    assert [e["body"] for e in entries(cache, cid)].count("sent once, answered never") == 1


def test_a_reply_sent_in_a_run_that_failed_is_looked_up_in_the_next(
        rt: RTServer, staff: RTStaff, cache: Cache) -> None:  # noqa: F811
    """The run ends offline after RT took the reply (nothing of RT's reached the desk after
    it): the outbox remembers the reply was sent, and the next run finds it in RT."""
    cid, conv, ticket = started(staff, cache, rt.url, "Offline Otto")
    cache.add_reply(cid, conv, "the network went down right after", "Desk Dana")
    with FaultProxy(rt.url) as proxy, remote_at(proxy.url) as remote:
        remote.status()  # (RT's epoch is known before the network goes)
        proxy.add("drop_after", f"/REST/2.0/ticket/{ticket}/correspond", method="POST", times=1)
        proxy.add("drop_before", "/REST/2.0/transactions", times=None)  # look-ups fail too
        with pytest.raises(Offline):
            SyncEngine(cache, remote).run()
        assert len(proxy.requests(f"/REST/2.0/ticket/{ticket}/correspond", "POST")) == 1
    [item] = Outbox(cache.outbox.path).items()  # as the file holds it, for the next process
    assert item.sent and item.status == "pending"
    with FaultProxy(rt.url) as proxy:
        sync(cache, proxy.url)
        assert not proxy.requests(f"/REST/2.0/ticket/{ticket}/correspond", "POST")
    assert not cache.outbox.items()
    assert [t for _, _, t in corresponds(staff, ticket)] == ["the network went down right after"]
    assert [e["body"] for e in entries(cache, cid)].count("the network went down right after") == 1


def test_a_reply_costs_one_request_and_the_marker_field_is_checked_once(
        rt: RTServer, staff: RTStaff, cache: Cache) -> None:  # noqa: F811
    cid, conv, ticket = started(staff, cache, rt.url, "Cheap Chad")
    cache.add_reply(cid, conv, "first", "Desk Dana")
    cache.add_reply(cid, conv, "second", "Desk Dana")
    with FaultProxy(rt.url) as proxy:
        sync(cache, proxy.url)
        assert len(proxy.requests(f"/REST/2.0/ticket/{ticket}/correspond", "POST")) == 2
        assert len(proxy.requests("/REST/2.0/customfields", "GET")) == 1
        assert not [s for s in proxy.requests("/REST/2.0/transactions", "GET")
                    if MARKER in str(s.params.get("query"))]  # no look-up on a first try
    assert [t for _, _, t in corresponds(staff, ticket)] == ["first", "second"]


def test_without_the_marker_field_a_reply_waits_saying_why(
        rt: RTServer, staff: RTStaff, cache: Cache) -> None:  # noqa: F811
    """RT would take the reply, but a retry could not find it: it is not sent at all."""
    cid, conv, ticket = started(staff, cache, rt.url, "Unmarked Una")
    query = json.dumps([{"field": "Name", "value": MARKER}])
    [field] = staff.http.get("/customfields", params={"query": query}).json()["items"]
    staff.set_customfield(int(field["id"]), Disabled=1)
    try:
        cache.add_reply(cid, conv, "held back", "Desk Dana")
        sync(cache, rt.url)
    finally:
        staff.set_customfield(int(field["id"]), Disabled=0)
    [item] = cache.outbox.items()
    assert item.status == "rejected" and MARKER in item.reason
    assert corresponds(staff, ticket) == []
    assert "held back" not in [e["body"] for e in entries(cache, cid)]  # under Unsynced edits


def test_a_reply_pulled_before_its_answer_came_stays_rt_s_one_entry(
        rt: RTServer, staff: RTStaff, cache: Cache) -> None:  # noqa: F811
    """RT took the reply, the answer was lost and RT failed every look-up in that run, which
    then pulled RT's transaction while the reply still waited: the next run finds the reply
    in RT, and the desk drops its pending copy, keeping RT's as pulled."""
    cid, conv, ticket = started(staff, cache, rt.url, "Pulled Pia")
    cache.add_reply(cid, conv, "pulled before answered", "Desk Dana")
    with FaultProxy(rt.url) as proxy:
        proxy.add("drop_after", f"/REST/2.0/ticket/{ticket}/correspond", method="POST", times=1)
        proxy.add("status", "/REST/2.0/transactions", status=503, asking=MARKER, times=None)
        report = sync(cache, proxy.url)
    assert report.held and cache.outbox.counts().pending == 1
    both = [e for e in entries(cache, cid) if e["body"] == "pulled before answered"]
    assert len(both) == 2  # the pending reply, and RT's transaction
    sync(cache, rt.url)
    [(txn, _, _)] = corresponds(staff, ticket)
    kept = [e for e in entries(cache, cid) if e["body"] == "pulled before answered"]
    assert [(e["id"], e["author"]) for e in kept] == [(f"rt-txn-{txn}", USER)]  # RT's copy
    assert not cache.outbox.items()
