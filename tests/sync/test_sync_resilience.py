"""What keeps one bad thing from holding up or breaking the rest (issue 21): an edit the store
keeps refusing waits alone (sync/push.py); skipped changes are counted and logged; a customer
whose files do not read back, or whose filing fails, is rebuilt from the store with the
agent's unsent edits kept; a read-only desk takes the cache once the other one lets go.
"""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest

from agentdesk.cache.cache import Cache, DamagedProfile
from agentdesk.cache.health import find_damaged
from agentdesk.cache.outbox import PENDING, REJECTED
from agentdesk.model.protocol import RecordType
from agentdesk.sync import replica as replica_module
from agentdesk.sync.engine import Progress, SyncState
from agentdesk.sync.push import PARK_AFTER
from support.sync_world import FaultProxy, World

A, B, C = "cus_000003", "cus_000004", "cus_000005"


def server_note_texts(w: World, customer_id: str) -> set[str]:
    return {n["text"] for n in w.server_records(customer_id, RecordType.NOTE)}


def rename(w: World, customer_id: str, name: str) -> None:
    profile = w.cache.load_profile(customer_id)
    assert profile is not None
    w.cache.update_details(customer_id, name=name, company=profile.customer.company,
                           contacts=list(profile.contacts))


# --- an edit the store keeps failing on -----------------------------------------------------

def test_an_edit_the_store_fails_on_holds_up_only_its_own_customer(synced: World,
                                                                    proxy: FaultProxy) -> None:
    """The store answered 500 to one edit; the desk retried in order, so that edit held up
    every edit behind it (issue 21, item 5)."""
    w = synced
    poison = w.cache.add_note(A, "the store fails on this one")
    rename(w, A, "Waits Behind Its Note")
    w.cache.add_note(B, "note of B")
    w.cache.add_note(C, "note of C")
    proxy.add("status", "/v1/mutations", status=500, times=None, holding=poison.id.encode())

    report = w.sync(w.client(proxy.url))

    assert "note of B" in server_note_texts(w, B) and "note of C" in server_note_texts(w, C)
    assert poison.text not in server_note_texts(w, A)
    [held] = report.held
    assert held.startswith(f"edits of customer {A} not sent") and f"(attempt 1 of {PARK_AFTER})" in held
    pending = w.cache.outbox.pending()
    assert [i.mutation.customer_id for i in pending] == [A, A]  # the rename waits behind it
    assert pending[0].attempts == 1 and "500" in pending[0].reason
    assert w.local(A)["customer"]["name"] == "Waits Behind Its Note"  # still shown locally

    for _ in range(PARK_AFTER - 1):
        report = w.sync(w.client(proxy.url))
    assert report.parked == 1
    [parked] = [i for i in w.cache.outbox.items() if i.status == REJECTED]
    assert parked.mutation.target == poison.id
    assert f"the store failed on this edit {PARK_AFTER} times" in parked.reason
    assert poison.id not in {n["id"] for n in w.local(A)["notes"]}  # undone locally

    w.sync(w.client(proxy.url))  # the rename is no longer held up
    assert w.server_records(A, RecordType.CUSTOMER)[0]["name"] == "Waits Behind Its Note"
    assert [i.status for i in w.cache.outbox.items()] == [REJECTED]


def test_an_edit_the_store_refuses_with_a_4xx_is_parked_at_once(synced: World,
                                                                 proxy: FaultProxy) -> None:
    w = synced
    poison = w.cache.add_note(A, "refused")
    w.cache.add_note(B, "note of B")
    proxy.add("status", "/v1/mutations", status=413, times=None, holding=poison.id.encode())
    report = w.sync(w.client(proxy.url))
    assert report.parked == 1 and not report.held
    [item] = w.cache.outbox.items()
    assert item.status == REJECTED and "413" in item.reason
    assert "note of B" in server_note_texts(w, B)


def test_a_store_that_fails_everything_blames_no_edit(synced: World, proxy: FaultProxy) -> None:
    w = synced
    for customer in (A, B, C, "cus_000006"):
        w.cache.add_note(customer, f"note of {customer}")
    proxy.add("status", "/v1/mutations", status=503, times=None)
    report = w.sync(w.client(proxy.url))
    assert len(report.held) == 4
    assert all(i.status == PENDING and i.attempts == 0 for i in w.cache.outbox.items())
    # The first three failed alone; after that the store is to blame and no more are tried.
    assert len(proxy.requests("/v1/mutations")) == 4 + 3 * 2


def test_big_edits_go_in_batches_under_the_stores_body_limit(synced: World) -> None:
    w = synced
    for n in range(6):
        w.cache.add_note(A, f"{n} " + "x" * 1_000_000)
    w.sync()
    assert len([t for t in server_note_texts(w, A) if len(t) > 1_000_000]) == 6
    assert w.cache.outbox.items() == []


# --- skipped changes --------------------------------------------------------------------------

def test_skipped_changes_are_counted_and_logged_privately(synced: World) -> None:
    w, store = synced, synced.store
    with store._write() as tx:  # behind the store's validation, as a buggy store might
        tx.put(RecordType.NOTE, "note_\x1b[2Jbroken", A, '{"id": "note_\\u001b[2Jbroken"}')
    report = w.sync()
    assert report.skipped == 1 and report.skipped_log == w.cache.skipped_log
    assert SyncState.load(w.cache).skipped == 1
    log = w.cache.skipped_log.read_text()
    assert "note note_broken of customer" in log and "text" in log and "\x1b" not in log
    assert stat.S_IMODE(os.stat(w.cache.skipped_log).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(w.cache.skipped_log.parent).st_mode) == 0o700
    w.sync()
    assert SyncState.load(w.cache).skipped == 0  # the last run's count


# --- damaged customers --------------------------------------------------------------------------

def test_a_profile_that_does_not_read_back_is_named_and_rebuilt_keeping_unsent_edits(
        synced: World) -> None:
    w = synced
    note = w.cache.add_note(A, "unsent when the file broke")
    w.cache.profile_path(A).write_bytes(b'{"customer": {"1": {"id": "cus_00')
    with pytest.raises(DamagedProfile, match=A):
        w.cache.view_profile(A)
    assert w.cache.repair_requests() == [A]
    assert len(w.cache.outbox.pending()) == 1

    report = w.sync()

    assert report.repaired == [A] and w.cache.repair_requests() == []
    assert note.id in {n["id"] for n in w.local(A)["notes"]}
    assert w.cache.outbox.items() == []
    w.assert_in_sync()


def test_a_timeline_file_that_does_not_read_back_is_named_and_rebuilt(synced: World) -> None:
    from support.sync_world import BIG

    w = synced
    loaded = w.cache.view_profile(BIG)
    assert loaded is not None
    timeline = loaded[1]
    (timeline.folder / timeline.summary.file(1)).write_text("[]")
    placeholders = timeline.chunk(1)  # what the desk draws meanwhile: as many entries, saying so
    assert len(placeholders) == timeline.summary.chunk_sizes[1]
    assert "Not readable from the cache" in placeholders[0].body
    assert isinstance(timeline.damage, DamagedProfile) and BIG in str(timeline.damage)
    assert w.cache.repair_requests() == [BIG]
    w.sync()
    w.assert_in_sync()


def test_sync_repair_finds_every_customer_that_does_not_read_back(synced: World) -> None:
    w = synced
    w.cache.profile_path(A).write_text("not json")
    path = w.cache.profile_path(B)
    path.write_text(path.read_text().replace('"text":', '"text_gone":', 1)
                    if '"text":' in path.read_text() else path.read_text()[:-2])
    damaged, lost = find_damaged(w.cache)
    assert set(damaged) == {A, B} and lost == []
    w.cache.request_repair(damaged)
    w.sync()
    assert find_damaged(w.cache) == ({}, [])
    w.assert_in_sync()


def test_a_customer_whose_filing_fails_is_skipped_then_rebuilt(synced: World,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked changes should never fail to file; if one ever does, the rest of the page is
    filed and that customer is fetched whole, instead of the sync crashing for ever."""
    w = synced
    w.store.upsert(RecordType.NOTE, {"id": "note_a", "text": "for A"}, A)
    w.store.upsert(RecordType.NOTE, {"id": "note_b", "text": "for B"}, B)
    real = replica_module.Replica._changed
    failed: list[str] = []

    def fail_once(self: Any, customer_id: str, *args: Any) -> Any:
        if customer_id == A and not failed:
            failed.append(customer_id)
            raise KeyError("at")
        return real(self, customer_id, *args)

    monkeypatch.setattr(replica_module.Replica, "_changed", fail_once)
    report = w.sync()
    assert failed == [A] and report.repaired == [A]
    assert any(A in why and "KeyError" in why for why in report.applied.skipped)
    w.assert_in_sync()


# --- the lock, and waits -------------------------------------------------------------------------

def test_a_read_only_desk_becomes_writable_when_the_lock_frees(synced: World) -> None:
    w = synced
    other = Cache.open(w.cache.root)
    try:
        assert other.read_only and not other.try_upgrade()
        w.cache.add_note(A, "made by the first desk")
        w.cache.close()
        assert other.try_upgrade() and not other.read_only
        assert len(other.outbox.pending()) == 1  # read again: the first desk's edit is there
        other.add_note(A, "made by the second desk")
        assert len(other.outbox.pending()) == 2
    finally:
        other.close()


def test_waits_are_shown_as_progress(synced: World, proxy: FaultProxy) -> None:
    w = synced
    proxy.add("status", "/v1/changes", status=429, times=1, headers={"Retry-After": "7"})
    seen: list[Progress] = []
    w.engine(w.client(proxy.url), on_progress=seen.append).run()
    [waiting] = [p for p in seen if p.phase == "waiting"]
    assert waiting.wait == 7.0 and "429" in waiting.why
