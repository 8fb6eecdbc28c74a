"""The local cache: a folder of small TinyDB files, one per customer (see `layout`).

Opening a profile reads one profile file and the timeline files on screen; an edit rewrites
one profile file; a search reads the index once, then works in memory. A `Cache` is the
folder opened: locked for writing (or read-only when another desk has it), its schema checked
or migrated, and every change to a profile made through `change_profile`.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.cache.collector import collector_paused
from agentdesk.cache.database import changing, flush, open_db, put_single, single
from agentdesk.cache.directory import StoreDirectory
from agentdesk.cache.drafts import Drafts
from agentdesk.cache.panel_state import PanelState
from agentdesk.cache.profile_data_edits import ProfileDataEdits
from agentdesk.cache.entry_edits import EntryEdits
from agentdesk.cache.files import (
    FILE_MODE,
    CacheError,
    CacheLock,
    ReadOnlyCacheError,
    atomic_write_json,
    make_private_dir,
    read_json,
)
from agentdesk.cache import layout, long_bodies
from agentdesk.cache.layout import customer_files, is_temp
from agentdesk.cache.outbox import Outbox
from agentdesk.cache.profile_file import ProfileFile, profile_doc
from agentdesk.cache.queue_index import QueueFiles, QueueKeeping, rows_of_tables
from agentdesk.cache.schema import new_meta, upgrade
from agentdesk.cache.search_index import IndexRow, SearchIndexFiles
from agentdesk.cache.timeline import INLINE, Timeline, TimelineSummary, inline_docs, write_all
from agentdesk.model.sanitize import clean_line
from agentdesk.model.views import StoredProfile

if TYPE_CHECKING:
    from agentdesk.model.records import Profile, TimelineEntry

RECENT_MAX = 100
# What reading a file the cache wrote raises when it is not what was written (damaged on disk,
# or written by a version that checked less): the customer is rebuilt, the desk goes on.
READ_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
               RecursionError)
SKIPPED_LOG_MAX = 1 << 20  # bytes; past this the log is moved to skipped.log.1 (one kept)


class DamagedProfile(CacheError):
    """A customer's files cannot be read back. The customer is named for a rebuild from the
    store at the next sync (`Cache.request_repair`); the outbox is kept."""

    def __init__(self, customer_id: str, why: str) -> None:
        super().__init__(f"The cached profile of customer {clean_line(customer_id[:60])} cannot be "
                         f"read ({why}); it is fetched again from the store at the next sync. "
                         "Your unsent edits are kept.")
        self.customer_id = customer_id


class Cache(ProfileDataEdits, EntryEdits, StoreDirectory, QueueKeeping):
    """A cache folder opened for reading and, when no other desk holds it, writing."""

    def __init__(self, root: Path, *, read_only: bool, lock: CacheLock | None) -> None:
        self.root = root
        self.read_only = read_only
        self._lock = lock
        # Edits from the UI and records from a sync worker change the same files: one at a time.
        self.write_lock = threading.RLock()
        self.outbox = Outbox(root / "outbox.json", read_only=read_only)
        self.drafts = Drafts(root / "drafts.json", read_only=read_only)
        self.panel = PanelState(root, read_only=read_only)
        self.search_index = SearchIndexFiles(root / "index", read_only=read_only)
        self.queue = QueueFiles(root / "queue", read_only=read_only)
        # Queue rows changed by `change_profile(rows=...)`, written with the search rows.
        self._queue_batch: dict[str, list[dict[str, Any]]] = {}

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, root: Path, *, create: bool = True) -> Cache:
        """Open (creating if needed) the cache at `root`.

        If another process holds the write lock, the cache opens read-only (`read_only` is
        True) rather than risk two writers. Raises CacheError for a cache we cannot read safely.
        """
        root = Path(root).expanduser()
        if root.exists() and not root.is_dir():
            raise CacheError(f"{root} is not a folder; choose another place with --cache.")
        meta = root / "meta.json"
        if not root.exists() or not any(root.iterdir()):
            if not create:
                raise CacheError(f"No cache at {root}.")
            make_private_dir(root)
        lock = CacheLock(root / "lock")
        read_only = not lock.acquire()
        try:
            data = read_json(meta)
        except (ValueError, OSError):
            data = {"meta": {"1": {"schema": "unreadable"}}}
        if data is None:
            for leftover in root.glob(".*.tmp"):  # a write cut short by a crash
                if not read_only:
                    leftover.unlink(missing_ok=True)
            if any(p.name != "lock" and not is_temp(p) for p in root.iterdir()):
                lock.release()
                raise CacheError(
                    f"{root} holds files but no meta.json: it is not an agentdesk cache (or one "
                    "from before schema versions). Move it aside or choose another --cache."
                )
            if read_only:
                raise CacheError(f"{root} is being created by another agentdesk; try again.")
            atomic_write_json(meta, new_meta())
        else:
            try:
                upgrade(root, data, read_only=read_only)
            except BaseException:  # refused, or a migration that failed: free the lock
                lock.release()
                raise
            if not read_only:  # temporary files of writes a crash cut short (never read)
                for leftover in [*root.glob(".*.tmp"), *(root / "index").glob(".*.tmp"),
                                 *(root / "queue").glob(".*.tmp")]:
                    leftover.unlink(missing_ok=True)
        return cls(root, read_only=read_only, lock=None if read_only else lock)

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def lock_fd(self) -> int | None:
        """The locked descriptor: a helper process that inherits it holds the lock too."""
        return self._lock.fd if self._lock is not None else None

    def try_upgrade(self) -> bool:
        """A read-only cache becomes writable if the other agentdesk let go of the lock since
        (True). What it changed meanwhile (outbox, index, drafts) is read again."""
        if not self.read_only:
            return True
        lock = CacheLock(self.root / "lock")
        if not lock.acquire():
            return False
        try:
            upgrade(self.root, read_json(self.root / "meta.json"), read_only=False)
        except BaseException:
            lock.release()
            raise
        self._lock = lock
        self.read_only = False
        self.outbox.read_only = False
        self.outbox.reload()
        self.drafts.read_only = False
        self.panel.read_only = False
        self.search_index.read_only = False
        self.search_index.forget()
        self.queue.read_only = False
        self.queue.forget()
        return True

    def require_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyCacheError(
                "This cache is open read-only because another agentdesk is using it; "
                "close the other one to make changes."
            )

    # -- paths ---------------------------------------------------------------------------

    def profile_path(self, customer_id: str) -> Path:
        return layout.profile_file(self.root, customer_id)

    def timeline_dir(self, customer_id: str) -> Path:
        """Where the customer's timeline files are, when its timeline outgrew its profile file."""
        return layout.timeline_dir(self.root, customer_id)

    # -- the one door for changing a profile -----------------------------------------------

    @contextmanager
    def change_profile(self, customer_id: str, *, durable: bool = True,
                       rows: dict[str, IndexRow | None] | None = None) -> Iterator[ProfileFile]:
        """Read a customer's profile file, change it (the block, through TinyDB), write it
        once, atomically, and bring its search row up to date: every change of a profile goes
        through here, the agent's edits and the store's records alike.

        A profile left with no record is removed rather than written. The search row and
        the customer's queue rows are written at once, or, given `rows`, put there (and in
        the queue's batch) for the caller to write with others (`write_index_rows`: a sync
        writes a batch's rows once). If the block raises, nothing is written. Timeline files
        the change made obsolete are removed after the profile is written.
        """
        self.require_writable()
        path = self.profile_path(customer_id)
        with self.write_lock:
            try:
                profile = ProfileFile(open_db(path, durable=durable),
                                      self.timeline_dir(customer_id), durable=durable)
                raw = profile.raw() if profile.existed else {}
                before = IndexRow.of_tables(raw) if profile.existed else None
                queued_before = rows_of_tables(raw)
            except READ_ERRORS as error:  # a file that does not read back: not changed
                raise self._damaged(customer_id, error) from None
            yield profile
            if not profile.changed:
                if rows is not None and profile.existed:  # a page filed again after a kill:
                    self._queue_batch[customer_id] = queued_before  # its rows, written this time
                return
            queued_after = rows_of_tables(profile.raw())
            if rows is None and queued_after != queued_before:
                # Before the profile: a crash between the two leaves rows the profile catches
                # up with (its change is in the outbox or comes again with the feed), where
                # the other order would leave rows that no later change corrects.
                self.queue.write({customer_id: queued_after}, durable=True)
            if profile.is_empty():
                path.unlink(missing_ok=True)
            else:
                flush(profile.db)
            for old in profile.obsolete:
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink(missing_ok=True)
            after = IndexRow.of_tables(profile.raw())
            if rows is not None:
                rows[customer_id] = after
                if queued_after != queued_before:
                    self._queue_batch[customer_id] = queued_after
                return
            if after != before:
                self.search_index.write({customer_id: after}, durable=True)

    def remove_customer(self, customer_id: str) -> None:
        """Remove a customer's files. The profile file goes first: without it the timeline
        files are unreachable garbage, which a crash before they go would leave (and a later
        sync of the id would sweep)."""
        self.require_writable()
        profile, timeline_dir = customer_files(self.root, customer_id)
        with self.write_lock:
            profile.unlink(missing_ok=True)
            if timeline_dir.exists():
                shutil.rmtree(timeline_dir)
            self._queue_batch[customer_id] = []  # its queue rows go with the next index write

    def write_index_rows(self, rows: dict[str, IndexRow | None], *, durable: bool,
                         fold: bool = False) -> None:
        """Search rows collected by `change_profile(rows=...)`, written together, with the
        queue rows collected meanwhile; a customer whose row is None (removed) leaves the
        queue too."""
        self.require_writable()
        with self.write_lock:
            if rows or fold:
                self.search_index.write(rows, durable=durable, fold=fold)
            queued = {cid: [] for cid, row in rows.items() if row is None}
            queued.update(self._queue_batch)
            self._queue_batch = {}
            self.queue.write(queued, durable=durable)

    # -- reading -------------------------------------------------------------------------

    def view_profile(self, customer_id: str) -> tuple[StoredProfile, Timeline] | None:
        """The profile as the desk shows it (read-only views, no models: see `model.views`)
        and its timeline (entries not read yet), from one small file read. DamagedProfile if
        the file cannot be read back (the customer is then rebuilt at the next sync)."""
        try:
            with collector_paused():
                raw = self._profile_tables(customer_id)
                if raw is None:
                    return None
                view = StoredProfile(profile_doc(raw))
                for name in ("started", "ended"):  # converted when drawn: fail here instead
                    view.conversations.field(name)
                timeline = self._timeline(customer_id, raw)
                del raw  # what was copied out of it goes before the collector resumes: a
                # collection right after would look at each of its thousands of lists
                return view, timeline
        except READ_ERRORS as error:
            raise self._damaged(customer_id, error) from None

    def _damaged(self, customer_id: str, error: BaseException) -> DamagedProfile:
        self.request_repair([customer_id])
        return DamagedProfile(customer_id, f"{type(error).__name__}: {clean_line(str(error))[:120]}")

    def load_profile(self, customer_id: str) -> Profile | None:
        """The profile as models, to edit (the forms validate against them)."""
        from agentdesk.model.records import Profile, from_stored

        raw = self._profile_tables(customer_id)
        return None if raw is None else from_stored(Profile, profile_doc(raw))

    def _profile_tables(self, customer_id: str) -> dict[str, Any] | None:
        raw = read_json(self.profile_path(customer_id))
        if raw is None or not single(raw, "customer"):
            return None  # not cached, or records of a customer whose own has not arrived (yet)
        return raw

    def _timeline(self, customer_id: str, raw: dict[str, Any]) -> Timeline:
        def damaged(error: BaseException) -> DamagedProfile:
            return self._damaged(customer_id, error)

        return Timeline(self.timeline_dir(customer_id),
                        TimelineSummary.from_json(single(raw, "timeline") or {}), inline_docs(raw),
                        on_damage=damaged)

    def index_rows(self) -> Iterator[IndexRow]:
        """Every customer's search row (reads all index shards: for the search index)."""
        return self.search_index.rows()

    def recent(self) -> list[str]:
        try:  # written without fsync: after a power cut it may be empty, which is no error
            ids = (single(read_json(self.root / "recent.json"), "recent") or {}).get("ids")
        except (ValueError, OSError, AttributeError):
            return []
        return [x for x in ids if isinstance(x, str)] if isinstance(ids, list) else []

    def start_customer_id(self) -> str | None:
        """The customer the desk opens on: the last one viewed that still exists, else any."""
        for customer_id in self.recent()[:5]:
            if self.profile_path(customer_id).exists():
                return customer_id
        return self.search_index.first_customer_id()

    # -- recently viewed -------------------------------------------------------------------

    def _write_recent(self, ids: list[str]) -> None:
        """Not worth an fsync: losing the last few views to a power cut is no harm."""
        with changing(self.root / "recent.json", durable=False) as db:
            put_single(db, "recent", {"ids": ids[:RECENT_MAX]})

    def mark_viewed(self, customer_id: str) -> None:
        """Remember a viewed profile (for "recently viewed first")."""
        if not self.read_only:
            self._write_recent([customer_id, *(x for x in self.recent() if x != customer_id)])

    def forget_recent(self, renames: dict[str, str | None]) -> None:
        """Follow merged customers (old -> new id) and drop removed ones (-> None) in recent."""
        if self.read_only or not renames:
            return
        recent: list[str] = []
        for customer_id in self.recent():
            new = renames.get(customer_id, customer_id)
            if new is not None and new not in recent:
                recent.append(new)
        self._write_recent(recent)

    # -- the sync's bookkeeping ------------------------------------------------------------

    def sync_state(self) -> dict[str, Any]:
        """What `sync.json` holds (the store's epoch, the feed cursor...), or {}."""
        return sync_state_at(self.root)

    def save_sync_state(self, state: dict[str, Any]) -> None:
        with changing(self.root / "sync.json") as db:
            put_single(db, "sync", state)

    # -- what a sync could not file ----------------------------------------------------------

    @property
    def skipped_log(self) -> Path:
        """Where the changes a sync skipped are listed, with why (0600; see `log_skipped`)."""
        return layout.skipped_log(self.root)

    def log_skipped(self, reasons: Iterable[str]) -> None:
        """Append skipped changes' reasons, one timestamped line each (control characters
        removed: the file is read on a terminal). One older log is kept past SKIPPED_LOG_MAX."""
        from datetime import UTC, datetime

        lines = [f"{datetime.now(UTC).isoformat(timespec='seconds')} {clean_line(r)}\n"
                 for r in reasons]
        if not lines or self.read_only:
            return
        path = self.skipped_log
        make_private_dir(path.parent)
        with self.write_lock:
            try:
                if path.stat().st_size > SKIPPED_LOG_MAX:
                    path.replace(path.with_name(path.name + ".1"))
            except FileNotFoundError:
                pass
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
            with os.fdopen(fd, "a", encoding="utf-8", errors="replace") as handle:
                handle.writelines(lines)

    def repair_requests(self) -> list[str]:
        """Customers to rebuild from the store at the next sync (their files did not read
        back, or could not be filed)."""
        try:
            ids = (single(read_json(layout.repair_file(self.root)), "repair") or {}).get("ids")
        except (ValueError, OSError, AttributeError):
            return []
        return [x for x in ids if isinstance(x, str)] if isinstance(ids, list) else []

    def request_repair(self, customer_ids: Iterable[str]) -> None:
        """Name customers for a rebuild from the store (nothing in a read-only desk: the desk
        holding the cache finds them itself)."""
        if self.read_only:
            return
        with self.write_lock:
            ids = self.repair_requests()
            new = [c for c in customer_ids if c not in ids]
            if new:
                with changing(layout.repair_file(self.root)) as db:
                    put_single(db, "repair", {"ids": ids + new})

    def repaired(self, customer_ids: Iterable[str]) -> None:
        done = set(customer_ids)
        with self.write_lock:
            ids = self.repair_requests()
            if done & set(ids):
                with changing(layout.repair_file(self.root)) as db:
                    put_single(db, "repair", {"ids": [c for c in ids if c not in done]})

    def sweep_temp_files(self) -> int:
        """Remove the temporary files of writes a killed process cut short: 257 folder reads
        (and one per long timeline), so only after a sync did not finish."""
        customers = self.root / "customers"
        with self.write_lock:  # not the temporary file of an edit being saved now
            leftovers = [*customers.glob("*/.*.tmp"), *customers.glob("*/*.entries/.*.tmp"),
                         *customers.glob(f"*/*.entries/{long_bodies.FOLDER}/.*.tmp"),
                         *(self.root / "queue").glob(".*.tmp")]
            for path in leftovers:
                path.unlink(missing_ok=True)
        return len(leftovers)

    def wipe(self) -> None:
        """Forget every record (the store was rebuilt); the outbox is kept."""
        self.require_writable()
        with self.write_lock:
            for name in ("customers", "index", "spool", "queue"):
                shutil.rmtree(self.root / name, ignore_errors=True)
            self.search_index.forget()
            self.queue.forget()
            self._queue_batch = {}

    # -- whole profiles --------------------------------------------------------------------

    def put_profile(self, profile: Profile, entries: Iterable[TimelineEntry] | None = None, *,
                    durable: bool = True) -> None:
        """Store a whole profile (replacing any older copy) and, if given, its timeline."""
        rows: dict[str, IndexRow | None] = {}
        self._put(profile, entries, rows, durable)
        self.write_index_rows(rows, durable=durable)

    def import_profiles(self, items: Iterable[tuple[Profile, list[TimelineEntry]]], *,
                        durable: bool = False) -> int:
        """Bulk-load many profiles (demo data, benchmarks): index shards written once at the end."""
        rows: dict[str, IndexRow | None] = {}
        count = 0
        for profile, entries in items:
            self._put(profile, entries, rows, durable)
            count += 1
        self.write_index_rows(rows, durable=True, fold=True)
        return count

    def _put(self, profile: Profile, entries: Iterable[TimelineEntry] | None,
             rows: dict[str, IndexRow | None], durable: bool) -> None:
        customer_id = profile.customer.id
        timeline_dir = self.timeline_dir(customer_id)
        written = write_all(timeline_dir, entries, durable) if entries is not None else None
        with self.change_profile(customer_id, durable=durable, rows=rows) as stored:
            stored.replace_profile(profile)
            if written is not None:
                stored.set_timeline(*written)
        if written is not None and written[0].chunk_files in ([], [INLINE]):
            # Files the profile no longer names: the chunks (its long bodies stay, if any).
            if long_bodies.files_named(written[1]):
                for old in timeline_dir.glob("entries-*.json"):
                    old.unlink(missing_ok=True)
            else:
                shutil.rmtree(timeline_dir, ignore_errors=True)


def sync_state_at(root: Path) -> dict[str, Any]:
    """The sync state of the cache at `root` (see `Cache.sync_state`)."""
    try:
        return single(read_json(root / "sync.json"), "sync") or {}
    except (ValueError, OSError, AttributeError):
        return {}
