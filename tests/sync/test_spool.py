"""A first sync spools the feed and files each customer once (agentdesk.sync.spool).

Real store, real HTTP on 127.0.0.1, real cache on disk; faults come from the FaultProxy or
from damaging the spool files the way a killed process or a bad disk would.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agentdesk.model import demo

from agentdesk.cache import files as storage
from agentdesk.cache.cache import Cache
from agentdesk.sync.client import Offline
from agentdesk.sync.replica import Applied, Replica
from agentdesk.cache.files import read_json
from agentdesk.sync.engine import Progress, SyncEngine, SyncState
from support.sync_world import PAGE, FaultProxy, World


def profile_files(cache: Cache) -> list[Path]:
    return sorted((cache.root / "customers").glob("*/*.json"))


def cut_after_first_batch(w: World, proxy: FaultProxy) -> SyncEngine:
    """A first sync that loses the network once its first batch is spooled."""
    engine = SyncEngine(w.cache, w.client(proxy.url), page_size=PAGE, batch=PAGE)

    def cut(progress: Progress) -> None:
        if progress.phase == "pulling" and progress.changes and not proxy.rules:
            proxy.add("drop_before", "/v1/changes", times=None)

    engine.on_progress = cut
    with pytest.raises(Offline):
        engine.run()
    proxy.clear()
    engine.on_progress = lambda progress: None
    return engine


def test_a_first_sync_spools_the_feed_then_writes_each_customer_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: Counter[str] = Counter()
    real_write = storage.atomic_write_bytes

    def counting_write(path: Path, data: bytes, *, durable: bool = True) -> None:
        written[str(path)] += 1
        real_write(path, data, durable=durable)

    monkeypatch.setattr(storage, "atomic_write_bytes", counting_write)
    seen: list[tuple[str, int, int]] = []  # phase, profile files, spool files at each step

    def watch(progress: Progress) -> None:
        spool = list((world.cache.root / "spool").glob("*.jsonl"))
        seen.append((progress.phase, len(profile_files(world.cache)), len(spool)))

    report = world.engine(on_progress=watch, batch=PAGE).run()
    world.assert_in_sync()
    pulled = [s for s in seen if s[0] == "pulling"]
    saving = [s for s in seen if s[0] == "saving"]
    assert len(pulled) > 3 and all(files == 0 for _, files, _ in pulled)  # nothing filed yet
    assert max(spooled for _, _, spooled in pulled) > 1
    assert saving[-1][1] == len(profile_files(world.cache)) > 0
    profiles = [str(p) for p in profile_files(world.cache)]
    assert {p: written[p] for p in profiles} == dict.fromkeys(profiles, 1)  # once each
    assert report.applied.changes == world.store.head() and not report.applied.skipped
    assert not (world.cache.root / "spool").exists()
    assert SyncState.load(world.cache.root).spooling is False


def test_a_first_sync_cut_while_spooling_resumes_spooling_and_converges(world: World, first_sync_way: str) -> None:
    with FaultProxy(world.url) as proxy:
        engine = cut_after_first_batch(world, proxy)
        state = SyncState.load(world.cache.root)
        assert state.spooling and state.cursor is not None
        spooled = list((world.cache.root / "spool").glob("*.jsonl"))
        assert spooled and {p.stat().st_mode & 0o777 for p in spooled} == {0o600}  # private
        assert (world.cache.root / "spool").stat().st_mode & 0o777 == 0o700
        assert profile_files(world.cache) == []  # not filed until the feed is read
        before = len(proxy.requests("/v1/changes"))
        engine.run()
        resumed = proxy.requests("/v1/changes")[before]
        assert resumed.params["cursor"] == [state.cursor]  # not from the start
    world.assert_in_sync()
    assert not (world.cache.root / "spool").exists()


def test_a_torn_spool_line_is_cut_and_its_page_comes_again(world: World, first_sync_way: str) -> None:
    """A sync killed in the middle of appending leaves half a line; the next run trims it
    before appending (else the next line would be glued to it and both lost)."""
    with FaultProxy(world.url) as proxy:
        engine = cut_after_first_batch(world, proxy)
        spool = sorted((world.cache.root / "spool").glob("*.jsonl"))
        for path in spool:  # the half of a line, as a kill in the middle of a write leaves it
            with open(path, "ab") as handle:
                handle.write(b'[[999999,"upsert","note","note_torn","cus_000001",1,{"id":"no')
        report = engine.run()
    assert not report.rebuilt  # trimmed, not found damaged and started over
    world.assert_in_sync()


def test_a_damaged_spool_rebuilds_the_cache_from_the_start(
    world: World, first_sync_way: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A spool line that cannot be read (a bad disk, not a kill) would mean records missing
    for ever: the first sync starts again instead, and says so."""
    with FaultProxy(world.url) as proxy:
        engine = cut_after_first_batch(world, proxy)
        path = sorted((world.cache.root / "spool").glob("*.jsonl"))[0]
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"this is not what was written\n" + b"".join(lines[1:]))
        with caplog.at_level(logging.WARNING, "agentdesk.sync"):
            report = engine.run()
    assert report.rebuilt
    assert "spool is damaged" in caplog.text and path.name in caplog.text
    world.assert_in_sync()


def test_a_new_store_while_spooling_starts_the_spool_again(world: World, first_sync_way: str) -> None:
    with FaultProxy(world.url) as proxy:
        engine = cut_after_first_batch(world, proxy)
        world.store.reset_epoch()
        report = engine.run()
    assert report.rebuilt
    world.assert_in_sync()
    assert not (world.cache.root / "spool").exists()


def _feed_records() -> list[dict[str, Any]]:
    """Three demo customers as a feed would carry them, with later versions of some records
    (a renamed customer, an edited note, an edited entry) and one record sent twice."""
    records: list[dict[str, Any]] = []

    def add(kind: str, doc: dict[str, Any], customer_id: str) -> None:
        seq = len(records) + 1
        records.append({"seq": seq, "op": "upsert", "type": kind, "id": doc["id"],
                        "customer_id": customer_id, "revision": seq, "data": doc})

    for profile, entries in demo.generate(customers=3, big_entries=0, entries_each=(8, 12)):
        cid = profile.customer.id
        add("customer", profile.customer.model_dump(mode="json"), cid)
        for kind, docs in (("contact", profile.contacts), ("note", profile.notes),
                           ("conversation", profile.conversations),
                           ("relationship", profile.relationships), ("entry", entries)):
            for doc in docs:
                add(kind, doc.model_dump(mode="json"), cid)
    first = records[0]
    add("customer", {**first["data"], "name": "Renamed Later"}, first["customer_id"])
    note = next(r for r in records if r["type"] == "note")
    add("note", {**note["data"], "text": "edited later"}, note["customer_id"])
    entry = next(r for r in records if r["type"] == "entry")
    add("entry", {**entry["data"], "body": "edited later"}, entry["customer_id"])
    records.append(dict(records[5]))
    return records


def test_a_new_customer_is_filed_the_same_built_straight_or_change_by_change(
    tmp_path: Path
) -> None:
    """Filing builds a customer the cache does not hold straight from its records; the result
    must be what applying them one by one to an empty profile gives."""
    records, checked = Replica.check(_feed_records())
    assert not checked.skipped
    results = []
    for name, straight in (("straight", True), ("one-by-one", False)):
        with Cache.open(tmp_path / name) as cache:
            ids = sorted({r.customer_id for r in records})
            if not straight:  # an existing (empty) profile: the change-by-change path
                for cid in ids:
                    path = cache.profile_path(cid)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text("{}")
            applied, rows = Applied(), {}
            Replica(cache).apply_records(records, applied, rows, durable=False)
            results.append((applied, rows, {cid: read_json(cache.profile_path(cid)) for cid in ids}))
    (a_applied, a_rows, a_files), (b_applied, b_rows, b_files) = results
    assert a_files == b_files and a_rows == b_rows and a_applied == b_applied
    renamed = a_files[records[0].customer_id]["customer"]["1"]
    assert renamed["name"] == "Renamed Later"
    assert a_applied.changes == len(records) - 1  # the record sent twice counts once


def test_a_first_sync_eases_the_collector_and_gives_it_back_as_it_was(world: World) -> None:
    """While a first sync spools and files, young collections wait for more objects and what
    existed before is set aside; afterwards the thresholds are the caller's again and nothing
    stays frozen that was not (the desk's start-up freeze is kept)."""
    import gc

    from agentdesk.cache.collector import collector_eased

    seen: list[tuple[tuple[int, int, int], int]] = []
    before, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    world.engine(on_progress=lambda p: seen.append((gc.get_threshold(), gc.get_freeze_count()))).run()
    world.assert_in_sync()
    during = [s for s in seen if s[0] != before]
    assert during and all(threshold[0] > before[0] and frozen > 0 for threshold, frozen in during)
    assert gc.get_threshold() == before and gc.isenabled()
    if not frozen_before:
        assert gc.get_freeze_count() == 0

    gc.freeze()  # as the desk does after its first frame
    try:
        with collector_eased():
            pass
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == before  # still frozen
    finally:
        gc.unfreeze()


def test_a_spool_left_after_filing_is_removed_by_the_next_sync(world: World) -> None:
    """Killed after it filed everything and said so, before it deleted the spool: the next
    (incremental) sync removes the leftover instead of keeping it for ever."""
    world.sync()
    leftover = world.cache.root / "spool" / "07.jsonl"
    leftover.parent.mkdir()
    leftover.write_bytes(b"[]\n")
    world.sync()
    assert not leftover.parent.exists()
    world.assert_in_sync()


def test_the_collector_is_given_back_when_the_last_of_two_overlapping_users_leaves() -> None:
    """The index load and a sync may ease the collector at the same time, in two threads:
    the thresholds stay eased until both are done, then are the caller's again (a naive
    save/restore per user would leave them eased for good when the two overlap)."""
    import gc

    from agentdesk.cache.collector import EASED, collector_eased

    before = gc.get_threshold()
    first, second = collector_eased(), collector_eased()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == EASED  # the second is still inside
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
