"""The SQLite implementation of `Store`: one file, WAL, one writer at a time, readers in parallel.

Each record is one row holding the latest state of the record (its domain model as JSON text,
exactly as served), the seq of its last write and whether it is a tombstone, so the change feed
is a compacted log: `WHERE seq > cursor ORDER BY seq`. Every write takes the next seq from one
counter (under the writer lock, inside the transaction), and a record's revision is that seq.

Only the SQL is here; what is not (how a mutation changes a record, what a search row holds,
the stored forms, the order of a bulk load) lives in modules every engine shares.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentdesk.model.digest import digest as records_digest
from agentdesk.model.protocol import ChangeOp, Mutation, MutationResult, SearchHit
from agentdesk.model.records import Profile, TimelineEntry
from agentdesk.server.admin_writes import AdminWrites
from agentdesk.server.directory import Directory
from agentdesk.server.load_order import BulkLoad
from agentdesk.server.search_index import SearchRow, query
from agentdesk.server.store import Agent, CursorGone, FeedRows, StoreError
from agentdesk.server.stored import Record, dump, token_hash
from agentdesk.server.transaction import ProfileRows, Transaction, parse

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    type TEXT NOT NULL, id TEXT NOT NULL, customer_id TEXT NOT NULL,
    data TEXT, revision INTEGER NOT NULL, seq INTEGER NOT NULL UNIQUE,
    op TEXT NOT NULL DEFAULT 'upsert', deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (type, id)
);
CREATE INDEX IF NOT EXISTS records_customer ON records (customer_id, seq);
CREATE TABLE IF NOT EXISTS search (
    customer_id TEXT PRIMARY KEY, name TEXT NOT NULL, company TEXT NOT NULL,
    email TEXT NOT NULL, phone TEXT NOT NULL, hay TEXT NOT NULL, digits TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mutations (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, agent TEXT NOT NULL, result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mutations_customer ON mutations (customer_id);
CREATE TABLE IF NOT EXISTS merges (from_id TEXT PRIMARY KEY, into_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scope (
    agent TEXT NOT NULL, customer_id TEXT NOT NULL, active INTEGER NOT NULL,
    seq INTEGER NOT NULL UNIQUE, PRIMARY KEY (agent, customer_id)
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY, agent TEXT NOT NULL, scoped INTEGER NOT NULL, revoked INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS directory (
    kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id)
);
"""

PUT = """
INSERT INTO records (type, id, customer_id, data, revision, seq, op, deleted)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (type, id) DO UPDATE SET customer_id = excluded.customer_id, data = excluded.data,
    revision = excluded.revision, seq = excluded.seq, op = excluded.op, deleted = excluded.deleted
"""

FEED = "SELECT seq, op, type, id, customer_id, revision, data FROM records WHERE seq > ? ORDER BY seq LIMIT ?"
SCOPED_FEED = """
SELECT seq, op, type, id, customer_id, revision, data FROM records
 WHERE seq > :after
   AND customer_id IN (SELECT customer_id FROM scope WHERE agent = :agent AND active = 1)
UNION ALL
SELECT seq, CASE active WHEN 1 THEN 'include' ELSE 'evict' END, 'customer', customer_id,
       customer_id, seq, NULL
  FROM scope WHERE agent = :agent AND seq > :after
ORDER BY 1 LIMIT :limit
"""

RECORD = "SELECT type, id, customer_id, data, revision, deleted, op FROM records"
INSERT_SEARCH = "INSERT OR REPLACE INTO search VALUES (?, ?, ?, ?, ?, ?, ?)"


class SqliteTransaction(Transaction):
    """The row operations in SQLite's SQL, on the store's one writer connection (or a reader's,
    for reads); seqs come from the store's counter, which only the writer moves."""

    def __init__(self, store: SqliteStore, db: sqlite3.Connection) -> None:
        self.store, self.db = store, db

    def get(self, type: str, id: str) -> Record | None:
        row = self.db.execute(f"{RECORD} WHERE type = ? AND id = ?", (type, id)).fetchone()
        return parse(row) if row else None

    def text(self, type: str, id: str) -> str:
        return self.db.execute("SELECT data FROM records WHERE type = ? AND id = ?",
                               (type, id)).fetchone()[0]

    def write_row(self, type: str, id: str, customer_id: str, data: str | None, op: str,
                  deleted: bool) -> int:
        seq = self.store._next()
        self.db.execute(PUT, (type, id, customer_id, data, seq, seq, op, int(deleted)))
        return seq

    def merged_into(self, customer_id: str) -> str | None:
        row = self.db.execute("SELECT into_id FROM merges WHERE from_id = ?", (customer_id,)).fetchone()
        return row[0] if row else None

    def records_of(self, customer_id: str) -> list[Record]:
        return [parse(r) for r in self.db.execute(
            f"{RECORD} WHERE customer_id = ? AND deleted = 0 AND type != 'customer' ORDER BY seq",
            (customer_id,))]

    def links_to(self, customer_id: str) -> list[Record]:
        return [parse(r) for r in self.db.execute(
            f"{RECORD} WHERE type = 'relationship' AND deleted = 0 "
            "AND json_extract(data, '$.customer_id') = ? ORDER BY seq", (customer_id,))]

    def live_contacts(self, customer_id: str) -> list[dict[str, Any]]:
        return [json.loads(d) for (d,) in self.db.execute(
            "SELECT data FROM records WHERE customer_id = ? AND type = 'contact' AND deleted = 0 "
            "ORDER BY seq", (customer_id,))]

    def customers_with_email(self, email: str) -> list[str]:
        return [c for (c,) in self.db.execute(
            "SELECT DISTINCT customer_id FROM records WHERE deleted = 0 "
            "AND type IN ('contact', 'identifier') AND json_extract(data, '$.kind') = 'email' "
            "AND lower(json_extract(data, '$.value')) = ? ORDER BY customer_id", (email.lower(),))]

    def forget(self, customer_id: str) -> None:
        self.db.execute("DELETE FROM records WHERE customer_id = ? AND type != 'customer'", (customer_id,))
        self.db.execute("DELETE FROM search WHERE customer_id = ?", (customer_id,))
        self.db.execute("DELETE FROM mutations WHERE customer_id = ?", (customer_id,))

    def add_merge(self, from_id: str, into_id: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO merges VALUES (?, ?)", (from_id, into_id))
        self.db.execute("UPDATE merges SET into_id = ? WHERE into_id = ?", (into_id, from_id))

    def put_search(self, row: SearchRow) -> None:
        self.db.execute(INSERT_SEARCH, row)

    def drop_search(self, customer_id: str) -> None:
        self.db.execute("DELETE FROM search WHERE customer_id = ?", (customer_id,))

    def scope_state(self, agent: str, customer_id: str) -> bool | None:
        row = self.db.execute("SELECT active FROM scope WHERE agent = ? AND customer_id = ?",
                              (agent, customer_id)).fetchone()
        return None if row is None else bool(row[0])

    def write_scope(self, agent: str, customer_id: str, active: bool) -> None:
        self.db.execute("INSERT OR REPLACE INTO scope VALUES (?, ?, ?, ?)",
                        (agent, customer_id, int(active), self.store._next()))

    def scope_of(self, agent: str) -> set[str]:
        return {c for (c,) in self.db.execute(
            "SELECT customer_id FROM scope WHERE agent = ? AND active = 1", (agent,))}

    def agents_scoping(self, customer_id: str) -> list[str]:
        return [a for (a,) in self.db.execute(
            "SELECT agent FROM scope WHERE customer_id = ? AND active = 1 ORDER BY agent", (customer_id,))]

    def stored_result(self, mutation_id: str) -> str | None:
        row = self.db.execute("SELECT result FROM mutations WHERE id = ?", (mutation_id,)).fetchone()
        return row[0] if row else None

    def store_result(self, mutation_id: str, customer_id: str, agent: str, result: str) -> None:
        self.db.execute("INSERT INTO mutations VALUES (?, ?, ?, ?)", (mutation_id, customer_id, agent, result))

    def profile_rows(self, customer_id: str) -> ProfileRows:
        return self.db.execute(
            "SELECT seq, 'upsert', type, id, customer_id, revision, data FROM records "
            "WHERE customer_id = ? AND deleted = 0 ORDER BY type != 'customer', seq",
            (customer_id,)).fetchall()

    def known_agent(self, name: str) -> bool:
        return self.db.execute(
            "SELECT 1 FROM directory WHERE kind = 'agent' AND id = ? "
            "UNION ALL SELECT 1 FROM tokens WHERE agent = ? AND revoked = 0 LIMIT 1",
            (name, name)).fetchone() is not None


class SqliteStore(AdminWrites, Directory):
    """`Store` over one SQLite file. Thread-safe: writes serialize on a lock, reads use a pool."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._lock = threading.RLock()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._w = self._connect()
        self._w.execute("PRAGMA journal_mode=WAL")
        # Erased data is overwritten, not just unlinked from the b-tree.
        self._w.execute("PRAGMA secure_delete=ON")
        self._w.executescript(SCHEMA)
        self._seq = 0
        with self._write() as tx:
            tx.db.execute("INSERT OR IGNORE INTO meta VALUES ('epoch', ?)", (secrets.token_hex(8),))
            tx.db.execute("INSERT OR IGNORE INTO meta VALUES ('head', '0')")
        self._seq = int(self._meta(self._w, "head"))
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{self.path}{suffix}")
            if p.exists():
                p.chmod(0o600)

    # --- plumbing ------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        db.execute("PRAGMA synchronous=FULL")  # an acknowledged mutation survives power loss
        self._all.append(db)
        return db

    @contextmanager
    def _write(self) -> Iterator[SqliteTransaction]:
        with self._lock:
            start = self._seq
            self._w.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(self, self._w)
                if self._seq != start:
                    self._w.execute("UPDATE meta SET value = ? WHERE key = 'head'", (str(self._seq),))
                self._w.execute("COMMIT")
            except BaseException:
                self._w.execute("ROLLBACK")
                self._seq = start
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            db = self._readers.get_nowait()
        except queue.Empty:
            db = self._connect()
        db.execute("BEGIN")  # one snapshot for everything read below
        try:
            yield db
        finally:
            db.execute("COMMIT")
            self._readers.put(db)

    @staticmethod
    def _meta(db: sqlite3.Connection, key: str) -> str:
        return db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # --- reading -------------------------------------------------------------------------
    def epoch(self) -> str:
        with self._read() as db:
            return self._meta(db, "epoch")

    def head(self) -> int:
        with self._read() as db:
            return int(self._meta(db, "head"))

    def status(self) -> tuple[str, int]:
        with self._read() as db:
            return self._meta(db, "epoch"), int(self._meta(db, "head"))

    def is_empty(self) -> bool:
        with self._read() as db:
            return db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None

    def changes(self, after_seq: int, limit: int, agent: Agent, epoch: str | None = None) -> FeedRows:
        """The feed after `after_seq`. With `epoch`, raises CursorGone if it is not ours or the
        cursor is past our head, checked in the same snapshot the page is read from."""
        with self._read() as db:
            ours, head = self._meta(db, "epoch"), int(self._meta(db, "head"))
            if (epoch is not None and epoch != ours) or after_seq > head or after_seq < 0:
                raise CursorGone("cursor is not valid for this store; start over without one",
                                 epoch=ours)
            if agent.scoped:
                rows = db.execute(SCOPED_FEED, {"after": after_seq, "agent": agent.name,
                                                "limit": limit + 1}).fetchall()
            else:
                rows = db.execute(FEED, (after_seq, limit + 1)).fetchall()
        return FeedRows(epoch=ours, rows=rows[:limit], after=after_seq, more=len(rows) > limit)

    def profile(self, customer_id: str, agent: Agent) -> ProfileRows:
        if agent.scoped:
            with self._write() as tx:
                return tx.profile(customer_id, agent)
        with self._read() as db:
            return SqliteTransaction(self, db).profile(customer_id, agent)

    def search(self, q: str, limit: int) -> list[SearchHit]:
        terms = query(q)
        if terms is None:
            return []
        with self._read() as db:
            rows = db.execute(
                "SELECT customer_id, name, email, phone, company FROM search "
                "WHERE instr(hay, :q) > 0 OR (:d != '' AND instr(digits, :d) > 0) "
                "ORDER BY instr(lower(name), :q) != 1, name, customer_id LIMIT :limit",
                {"q": terms.text, "d": terms.digits, "limit": limit}).fetchall()
        return [SearchHit(id=r[0], name=r[1], email=r[2], phone=r[3], company=r[4]) for r in rows]

    def digest(self) -> str:
        with self._read() as db:
            rows = db.execute("SELECT type, id, customer_id, data FROM records WHERE deleted = 0")
            return records_digest((t, i, c, json.loads(d)) for t, i, c, d in rows)

    # --- admin writes --------------------------------------------------------------------
    def erase_customer(self, customer_id: str) -> None:
        with self._write() as tx:
            tx.erase(customer_id)
        # Push the erased pages out of the WAL too (best effort: readers may hold it).
        with self._lock:
            self._w.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def bulk_load(self, items: Iterable[tuple[Profile, list[TimelineEntry]]]) -> int:
        """One transaction, executemany, in the order of `load_order` (seqs as they come)."""
        load = BulkLoad(items)

        def rows() -> Iterator[tuple[Any, ...]]:
            up = ChangeOp.UPSERT.value
            for type, id, customer_id, model in load.records():
                seq = self._next()
                yield (type, id, customer_id, dump(model), seq, seq, up, 0)

        with self._write() as tx:
            db = tx.db
            for row in db.execute("SELECT id, json_extract(data, '$.name') FROM records "
                                  "WHERE type = 'customer' AND deleted = 0").fetchall():
                load.names[row[0]] = row[1]
            db.executemany(PUT, rows())
            db.executemany(INSERT_SEARCH, load.search_rows)
        return load.count

    def reset_epoch(self) -> str:
        """A new identity, after restoring a backup: every desk's cursor becomes void (410)."""
        with self._write() as tx:
            epoch = secrets.token_hex(8)
            tx.db.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (epoch,))
            return epoch

    # --- mutations -----------------------------------------------------------------------
    def apply(self, mutations: Sequence[Mutation], agent: Agent) -> list[MutationResult]:
        with self._write() as tx:
            return tx.apply(mutations, agent)

    # --- tokens --------------------------------------------------------------------------
    def add_token(self, token: str, agent: str, scoped: bool = False) -> None:
        if len(token) < 16:
            raise StoreError("a token needs at least 16 characters")
        with self._write() as tx:
            tx.db.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, 0)",
                       (token_hash(token), agent, int(scoped)))

    def check_token(self, token: str) -> Agent | None:
        with self._read() as db:
            row = db.execute("SELECT agent, scoped, revoked FROM tokens WHERE hash = ?",
                             (token_hash(token),)).fetchone()
        return Agent(row[0], bool(row[1]), bool(row[2])) if row else None

    def revoke_token(self, token: str) -> bool:
        with self._write() as tx:
            return tx.db.execute("UPDATE tokens SET revoked = 1 WHERE hash = ?",
                              (token_hash(token),)).rowcount > 0

    def has_tokens(self) -> bool:
        with self._read() as db:
            return db.execute("SELECT 1 FROM tokens LIMIT 1").fetchone() is not None

    # --- canned replies and agents (see `directory`) ----------------------------------------
    def _directory_rows(self, kind: str) -> list[str]:
        with self._read() as db:
            return [d for (d,) in db.execute("SELECT data FROM directory WHERE kind = ?", (kind,))]

    def _write_directory(self, kind: str, id: str, data: str | None) -> bool:
        with self._write() as tx:
            if data is None:
                return tx.db.execute("DELETE FROM directory WHERE kind = ? AND id = ?",
                                     (kind, id)).rowcount > 0
            tx.db.execute("INSERT OR REPLACE INTO directory VALUES (?, ?, ?)", (kind, id, data))
            return True

    def _token_agents(self) -> list[str]:
        with self._read() as db:
            return [a for (a,) in db.execute(
                "SELECT DISTINCT agent FROM tokens WHERE revoked = 0 ORDER BY agent")]

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()

    def __enter__(self) -> SqliteStore:
        return self

