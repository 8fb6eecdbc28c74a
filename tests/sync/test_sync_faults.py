"""The sync engine through a fault-injecting proxy in front of the real store (all loopback HTTP).

Each fault either heals within the client's retries (the sync completes, digests equal, edits
pushed through the fault exist once on the store) or stops the sync with a clear message and
nothing lost (the outbox intact, the cursor where the last applied page left it). The token
must never show in an exception message or in the logs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from agentdesk.cache.cache import Cache
from agentdesk.cache.outbox import PENDING
from agentdesk.model.protocol import RecordType
from agentdesk.sync.client import AuthError, Offline, RemoteClient, RemoteError
from agentdesk.sync.engine import CursorStuck, SyncReport
from support.sync_world import (
    SCOPED_AGENT,
    SCOPED_TOKEN,
    TOKEN,
    FaultProxy,
    Sleeps,
    World,
    free_port,
    snapshot_digest,
)
from support.cache_reading import timeline_of

CID = "cus_000003"


@pytest.fixture(autouse=True)
def no_token_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test here runs with all logs captured; none may hold a token."""
    caplog.set_level(logging.DEBUG)
    yield
    for token in (TOKEN, SCOPED_TOKEN, "wrong-token-" + "w" * 24):
        assert token not in caplog.text


def via(world: World, proxy: FaultProxy, **kwargs: Any) -> RemoteClient:
    return world.client(proxy.url, **kwargs)


def no_token(error: BaseException) -> str:
    text = str(error)
    assert TOKEN not in text and SCOPED_TOKEN not in text
    assert TOKEN not in repr(error.args)
    return text


def note_ids(world: World, customer_id: str = CID) -> list[str]:
    return [n["id"] for n in world.server_records(customer_id, RecordType.NOTE)]


def pending_edits(world: World) -> list[str]:
    """Queue a note and a rename at the desk; returns the note id."""
    note = world.cache.add_note(CID, "pushed through a fault")
    profile = world.cache.load_profile(CID)
    assert profile is not None
    world.cache.update_details(CID, name="Renamed Through Faults",
                               company=profile.customer.company, contacts=list(profile.contacts))
    return [note.id]


def assert_pushed_once(world: World, ids: list[str]) -> None:
    assert world.cache.outbox.items() == []
    server = note_ids(world)
    for note_id in ids:
        assert server.count(note_id) == 1
    assert world.server_records(CID, RecordType.CUSTOMER)[0]["name"] == "Renamed Through Faults"


# --- unreachable -------------------------------------------------------------------------

def test_connection_refused_is_offline_after_the_retries(synced: World) -> None:
    w = synced
    ids = pending_edits(w)
    sleeps = Sleeps()
    client = w.client(f"http://127.0.0.1:{free_port()}", sleep=sleeps)
    with pytest.raises(Offline) as caught:
        w.sync(client)
    text = no_token(caught.value)
    assert "cannot reach the server" in text and "connection refused" in text
    assert "tried 4 times" in text
    assert len(sleeps) == 3 and all(0 <= s <= 0.05 for s in sleeps)
    assert [i.status for i in w.cache.outbox.items()] == [PENDING, PENDING]
    assert "connection refused" in w.engine().state.last_error
    w.sync()
    assert_pushed_once(w, ids)
    w.assert_in_sync()


def test_a_stopped_proxy_refuses_and_a_restarted_path_heals(synced: World, proxy: FaultProxy) -> None:
    w = synced
    ids = pending_edits(w)
    client = via(w, proxy)
    proxy.stop()
    with pytest.raises(Offline, match="refused"):
        w.sync(client)
    assert len(w.cache.outbox.pending()) == 2
    w.sync()  # straight to the store
    assert_pushed_once(w, ids)


def test_timeouts_are_retried(synced: World, proxy: FaultProxy) -> None:
    w = synced
    ids = pending_edits(w)
    w.store.upsert(RecordType.NOTE, {"id": "note_srv", "text": "server side"}, CID)
    # The mutation batch is held past the client's timeout, then reaches the store anyway:
    # the retry and the late original must not make two notes.
    proxy.add("delay", "/v1/mutations", seconds=1.0)
    proxy.add("delay", "/v1/changes", seconds=1.0)
    report = w.sync(via(w, proxy, timeout=0.3))
    assert report.pushed == 2
    assert len(proxy.requests("/v1/changes")) >= 2
    assert_pushed_once(w, ids)
    w.sync()
    w.assert_in_sync()


def test_timeouts_that_never_end_stop_with_a_clear_message(synced: World, proxy: FaultProxy) -> None:
    w = synced
    pending_edits(w)
    proxy.add("delay", "/v1/", seconds=0.6, times=None)
    with pytest.raises(Offline) as caught:
        w.sync(via(w, proxy, timeout=0.15))
    assert "timed out" in no_token(caught.value)
    assert len(w.cache.outbox.pending()) == 2


# --- server errors -----------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_are_retried(synced: World, proxy: FaultProxy, status: int) -> None:
    w = synced
    ids = pending_edits(w)
    w.store.upsert(RecordType.NOTE, {"id": "note_srv", "text": "server side"}, CID)
    proxy.add("status", "/v1/mutations", status=status, times=2)
    proxy.add("status", "/v1/changes", status=status, times=3)
    sleeps = Sleeps()
    w.sync(via(w, proxy, sleep=sleeps))
    assert len(sleeps) == 5
    assert_pushed_once(w, ids)
    w.assert_in_sync()


@pytest.mark.parametrize(("status", "retry_after"), [(503, "2"), (429, "1.5"), (503, "0")])
def test_retry_after_is_honoured(synced: World, proxy: FaultProxy, status: int,
                                 retry_after: str) -> None:
    w = synced
    ids = pending_edits(w)
    proxy.add("status", "/v1/mutations", status=status, headers={"Retry-After": retry_after})
    proxy.add("status", "/v1/changes", status=status, headers={"Retry-After": retry_after})
    sleeps = Sleeps()
    w.sync(via(w, proxy, sleep=sleeps))
    assert sleeps == [pytest.approx(float(retry_after))] * 2
    assert_pushed_once(w, ids)
    w.assert_in_sync()


def test_retry_after_as_an_http_date(synced: World, proxy: FaultProxy) -> None:
    import email.utils
    import time

    w = synced
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    proxy.add("status", "/v1/changes", status=503, headers={"Retry-After": when})
    sleeps = Sleeps()
    w.sync(via(w, proxy, sleep=sleeps))
    [waited] = sleeps
    assert 1.0 <= waited <= 3.0


def test_errors_that_never_end_stop_with_the_status_in_the_message(synced: World,
                                                                   proxy: FaultProxy) -> None:
    w = synced
    pending_edits(w)
    proxy.add("status", "/v1/", status=503, times=None)
    sleeps = Sleeps()
    with pytest.raises(RemoteError) as caught:
        w.sync(via(w, proxy, sleep=sleeps))
    text = no_token(caught.value)
    assert not isinstance(caught.value, Offline)
    # The edits are held (sent alone, they fail too), the feed is read, and fails the same way.
    assert "reading the change feed failed" in text and "503" in text and "tried 4 times" in text
    # Both edits are of one customer: the second waits behind the first.
    assert len(proxy.requests("/v1/mutations")) == 4 + 2
    assert len(w.cache.outbox.pending()) == 2
    # Nothing went through: the store is to blame, not an edit, and no attempt is counted.
    assert [i.attempts for i in w.cache.outbox.items()] == [0, 0]


# --- broken answers ----------------------------------------------------------------------

@pytest.mark.parametrize("action", ["truncate", "malformed", "drop_after"])
def test_broken_answers_after_the_store_applied_the_batch(synced: World, proxy: FaultProxy,
                                                          action: str) -> None:
    """The store applied the mutations, but the desk never got a usable answer: the retried
    batch is answered from the store's memory of those mutation ids, not applied again."""
    w = synced
    ids = pending_edits(w)
    mutation_ids = [i.mutation.id for i in w.cache.outbox.items()]
    proxy.add(action, "/v1/mutations", method="POST")
    report = w.sync(via(w, proxy))
    assert report.pushed == 2 and report.conflicts == 0 and report.rejected == 0
    assert proxy.forwarded_mutation_ids() == mutation_ids * 2  # the store saw the batch twice
    assert_pushed_once(w, ids)
    w.sync()
    w.assert_in_sync()


@pytest.mark.parametrize("action", ["truncate", "malformed", "drop_after", "drop_before"])
def test_broken_feed_pages_are_retried(world: World, first_sync_way: str, proxy: FaultProxy, action: str) -> None:
    w = world
    proxy.add(action, "/v1/changes", times=2)
    report = w.sync(via(w, proxy))
    assert not report.applied.skipped
    w.assert_in_sync()


@pytest.mark.parametrize("action", ["truncate", "malformed", "drop_after"])
def test_broken_profile_and_search_answers_are_retried(world: World, proxy: FaultProxy,
                                                       action: str) -> None:
    w = world
    client = via(w, proxy)
    proxy.add(action, "/v1/search")
    assert [h.id for h in client.search("Beatrix").hits] == ["cus_big_timeline"]
    proxy.add(action, "/v1/customers/")
    w.engine(client).fetch("cus_big_timeline")
    assert timeline_of(w.cache, "cus_big_timeline").total == 600


def test_answers_of_the_wrong_shape_are_a_remote_error(synced: World, proxy: FaultProxy) -> None:
    """Valid JSON that is not what the protocol promises ends as a RemoteError (with a clear
    message) like every other failure, not as a stray validation error."""
    w = synced
    pending_edits(w)
    proxy.add("rewrite", "/v1/mutations", times=None, rewrite=lambda body: {"results": "nope"})
    # The edits are held back (see sync.push), the rest of the sync goes on.
    [held] = w.sync(via(w, proxy)).held
    assert f"edits of customer {CID} not sent: sending edits: the server sent an answer" in held
    assert len(w.cache.outbox.pending()) == 2
    proxy.clear()
    proxy.add("rewrite", "/v1/customers/", times=None, rewrite=lambda body: {"changes": 1})
    with pytest.raises(RemoteError, match="fetching customer"):
        w.engine(via(w, proxy)).fetch(CID)


def test_a_page_without_its_fields_is_retried_then_reported(world: World, proxy: FaultProxy) -> None:
    w = world
    proxy.add("rewrite", "/v1/changes", times=None, rewrite=lambda body: {"epoch": body["epoch"]})
    with pytest.raises(RemoteError, match="a page whose changes are not a list"):
        w.sync(via(w, proxy))
    assert w.engine().state.cursor is None


def test_a_page_without_its_fields_costs_the_retries_once(world: World, proxy: FaultProxy) -> None:
    """The page's shape is checked inside the one retry loop: `attempts` requests in all, not
    `attempts` for each of `attempts` pages."""
    def no_cursor(body: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in body.items() if key != "next_cursor"}

    proxy.add("rewrite", "/v1/changes", times=None, rewrite=no_cursor)
    sleeps = Sleeps()
    client = via(world, proxy, sleep=sleeps)
    with pytest.raises(RemoteError) as caught:
        client.changes(None)
    text = no_token(caught.value)
    assert "the server sent a page whose next_cursor is not a string" in text
    attempts = client.retry.attempts
    assert f"tried {attempts} times" in text
    assert len(proxy.requests("/v1/changes")) == attempts
    assert all(s.action == "rewrite" and s.status == 200 for s in proxy.requests("/v1/changes"))
    assert len(sleeps) == attempts - 1


# --- the change feed misbehaving ---------------------------------------------------------

def test_a_page_served_twice_is_harmless(world: World, first_sync_way: str, proxy: FaultProxy) -> None:
    w = world
    proxy.add("forward", "/v1/changes")  # page 1 as usual
    proxy.add("replay", "/v1/changes")  # then page 1 again instead of page 2
    report = w.sync(via(w, proxy))
    feed = proxy.requests("/v1/changes")
    assert [s.action for s in feed[:3]] == ["forward", "replay", "forward"]
    assert feed[1].answer == feed[0].answer
    assert not report.applied.skipped
    w.assert_in_sync()


def test_an_old_page_replayed_later_is_applied_again_harmlessly(synced: World,
                                                                proxy: FaultProxy) -> None:
    w = synced
    w.store.upsert(RecordType.NOTE, {"id": "note_a", "text": "first"}, CID)
    client = via(w, proxy)
    w.sync(client)
    w.store.upsert(RecordType.NOTE, {"id": "note_a", "text": "second"}, CID)
    proxy.add("replay", "/v1/changes")  # the previous run's last page, with an older cursor
    w.sync(client)
    w.sync(client)
    texts = {n["id"]: n["text"] for n in w.local(CID)["notes"]}
    assert texts["note_a"] == "second"
    w.assert_in_sync()


def test_a_stuck_cursor_stops_the_sync_with_a_clear_message(world: World, first_sync_way: str, proxy: FaultProxy) -> None:
    w = world
    w.sync(w.client())  # a full copy first
    w.cache.add_note(CID, "queued before the feed got stuck")
    # A second desk whose feed is stuck on its first page.
    w.cache.close()
    w.cache = Cache.open(w.tmp / "fresh")
    proxy.add("stuck", "/v1/changes", times=None)
    with pytest.raises(CursorStuck) as caught:
        w.sync(via(w, proxy))
    text = no_token(caught.value)
    assert "not advancing" in text and "stopped rather than loop" in text
    assert len(proxy.requests("/v1/changes")) <= 1 + 4 + 2  # no endless loop (read 2 ahead at most)
    state = w.engine().state
    assert "not advancing" in state.last_error
    first = proxy.requests("/v1/changes")[0]
    assert state.cursor == json.loads(first.answer)["next_cursor"]
    proxy.clear()
    w.sync(via(w, proxy))
    w.assert_in_sync()


def test_a_bad_record_in_a_page_is_skipped_and_the_rest_applies(world: World, first_sync_way: str,
                                                                proxy: FaultProxy) -> None:
    w = world
    broken: dict[str, str] = {}

    def spoil(body: dict[str, Any]) -> dict[str, Any]:
        for change in body["changes"]:
            if change["type"] == "entry":
                change["data"]["at"] = "not a time"
                broken["id"] = change["id"]
                break
        for change in body["changes"]:
            if change["type"] == "contact" and change["id"] != broken.get("contact"):
                change["type"] = "hologram"
                broken["contact"] = change["id"]
                break
        return body

    proxy.add("rewrite", "/v1/changes", rewrite=spoil)
    report = w.sync(via(w, proxy))
    assert len(report.applied.skipped) == 2
    entry_reason = next(r for r in report.applied.skipped if broken["id"] in r)
    contact_reason = next(r for r in report.applied.skipped if broken["contact"] in r)
    assert "entry" in entry_reason and "at:" in entry_reason
    assert "type:" in contact_reason
    assert report.applied.changes > 1000
    # Everything but those two records is here.
    assert w.cache_digest() != w.server_digest()
    served = json.loads(proxy.requests("/v1/changes")[0].answer)["changes"]
    assert {c["id"] for c in served} >= {broken["id"], broken["contact"]}


def test_a_record_with_a_lone_surrogate_is_skipped_and_the_rest_applies(
    world: World, first_sync_way: str, proxy: FaultProxy
) -> None:
    """JSON allows the escape "\\ud800" alone, but no UTF-8 file (or screen) can hold it: the
    record is refused with a reason, as an invalid one is, and the sync goes on."""
    w = world
    broken: dict[str, str] = {}

    def spoil(body: dict[str, Any]) -> dict[str, Any]:
        for change in body["changes"]:
            if change["type"] == "note" and not broken:
                change["data"]["text"] = "before \ud800 after"
                broken["id"] = change["id"]
        return body

    proxy.add("rewrite", "/v1/changes", rewrite=spoil)
    report = w.sync(via(w, proxy))
    assert broken and len(report.applied.skipped) == 1
    assert broken["id"] in report.applied.skipped[0]
    assert "no file can hold" in report.applied.skipped[0]
    assert report.applied.changes > 1000
    served = proxy.requests("/v1/changes")[0].answer
    assert b"\\ud800" in served
    assert w.engine().state.last_error == ""
    proxy.clear()
    for path in w.cache.root.rglob("*.json"):  # every file is still valid UTF-8 JSON
        json.loads(path.read_bytes().decode("utf-8"))


# --- auth --------------------------------------------------------------------------------

def test_a_wrong_token_is_an_auth_error_and_not_retried(synced: World, proxy: FaultProxy) -> None:
    w = synced
    pending_edits(w)
    sleeps = Sleeps()
    client = via(w, proxy, token="wrong-token-" + "w" * 24, sleep=sleeps)
    with pytest.raises(AuthError) as caught:
        w.sync(client)
    text = no_token(caught.value)
    assert "401" in text and "wrong-token" not in text
    assert sleeps == []
    assert len(proxy.requests("/v1/mutations")) == 1
    assert len(w.cache.outbox.pending()) == 2
    with pytest.raises(AuthError):
        w.engine(client).pull(SyncReport())
    assert len(proxy.requests("/v1/changes")) == 1


def test_a_revoked_token_is_an_auth_error_and_not_retried(synced: World, proxy: FaultProxy) -> None:
    w = synced
    ids = pending_edits(w)
    w.store.revoke_token(TOKEN)
    sleeps = Sleeps()
    with pytest.raises(AuthError) as caught:
        w.sync(via(w, proxy, sleep=sleeps))
    text = no_token(caught.value)
    assert "403" in text and "revoked" in text
    assert sleeps == [] and len(proxy.requests("/v1/")) == 1
    assert len(w.cache.outbox.pending()) == 2
    w.store.add_token(TOKEN, "agent")  # re-issued
    w.sync()
    assert_pushed_once(w, ids)


# --- scope changes and cut syncs ---------------------------------------------------------

def _scope_change_cut(w: World, proxy: FaultProxy, before: list[str], after: list[str],
                      *rule: Any, expect: type[RemoteError] = RemoteError,
                      **options: Any) -> RemoteClient:
    """A scoped desk synced with `before` in its scope; the scope becomes `after`, and the
    sync that learns of it is cut by the proxy `rule` with `expect` (the rule is still in
    place when this returns)."""
    w.store.set_scope(SCOPED_AGENT, before)
    client = via(w, proxy, token=SCOPED_TOKEN)
    w.sync(client)
    w.store.set_scope(SCOPED_AGENT, after)
    proxy.add(*rule, times=None, **options)
    with pytest.raises(expect):
        w.sync(client)
    return client


def test_an_include_survives_a_sync_cut_before_the_fetch(world: World, first_sync_way: str, proxy: FaultProxy) -> None:
    w = world
    c1, c2 = "cus_000001", "cus_000002"
    client = _scope_change_cut(w, proxy, [c1], [c1, c2], "status", f"/v1/customers/{c2}",
                               status=503)
    proxy.clear()
    w.sync(client)
    assert {r.id for r in w.cache.index_rows()} == {c1, c2}
    assert w.cache_digest() == snapshot_digest([w.server_profile(c) for c in (c1, c2)])


def test_an_evict_survives_a_sync_cut_before_it_is_done(world: World, first_sync_way: str, proxy: FaultProxy) -> None:
    w = world
    c1, c2, c3 = "cus_000001", "cus_000002", "cus_000003"
    # c2 leaves, c3 joins; the network goes after the page that says so.
    client = _scope_change_cut(w, proxy, [c1, c2], [c1, c3], "drop_before", "/v1/customers/",
                               expect=Offline)
    proxy.clear()
    w.sync(client)
    assert {r.id for r in w.cache.index_rows()} == {c1, c3}
    assert not w.cache.timeline_dir(c2).exists()
    assert w.cache_digest() == snapshot_digest([w.server_profile(c) for c in (c1, c3)])



def test_an_include_of_a_customer_erased_meanwhile_does_not_block_the_sync(
        world: World, proxy: FaultProxy) -> None:
    w, store = world, world.store
    c1, c2 = "cus_000001", "cus_000002"
    client = _scope_change_cut(w, proxy, [c1], [c1, c2], "drop_before", "/v1/customers/",
                               expect=Offline)
    assert w.engine(client).state.fetch_later == [c2]
    proxy.clear()
    store.erase_customer(c2)  # gone before the desk could fetch it
    w.sync(client)
    assert w.engine(client).state.fetch_later == []
    assert {r.id for r in w.cache.index_rows()} == {c1}
    w.sync(client)
