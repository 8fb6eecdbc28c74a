"""The sync engine: push the outbox, pull the change feed, keep the cache a replica.

No UI here: the desk runs `SyncEngine.run` in a worker thread, `agentdesk sync` runs it
headless. The cursor is saved only after the page it ends is on disk, so a crash re-applies at
most one page, which is harmless. Edits are pushed before pulling, so the store's answer to
them arrives in the same run. A first sync spools the feed and files each customer once at
its end (see `agentdesk.sync.spool`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdesk.sync import helper as sync_helper
from agentdesk.cache.cache import Cache, sync_state_at
from agentdesk.cache.search_index import IndexRow
from agentdesk.model.records import utcnow
from agentdesk.cache.outbox import OutboxCounts
from agentdesk.sync.client import (
    MAX_CURSOR,
    MAX_EPOCH,
    EpochChanged,
    NotFound,
    RemoteError,
)
from agentdesk.cache.collector import collector_eased
from agentdesk.sync.feed import PageReader, _last_seq
from agentdesk.sync.push import Pusher
from agentdesk.sync.remote import RemoteStore
from agentdesk.sync.replica import Applied, Replica
from agentdesk.sync.spool import Spool, SpoolDamaged
from agentdesk.cache.files import flush_to_disk
from agentdesk.model.sanitize import clean_line

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
    skipped: int = 0  # changes the last run that finished skipped (listed in the cache's log)

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
            skipped=int(data.get("skipped", 0) or 0),
        )

    def save(self, cache: Cache) -> None:
        cache.save_sync_state(dict(self.__dict__))


@dataclass
class Progress:
    phase: str  # "pushing", "pulling", "saving" (a first sync's spool), "fetching", "waiting"
    changes: int = 0  # changes received so far in this run
    seq: int = 0  # the store sequence number reached
    head: int | None = None  # the store's newest sequence number when the run began
    pushed: int = 0
    saved: int = 0  # spool files filed ("saving")
    to_save: int = 0
    wait: float = 0.0  # "waiting": seconds before the store is asked again
    why: str = ""  # "waiting": what the store answered

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
    parked: int = 0  # edits the store would not take, now waiting for the agent
    held: list[str] = field(default_factory=list)  # edits not sent this time, and why
    repaired: list[str] = field(default_factory=list)  # customers rebuilt from the store
    held_lists: list[str] = field(default_factory=list)  # canned replies/agents not fetched: why
    skipped_log: Path | None = None  # where the skipped changes are listed

    @property
    def skipped(self) -> int:
        return len(self.applied.skipped)

    def summary(self) -> str:
        parts = [f"{self.applied.changes:,} changes applied", f"{self.pushed} edits sent"]
        if self.conflicts:
            parts.append(f"{self.conflicts} conflicts")
        if self.rejected:
            parts.append(f"{self.rejected} rejected")
        if self.applied.skipped:
            parts.append(f"{len(self.applied.skipped)} bad records skipped")
        if self.parked:
            parts.append(f"{self.parked} edits the store would not take")
        if self.held:
            parts.append(f"{len(self.held)} edits held back")
        if self.repaired:
            parts.append(f"{len(self.repaired)} customers rebuilt")
        if self.applied.removed:
            parts.append(f"{len(self.applied.removed)} customers removed")
        if self.applied.merged:
            parts.append(f"{len(self.applied.merged)} merged")
        if self.evicted:
            parts.append(f"{len(self.evicted)} evicted")
        if self.rebuilt:
            parts.append("cache rebuilt (the store was replaced)")
        return ", ".join(parts)


class SyncEngine:
    def __init__(self, cache: Cache, client: RemoteStore, *, page_size: int = PAGE,
                 batch: int = BATCH,
                 on_progress: Callable[[Progress], None] | None = None) -> None:
        self.cache = cache
        self.client = client
        self.replica = Replica(cache)
        self.page_size = page_size
        self.batch = batch
        self.on_progress = on_progress or (lambda progress: None)
        self._pusher = Pusher(self.replica, client, lambda pushed: None)

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
            self.cache.rebuild_queue(later=True)  # its last rows may be missing: at the end
        marker.touch(mode=0o600)
        self._pusher = Pusher(self.replica, self.client,
                              lambda pushed: self.on_progress(Progress("pushing", pushed=pushed)))
        on_wait = self.client.on_wait

        def waiting(seconds: float, why: str) -> None:
            self.on_progress(Progress("waiting", wait=seconds, why=why))
            if on_wait is not None:
                on_wait(seconds, why)

        self.client.on_wait = waiting
        report.skipped_log = self.cache.skipped_log
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
            self.repair(report)
            self.push(report)  # edits made while we pulled
            self._pusher.settle(report)
            self.directory(report)
            self.cache.rebuild_queue_if_needed()
        except RemoteError as error:
            state = self.state
            state.last_error = str(error)
            state.save(self.cache)
            raise
        finally:
            marker.unlink(missing_ok=True)
            self.client.on_wait = on_wait
        state = self.state
        state.last_success = utcnow().isoformat()
        state.last_error = ""
        state.skipped = report.skipped
        state.save(self.cache)
        report.outbox = self.cache.outbox.counts()
        return report

    def _took(self, applied: Applied, report: SyncReport) -> None:
        """What a batch (or a fetch) did, counted; what it skipped, logged; customers it could
        not file, named for a rebuild."""
        report.applied.add(applied)
        self.cache.log_skipped(applied.skipped)
        if applied.damaged:
            self.cache.request_repair(applied.damaged)

    # -- push --------------------------------------------------------------------------------

    def push(self, report: SyncReport) -> None:
        """Send the outbox (see `agentdesk.sync.push`)."""
        self._pusher.push(report)

    # -- what the store lists for every agent ------------------------------------------------

    def directory(self, report: SyncReport) -> None:
        """The store's canned replies and agents, kept in the cache for the composer and the
        assignee picker. A store that cannot say (an older one, a failure) leaves the cache's
        copy as it was and the sync goes on: said in the report, not an error."""
        from agentdesk.model.records import AgentInfo, CannedReply

        for what, fetch in (("canned replies", self.client.canned),
                            ("agents", self.client.agents)):
            try:
                answer = fetch()
                if what == "agents":
                    agents = [AgentInfo.model_validate(a.model_dump()) for a in answer.agents]
                    self.cache.save_agents(agents, answer.me)
                else:
                    replies = [CannedReply.model_validate(r.model_dump()) for r in answer.replies]
                    self.cache.save_canned_replies(replies)
            except (RemoteError, ValueError) as error:
                log.warning("%s not fetched: %s", what, error)
                report.held_lists.append(f"{what}: {clean_line(str(error))[:200]}")

    # -- repair ------------------------------------------------------------------------------

    def repair(self, report: SyncReport) -> None:
        """Rebuild, from the store, the customers whose files did not read back or could not
        be filed: their files are dropped and their profile fetched whole; the agent's
        pending edits are applied on top again, as after any fetch."""
        for customer_id in self.cache.repair_requests():
            self.cache.remove_customer(customer_id)
            try:
                applied = self._fetched(customer_id)
            except NotFound:
                log.info("customer %s is gone from the store: not rebuilt", customer_id)
                self.cache.write_index_rows({customer_id: None}, durable=True)
                applied = Applied()
            if customer_id in applied.damaged:  # again: stop asking until it is damaged anew
                log.error("customer %s could not be rebuilt from the store", customer_id)
            applied.damaged = []
            self._took(applied, report)
            self.cache.repaired([customer_id])
            report.repaired.append(customer_id)

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
        self._took(applied, report)
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
                self._took(applied, report)
                progress.saved += 1
                self.on_progress(progress)
        if rows or self.cache.rows_waiting:
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
        self.cache.filed_queue_rows(answer.get("queue") or {})
        if deferred := set(answer["deferred"]):
            self.replica.apply_records(
                (r for r in Spool.read(path) if r.customer_id in deferred), applied, rows,
                durable=False,
            )
        self._took(applied, report)

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
        applied = self._fetched(customer_id)
        if report is not None:
            self._took(applied, report)
        else:
            self.cache.log_skipped(applied.skipped)
        return applied

    def _fetched(self, customer_id: str) -> Applied:
        self.on_progress(Progress("fetching"))
        snapshot = self.client.profile(customer_id)
        return self.replica.apply([c.model_dump(mode="json") for c in snapshot.changes],
                                  durable=True)


