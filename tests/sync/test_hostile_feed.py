"""What a store (or something between it and the desk) sends cannot crash the sync or break
the cache: each change is checked whole, envelope and record, before anything is filed; a bad
one is skipped with its reason and the rest applies; a page broken as a whole is retried like
a 5xx and then reported in words, never as a traceback.

Each case here once ended `agentdesk sync` with a Python traceback (issue 21), and the first
sync's ones left the cache unable to sync again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from agentdesk.model.protocol import RecordType
from agentdesk.sync.client import RemoteError
from agentdesk.sync.engine import SyncState
from support.sync_world import FaultProxy, Sleeps, World

CID = "cus_000003"
Change = dict[str, Any]


class MutateOnce:
    """A proxy rewrite that changes the first change of a feed page for which `pick` is true,
    once, and remembers the change as the store sent it."""

    def __init__(self, pick: Callable[[Change], bool], mutate: Callable[[Change], Any]) -> None:
        self.pick, self.mutate = pick, mutate
        self.original: Change | None = None

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.original is None:
            for index, change in enumerate(body["changes"]):
                if self.pick(change):
                    self.original = change
                    body["changes"][index] = self.mutate(dict(change))
                    break
        return body

    def touch(self, world: World) -> None:
        """Have the store send the mutated record again (as a repaired store would)."""
        original = self.original
        assert original is not None, "no change was mutated"
        world.store.upsert(original["type"], original["data"], original["customer_id"])


def entries(change: Change) -> bool:
    return change["type"] == "entry" and change["op"] == "upsert"


def notes(change: Change) -> bool:
    return change["type"] == "note" and change["op"] == "upsert"


def with_at(value: Any) -> Callable[[Change], Change]:
    return lambda c: {**c, "data": {**c["data"], "at": value}}


# Every way a change once crashed the sync, and more of the same families.
BAD: dict[str, tuple[Callable[[Change], bool], Callable[[Change], Any]]] = {
    "op is a list": (notes, lambda c: {**c, "op": ["upsert"]}),
    "op is an object": (notes, lambda c: {**c, "op": {"upsert": 1}}),
    "type is a list": (notes, lambda c: {**c, "type": ["note"]}),
    "type is an object": (entries, lambda c: {**c, "type": {}}),
    "an entry merged": (entries, lambda c: {**c, "op": "merge", "data": {"into": CID}}),
    "a note evicted": (notes, lambda c: {**c, "op": "evict", "data": None}),
    "at is 0": (entries, with_at(0)),
    "at is -1": (entries, with_at(-1)),
    "at is 1.5": (entries, with_at(1.5)),
    "at without a zone": (entries, with_at("2024-06-01T10:00:00")),
    "at a bare date": (entries, with_at("2024-06-01")),
    "at out of range": (entries, with_at("0001-01-01T00:00:00+23:59")),
    "at a Unix time in text": (entries, with_at("1717236000")),
    "a note's created without a zone": (notes, lambda c: {**c, "data": {**c["data"], "created": "2024-06-01T10:00:00"}}),
    "seq is text": (notes, lambda c: {**c, "seq": "12"}),
    "seq is true": (notes, lambda c: {**c, "seq": True}),
    "revision past 64 bits": (notes, lambda c: {**c, "revision": 2**70}),
    "customer_id is a number": (notes, lambda c: {**c, "customer_id": 3}),
    "id is empty": (notes, lambda c: {**c, "id": ""}),
    "data is a list": (notes, lambda c: {**c, "data": [1, 2]}),
    "text is a number": (notes, lambda c: {**c, "data": {**c["data"], "text": 5}}),
    "a required field missing": (entries, lambda c: {**c, "data": {k: v for k, v in c["data"].items() if k != "conversation_id"}}),
    "the change is a string": (notes, lambda c: "upsert"),
    "nested 300 deep": (notes, lambda c: {**c, "data": {**c["data"], "x": json.loads("[" * 300 + "]" * 300)}}),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_change_in_an_incremental_sync_is_skipped_and_the_rest_applies(
        synced: World, proxy: FaultProxy, case: str) -> None:
    w, store = synced, synced.store
    pick, mutate = BAD[case]
    customer = w.server_records(CID, RecordType.CUSTOMER)[0]
    [conversation] = w.server_records(CID, RecordType.CONVERSATION)[:1]
    store.upsert(RecordType.NOTE, {"id": "note_new", "text": "new note"}, CID)
    store.upsert(RecordType.ENTRY, {"id": "ent_new", "conversation_id": conversation["id"],
                                    "at": "2026-02-01T10:00:00Z", "channel": "chat",
                                    "direction": "inbound", "body": "new entry"}, CID)
    store.upsert(RecordType.CUSTOMER, {**customer, "name": "Applied After"}, CID)
    rewrite = MutateOnce(pick, mutate)
    proxy.add("rewrite", "/v1/changes", times=None, rewrite=rewrite)

    report = w.sync(w.client(proxy.url))

    assert len(report.applied.skipped) == 1, report.applied.skipped
    assert w.local(CID)["customer"]["name"] == "Applied After"
    w.cache.view_profile(CID)  # what was filed reads back
    rewrite.touch(w)
    proxy.clear()
    assert not w.sync().applied.skipped
    w.assert_in_sync()


@pytest.mark.parametrize("case", ["op is a list", "an entry merged", "at is 0", "at without a zone",
                                  "at out of range", "nested 300 deep"])
def test_a_bad_change_on_the_first_page_of_a_first_sync_is_skipped(
        world: World, proxy: FaultProxy, first_sync_way: str, case: str) -> None:
    """Such a change once crashed the first sync with its spool half filed and the cursor past
    the page, and every later sync (and the desk) crashed the same way."""
    w = world
    pick, mutate = BAD[case]
    rewrite = MutateOnce(pick, mutate)
    proxy.add("rewrite", "/v1/changes", times=None, rewrite=rewrite)

    report = w.sync(w.client(proxy.url))

    assert len(report.applied.skipped) == 1, report.applied.skipped
    state = SyncState.load(w.cache)
    assert not state.spooling and state.last_error == ""
    rewrite.touch(w)
    proxy.clear()
    assert not w.sync().applied.skipped
    w.assert_in_sync()


def test_a_record_without_a_field_that_has_a_default_gets_the_default(
        synced: World, proxy: FaultProxy) -> None:
    """The desk draws every field of a record: one left out is filled with its default, so
    the view never lacks it."""
    w = synced
    w.store.upsert(RecordType.NOTE, {"id": "note_new", "text": "new note", "author": "Sam"}, CID)
    rewrite = MutateOnce(notes, lambda c: {**c, "data": {k: v for k, v in c["data"].items()
                                                         if k != "author"}})
    proxy.add("rewrite", "/v1/changes", times=None, rewrite=rewrite)
    assert not w.sync(w.client(proxy.url)).applied.skipped
    view, _ = w.cache.view_profile(CID) or (None, None)
    assert view is not None
    [note] = [n for n in view.notes if n.id == "note_new"]
    assert note.author == ""


def deep_page(depth: int) -> Callable[[dict[str, Any]], bytes]:
    def rewrite(body: dict[str, Any]) -> bytes:
        text = json.dumps(body)
        return text.replace('"changes": [', '"changes": [' + "[" * depth + "]" * depth + ",", 1).encode()
    return rewrite


def test_a_page_nested_too_deep_to_read_is_retried_like_a_5xx(synced: World,
                                                               proxy: FaultProxy) -> None:
    w = synced
    w.store.upsert(RecordType.NOTE, {"id": "note_new", "text": "new note"}, CID)
    rule = proxy.add("rewrite", "/v1/changes", times=1, rewrite=deep_page(100_000))
    w.sync(w.client(proxy.url))
    assert rule.hits == 1 and len(proxy.requests("/v1/changes")) == 2
    w.assert_in_sync()


def test_a_page_nested_too_deep_for_ever_stops_the_sync_with_a_clear_message(
        synced: World, proxy: FaultProxy) -> None:
    w = synced
    w.store.upsert(RecordType.NOTE, {"id": "note_new", "text": "new note"}, CID)
    cursor = SyncState.load(w.cache).cursor
    proxy.add("rewrite", "/v1/changes", times=None, rewrite=deep_page(100_000))
    with pytest.raises(RemoteError, match="malformed or truncated JSON"):
        w.sync(w.client(proxy.url))
    assert SyncState.load(w.cache).cursor == cursor


@pytest.mark.parametrize("cursor", ["x" * 100_000, "", 12, None, ["a"], "bad\ncursor"],
                         ids=["100,000 characters", "empty", "a number", "null", "a list",
                              "a newline"])
def test_a_next_cursor_that_is_not_a_short_string_stops_the_sync_with_a_clear_message(
        synced: World, proxy: FaultProxy, cursor: Any) -> None:
    w = synced
    w.store.upsert(RecordType.NOTE, {"id": "note_new", "text": "new note"}, CID)
    before = SyncState.load(w.cache).cursor
    proxy.add("rewrite", "/v1/changes", times=None,
              rewrite=lambda body: {**body, "next_cursor": cursor})
    with pytest.raises(RemoteError, match="next_cursor is not a string of 1 to 1024"):
        w.sync(w.client(proxy.url))
    assert SyncState.load(w.cache).cursor == before
    proxy.clear()
    w.sync(w.client(proxy.url))
    w.assert_in_sync()


@pytest.mark.parametrize("more", ["false", 0, None])
def test_a_page_whose_more_is_not_a_boolean_is_a_page_error(synced: World, proxy: FaultProxy,
                                                            more: Any) -> None:
    w = synced
    proxy.add("rewrite", "/v1/changes", times=None, rewrite=lambda body: {**body, "more": more})
    with pytest.raises(RemoteError, match="`more` is not true or false"):
        w.sync(w.client(proxy.url))


def test_a_cursor_saved_by_an_older_desk_that_no_url_can_carry_starts_over(synced: World) -> None:
    """A 100,000-character cursor an older version saved made every request fail to build
    (httpx.InvalidURL, a traceback): it is dropped, and the replica rebuilt from the start."""
    w = synced
    state = SyncState.load(w.cache)
    state.cursor = "x" * 100_000
    state.save(w.cache)
    w.sync()
    assert len(SyncState.load(w.cache).cursor or "") < 1024
    w.assert_in_sync()


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf", "1e9", "Sun, 99 Foo 2026", "\u00e9"])
def test_a_retry_after_that_is_no_number_nor_date_is_ignored(synced: World, proxy: FaultProxy,
                                                             value: str) -> None:
    w = synced
    proxy.add("status", "/v1/changes", status=503, headers={"Retry-After": value})
    sleeps = Sleeps()
    w.sync(w.client(proxy.url, sleep=sleeps))
    [waited] = sleeps
    assert waited < 1.0  # the client's own backoff
    w.assert_in_sync()


def test_a_long_retry_after_stops_the_sync_at_once_and_says_how_long(synced: World,
                                                                     proxy: FaultProxy) -> None:
    """`Retry-After: 3600` once made the sync sleep 120 s per retry, ten minutes in silence."""
    w = synced
    proxy.add("status", "/v1/changes", status=503, times=None, headers={"Retry-After": "3600"})
    sleeps = Sleeps()
    with pytest.raises(RemoteError, match="asks to wait 60 minutes"):
        w.sync(w.client(proxy.url, sleep=sleeps))
    assert sleeps == []
    assert len(proxy.requests("/v1/changes")) == 1


def test_waits_between_attempts_are_told_before_they_start(synced: World,
                                                           proxy: FaultProxy) -> None:
    w = synced
    proxy.add("status", "/v1/changes", status=503, times=2, headers={"Retry-After": "30"})
    told: list[tuple[float, str]] = []
    sleeps = Sleeps()
    w.sync(w.client(proxy.url, sleep=sleeps, on_wait=lambda s, why: told.append((s, why))))
    assert told == [(30.0, "the server answered 503 Service Unavailable")] * 2
    assert sleeps == [30.0, 30.0]
