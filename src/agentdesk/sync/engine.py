"""The sync engine: push the outbox, pull the change feed, keep the cache a replica.

No UI here: the desk runs `SyncEngine.run` in a worker thread, `agentdesk sync` runs it
headless. The cursor is saved only after the page it ends is on disk, so a crash re-applies at
most one page, which is harmless. Edits are pushed before pulling, so the store's answer to
them arrives in the same run. A first sync spools the feed and files each customer once at
its end (see `agentdesk.sync.spool`).
"""

from __future__ import annotations

import gc
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdesk.sync import helper as sync_helper
from agentdesk.cache.cache import Cache, sync_state_at
from agentdesk.cache.search_index import IndexRow
from agentdesk.model.records import utcnow
from agentdesk.cache.outbox import OutboxCounts
from agentdesk.model.protocol import MAX_BATCH, MutationStatus
from agentdesk.sync.client import (
    MAX_CURSOR,
    MAX_EPOCH,
    EpochChanged,
    FeedPageRaw,
    NotFound,
    RemoteClient,
    RemoteError,
)
from agentdesk.sync.replica import Applied, Replica
from agentdesk.sync.spool import Spool, SpoolDamaged
from agentdesk.cache.files import flush_to_disk

log = logging.getLogger("agentdesk.sync")
PAGE = 1000
BATCH = 5000  # changes applied in one pass when several pages are waiting
RUNNING = "sync-running"  # present while a sync runs: left behind, it means one was killed


class CursorStuck(RemoteError):
    """The store keeps answering "more" without moving the cursor on."""


@dataclass
class SyncState:
    """Where the replica is in the store's history (`sync.json`)."""

    epoch: str | None = None
    cursor: str | None = None
    last_success: str | None = None
    last_error: str = ""
    spooling: bool = False  # a first sync's spool holds changes not filed yet
    evict_later: list[str] = field(default_factory=list)
    fetch_later: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, cache: Cache | Path) -> SyncState:
        """From an open cache, or from the folder of one another process holds (tests)."""
        data = cache.sync_state() if isinstance(cache, Cache) else sync_state_at(cache)
        epoch, cursor = data.get("epoch"), data.get("cursor")
        if not (isinstance(cursor, str) and 0 < len(cursor) <= MAX_CURSOR
                and isinstance(epoch, str) and 0 < len(epoch) <= MAX_EPOCH):
            # No position, or one no request can carry (an older desk kept any cursor a
            # store sent): read the feed from the start (a first sync), keeping the outbox.
            epoch = cursor = None
        return cls(
            epoch=epoch,
            cursor=cursor,
            last_success=data.get("last_success"),
            last_error=str(data.get("last_error", "")),
            spooling=bool(data.get("spooling", False)),
            evict_later=list(data.get("evict_later", [])),
            fetch_later=list(data.get("fetch_later", [])),
        )

    def save(self, cache: Cache) -> None:
        cache.save_sync_state(dict(self.__dict__))


@dataclass
class Progress:
    phase: str  # "pushing", "pulling", "saving" (a first sync's spool), "fetching"
    changes: int = 0  # changes received so far in this run
    seq: int = 0  # the store sequence number reached
    head: int | None = None  # the store's newest sequence number when the run began
    pushed: int = 0
    saved: int = 0  # spool files filed ("saving")
    to_save: int = 0

    @property
    def fraction(self) -> float | None:
        if self.phase == "saving":
            return self.saved / self.to_save if self.to_save else None
        if not self.head:
            return None
        return min(1.0, self.seq / self.head)


@dataclass
class SyncReport:
    applied: Applied = field(default_factory=Applied)
    pushed: int = 0
    conflicts: int = 0
    rejected: int = 0
    evicted: list[str] = field(default_factory=list)
    rebuilt: bool = False
    pages: int = 0
    outbox: OutboxCounts = field(default_factory=OutboxCounts)

    def summary(self) -> str:
        parts = [f"{self.applied.changes:,} changes applied", f"{self.pushed} edits sent"]
        if self.conflicts:
            parts.append(f"{self.conflicts} conflicts")
        if self.rejected:
            parts.append(f"{self.rejected} rejected")
        if self.applied.skipped:
            parts.append(f"{len(self.applied.skipped)} bad records skipped")
        if self.applied.removed:
            parts.append(f"{len(self.applied.removed)} customers removed")
        if self.applied.merged:
            parts.append(f"{len(self.applied.merged)} merged")
        if self.evicted:
            parts.append(f"{len(self.evicted)} evicted")
        if self.rebuilt:
            parts.append("cache rebuilt (the store was replaced)")
        return ", ".join(parts)


@contextmanager
def collector_eased() -> Iterator[None]:
    """Fewer, cheaper garbage collections while a first sync spools and files its records.

    The records are freed by reference counting as each batch is done with; the collector
    only scanned them, and everything else in the process, again and again. Here the objects
    that exist when the sync starts are set aside (`gc.freeze`) and young collections wait for
    10,000 new objects instead of 700: a small fraction of the collections. The collector
    keeps running: paused outright it saved a little more, but the desk's own garbage piled up
    and the first collection after the sync froze its screen.
    """
    threshold = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if not frozen_before:  # the desk froze its start-up objects for good; others did not
            gc.unfreeze()


def _last_seq(changes: list[Any]) -> int:
    """The feed's position after a page (changes come in order: the last valid one's)."""
    for change in reversed(changes):
        if isinstance(change, dict) and type(change.get("seq")) is int:
            return change["seq"]
    return 0


class PageReader:
    """The change feed from a cursor on, read one page ahead in a thread of its own.

    The store prepares page N+1 while this process applies page N, instead of this process
    waiting for it. The thread only reads the feed (nothing
    else uses the client meanwhile) and follows each page's `next_cursor`, as the engine
    would; a page served again with the same cursor is asked for again. An error is handed
    over in order, after the pages before it.
    """

    def __init__(self, client: RemoteClient, cursor: str | None, page_size: int) -> None:
        self._queue: queue.Queue[tuple[FeedPageRaw | None, BaseException | None]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(client, cursor, page_size),
                                        name="agentdesk-feed", daemon=True)
        self._thread.start()

    def _read(self, client: RemoteClient, cursor: str | None, page_size: int) -> None:
        try:
            while not self._stop.is_set():
                page = client.changes(cursor, page_size)
                if not self._hand_over((page, None)) or not page.more:
                    return
                cursor = page.next_cursor
        except BaseException as error:  # noqa: BLE001 (re-raised by next(), in the engine's thread)
            self._hand_over((None, error))

    def _hand_over(self, item: tuple[FeedPageRaw | None, BaseException | None]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def next(self) -> FeedPageRaw:
        page, error = self._queue.get()
        if error is not None:
            raise error
        assert page is not None
        return page

    def close(self) -> None:
        """Stop reading ahead (the engine is done, or stopped on an error). A request under
        way is not waited for beyond a moment: its page is dropped when it comes."""
        self._stop.set()
        self._thread.join(timeout=1.0)


class SyncEngine:
    def __init__(self, cache: Cache, client: RemoteClient, *, page_size: int = PAGE,
                 batch: int = BATCH,
                 on_progress: Callable[[Progress], None] | None = None) -> None:
        self.cache = cache
        self.client = client
        self.replica = Replica(cache)
        self.page_size = page_size
        self.batch = batch
        self.on_progress = on_progress or (lambda progress: None)

    @property
    def state(self) -> SyncState:
        return SyncState.load(self.cache)

    def run(self) -> SyncReport:
        """One full sync. Raises RemoteError (Offline, AuthError, ...) with a clear message;
        everything done before the error is kept."""
        self.cache.require_writable()
        report = SyncReport()
        marker = self.cache.root / RUNNING
        if marker.exists():  # the last sync was killed: sweep what its writes left
            swept = self.cache.sweep_temp_files()
            log.info("the last sync did not finish; removed %d temporary files it left", swept)
        marker.touch(mode=0o600)
        try:
            self.push(report)
            try:
                self.pull(report)
            except (EpochChanged, SpoolDamaged) as why:
                what = ("the store was replaced" if isinstance(why, EpochChanged)
                        else "the first sync's spool is damaged")
                log.warning("%s (%s): rebuilding the cache", what, why)
                self.cache.wipe()
                SyncState().save(self.cache)
                report.rebuilt = True
                self.pull(report)
            self._scope(report)
            self.push(report)  # edits made while we pulled
        except RemoteError as error:
            state = self.state
            state.last_error = str(error)
            state.save(self.cache)
            raise
        finally:
            marker.unlink(missing_ok=True)
        state = self.state
        state.last_success = utcnow().isoformat()
        state.last_error = ""
        state.save(self.cache)
        report.outbox = self.cache.outbox.counts()
        return report

    # -- push --------------------------------------------------------------------------------

    def push(self, report: SyncReport) -> None:
        sent: set[str] = set()
        while True:
            batch = [i for i in self.cache.outbox.pending() if i.mutation.id not in sent]
            batch = batch[:MAX_BATCH]
            if not batch:
                return
            self.on_progress(Progress("pushing", pushed=report.pushed))
            answer = self.client.push([i.mutation for i in batch])
            for item, result in zip(batch, answer.results, strict=True):
                sent.add(item.mutation.id)
                self.replica.record_result(item, result)
                report.pushed += 1
                if result.status == MutationStatus.CONFLICT:
                    report.conflicts += 1
                elif result.status == MutationStatus.REJECTED:
                    report.rejected += 1
                    log.warning("the store rejected an edit (%s %s): %s",
                                item.mutation.kind, item.mutation.target, result.reason)

    # -- pull --------------------------------------------------------------------------------

    def pull(self, report: SyncReport) -> None:
        state = self.state
        progress = Progress("pulling")
        try:
            progress.head = int(self.client.status().get("head") or 0) or None
        except (RemoteError, ValueError, TypeError):
            progress.head = None
        self.on_progress(progress)
        spool = Spool(self.cache.root)
        if not state.spooling:  # left by a first sync cut before its first batch counted, or
            spool.remove()      # after it filed everything but before it deleted the spool
        spooling = state.cursor is None or state.spooling
        helper = self._helper(progress.head) if spooling else None
        try:
            pages = PageReader(self.client, state.cursor, self.page_size)
            with collector_eased() if spooling else nullcontext():
                try:
                    self._pull_pages(pages, state.cursor, state, report, progress,
                                     spool if spooling else None, helper)
                finally:
                    pages.close()
                    spool.close()
                if spooling:
                    self._file(spool, state, report, progress, helper)
        finally:
            if helper is not None:
                helper.close()  # it writes nothing more once this returns
                if helper.failure:  # killed mid-write, it may have left a temporary file
                    self.cache.sweep_temp_files()

    def _helper(self, head: int | None) -> sync_helper.SyncHelper | None:
        """A helper process for a large first sync (see `agentdesk.sync.helper`)."""
        if head is None or head < sync_helper.HELPER_MIN_CHANGES:
            return None
        try:
            return sync_helper.SyncHelper(self.cache.root, self.cache.lock_fd)
        except OSError as error:
            log.warning("could not start the sync's helper process (%s); syncing without it", error)
            return None

    def _pull_pages(self, pages: PageReader, cursor: str | None, state: SyncState,
                    report: SyncReport, progress: Progress, spool: Spool | None,
                    helper: sync_helper.SyncHelper | None) -> None:
        stalls = 0
        batch: list[Any] = []
        while True:
            try:
                page = pages.next()
            except RemoteError:
                if batch:  # keep what arrived before the failure
                    self._apply_batch(batch, cursor, state, report, progress, spool, helper)
                raise
            if state.epoch is not None and page.epoch != state.epoch:
                raise EpochChanged(f"epoch {state.epoch} became {page.epoch}", page.epoch)
            if page.more and page.next_cursor == cursor:
                if batch:
                    self._apply_batch(batch, cursor, state, report, progress, spool, helper)
                    batch = []
                stalls += 1  # a page served again, or a store that is stuck
                if stalls >= self.client.retry.attempts:
                    raise CursorStuck(
                        "the server's change feed is not advancing (the same cursor came back "
                        f"{stalls} times); the sync stopped rather than loop. Tell the "
                        "store's administrator."
                    )
                continue
            stalls = 0
            state.epoch = page.epoch
            batch += page.changes
            if helper is not None:  # it checks and spools the page while the next one comes
                helper.spool(page.body)
            report.pages += 1
            progress.seq = max(progress.seq, _last_seq(page.changes))
            # Far behind (a first sync), pages are applied a few at a time: a customer whose
            # records span pages is written once, and the disk is flushed once per batch.
            if page.more and len(batch) < self.batch:
                cursor = page.next_cursor
                continue
            self._apply_batch(batch, page.next_cursor, state, report, progress, spool, helper)
            batch = []
            if not page.more:
                return
            cursor = page.next_cursor

    def _apply_batch(self, batch: list[Any], cursor: str, state: SyncState, report: SyncReport,
                     progress: Progress, spool: Spool | None,
                     helper: sync_helper.SyncHelper | None) -> None:
        if spool is None:
            applied = self.replica.apply(batch)
            progress.changes += applied.changes
        else:
            state.spooling = True
            ack = helper.acknowledge() if helper is not None else None
            if ack is not None:
                applied = Applied(skipped=ack["skipped"],
                                  scope=[(op, cid) for op, cid in ack["scope"]])
                for why in applied.skipped:
                    log.warning("skipped a record from the store: %s", why)
                progress.changes += ack["spooled"]
            else:  # no helper, or it failed: spooled here (again, if it had begun: harmless)
                records, applied = self.replica.check(batch)
                progress.changes += spool.add(records)
        flush_to_disk(self.cache.root)  # the batch is on disk before the cursor moves on
        report.applied.add(applied)
        # Scope changes are remembered with the cursor that passes them, so a sync cut
        # after this point still acts on them (see _scope).
        state.cursor = cursor
        for op, customer_id in applied.scope:  # the last word on a customer wins
            state.fetch_later = [c for c in state.fetch_later if c != customer_id]
            state.evict_later = [c for c in state.evict_later if c != customer_id]
            (state.fetch_later if op == "include" else state.evict_later).append(customer_id)
        state.save(self.cache)
        self.on_progress(progress)

    def _file(self, spool: Spool, state: SyncState, report: SyncReport, progress: Progress,
              helper: sync_helper.SyncHelper | None) -> None:
        """The feed is read to its end: write every spooled customer, once, then drop the
        spool. Search rows are written once too, straight into the index shards. The helper
        process, if there is one, files some of the spool files."""
        files = deque(spool.files())
        progress.phase, progress.saved, progress.to_save = "saving", 0, len(files)
        self.on_progress(progress)
        rows: dict[str, Any] = {}
        while files or (helper and helper.in_flight):
            if helper is not None:
                while files and helper.wants():
                    helper.file(files.pop())
                for path, answer in helper.filed(wait=not files):
                    self._take_filed(path, answer, report, rows)
                    progress.saved += 1
                    self.on_progress(progress)
                files.extend(helper.take_back() if helper.failure else [])
            if files:
                applied = Applied()
                self.replica.apply_records(spool.read(files.popleft()), applied, rows,
                                           durable=False)
                report.applied.add(applied)
                progress.saved += 1
                self.on_progress(progress)
        if rows:
            self.cache.write_index_rows(rows, durable=False, fold=True)
        flush_to_disk(self.cache.root)  # every filed customer on disk before the spool goes
        state.spooling = False
        state.save(self.cache)
        spool.remove()

    def _take_filed(self, path: Path, answer: dict[str, Any], report: SyncReport,
                    rows: dict[str, Any]) -> None:
        """What the helper filed, counted; the customers it left to us, filed."""
        counted: dict[str, int] = answer["customers"]
        applied = Applied(changes=sum(counted.values()), customers=counted)
        rows.update({cid: IndexRow(**doc) for cid, doc in answer["rows"].items()})
        if deferred := set(answer["deferred"]):
            self.replica.apply_records(
                (r for r in Spool.read(path) if r.customer_id in deferred), applied, rows,
                durable=False,
            )
        report.applied.add(applied)

    def _scope(self, report: SyncReport) -> None:
        """Customers that joined the agent's scope are fetched; those that left are dropped
        (after their pending edits were pushed, which `run` did first)."""
        state = self.state
        for customer_id in list(state.fetch_later):
            try:
                self.fetch(customer_id, report)
            except NotFound:
                log.info("customer %s joined the scope but is gone from the store", customer_id)
            state.fetch_later.remove(customer_id)
            state.save(self.cache)
        wanted = list(state.evict_later)
        if not wanted:
            return
        self.push(report)
        gone = self.replica.evict(wanted)
        report.evicted += gone
        state.evict_later = [c for c in wanted if c not in gone]
        state.save(self.cache)

    def fetch(self, customer_id: str, report: SyncReport | None = None) -> Applied:
        """Fetch one customer's whole profile (opening a customer not cached yet)."""
        self.on_progress(Progress("fetching"))
        snapshot = self.client.profile(customer_id)
        applied = self.replica.apply([c.model_dump(mode="json") for c in snapshot.changes],
                                     durable=True)
        if report is not None:
            report.applied.add(applied)
        return applied


