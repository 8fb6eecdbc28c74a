"""The sync behaviours the desk relies on, written once and run against every remote: the
reference store and a real Request Tracker 5 (`backend`, see conftest.py).

First sync, incremental sync, offline edits arriving once, a push cut after the remote applied
it (an edit, and a reply), conflicts kept, faults retried, a sync killed mid-way. What a remote cannot do is skipped
by name with its reason (`Backend.cannot`), never left out silently.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agentdesk.cache.cache import Cache
from agentdesk.cache.outbox import CONFLICT
from agentdesk.sync.client import Offline
from agentdesk.sync.engine import SyncEngine, SyncState
from support.cache_reading import open_profile, timeline_of
from support.sync_world import FaultProxy
from conformance.backends import RT, Reference

Backend = Reference | RT


def sync(backend: Backend, cache: Cache, url: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    with backend.remote(url) as remote:
        return SyncEngine(cache, remote, page_size=kwargs.pop("page_size", 50), **kwargs).run()


def entries(cache: Cache, cid: str) -> list[str]:
    """The messages of a customer's timeline, in order (events, like RT's status changes,
    have no body and are left out: the reference store has none)."""
    timeline = timeline_of(cache, cid)
    return [e.body for i in range(len(timeline.summary.chunk_sizes)) for e in timeline.chunk(i)
            if e.body]


def notes(cache: Cache, cid: str) -> list[str]:
    loaded = open_profile(cache, cid)
    assert loaded is not None, f"{cid} is not in the cache"
    return [n.text for n in loaded[0].notes]


def remote_notes(backend: Backend, cid: str) -> list[str]:
    return [n["text"] for n in backend.records(cid, "note")]


def test_first_sync_brings_every_customer_with_its_timeline(backend: Backend, cache: Cache) -> None:
    made = {backend.new_customer(f"First Sync {i}", messages=3): f"First Sync {i}" for i in range(3)}
    report = sync(backend, cache)
    # (The remote may hold other tests' customers too: only these are this test's.)
    assert not [why for why in report.applied.skipped if any(cid in why for cid in made)]
    for cid, name in made.items():
        loaded = open_profile(cache, cid)
        assert loaded is not None, cid
        assert loaded[0].customer.name == name
        assert entries(cache, cid) == ["message 0", "message 1", "message 2"]
        assert len(loaded[0].conversations) == 1
    assert {r.id for r in cache.index_rows()} >= set(made)
    assert SyncState.load(cache).cursor and SyncState.load(cache).last_success


def test_incremental_sync_brings_only_what_is_new(backend: Backend, cache: Cache) -> None:
    cid = backend.new_customer("Incremental Ida")
    sync(backend, cache)
    cursor = SyncState.load(cache).cursor
    backend.add_message(cid, "a new message")
    backend.rename(cid, "Ida Renamed")
    report = sync(backend, cache)
    assert entries(cache, cid)[-1] == "a new message"
    assert open_profile(cache, cid)[0].customer.name == "Ida Renamed"  # type: ignore[index]
    assert SyncState.load(cache).cursor != cursor
    assert report.applied.changes >= 2
    again = sync(backend, cache)
    assert again.applied.changes == 0 and again.pushed == 0


def test_offline_edits_arrive_once(backend: Backend, cache: Cache) -> None:
    cid = backend.new_customer("Offline Olga")
    with FaultProxy(backend.server.url if isinstance(backend, RT) else backend.url) as proxy:
        sync(backend, cache, proxy.url)
        proxy.add("drop_before", backend.prefix, times=None)  # the network is gone
        cache.add_note(cid, "written offline", author="Desk Dana")
        with pytest.raises(Offline):
            sync(backend, cache, proxy.url)
        assert cache.outbox.counts().pending == 1
        assert notes(cache, cid).count("written offline") == 1  # the agent still sees it
        proxy.clear()  # back online
        sync(backend, cache, proxy.url)
        sync(backend, cache, proxy.url)
    assert cache.outbox.counts().pending == 0
    assert remote_notes(backend, cid).count("written offline") == 1
    assert notes(cache, cid).count("written offline") == 1


def test_a_push_cut_after_the_remote_applied_it_is_applied_once(backend: Backend, cache: Cache) -> None:
    cid = backend.new_customer("Cut Carla")
    sync(backend, cache)
    cache.add_note(cid, "sent once, answered never", author="Desk Dana")
    path, method = backend.write
    with FaultProxy(backend.server.url if isinstance(backend, RT) else backend.url) as proxy:
        rule = proxy.add("drop_after", path, method=method, times=1)
        sync(backend, cache, proxy.url)
        assert rule.hits == 1  # the remote applied the edit and its answer was lost
        assert len(proxy.requests(path, method)) >= 2  # so it was sent again
    assert cache.outbox.counts().pending == 0
    assert remote_notes(backend, cid).count("sent once, answered never") == 1
    assert notes(cache, cid).count("sent once, answered never") == 1


def test_a_reply_cut_after_the_remote_applied_it_is_sent_once(backend: Backend, cache: Cache) -> None:
    cid = backend.new_customer("Reply Rita")
    sync(backend, cache)
    conversation = open_profile(cache, cid)[0].conversations[0].id  # type: ignore[index]
    cache.add_reply(cid, conversation, "replied once, answered never", "Desk Dana")
    path, method = backend.reply_write
    with FaultProxy(backend.server.url if isinstance(backend, RT) else backend.url) as proxy:
        rule = proxy.add("drop_after", path, method=method, times=1)
        sync(backend, cache, proxy.url)
        assert rule.hits == 1  # the remote took the reply and its answer was lost
    assert cache.outbox.counts().pending == 0
    held = [e["body"] for e in backend.records(cid, "entry")]
    assert held.count("replied once, answered never") == 1
    sync(backend, cache)  # the remote's copy comes back: still one entry in the desk
    assert entries(cache, cid).count("replied once, answered never") == 1


def test_a_conflict_is_kept_not_overwritten(backend: Backend, cache: Cache) -> None:
    cid = backend.new_customer("Conflict Connie")
    sync(backend, cache)
    profile = open_profile(cache, cid)[0]  # type: ignore[index]
    cache.update_details(cid, name="Desk's Connie", company=profile.customer.company,
                         contacts=profile.contacts, base=profile)
    backend.rename(cid, "Remote's Connie")  # meanwhile, on the remote
    report = sync(backend, cache)
    assert report.conflicts == 1
    assert backend.records(cid, "customer")[0]["name"] == "Remote's Connie"
    held = [i for i in cache.outbox.items(cid) if i.status == CONFLICT]
    assert len(held) == 1 and held[0].conflicts == ["name"]
    assert open_profile(cache, cid)[0].customer.name == "Remote's Connie"  # type: ignore[index]


def test_faults_are_retried_and_the_sync_completes(backend: Backend, cache: Cache) -> None:
    cid = backend.new_customer("Faulty Fiona")
    with FaultProxy(backend.server.url if isinstance(backend, RT) else backend.url) as proxy:
        proxy.add("status", backend.prefix, status=503, times=2)
        proxy.add("truncate", backend.prefix, times=1)
        proxy.add("drop_before", backend.prefix, times=1)
        sync(backend, cache, proxy.url)
        assert sum(1 for s in proxy.seen if s.action != "forward") == 4
    assert entries(cache, cid) == ["message 0", "message 1"]


def test_a_sync_killed_mid_way_resumes_to_the_same_cache(backend: Backend, tmp_path: Path,
                                                          cache: Cache) -> None:
    made = [backend.new_customer(f"Crash {i}", messages=4) for i in range(4)]
    cache.close()
    killed = tmp_path / "killed"
    with FaultProxy(backend.server.url if isinstance(backend, RT) else backend.url) as proxy:
        proxy.add("delay", backend.prefix, seconds=0.2, times=None)  # pages come slowly
        env = {**os.environ, **backend.env(), "AGENTDESK_CONFIG": str(tmp_path / "none.toml")}
        process = subprocess.Popen(
            [sys.executable, "-m", "agentdesk", "sync", "--cache", str(killed), "--remote",
             backend.desk_url(proxy.url)], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        assert process.stderr is not None
        line = b""
        while b"changes" not in line or b" 0 changes" in line:  # the first page is in
            line = process.stderr.readline()
            assert line, "the sync ended before its first page"
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
    with Cache.open(killed) as resumed:
        sync(backend, resumed)
        with Cache.open(tmp_path / "whole") as whole:
            sync(backend, whole)
            for cid in made:
                assert entries(resumed, cid) == entries(whole, cid) == [f"message {i}" for i in range(4)]
                assert notes(resumed, cid) == notes(whole, cid)


@pytest.mark.parametrize("what", ["customer.update status/tags", "per-agent scope", "customer merge"])
def test_what_a_remote_cannot_do_is_skipped_with_its_reason(backend: Backend, cache: Cache,
                                                             what: str) -> None:
    if what in backend.cannot:
        pytest.skip(f"{backend.name}: {backend.cannot[what]}")
    assert isinstance(backend, Reference)  # the reference store does all of it (tests/sync)
