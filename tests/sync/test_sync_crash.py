"""`agentdesk sync` killed with SIGKILL at 30+ random moments of a large sync with pending edits.

A real store (SQLite, served over loopback in this process) and a real desk cache; the sync
runs as its own process (`python -m agentdesk sync`), exactly as an agent would run it, and
is killed with SIGKILL, which no code can catch or clean up after. After every kill:

* the cache opens writable (the kernel dropped the dead process's flock);
* every JSON file in it parses, and every profile's timeline summary names chunk files that
  exist and hold the entries it counts;
* every edit the desk acknowledged (`add_note`, `edit_note`, `update_details` returned) is
  still shown by the desk, and is either still pending in the outbox or already on the store,
  and never on the store twice.

Between kills the store keeps changing (new customers, entries filed into a 20,000-entry
timeline, tombstones, notes) and the agent keeps editing, so every run has work to push and
pull. At the end one uninterrupted sync must succeed, empty the outbox, leave the cache's
digest equal to the store's (customers missing from the search index are warned about), and
leave no timeline chunk file that no summary names (a killed run leaves dozens; the next
sync that rewrites that timeline sweeps them).

Kill moments come from a seeded RNG (AGENTDESK_CRASH_SEED overrides it, to explore) spread
over the measured length of an uninterrupted run: some before the interpreter has even
imported agentdesk, some past the run's end; a few are aimed at the push (right after the
process says "pushing") and at page boundaries (right after a progress line).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentdesk.model import demo

from agentdesk.sync import helper as sync_helper
from agentdesk.cache.cache import Cache
from agentdesk.cache.files import read_json
from agentdesk.cache.layout import CHUNKS_SUFFIX
from agentdesk.cache.queue_index import rows_of_tables
from agentdesk.model.records import (
    Channel,
    ContactPoint,
    Customer,
    Direction,
    Note,
    Profile,
    TimelineEntry,
)
from agentdesk.model.protocol import RecordType
from agentdesk.sync.client import RemoteClient
from agentdesk.sync.engine import SyncEngine, SyncState
from agentdesk.cache.timeline import INLINE
from agentdesk.server.run import ServerThread, open_store, seed_demo
from agentdesk.server.sqlite_store import SqliteStore
from agentdesk.server.store import Agent
from support.cache_reading import cache_digest, cache_records

pytestmark = pytest.mark.slow

TOKEN = "crash-test-token-" + "k" * 24
AGENT = Agent("agent")
SEED = dict(customers=300, big_entries=20_000)
BACKLOG_CUSTOMERS = 200  # new customers on the store before the crash runs begin
BACKLOG_BIG_ENTRIES = 3_000  # and entries filed into the big timeline
KILLS = 32
RNG_SEED = int(os.environ.get("AGENTDESK_CRASH_SEED", "20260105"))
EDITED = [f"cus_{n:06d}" for n in (1, 2, 3, 5, 8, 13, 21)]  # customers the agent edits
NEW_BASE = 100_000  # numbers (ids) of customers made during the test


# -- the store side ------------------------------------------------------------------------


def new_customers(store: SqliteStore, first: int, count: int) -> int:
    """Load `count` new demo-like customers (ids from `first`) in one transaction."""
    items = []
    for number in range(first, first + count):
        rng = random.Random(number)
        profile = demo._profile(rng, number)
        convs = rng.randint(1, 4)
        profile.conversations, timeline = demo._conversations(
            rng, profile, convs, max(convs, rng.randint(4, 40)), number)
        items.append((profile, timeline))
    return store.bulk_load(items)


def rows_of(store: SqliteStore, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """A customer's live records on the store, by type."""
    out: dict[str, list[dict[str, Any]]] = {}
    for _seq, _op, kind, _id, _cid, _rev, data in store.profile(customer_id, AGENT):
        out.setdefault(kind, []).append(json.loads(data))
    return out


@dataclass
class BigTimeline:
    """The 20,000-entry customer: entries are filed into the middle of its history (so the
    sync rewrites and splits existing chunks) and some are deleted (tombstones)."""

    conversations: list[str]
    start: datetime
    end: datetime
    entry_ids: list[str]
    profile: Profile  # re-put unchanged with each batch of entries
    made: int = 0

    @classmethod
    def read(cls, store: SqliteStore) -> BigTimeline:
        rows = rows_of(store, demo.BIG_ID)
        times = sorted(datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in rows["entry"])
        profile = Profile(customer=Customer.model_validate(rows["customer"][0]),
                          contacts=[ContactPoint.model_validate(c) for c in rows.get("contact", [])])
        return cls([c["id"] for c in rows["conversation"]], times[0], times[-1],
                   sorted(e["id"] for e in rows["entry"]), profile)

    def grow(self, store: SqliteStore, rng: random.Random, count: int) -> None:
        span = (self.end - self.start).total_seconds()
        entries = []
        for _ in range(count):
            self.made += 1
            entries.append(TimelineEntry(
                id=f"ent_crash_{self.made}", conversation_id=rng.choice(self.conversations),
                at=self.start + timedelta(seconds=rng.uniform(0, span)),
                channel=Channel.CHAT, direction=Direction.INBOUND, author="Crash Test",
                body=f"filed while syncs were being killed ({self.made})",
            ))
        store.bulk_load([(self.profile, entries)])

    def delete(self, store: SqliteStore, rng: random.Random, count: int) -> None:
        for _ in range(count):
            store.delete(RecordType.ENTRY, self.entry_ids.pop(rng.randrange(len(self.entry_ids))))


# -- the agent's edits ---------------------------------------------------------------------


@dataclass
class Edit:
    """An acknowledged edit: which mutations it queued, and how to see it on either side."""

    what: str
    customer_id: str
    mutation_ids: list[str]
    on_store: Callable[[dict[str, list[dict[str, Any]]]], int]  # how many times it is there
    on_desk: Callable[[Profile], bool]


def _new_mutations(cache: Cache, before: set[str]) -> list[str]:
    ids = [i.mutation.id for i in cache.outbox.items() if i.mutation.id not in before]
    assert ids, "an acknowledged edit queued nothing"
    return ids


def make_edit(cache: Cache, rng: random.Random, number: int, used: set[str]) -> Edit:
    """One edit of a kind chosen by `number`: a new note, a note edited, or the contact form."""
    customer_id = EDITED[number % len(EDITED)]
    before = {i.mutation.id for i in cache.outbox.items()}
    kind = ("note", "note", "note_edit", "details")[number % 4]
    profile = cache.load_profile(customer_id)
    assert profile is not None
    # A record is edited at most once, so no edit supersedes another (each stays checkable);
    # notes the test added are left alone for the same reason.
    editable = [n for n in profile.notes if n.id not in used]
    if kind == "note_edit" and not editable:
        kind = "note"
    if kind == "details" and customer_id in used:
        kind = "note"
    if kind == "note":
        text = f"crash-test note {number}: {rng.getrandbits(32):08x}"
        note = cache.add_note(customer_id, text, "Crash Test")
        used.add(note.id)

        def count(rows: dict[str, list[dict[str, Any]]]) -> int:
            notes = rows.get("note", [])
            assert sum(n["id"] == note.id for n in notes) <= 1
            return sum(n["text"] == text for n in notes)

        return Edit(f"note {note.id}", customer_id, _new_mutations(cache, before), count,
                    lambda p: any(n.id == note.id and n.text == text for n in p.notes))
    if kind == "note_edit":
        target = rng.choice(editable)
        used.add(target.id)
        text = f"{target.text} [edited {number}]"
        cache.edit_note(customer_id, target.id, text)
        return Edit(f"edit of {target.id}", customer_id, _new_mutations(cache, before),
                    lambda rows: sum(n["id"] == target.id and n["text"] == text
                                     for n in rows.get("note", [])),
                    lambda p: any(n.id == target.id and n.text == text for n in p.notes))
    used.add(customer_id)
    name = f"{profile.customer.name} #{number}"
    phone = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    contacts = [c.model_copy(update={"value": phone}) if c.kind == "phone" else c
                for c in profile.contacts]
    assert any(c.value == phone for c in contacts)
    cache.update_details(customer_id, name=name, company=profile.customer.company,
                         contacts=contacts, base=profile)

    def on_store(rows: dict[str, list[dict[str, Any]]]) -> int:
        named = rows["customer"][0]["name"] == name
        phoned = any(c["value"] == phone for c in rows.get("contact", []))
        return int(named and phoned)

    return Edit(f"details of {customer_id}", customer_id, _new_mutations(cache, before), on_store,
                lambda p: p.customer.name == name and any(c.value == phone for c in p.contacts))


def check_edits(cache: Cache, store: SqliteStore, edits: list[Edit], *, final: bool = False) -> int:
    """No acknowledged edit is lost: the desk shows it, and it is pending in the outbox or on
    the store (once). Never rejected or in conflict: nothing else touches these records.
    Returns how many are both: the store applied them but the kill came before the desk
    recorded the answer (the next push must not apply them twice)."""
    items = {i.mutation.id: i for i in cache.outbox.items()}
    for item in items.values():
        assert item.status == "pending", (item.mutation.kind, item.status, item.reason)
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    both = 0
    for edit in edits:
        profile = cache.load_profile(edit.customer_id)
        assert profile is not None and edit.on_desk(profile), f"the desk lost the {edit.what}"
        if edit.customer_id not in rows:
            rows[edit.customer_id] = rows_of(store, edit.customer_id)
        there = edit.on_store(rows[edit.customer_id])
        assert there <= 1, f"the {edit.what} is on the store {there} times"
        pending = [m for m in edit.mutation_ids if m in items]
        if final:
            assert there == 1 and not pending, f"the {edit.what} did not reach the store"
        else:
            assert there == 1 or pending, f"the {edit.what} is neither queued nor on the store"
        both += bool(there and pending)
    return both


# -- the cache's files ---------------------------------------------------------------------


@dataclass
class Files:
    """What the checks of the cache's files found so far."""

    checked: float = 0.0  # files (and folders) changed after this time are read again
    temp_files: dict[str, int] = field(default_factory=dict)  # folder -> leftover temp files
    orphans: dict[str, int] = field(default_factory=dict)  # folder -> chunks no summary names

    def check(self, root: Path) -> None:
        """Every JSON file parses; every timeline summary names chunks that exist and hold
        what it counts. Only what changed since the last check is read: a killed process can
        only have broken what it wrote. Also counts what a killed write leaves behind
        unreferenced (garbage, not damage)."""
        scanned = time.time()
        profiles: set[Path] = set()  # whose timelines to check again
        for folder, _dirs, names in os.walk(root):
            here = Path(folder)
            if here.stat().st_mtime < self.checked and not any(
                (here / n).stat().st_mtime >= self.checked for n in names
            ):
                continue
            self.temp_files[folder] = sum(n.startswith(".") and n.endswith(".tmp") for n in names)
            for name in names:
                path = here / name
                if name.endswith(".json") and not name.startswith("."):
                    try:
                        json.loads(path.read_bytes())
                    except ValueError as error:
                        raise AssertionError(f"{path.relative_to(root)} is not JSON: {error}")
                    if here.parent.name == "customers":
                        profiles.add(path)
            if here.name.endswith(CHUNKS_SUFFIX):
                profiles.add(here.with_name(here.name.removesuffix(CHUNKS_SUFFIX) + ".json"))
        for profile in profiles:
            self.orphans[str(profile)] = self._timeline(root, profile)
        self.checked = scanned - 1  # a margin for the file system's clock granularity

    @staticmethod
    def _timeline(root: Path, profile: Path) -> int:
        """Check one profile's timeline; the chunk files in its folder it does not name."""
        chunks = profile.with_name(profile.name.removesuffix(".json") + CHUNKS_SUFFIX)
        on_disk = {p.name for p in chunks.glob("entries-*.json")}
        if not profile.exists():
            return len(on_disk)
        tables = json.loads(profile.read_bytes())
        summary = next(iter((tables.get("timeline") or {}).values()), None) or {}
        files, sizes = summary.get("chunk_files", []), summary.get("chunk_sizes", [])
        where = profile.relative_to(root)
        assert len(files) == len(sizes), where
        missing = set(files) - on_disk - {INLINE}
        assert not missing, f"{where}: the summary names missing {missing}"
        for name, size in zip(files, sizes, strict=True):
            held = tables if name == INLINE else json.loads((chunks / name).read_bytes())
            assert len(held.get("entries", {})) == size, f"{where}: {name or 'inline'}"
        return len(on_disk - set(files))


# -- the sync process ----------------------------------------------------------------------


@dataclass
class Run:
    delay: float  # seconds after start the kill was sent (or the process was found ended)
    aim: str  # "timer", "push", "page", "saving" or "spooling"
    killed: bool
    returncode: int
    last_line: str
    cursor_moved: bool = False


@dataclass
class Syncer:
    cache: Path
    url: str
    logs: Path
    runs: list[Run] = field(default_factory=list)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "agentdesk", "sync", "--cache", str(self.cache),
                "--remote", self.url]

    def env(self) -> dict[str, str]:
        return {**os.environ, "AGENTDESK_TOKEN": TOKEN, "AGENTDESK_REMOTE": "",
                "AGENTDESK_CONFIG": str(self.logs / "no-config.toml"), "PYTHONUNBUFFERED": "1"}

    def complete(self) -> tuple[float, subprocess.CompletedProcess[str]]:
        started = time.perf_counter()
        result = subprocess.run(self.command(), env=self.env(), capture_output=True, text=True,
                                timeout=300)
        return time.perf_counter() - started, result

    def kill_after(self, delay: float) -> Run:
        log = self.logs / f"run-{len(self.runs):02d}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(self.command(), env=self.env(), stdout=out, stderr=out)
            started = time.perf_counter()
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                pass
            return self._end(proc, "timer", time.perf_counter() - started, log.read_text)

    def kill_on(self, aim: str, marker: Callable[[str], bool], jitter: float) -> Run:
        """Kill `jitter` seconds after the process prints a line `marker` accepts."""
        proc = subprocess.Popen(self.command(), env=self.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, bufsize=1)
        started = time.perf_counter()
        lines: list[str] = []
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if marker(line):
                time.sleep(jitter)
                break
        run = self._end(proc, aim, time.perf_counter() - started, lambda: "".join(lines))
        proc.stderr.close()
        return run

    def _end(self, proc: subprocess.Popen[Any], aim: str, delay: float,
             output: Callable[[], str]) -> Run:
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        returncode = proc.wait(timeout=30)
        text = output()
        lines = [x for x in text.replace("\r", "\n").splitlines() if x.strip()]
        run = Run(delay, aim, killed, returncode, lines[-1] if lines else "")
        assert returncode in (0, -signal.SIGKILL), f"sync ended by itself with {returncode}:\n{text}"
        self.runs.append(run)
        return run


# -- the tests -----------------------------------------------------------------------------


def seeded(tmp_path: Path) -> tuple[SqliteStore, Path, Path]:
    """The seeded store, and where the cache and the sync logs go."""
    store = open_store(tmp_path / "srv")
    store.add_token(TOKEN, AGENT.name)
    seed_demo(store, **SEED)
    (tmp_path / "logs").mkdir()
    return store, tmp_path / "cache", tmp_path / "logs"


def test_sigkill_during_large_sync_loses_no_edit_and_a_final_sync_converges(tmp_path: Path) -> None:
    began = time.perf_counter()
    rng = random.Random(RNG_SEED)
    store, root, logs = seeded(tmp_path)
    edits: list[Edit] = []
    used: set[str] = set()
    checks: list[float] = []
    try:
        with ServerThread(store) as server:
            # A first full sync (in this process), so the agent has customers to edit.
            with Cache.open(root) as cache, RemoteClient(server.url, TOKEN) as client:
                SyncEngine(cache, client).run()
                assert cache_digest(cache) == store.digest()
            big = BigTimeline.read(store)

            # The store moves on: a large backlog for the next sync.
            customers = NEW_BASE
            customers += new_customers(store, customers, BACKLOG_CUSTOMERS)
            big.grow(store, rng, BACKLOG_BIG_ENTRIES)
            big.delete(store, rng, 50)

            # How long an uninterrupted run of that backlog takes, measured on a copy (before
            # the agent edits anything, so the copy pushes nothing).
            syncer = Syncer(tmp_path / "measure", server.url, logs)
            shutil.copytree(root, syncer.cache)
            (syncer.cache / "lock").unlink()
            length, result = syncer.complete()
            assert result.returncode == 0, result.stderr
            shutil.rmtree(syncer.cache)
            syncer.cache = root

            # The agent edits offline: acknowledged edits, pending in the outbox.
            with Cache.open(root) as cache:
                for number in range(6):
                    edits.append(make_edit(cache, rng, number, used))
                assert cache.outbox.counts().pending >= 6

            # When to kill: spread over the measured run, with some before agentdesk has even
            # been imported and some after the run would have ended; and a few aimed.
            plan: list[tuple[str, float]] = [("timer", rng.uniform(0, 0.15)) for _ in range(3)]
            plan += [("timer", rng.uniform(0.85, 1.15) * length) for _ in range(3)]
            plan += [("push", rng.uniform(0, 0.03)) for _ in range(5)]
            plan += [("page", rng.uniform(0, 0.02)) for _ in range(3)]
            plan += [("timer", rng.uniform(0, length)) for _ in range(KILLS - len(plan))]
            rng.shuffle(plan)
            # Runs that ended before their kill do not count: more timers until KILLS landed.
            plan += [("timer", rng.uniform(0, length)) for _ in range(3 * KILLS)]

            files = Files()
            most_orphans = most_temp = 0
            in_flight = 0  # kills after the store applied an edit, before the desk knew
            for number, (aim, moment) in enumerate(plan):
                if sum(r.killed for r in syncer.runs) >= KILLS:
                    break
                cursor = SyncState.load(root).cursor
                if aim == "timer":
                    run = syncer.kill_after(moment)
                elif aim == "push":
                    run = syncer.kill_on(aim, lambda line: line.startswith("pushing"), moment)
                else:
                    nth = rng.randint(1, 4)
                    seen = [0]

                    def page_done(line: str, nth: int = nth, seen: list[int] = seen) -> bool:
                        seen[0] += line.startswith("[") and "changes" in line
                        return seen[0] >= nth

                    run = syncer.kill_on(aim, page_done, moment)
                run.cursor_moved = SyncState.load(root).cursor != cursor

                checking = time.perf_counter()
                with Cache.open(root, create=False) as cache:
                    assert not cache.read_only, "the killed sync's lock outlived it"
                    files.check(root)
                    most_orphans = max(most_orphans, sum(files.orphans.values()))
                    most_temp = max(most_temp, sum(files.temp_files.values()))
                    in_flight += check_edits(cache, store, edits) > 0
                    # Edits made between crashes; the next run aimed at the push has one.
                    upcoming = plan[number + 1][0] if number + 1 < len(plan) else ""
                    if upcoming == "push" or number % 3 == 0:
                        edits.append(make_edit(cache, rng, len(edits), used))
                        check_edits(cache, store, edits[-1:])

                checks.append(time.perf_counter() - checking)

                # ... and the store keeps changing, so every run has work; after a run that
                # finished before its kill, a backlog as large as the first one again.
                again = not run.killed
                customers += new_customers(store, customers, BACKLOG_CUSTOMERS if again else 20)
                big.grow(store, rng, BACKLOG_BIG_ENTRIES if again else 400)
                big.delete(store, rng, 10)
                for customer_id in (EDITED[number % len(EDITED)], f"cus_{rng.randrange(300):06d}"):
                    note = Note(text=f"store-side note {number}", author="Back Office")
                    store.upsert(RecordType.NOTE, note.model_dump(mode="json"), customer_id)

            # Finally one uninterrupted sync: everything converges.
            final_length, result = syncer.complete()
            assert result.returncode == 0, result.stderr
            with Cache.open(root, create=False) as cache:
                assert not cache.read_only
                files = Files()  # everything, once more
                files.check(root)
                orphans, temp = sum(files.orphans.values()), sum(files.temp_files.values())
                counts = cache.outbox.counts()
                assert (counts.pending, counts.rejected, counts.conflicts) == (0, 0, 0)
                assert cache.outbox.items() == []
                check_edits(cache, store, edits, final=True)
                assert cache_digest(cache) == store.digest()
                indexed = {row.id for row in cache.index_rows()}
                unindexed = {r[1] for r in cache_records(cache) if r[0] == "customer"} - indexed
                # The queue's rows are those of the profile files, whatever the kills cut.
                queued = sorted((r.customer_id, r.conversation_id, r.status.value, r.last_line)
                                for r in cache.queue_rows())
                assert queued == sorted(
                    (r["customer_id"], r["conversation_id"], r["status"], r["last_line"])
                    for path in root.glob("customers/*/*.json")
                    for r in rows_of_tables(read_json(path) or {}))
    finally:
        store.close()

    runs = syncer.runs
    killed = [r for r in runs if r.killed]
    print(f"\nuninterrupted backlog run {length:.2f} s; {len(killed)} kills of {len(runs)} runs "
          f"(seed {RNG_SEED}); cursor moved in {sum(r.cursor_moved for r in killed)} killed runs; "
          f"{len(edits)} edits, applied but unrecorded after {in_flight} kills; final sync {final_length:.2f} s; most leftovers after a kill: "
          f"{most_temp} temp files, {most_orphans} orphan chunks ({temp}, {orphans} at the end); "
          f"test {time.perf_counter() - began:.1f} s; checks {sum(checks):.1f} s")
    for run in runs:
        print(f"  {run.aim:5} {run.delay:6.3f} s  {'killed' if run.killed else 'ended '}  "
              f"{'cursor moved' if run.cursor_moved else '            '}  {run.last_line[:60]}")
    # Every synced customer can be found. (Seen once with the per-shard index writes this
    # replaced: ~320 customers missing from the index, digest equal; not reproduced since.)
    assert not unindexed, (f"{len(unindexed)} customers are cached but not in the search "
                           f"index, e.g. {sorted(unindexed)[:5]}")
    assert len(killed) >= KILLS >= 30
    # Chunk files a killed run wrote but never named (or replaced but never deleted) are
    # swept when the sync next rewrites that timeline: none is left once a sync completes.
    assert orphans == 0
    # Temporary files of writes a kill cut short are swept by the next sync's start.
    assert temp == 0
    # The kills really landed inside syncs that were making progress, and some at the push.
    # (The sync applies up to 5,000 changes per batch, so a run moves its cursor a few times.)
    assert sum(r.cursor_moved for r in killed) >= 4
    assert sum(r.aim == "push" and r.killed for r in runs) >= 3


FIRST_SYNC_KILLS = 12


def opened_after_kill(root: Path) -> Cache:
    """The cache, writable, once the killed sync's filing helper (which holds the lock with
    it, and which Linux kills when the sync dies) is gone too: a moment at most."""
    deadline = time.monotonic() + 2
    while True:
        cache = Cache.open(root, create=False)
        if not cache.read_only:
            return cache
        cache.close()
        assert time.monotonic() < deadline, "the killed sync's lock outlived it"
        time.sleep(0.02)


def test_sigkill_during_a_first_sync_then_a_final_sync_converges(tmp_path: Path) -> None:
    """A first sync spools the feed and files the customers at its end (core/spool.py): kills
    while it spools and while it files leave a cache that opens, files that parse, spool
    lines that parse (but a torn last one, which the next run trims), and a next run that
    goes on from where the cursor got to, ending equal to the store."""
    rng = random.Random(RNG_SEED + 1)
    store, root, logs = seeded(tmp_path)
    big_enough = store.head() >= sync_helper.HELPER_MIN_CHANGES  # for the helper process
    try:
        with ServerThread(store) as server:
            syncer = Syncer(tmp_path / "measure", server.url, logs)
            length, result = syncer.complete()
            assert result.returncode == 0, result.stderr
            assert "helper process" not in result.stderr, result.stderr  # it did not fail
            shutil.rmtree(syncer.cache)
            syncer.cache = root
            plan = [("timer", rng.uniform(0.2, 1.0) * length) for _ in range(3 * FIRST_SYNC_KILLS)]
            plan[1::4] = [("saving", rng.uniform(0, 0.05)) for _ in plan[1::4]]
            plan[2::4] = [("spooling", rng.uniform(0, 0.05)) for _ in plan[2::4]]
            rng.shuffle(plan)
            files = Files()
            states: list[tuple[bool, bool, int, int]] = []  # spooling, cursor set, profiles, spool size
            for aim, moment in plan:
                if sum(r.killed for r in syncer.runs) >= FIRST_SYNC_KILLS:
                    break
                if aim == "timer":
                    run = syncer.kill_after(moment)
                elif aim == "saving":
                    run = syncer.kill_on(aim, lambda line: "saving customers" in line, moment)
                else:  # once a batch is spooled (the progress bar shows its changes)
                    run = syncer.kill_on(aim, lambda line: "%" in line and "saving" not in line
                                         and " 0 changes" not in line, moment)
                with opened_after_kill(root) as cache:
                    files.check(root)
                    for path in (root / "spool").glob("*.jsonl"):
                        lines = path.read_bytes().split(b"\n")
                        for line in lines[:-1]:  # the last piece: empty, or a torn write
                            json.loads(line)
                    state = SyncState.load(root)
                    profiles = len(list((root / "customers").glob("*/*.json")))
                    spooled = sum(p.stat().st_size for p in (root / "spool").glob("*.jsonl"))
                    states.append((state.spooling, state.cursor is not None, profiles, spooled))
                if not run.killed:  # it finished first: the next kills need a fresh start
                    shutil.rmtree(root)
            final_length, result = syncer.complete()
            assert result.returncode == 0, result.stderr
            assert "helper process" not in result.stderr, result.stderr  # it did not fail
            with Cache.open(root, create=False) as cache:
                Files().check(root)
                assert cache_digest(cache) == store.digest()
                assert {row.id for row in cache.index_rows()} == {
                    r[1] for r in cache_records(cache) if r[0] == "customer"}
            assert not (root / "spool").exists() and not SyncState.load(root).spooling
    finally:
        store.close()
    killed = [r for r in syncer.runs if r.killed]
    print(f"\nfirst sync {length:.2f} s; {len(killed)} kills of {len(syncer.runs)} runs; "
          f"states after kills (spooling, cursor, profiles, spool bytes): {states}")
    assert len(killed) >= FIRST_SYNC_KILLS
    assert any(spooling and cursor and not profiles for spooling, cursor, profiles, _ in states)
    # Killed while filing, a spool big enough for the filing helper (core/sync_helper.py) to share it.
    assert any(spooling and profiles and spooled and big_enough
               for spooling, _, profiles, spooled in states)
