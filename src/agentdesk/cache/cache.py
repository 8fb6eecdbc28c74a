"""The local cache: one small TinyDB file per customer, so common operations touch little.

Layout (schema 2)::

    meta.json                         schema version; checked before anything else is read
    lock                              flock: one writer at a time
    recent.json                       recently viewed customer ids, newest first
    index/<shard>.json                search rows (name, e-mail, phone, company), 256 shards
    customers/<shard>/<id>.json       the customer, contacts, relationships, notes,
                                      conversations, timeline summary, store revisions and,
                                      for a timeline of one chunk (most), its entries
    customers/<shard>/<id>.entries/entries-<n>.json   a longer timeline's entries, about
                                      CHUNK (200) per file, oldest first

Opening a profile reads one profile file and the timeline chunks on screen; adding a note
rewrites one profile file; a search reads the index once, then works in memory. TinyDB rewrites
a whole file on every change, which is why no file here grows with the number of customers
except the index shards (1/256 of them each). Schema 1 had a folder per customer holding
`profile.json` and every chunk: three file-system objects per customer instead of one, which
made a first sync of 10,000 customers wait on the disk.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.model.kinds import ContactKind
from agentdesk.model.views import StoredProfile
from agentdesk.cache import tables as t
from agentdesk.cache import timeline as timeline_files
from agentdesk.cache.outbox import Outbox
from agentdesk.cache.timeline import CHUNK, Timeline, TimelineSummary  # noqa: F401 (re-exported)
from agentdesk.cache.tables import Tables
from agentdesk.cache.files import (
    AtomicJSONStorage,
    CacheError,
    CacheLock,
    ReadOnlyCacheError,
    atomic_write_json,
    flush_to_disk,
    make_private_dir,
    read_json,
)

if TYPE_CHECKING:  # models and TinyDB load when something is written, not to show a profile
    from tinydb import TinyDB

    from agentdesk.model.records import ContactPoint, Note, Profile, TimelineEntry
    from agentdesk.model.protocol import Mutation

SCHEMA = 2
RECENT_MAX = 100
JOURNAL = "journal.json"  # index rows changed since the shards were written
JOURNAL_MAX = 2000  # past this, the whole journal is folded into the shards
JOURNAL_SOFT = 1000  # past this, each write also folds its fullest shards (see _fold_some)
_SAFE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")

PROFILE_SUFFIX = ".json"
CHUNKS_SUFFIX = ".entries"  # a suffix no profile file has: ids may contain dots


def _migrate_1_to_2(root: Path) -> None:
    """Schema 1 -> 2: `<shard>/<id>/profile.json` becomes `<shard>/<id>.json`, the folder (if
    it holds chunks) `<shard>/<id>.entries`. Everything moves by rename into `customers.new/`,
    which then replaces `customers/`: whatever is still in `customers/` is schema 1, so a
    migration cut short is finished by the next run (an id may itself end in ".entries")."""
    old, new = root / "customers", root / "customers.new"
    for shard in sorted(old.glob("[0-9a-f][0-9a-f]")):
        make_private_dir(new / shard.name)
        for folder in list(shard.iterdir()):
            if not folder.is_dir():
                if _is_temp(folder):  # of a write a crash cut short
                    folder.unlink()
                else:  # not ours to judge: it moves with the rest
                    folder.rename(new / shard.name / folder.name)
                continue
            profile = folder / "profile.json"
            if profile.exists():
                profile.rename(new / shard.name / (folder.name + PROFILE_SUFFIX))
            for leftover in folder.glob(".*.tmp"):
                leftover.unlink()
            if any(folder.iterdir()):
                folder.rename(new / shard.name / (folder.name + CHUNKS_SUFFIX))
            else:
                folder.rmdir()
        shard.rmdir()
    if old.exists():
        old.rmdir()
    if new.exists():
        new.rename(old)


# Migrations from older schemas: {old_version: function(cache_dir) -> None}; add an entry
# here when the layout changes.
MIGRATIONS: dict[int, Any] = {1: _migrate_1_to_2}


def _is_temp(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(".tmp")


@lru_cache(maxsize=1 << 16)  # a first sync asks ~7 times per customer
def shard_of(customer_id: str) -> str:
    return hashlib.sha256(customer_id.encode()).hexdigest()[:2]


def _dirname(customer_id: str) -> str:
    """A file-system-safe folder name for any id (ids come from remote stores)."""
    if _SAFE_ID.fullmatch(customer_id):
        return customer_id
    return "~" + hashlib.sha256(customer_id.encode()).hexdigest()


def customer_files(root: Path, customer_id: str) -> tuple[Path, Path]:
    """A customer's profile file and timeline folder, for code that has no Cache object (the
    first sync's filing helper): the layout `Cache.profile_path` and `Cache.folder` follow."""
    shard = root / "customers" / shard_of(customer_id)
    name = _dirname(customer_id)
    return shard / (name + PROFILE_SUFFIX), shard / (name + CHUNKS_SUFFIX)


@dataclass
class IndexRow:
    """What the customer search knows of one customer."""

    id: str
    name: str
    email: str = ""
    phone: str = ""
    company: str = ""

    @classmethod
    def of(cls, profile: Profile | StoredProfile) -> IndexRow:
        email = profile.primary(ContactKind.EMAIL)
        phone = profile.primary(ContactKind.PHONE)
        return cls(
            id=profile.customer.id,
            name=profile.customer.name,
            email=email.value if email else "",
            phone=phone.value if phone else "",
            company=profile.customer.company,
        )

    @classmethod
    def of_tables(cls, tables: Tables) -> IndexRow:
        """The row from a profile file's tables, without building models."""
        customer = t.customer(tables) or {}

        def primary(kind: str) -> str:
            points = [d for d in t.docs(tables, "contacts") if d.get("kind") == kind]
            chosen = next((d for d in points if d.get("primary")), points[0] if points else None)
            return str(chosen.get("value", "")) if chosen else ""

        return cls(
            id=str(customer.get("id", "")),
            name=str(customer.get("name", "")),
            email=primary("email"),
            phone=primary("phone"),
            company=str(customer.get("company", "")),
        )


class Cache:
    """A cache folder opened for reading and, when no other desk holds it, writing."""

    def __init__(self, root: Path, *, read_only: bool, lock: CacheLock | None) -> None:
        self.root = root
        self.read_only = read_only
        self._lock = lock
        # Edits from the UI and records from a sync worker change the same files: one at a time.
        self.write_lock = threading.RLock()
        self._index_lock = threading.Lock()
        self._journal_rows: dict[str, dict[str, Any] | None] | None = None
        self._shard_dirs: dict[str, Path] = {}
        self.outbox = Outbox(root / "outbox.json", read_only=read_only)

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
            data = {"schema": "unreadable"}
        if data is None:
            for leftover in root.glob(".*.tmp"):  # a write cut short by a crash
                if not read_only:
                    leftover.unlink(missing_ok=True)
            if any(p.name != "lock" and not _is_temp(p) for p in root.iterdir()):
                lock.release()
                raise CacheError(
                    f"{root} holds files but no meta.json: it is not an agentdesk cache (or one "
                    "from before schema versions). Move it aside or choose another --cache."
                )
            if read_only:
                raise CacheError(f"{root} is being created by another agentdesk; try again.")
            atomic_write_json(meta, {"schema": SCHEMA, "created": datetime.now(UTC).isoformat()})
        else:
            try:
                cls._check_schema(root, data, read_only, lock)
            except BaseException:  # refused, or a migration that failed: free the lock
                lock.release()
                raise
            if not read_only:  # temporary files of writes a crash cut short (never read)
                for leftover in [*root.glob(".*.tmp"), *(root / "index").glob(".*.tmp")]:
                    leftover.unlink(missing_ok=True)
        return cls(root, read_only=read_only, lock=None if read_only else lock)

    @staticmethod
    def _check_schema(root: Path, meta: dict[str, Any], read_only: bool, lock: CacheLock) -> None:
        version = meta.get("schema") if isinstance(meta, dict) else None
        if type(version) is not int:  # not True, not 1.0: those are not schema 1
            version = None if version is None else repr(version)
        if version == SCHEMA:
            return
        if isinstance(version, int) and version < SCHEMA and all(
            v in MIGRATIONS for v in range(version, SCHEMA)
        ):
            if read_only:
                raise CacheError(
                    f"The cache at {root} needs upgrading from schema {version} to {SCHEMA}, "
                    "but another agentdesk holds it; close that one first."
                )
            for step in range(version, SCHEMA):
                MIGRATIONS[step](root)
                atomic_write_json(root / "meta.json", {**meta, "schema": step + 1})
            return
        lock.release()
        if isinstance(version, int) and version > SCHEMA:
            raise CacheError(
                f"The cache at {root} was written by a newer agentdesk (schema {version}; this "
                f"version reads schema {SCHEMA}). Upgrade agentdesk or choose another --cache."
            )
        raise CacheError(
            f"The cache at {root} has schema {version!r}, which this agentdesk cannot read or "
            f"migrate (it reads schema {SCHEMA}). Move it aside and sync again, or choose "
            "another --cache."
        )

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
        return self._lock.fd if self._lock is not None else None

    # -- paths ---------------------------------------------------------------------------

    def _shard_dir(self, customer_id: str) -> Path:
        shard = shard_of(customer_id)
        found = self._shard_dirs.get(shard)
        if found is None:
            found = self._shard_dirs[shard] = self.root / "customers" / shard
        return found

    def profile_path(self, customer_id: str) -> Path:
        return self._shard_dir(customer_id) / (_dirname(customer_id) + PROFILE_SUFFIX)

    def folder(self, customer_id: str) -> Path:
        """Where the customer's timeline chunks are, if it has more than one."""
        return self._shard_dir(customer_id) / (_dirname(customer_id) + CHUNKS_SUFFIX)

    def _index_path(self, shard: str) -> Path:
        return self.root / "index" / f"{shard}.json"

    def _require_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyCacheError(
                "This cache is open read-only because another agentdesk is using it; "
                "close the other one to make changes."
            )

    @contextmanager
    def _profile_db(self, customer_id: str, durable: bool = True) -> Iterator[TinyDB]:
        """The profile file as a TinyDB whose changes are written once, atomically, on exit."""
        from tinydb import TinyDB
        from tinydb.middlewares import CachingMiddleware

        self._require_writable()
        path = self.profile_path(customer_id)
        db = TinyDB(path, storage=CachingMiddleware(AtomicJSONStorage), durable=durable)
        db.storage.WRITE_CACHE_SIZE = 1 << 30  # flush only when we close
        try:
            yield db
        except BaseException:
            raise  # the half-made change is dropped with `db`: nothing was written
        db.close()

    # -- reading -------------------------------------------------------------------------

    def load_profile(self, customer_id: str) -> Profile | None:
        loaded = self.open_profile(customer_id)
        return loaded[0] if loaded else None

    def open_profile(self, customer_id: str) -> tuple[Profile, Timeline] | None:
        """The profile and its timeline (entries not read yet), from one small file read."""
        raw = self._profile_tables(customer_id)
        return None if raw is None else (_profile_from_tables(raw), self._timeline(customer_id, raw))

    def view_profile(self, customer_id: str) -> tuple[StoredProfile, Timeline] | None:
        """As `open_profile`, for display only: read-only views, no models (see `stored`)."""
        raw = self._profile_tables(customer_id)
        if raw is None:
            return None
        return StoredProfile(_profile_doc(raw)), self._timeline(customer_id, raw, for_display=True)

    def _profile_tables(self, customer_id: str) -> dict[str, Any] | None:
        raw = read_json(self.profile_path(customer_id))
        if raw is None or not t.customer(raw):
            return None  # not cached, or records of a customer whose own has not arrived (yet)
        return raw

    def _timeline(self, customer_id: str, raw: dict[str, Any], for_display: bool = False) -> Timeline:
        doc = next(iter(raw.get("timeline", {}).values()), None) or {}
        return Timeline(self.folder(customer_id), TimelineSummary.from_json(doc),
                        timeline_files.inline_docs(raw), for_display=for_display)

    def timeline(self, customer_id: str) -> Timeline:
        loaded = self.open_profile(customer_id)
        return loaded[1] if loaded else Timeline(self.folder(customer_id), TimelineSummary())

    def _shards(self) -> list[Path]:
        folder = self.root / "index"
        return sorted(folder.glob("[0-9a-f][0-9a-f].json")) if folder.exists() else []

    def _journal(self) -> dict[str, dict[str, Any] | None]:
        """Index rows changed since the shards were last written (None: customer removed)."""
        if not self.read_only and self._journal_rows is not None:
            return self._journal_rows
        try:
            rows = (read_json(self.root / "index" / JOURNAL) or {}).get("rows", {})
        except (ValueError, OSError):
            rows = {}
        if not self.read_only:
            self._journal_rows = rows
        return rows

    def index_rows(self) -> Iterator[IndexRow]:
        """Every customer's search row (reads all index shards: for the search index)."""
        journal = self._journal()
        for path in self._shards():
            for doc in (read_json(path) or {}).get("customers", {}).values():
                if doc["id"] not in journal:
                    yield IndexRow(**doc)
        for doc in journal.values():
            if doc is not None:
                yield IndexRow(**doc)

    def first_customer_id(self) -> str | None:
        """Some customer to open when nothing was viewed yet (reads one index shard)."""
        journal = self._journal()
        for doc in journal.values():
            if doc is not None:
                return str(doc["id"])
        for path in self._shards():
            docs = [d for d in (read_json(path) or {}).get("customers", {}).values()
                    if d["id"] not in journal]
            if docs:
                return min(docs, key=lambda d: d["name"].casefold())["id"]
        return None

    def recent(self) -> list[str]:
        try:  # written without fsync: after a power cut it may be empty, which is no error
            data = read_json(self.root / "recent.json")
        except (ValueError, OSError):
            return []
        return [x for x in data if isinstance(x, str)] if isinstance(data, list) else []

    def start_customer_id(self) -> str | None:
        """The customer the desk opens on: the last one viewed that still exists, else any."""
        for customer_id in self.recent()[:5]:
            if self.profile_path(customer_id).exists():
                return customer_id
        return self.first_customer_id()

    # -- writing -------------------------------------------------------------------------

    def mark_viewed(self, customer_id: str) -> None:
        """Remember a viewed profile (for "recently viewed first"). Not worth an fsync."""
        if self.read_only:
            return
        recent = [customer_id, *(x for x in self.recent() if x != customer_id)][:RECENT_MAX]
        atomic_write_json(self.root / "recent.json", recent, durable=False)

    def put_profile(
        self, profile: Profile, entries: Iterable[TimelineEntry] | None = None, *, durable: bool = True
    ) -> None:
        """Store a whole profile (replacing any older copy) and, if given, its timeline."""
        self._require_writable()
        folder = self.folder(profile.customer.id)
        summary, inline = (timeline_files.write_all(folder, entries, durable)
                           if entries is not None else (None, []))
        with self._profile_db(profile.customer.id, durable) as db:
            old_revisions = db.table("revisions").all()
            old_timeline = db.table("timeline").all()
            old_entries = db.table("entries").all()
            db.drop_tables()
            _profile_to_tables(db, profile)
            db.table("revisions").insert_multiple(old_revisions)
            timeline = db.table("timeline")
            if summary is not None:
                timeline.insert(summary.to_json())
            else:
                timeline.insert_multiple(old_timeline)
            if kept := (inline if summary is not None else old_entries):
                db.table("entries").insert_multiple(kept)
        if summary is not None and summary.chunk_files in ([], [timeline_files.INLINE]):
            shutil.rmtree(folder, ignore_errors=True)  # chunks the profile no longer names
        self._write_index_rows({IndexRow.of(profile).id: IndexRow.of(profile)}, durable)

    def import_profiles(
        self, items: Iterable[tuple[Profile, list[TimelineEntry]]], *, durable: bool = False
    ) -> int:
        """Bulk-load many profiles (demo data, benchmarks): index shards written once at the end."""
        self._require_writable()
        rows: dict[str, IndexRow] = {}
        count = 0
        for profile, entries in items:
            folder = self.folder(profile.customer.id)
            summary, inline = timeline_files.write_all(folder, entries, durable)
            tables: dict[str, dict[str, Any]] = {}
            _profile_to_dict(tables, profile)
            tables["timeline"] = {"1": summary.to_json()}
            if inline:
                tables["entries"] = timeline_files.entries_table(inline)
            atomic_write_json(self.profile_path(profile.customer.id), tables, durable=durable)
            rows[profile.customer.id] = IndexRow.of(profile)
            count += 1
        self._write_index_rows(rows, durable=True, fold=True)
        return count

    def _write_index_rows(self, rows: dict[str, IndexRow | None], durable: bool,
                          fold: bool = False) -> None:
        """Add, replace or (for None) remove search rows.

        They go to a small journal first (one write, however many customers changed: a sync
        of 100 changes would otherwise rewrite ~80 of the 256 shards). Past JOURNAL_SOFT rows
        each write also folds the fullest shards' rows into them, so the journal stays
        small without a sync now and then rewriting all 256 (~1 s); past JOURNAL_MAX, or for
        bulk loads, it is folded whole and emptied. Shards are written before the journal
        that no longer holds their rows, and readers overlay the journal on the shards, so a
        crash between the two leaves the same rows either way.
        """
        with self._index_lock:
            journal = dict(self._journal())
            journal.update({cid: (row.__dict__.copy() if row else None) for cid, row in rows.items()})
            if not fold and len(journal) <= JOURNAL_MAX:
                if len(journal) > JOURNAL_SOFT:
                    journal = self._fold_some(journal, 2 * len(rows), durable)
                atomic_write_json(self.root / "index" / JOURNAL, {"rows": journal}, durable=durable)
                self._journal_rows = journal
                return
            self._write_shards({cid: IndexRow(**doc) if doc else None
                                for cid, doc in journal.items()}, durable)
            if not durable:  # the shards reach the disk before the journal holding their rows goes
                flush_to_disk(self.root)
            (self.root / "index" / JOURNAL).unlink(missing_ok=True)
            self._journal_rows = {}

    def _fold_some(self, journal: dict[str, dict[str, Any] | None],
                   at_least: int, durable: bool) -> dict[str, dict[str, Any] | None]:
        """Write the journal's rows of its fullest shards into them, `at_least` rows' worth
        (twice what the write added: the journal shrinks as fast as it grows, each shard
        rewrite taking as many rows as it can); the journal without those rows."""
        by_shard: dict[str, list[str]] = {}
        for cid in journal:
            by_shard.setdefault(shard_of(cid), []).append(cid)
        folded: dict[str, IndexRow | None] = {}
        for ids in sorted(by_shard.values(), key=len, reverse=True):
            if len(folded) >= at_least:
                break
            folded.update({cid: IndexRow(**doc) if (doc := journal[cid]) else None for cid in ids})
        self._write_shards(folded, durable)
        if not durable:  # as in _write_index_rows: shards on disk before the shorter journal
            flush_to_disk(self.root)
        return {cid: doc for cid, doc in journal.items() if cid not in folded}

    def _write_shards(self, rows: dict[str, IndexRow | None], durable: bool) -> None:
        by_shard: dict[str, dict[str, IndexRow | None]] = {}
        for customer_id, row in rows.items():
            by_shard.setdefault(shard_of(customer_id), {})[customer_id] = row
        for shard, shard_rows in by_shard.items():
            path = self._index_path(shard)
            data = read_json(path) or {"customers": {}}
            docs = data.setdefault("customers", {})
            by_id = {doc["id"]: key for key, doc in docs.items()}
            next_key = max((int(k) for k in docs), default=0) + 1
            for customer_id, row in shard_rows.items():
                key = by_id.get(customer_id)
                if row is None:
                    if key is not None:
                        del docs[key]
                    continue
                if key is None:
                    key, next_key = str(next_key), next_key + 1
                docs[key] = row.__dict__.copy()
            atomic_write_json(path, data, durable=durable)

    def forget_recent(self, renames: dict[str, str | None]) -> None:
        """Follow merged customers (old -> new id) and drop removed ones (-> None) in recent."""
        if self.read_only or not renames:
            return
        recent: list[str] = []
        for customer_id in self.recent():
            new = renames.get(customer_id, customer_id)
            if new is not None and new not in recent:
                recent.append(new)
        atomic_write_json(self.root / "recent.json", recent, durable=False)

    # -- edits by the agent: queued in the outbox, then saved to the profile ----------------

    def _edit(self, customer_id: str, build: Callable[[Tables], list[Mutation]]) -> Tables:
        """Make an edit: the outbox entry is durable before the profile shows it.

        `build` turns the current tables into the edit's mutations (raising to refuse it, with
        nothing written). A crash between the two writes loses nothing: the queued mutation is
        pushed to the store and comes back with the next sync.
        """
        from agentdesk.cache import mutations

        self._require_writable()
        path = self.profile_path(customer_id)
        with self.write_lock:
            tables = AtomicJSONStorage(path).read() or {}
            if not t.customer(tables):
                raise CacheError(f"Customer {customer_id} is not in the cache.")
            changes = build(tables)
            if not changes:
                return tables
            row = IndexRow.of_tables(tables)
            self.outbox.add(changes)
            for m in changes:
                mutations.apply(tables, m)
            AtomicJSONStorage(path).write(tables)
            if IndexRow.of_tables(tables) != row:  # a note changes no search row
                self._write_index_rows({customer_id: IndexRow.of_tables(tables)}, durable=True)
        return tables

    def local_changes(self, customer_id: str) -> list[dict[str, Any]]:
        """Edits made here and not yet confirmed by the store, oldest first."""
        return [
            {**i.mutation.model_dump(mode="json"), "status": i.status, "reason": i.reason}
            for i in self.outbox.items(customer_id)
        ]

    def resolve(self, mutation_id: str, *, keep: bool) -> None:
        """The agent's answer to a conflicting or rejected edit.

        keep: send the agent's values again (for a conflict: on top of the store's current
        version, so it applies this time); otherwise discard the edit (the local copy already
        shows the store's version).
        """
        from agentdesk.cache import mutations

        self._require_writable()
        item = next((i for i in self.outbox.items() if i.mutation.id == mutation_id), None)
        if item is None:
            raise CacheError("That edit is no longer waiting.")
        if not keep:
            self.outbox.discard(mutation_id)
            return
        if item.status == "conflict":
            new = mutations.reapply(item.mutation, item.current, item.revision, item.conflicts)
        else:
            from agentdesk.model.records import new_id

            new = item.mutation.model_copy(update={"id": new_id("mut")})
        path = self.profile_path(new.customer_id)
        with self.write_lock:
            self.outbox.replace(mutation_id, new)
            tables = AtomicJSONStorage(path).read() or {}
            if t.customer(tables):
                mutations.apply(tables, new)
                AtomicJSONStorage(path).write(tables)
                self._write_index_rows({new.customer_id: IndexRow.of_tables(tables)}, durable=True)

    def add_note(self, customer_id: str, text: str, author: str = "") -> Note:
        from agentdesk.cache import mutations
        from agentdesk.model.records import Note
        from agentdesk.model.protocol import MutationKind

        note = Note(text=text, author=author)
        data = note.model_dump(mode="json")
        self._edit(customer_id, lambda _: [
            mutations.make(MutationKind.NOTE_ADD, customer_id, note.id, data, None)
        ])
        return note

    def edit_note(self, customer_id: str, note_id: str, text: str) -> Note:
        from agentdesk.cache import mutations
        from agentdesk.model.records import Note, from_stored
        from agentdesk.model.protocol import MutationKind

        def build(tables: Tables) -> list[Mutation]:
            doc = t.find(tables, "notes", note_id)
            if doc is None:
                raise CacheError("That note no longer exists.")
            Note.model_validate({**doc, "text": text})  # refuse what the model would
            return [mutations.make(
                MutationKind.NOTE_EDIT, customer_id, note_id,
                {"set": {"text": text}, "base": {"text": doc.get("text", "")}},
                t.revision_of(tables, "note", note_id),
            )]
        tables = self._edit(customer_id, build)
        return from_stored(Note, t.find(tables, "notes", note_id))

    def delete_note(self, customer_id: str, note_id: str) -> None:
        from agentdesk.cache import mutations
        from agentdesk.model.protocol import MutationKind

        def build(tables: Tables) -> list[Mutation]:
            doc = t.find(tables, "notes", note_id)
            if doc is None:
                raise CacheError("That note no longer exists.")
            return [mutations.make(
                MutationKind.NOTE_DELETE, customer_id, note_id, {"base": dict(doc)},
                t.revision_of(tables, "note", note_id),
            )]
        self._edit(customer_id, build)

    def update_details(
        self, customer_id: str, *, name: str, company: str, contacts: list[ContactPoint],
        base: Profile | None = None,
    ) -> Profile:
        """Save the edit-contact form: name, company and the whole list of contact points.

        Values are validated (pydantic, e-mail and phone checks) before anything is written:
        an invalid value raises and the cache is untouched. Only what changed is queued, one
        mutation per record, so the store can merge it with edits made elsewhere. `base` is the
        profile the form was opened on: a field the agent left alone is not "changed back" if a
        sync updated it meanwhile.
        """
        from agentdesk.cache import mutations
        from agentdesk.model.records import ContactPoint, Customer
        from agentdesk.model.protocol import MutationKind

        checked = [ContactPoint.model_validate(c.model_dump()) for c in contacts]

        def build(tables: Tables) -> list[Mutation]:
            old = base.customer.model_dump(mode="json") if base else (t.customer(tables) or {})
            Customer.model_validate({**old, "name": name, "company": company})
            changed = {k: v for k, v in (("name", name), ("company", company)) if old.get(k) != v}
            out: list[Mutation] = []
            if changed:
                out.append(mutations.make(
                    MutationKind.CUSTOMER_UPDATE, customer_id, customer_id,
                    {"set": changed, "base": {k: old.get(k) for k in changed}},
                    t.revision_of(tables, "customer", customer_id),
                ))
            before = {d["id"]: d for d in (
                [c.model_dump(mode="json") for c in base.contacts] if base
                else t.docs(tables, "contacts"))}
            for point in checked:
                doc = point.model_dump(mode="json")
                was = before.pop(point.id, None)
                if was != doc:
                    out.append(mutations.make(
                        MutationKind.CONTACT_UPSERT, customer_id, point.id,
                        {"set": doc, "base": was}, t.revision_of(tables, "contact", point.id),
                    ))
            for gone_id, was in before.items():
                out.append(mutations.make(
                    MutationKind.CONTACT_DELETE, customer_id, gone_id, {"base": was},
                    t.revision_of(tables, "contact", gone_id),
                ))
            return out

        return _profile_from_tables(self._edit(customer_id, build))


def _docs(tables: dict[str, Any], name: str) -> list[dict[str, Any]]:
    table = tables.get(name) or {}
    return [table[k] for k in sorted(table, key=int)]


def _profile_doc(tables: dict[str, Any]) -> dict[str, Any]:
    customers = _docs(tables, "customer")
    if not customers:
        raise CacheError("A profile file without its customer record: the cache is damaged.")
    extra = _docs(tables, "extra")
    return {
        **(extra[0] if extra else {}),
        "customer": customers[0],
        **{name: _docs(tables, name) for name in _PROFILE_TABLES},
    }


def _profile_from_tables(tables: dict[str, Any]) -> Profile:
    from agentdesk.model.records import Profile, from_stored

    return from_stored(Profile, _profile_doc(tables))


_PROFILE_TABLES = ("contacts", "relationships", "notes", "conversations")


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(data)


def _profile_to_dict(tables: dict[str, dict[str, Any]], profile: Profile) -> None:
    tables["customer"] = {"1": profile.customer.model_dump(mode="json")}
    if profile.model_extra:  # kinds of profile data this version does not know: keep them
        tables["extra"] = {"1": _json_safe(profile.model_extra)}
    for name in _PROFILE_TABLES:
        items = getattr(profile, name)
        tables[name] = {str(i + 1): item.model_dump(mode="json") for i, item in enumerate(items)}


def _profile_to_tables(db: TinyDB, profile: Profile) -> None:
    db.table("customer").insert(profile.customer.model_dump(mode="json"))
    if profile.model_extra:
        db.table("extra").insert(_json_safe(profile.model_extra))
    for name in _PROFILE_TABLES:
        db.table(name).insert_multiple(item.model_dump(mode="json") for item in getattr(profile, name))
