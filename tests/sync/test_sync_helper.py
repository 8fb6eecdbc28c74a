"""A first sync's filing helper (agentdesk.sync.helper): a real child process, a real cache.

The helper must file exactly what the sync would have filed, never replace a customer the desk
wrote meanwhile, hold the cache's lock while it writes, die with the sync, and, when it fails,
leave its part to the sync.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from agentdesk.model import demo

from agentdesk.sync import helper as sync_helper
from agentdesk.cache.cache import Cache
from agentdesk.cache.database import single
from agentdesk.cache.layout import customer_files
from agentdesk.model.changes import Rec
from agentdesk.cache.files import create_bytes, read_json
from agentdesk.sync.engine import SyncEngine
from support.cache_reading import cache_records
from support.sync_world import World


def watch_helper(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Use the helper however small the spool, and count the files it filed."""
    seen: dict[str, Any] = {"filed": 0, "deferred": 0}
    real = SyncEngine._take_filed

    def take(self: SyncEngine, path: Path, answer: dict[str, Any], *args: Any) -> None:
        seen["filed"] += 1
        seen["deferred"] += len(answer["deferred"])
        real(self, path, answer, *args)

    monkeypatch.setattr(sync_helper, "HELPER_MIN_CHANGES", 0)
    monkeypatch.setattr(SyncEngine, "_take_filed", take)
    return seen


def test_the_helper_files_what_the_sync_would_have(world: World, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    alone = Cache.open(tmp_path / "alone")
    try:
        solo = SyncEngine(alone, world.client()).run()
        seen = watch_helper(monkeypatch)
        shared = world.sync()
        assert seen["filed"] > 0 and seen["deferred"] == 0  # new customers: all its own
        world.assert_in_sync()
        assert shared.applied.changes == solo.applied.changes == world.store.head()
        assert shared.applied.customers == solo.applied.customers
        assert sorted(map(vars, world.cache.index_rows()), key=str) == sorted(
            map(vars, alone.index_rows()), key=str)
        for path in (world.cache.root / "customers").rglob("*"):
            assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path
        assert not (world.cache.root / "spool").exists()
    finally:
        alone.close()


def spool_file(root: Path, customers: list[str]) -> Path:
    """A spool file holding a customer record and an entry for each of `customers` (as one
    line: `file_new_customers` files whatever file it is given)."""
    records = []
    for n, cid in enumerate(customers, 1):
        records.append(Rec(2 * n, "upsert", "customer", cid, cid, 1,
                           {"id": cid, "name": f"Customer {cid}", "company": "", "status": "active"}))
        records.append(Rec(2 * n + 1, "upsert", "entry", f"e-{cid}", cid, 1,
                           {"id": f"e-{cid}", "conversation_id": "c1", "at": "2026-01-02T03:04:05Z",
                            "channel": "email", "direction": "inbound", "body": "hi"}))
    path = root / "spool" / "00.jsonl"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(orjson.dumps([tuple(r) for r in records]) + b"\n")
    return path


def test_the_helper_leaves_customers_the_desk_holds_to_the_sync(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    Cache.open(root).close()
    fresh, held, edited = "cust-fresh", "cust-held", "cust-edited"
    path = spool_file(root, [fresh, held, edited])
    profiles = {cid: customer_files(root, cid)[0] for cid in (fresh, held, edited)}
    assert create_bytes(profiles[held], b'{"customers": {}}')  # the desk fetched it meanwhile
    before = profiles[held].read_bytes()

    answer = sync_helper.file_new_customers(root, path, skip={edited})  # `edited` has edits in the outbox

    assert sorted(answer["deferred"]) == sorted([held, edited])
    assert answer["customers"] == {fresh: 2}
    assert answer["rows"][fresh]["name"] == "Customer cust-fresh"
    assert profiles[held].read_bytes() == before
    assert not profiles[edited].exists()
    tables = read_json(profiles[fresh])
    assert single(tables, "customer")["id"] == fresh and len(tables["entries"]) == 1
    assert profiles[fresh].stat().st_mode & 0o777 == 0o600
    assert [p.name for p in profiles[fresh].parent.iterdir() if p.name.endswith(".tmp")] == []


def test_the_helper_process_leaves_customers_with_edits_in_the_outbox_to_the_sync(
    demo_cache: Cache,
) -> None:
    """The helper reads the outbox itself for each spool file: a customer with a pending edit
    and no profile (a cache rebuilt for a new store keeps its outbox) is the sync's to file,
    with the edit applied."""
    edited = demo_cache.search_index.first_customer_id()
    assert edited is not None
    demo_cache.add_note(edited, "queued while the store was replaced")
    profile, folder = customer_files(demo_cache.root, edited)
    profile.unlink()  # what the rebuild's wipe does
    if folder.exists():
        shutil.rmtree(folder)
    path = spool_file(demo_cache.root, [edited, "cust-new"])
    helper = sync_helper.SyncHelper(demo_cache.root, demo_cache.lock_fd)
    try:
        helper.file(path)
        [(filed, answer)] = helper.filed(wait=True)
    finally:
        helper.close()
    assert filed == path and not helper.failure
    assert answer["deferred"] == [edited] and list(answer["customers"]) == ["cust-new"]
    assert not profile.exists()


def test_the_helper_finds_customers_where_the_cache_keeps_them(demo_cache: Cache) -> None:
    for cid in ("cus_000001", "an id/with ../ odd parts", "x" * 120, demo.HOSTILE_ID):
        assert customer_files(demo_cache.root, cid) == (demo_cache.profile_path(cid),
                                                        demo_cache.timeline_dir(cid))


def test_create_bytes_never_replaces_a_file(tmp_path: Path) -> None:
    path = tmp_path / "d" / "profile.json"
    assert create_bytes(path, b"first")
    assert not create_bytes(path, b"second")
    assert path.read_bytes() == b"first"
    assert sorted(p.name for p in path.parent.iterdir()) == ["profile.json"]
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("when", ["at start", "while spooling", "while filing"])
def test_a_helper_that_dies_leaves_its_part_to_the_sync(
    world: World, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    seen = watch_helper(monkeypatch)
    killed: list[int] = []
    helper_class = sync_helper.SyncHelper
    real_init, real_ack, real_filed = helper_class.__init__, helper_class.acknowledge, helper_class.filed

    def kill(helper: sync_helper.SyncHelper) -> None:
        helper._process.kill()
        killed.append(helper._process.pid)

    def start(self: sync_helper.SyncHelper, *args: Any) -> None:
        real_init(self, *args)
        if when == "at start":
            kill(self)

    def acknowledge(self: sync_helper.SyncHelper) -> Any:
        answer = real_ack(self)
        if answer is not None and when == "while spooling" and not killed:
            kill(self)  # after one batch: the next is half sent when it fails
        return answer

    def filed(self: sync_helper.SyncHelper, *, wait: bool) -> Any:
        done = real_filed(self, wait=wait)
        if done and when == "while filing" and not killed:
            kill(self)
        return done

    monkeypatch.setattr(helper_class, "__init__", start)
    monkeypatch.setattr(helper_class, "acknowledge", acknowledge)
    monkeypatch.setattr(helper_class, "filed", filed)
    # What a helper killed in the middle of a write leaves behind: swept once it failed.
    leftover = world.cache.root / "customers" / "00" / ".cus_x.json.4242-1.tmp"
    leftover.parent.mkdir(mode=0o700, parents=True)
    leftover.write_bytes(b'{"customers": {')
    report = world.sync(batch=200)
    assert killed
    world.assert_in_sync()
    assert not report.applied.skipped
    # Customers a helper killed while filing wrote without answering for are found already
    # there by the sync, which does not count their records a second time.
    assert report.applied.changes == world.store.head() or (
        when == "while filing" and report.applied.changes <= world.store.head())
    cached = {r[1] for r in cache_records(world.cache) if r[0] == "customer"}
    assert {row.id for row in world.cache.index_rows()} == cached and cached
    assert (seen["filed"] > 0) == (when == "while filing")
    assert not leftover.exists()
    assert list((world.cache.root / "customers").glob("**/.*.tmp")) == []


HOLDER = """
import os, sys, time
from pathlib import Path
from agentdesk.cache.cache import Cache
from agentdesk.sync.helper import SyncHelper
cache = Cache.open(Path(sys.argv[1]))
helper = SyncHelper(cache.root, cache.lock_fd)
os.close(cache.lock_fd)  # this process lets go of its descriptor without unlocking it
print(helper._process.pid, flush=True)
time.sleep(60)
"""


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie writes nothing and holds no descriptor


def test_the_helper_holds_the_lock_and_dies_with_the_sync(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    Cache.open(root).close()
    sync = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert sync.stdout is not None
        helper_pid = int(sync.stdout.readline())
        with Cache.open(root) as other:
            assert other.read_only  # the helper's inherited descriptor keeps the lock
        sync.send_signal(signal.SIGKILL)
        sync.wait()
        deadline = time.monotonic() + 5
        while not gone(helper_pid):
            assert time.monotonic() < deadline, "the helper outlived the sync"
            time.sleep(0.01)
        with Cache.open(root) as after:
            assert not after.read_only
    finally:
        sync.kill()
        sync.wait()


KILLED_AT_ONCE = """
import os, signal, sys
from pathlib import Path
from agentdesk.cache.cache import Cache
from agentdesk.sync.helper import SyncHelper
cache = Cache.open(Path(sys.argv[1]))
helper = SyncHelper(cache.root, cache.lock_fd)
print(helper._process.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # the instant the helper is started: still importing
"""


def test_a_sync_killed_the_instant_it_started_its_helper_frees_the_lock_at_once(tmp_path: Path) -> None:
    """Killed within ~0.2 s of starting its helper, a sync left the helper (still importing,
    not yet asking to die with its parent) holding the lock for 0.3-0.5 s: a sync started then
    failed, 8 of 8, and a desk opened then stayed read-only (issue 21, item 7)."""
    root = tmp_path / "cache"
    Cache.open(root).close()
    for _ in range(3):
        sync = subprocess.Popen([sys.executable, "-c", KILLED_AT_ONCE, str(root)],
                                stdout=subprocess.PIPE, text=True)
        assert sync.stdout is not None
        helper_pid = int(sync.stdout.readline())
        sync.wait()
        deadline = time.monotonic() + 0.15
        while True:
            with Cache.open(root) as after:
                if not after.read_only:
                    break
            assert time.monotonic() < deadline, "the helper outlived its sync, holding the lock"
            time.sleep(0.01)
        while not gone(helper_pid):  # a zombie at most, a moment after its lock went
            assert time.monotonic() < deadline + 0.5, "the helper outlived its sync"
            time.sleep(0.01)
