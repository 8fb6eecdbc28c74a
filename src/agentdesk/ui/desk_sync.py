"""The desk's side of syncing: background syncs one at a time, searches and fetches the agent
waits for, and what the status line and open screens show of them. A part of the app
(`AgentDesk` inherits it), apart so that app.py stays about screens and keys."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from textual import work
from textual.signal import Signal

from agentdesk.cache.cache import Cache, IndexRow
from agentdesk.config import Remote
from agentdesk.ui.sync_bar import SyncEffects, SyncView

if TYPE_CHECKING:
    from agentdesk.sync.engine import Progress, SyncEngine, SyncReport
    from agentdesk.ui.search import SearchScreen

LONG_WAIT = 5.0  # seconds: a pause this long is shown with its reason


class DeskSync:
    """Sync for the app; the app sets these attributes in its __init__."""

    cache: Cache
    remote: Remote | None
    sync_view: SyncView
    sync_status: Signal[SyncView]
    sync_applied: Signal[SyncEffects | None]
    _engine: SyncEngine | None
    _sync_lock: threading.Lock
    _sync_wanted: threading.Event
    _prepare_remote: Callable[[], None] | None

    if TYPE_CHECKING:  # the app's own, called from here (declared for the type checker only:
        # defined here, they would hide the app's)
        def notify(self, *args: object, **kwargs: object) -> None: ...
        def call_from_thread(self, callback: Callable[..., object], *args: object,
                             **kwargs: object) -> object: ...
        def open_customer(self, customer_id: str) -> None: ...
        def load_index(self) -> None: ...
        def load_queue(self) -> None: ...

    def set_sync_view(self, view: SyncView) -> None:
        """Show a new sync state on every screen's status line."""
        self.sync_view = view
        self.sync_status.publish(view)

    def repair_soon(self) -> None:
        """A customer's cached files did not read back (the cache has asked for its rebuild,
        which a sync does): sync now rather than at the next interval."""
        if self.remote is not None:
            self.action_sync()

    def action_sync(self) -> None:
        """Sync now (`r`, and after every edit). Asked for while a sync runs, another follows
        it: the one running may have pushed before the edit was saved, or be failing against
        a store that has just come back."""
        if self.remote is None:
            self.notify("No store configured: this desk works from its cache only "
                        "(see `agentdesk config`).", timeout=4)
            return
        if self.cache.read_only:
            return
        self._sync_wanted.set()
        self.run_sync()

    def _sync_on_interval(self) -> None:
        if not self._sync_lock.locked():  # a sync under way is as good as this one
            self.action_sync()

    @work(thread=True, group="sync")
    def run_sync(self) -> None:
        """Syncs in a thread, one at a time, while one is wanted: the desk keeps answering
        keys meanwhile. A request that finds a sync running leaves it to that thread, which
        looks again after letting go of the lock, so none is lost in between."""
        while self._sync_wanted.is_set():
            if not self._sync_lock.acquire(blocking=False):
                return
            try:
                self._sync_wanted.clear()
                self._run_sync()
            finally:
                self._sync_lock.release()

    def _sync_engine(self, interactive: bool = False) -> SyncEngine:
        """The engine for background syncs, or one whose client gives up quickly (searches
        and fetches the agent is waiting for)."""
        from agentdesk.sync.client import RetryPolicy
        from agentdesk.sync.remote import connect
        from agentdesk.sync.engine import SyncEngine

        assert self.remote is not None
        if interactive:
            client = connect(self.remote.url, self.remote.token, verify=self.remote.verify,
                             timeout=5.0, retry=RetryPolicy(attempts=2, base=0.2),
                             **self.remote.login)
            return SyncEngine(self.cache, client)
        if self._engine is None:
            client = connect(self.remote.url, self.remote.token, verify=self.remote.verify,
                             **self.remote.login)
            self._engine = SyncEngine(self.cache, client, on_progress=self._progress_from_thread)
        return self._engine

    @work(thread=True, exclusive=True, group="remote-search")
    def search_remote(self, screen: SearchScreen, query: str) -> None:
        from agentdesk.sync.client import RemoteError

        engine = self._sync_engine(interactive=True)
        try:
            hits = engine.client.search(query).hits
        except RemoteError as error:  # the local results stand; the agent is told why alone
            self.call_from_thread(screen.remote_failed, query, error)
            return
        finally:
            engine.client.close()
        rows = [IndexRow(h.id, h.name, h.email, h.phone, h.company) for h in hits]
        self.call_from_thread(screen.add_remote, query, rows)

    @work(thread=True, group="fetch")
    def fetch_and_open(self, customer_id: str) -> None:
        """Open a customer found on the store: fetch and cache its profile first."""
        from agentdesk.sync.client import RemoteError

        self.call_from_thread(self.notify, "Fetching the customer from the store…", timeout=2)
        engine = self._sync_engine(interactive=True)
        try:
            engine.fetch(customer_id)
        except RemoteError as error:
            self.call_from_thread(self.notify, f"Could not fetch the customer: {error}",
                                  severity="error", markup=False)
            return
        finally:
            engine.client.close()
        self.call_from_thread(self.open_customer, customer_id)
        self.call_from_thread(self.load_index)

    def _run_sync(self) -> None:
        from agentdesk.sync.client import Offline, RemoteError
        from agentdesk.sync.engine import SyncState

        assert self.remote is not None
        self._engine = self._sync_engine()
        state = SyncState.load(self.cache)
        first = state.cursor is None or state.spooling
        self.call_from_thread(self.set_sync_view, replace(
            self.sync_view, syncing=True, first=first, progress=None, changes=0, saving=False,
            retrying=False))
        try:
            if self._prepare_remote is not None:
                try:
                    self._prepare_remote()
                except Exception as error:  # noqa: BLE001 (shown like any failed sync)
                    raise RemoteError(f"the store could not be started: {error}") from None
                self._prepare_remote = None
            report = self._engine.run()
        except RemoteError as error:
            counts = self.cache.outbox.counts()
            self.call_from_thread(self.set_sync_view, replace(
                self.sync_view, syncing=False, online=not isinstance(error, Offline),
                error=str(error), pending=counts.pending, rejected=counts.rejected,
                conflicts=counts.conflicts))
            self.call_from_thread(self._after_sync, None)
            return
        self.call_from_thread(self._after_sync, report)

    def saved_message(self) -> str:
        """What to say once an edit is saved in the cache: where it goes next, truthfully."""
        if self.remote is None:
            return "Saved in this desk's cache (no store is configured)."
        if self.cache.read_only or self.sync_view.online is False:
            return "Saved here; it goes to the store once the store can be reached."
        return "Saved; sending it to the store now."

    def outbox_changed(self) -> None:
        """An edit was saved, kept or discarded: the counts on the status line follow now,
        not at the next sync."""
        counts = self.cache.outbox.counts()
        self.set_sync_view(replace(self.sync_view, pending=counts.pending,
                                   rejected=counts.rejected, conflicts=counts.conflicts))

    def _progress_from_thread(self, progress: Progress) -> None:
        if progress.phase == "waiting":  # a request failed and is tried again after a pause
            # Said at once, not after the retries; a store that cannot be reached at all is
            # offline from its first refused connection; a long pause is said with its reason.
            offline = progress.why.startswith("cannot reach")
            waiting = (f"waiting {progress.wait:.0f} s before asking the store again: "
                       f"{progress.why}" if progress.wait >= LONG_WAIT else "")
            self.call_from_thread(self.set_sync_view, replace(
                self.sync_view, syncing=True, retrying=True, waiting=waiting,
                online=False if offline else self.sync_view.online))
            return
        self.call_from_thread(self.set_sync_view, replace(
            self.sync_view, syncing=True, progress=progress.fraction, changes=progress.changes,
            saving=progress.phase == "saving", retrying=False, waiting=""))

    def _after_sync(self, report: SyncReport | None) -> None:
        if report is not None:
            counts = report.outbox
            log = report.skipped_log
            self.set_sync_view(replace(
                self.sync_view, syncing=False, online=True, error="", waiting="",
                last_success=datetime.now().astimezone().strftime("%H:%M:%S"),  # r shows
                pending=counts.pending, rejected=counts.rejected, conflicts=counts.conflicts,
                progress=None, skipped=report.skipped,
                skipped_log=str(log.relative_to(self.cache.root)) if log and report.skipped else ""))
            if report.pushed:
                self.notify(f"Sent to the store: {report.pushed} edit{'s' if report.pushed != 1 else ''}"
                            + (" (see Unsynced edits)" if report.conflicts or report.rejected else "")
                            + ".", timeout=3)
        self.apply_sync(report)

    def apply_sync(self, report: SyncReport | None) -> None:
        """Bring open screens up to date with what a sync changed, in place."""
        if report is None:
            self.sync_applied.publish(None)
            return
        applied = report.applied
        self.sync_applied.publish(SyncEffects(
            customers=applied.customers, gone=frozenset(applied.removed.union(report.evicted)),
            merged=applied.merged, repaired=frozenset(report.repaired)))
        if applied.changes or report.evicted:
            self.load_index()
        self.load_queue()  # and who `me` is, which the sync may just have learned
