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

from pydantic import ValidationError

from agentdesk.model.digest import digest as records_digest
from agentdesk.model.protocol import ChangeOp, Mutation, MutationResult, RecordType, SearchHit
from agentdesk.model.records import Profile, TimelineEntry
from agentdesk.server.load_order import BulkLoad
from agentdesk.server.mutation_rules import Rejected, decide, rejected, target
from agentdesk.server.search_index import SEARCHED, query, search_row
from agentdesk.server.store import MODELS, Agent, CursorGone, FeedRows, NotFound, StoreError
from agentdesk.server.stored import (
    Record,
    dump,
    reason,
    storable_problem,
    token_hash,
    tombstone_body,
)

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


def _record(row: tuple[Any, ...]) -> Record:
    """A `records` row (as selected by RECORD), parsed."""
    type, id, customer_id, data, revision, deleted, op = row
    return Record(type, id, customer_id, json.loads(data) if data else {}, revision, bool(deleted), op)


class SqliteStore:
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
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('epoch', ?)", (secrets.token_hex(8),))
            db.execute("INSERT OR IGNORE INTO meta VALUES ('head', '0')")
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
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            start = self._seq
            self._w.execute("BEGIN IMMEDIATE")
            try:
                yield self._w
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

    def _get(self, db: sqlite3.Connection, type: str, id: str) -> Record | None:
        row = db.execute(f"{RECORD} WHERE type = ? AND id = ?", (type, id)).fetchone()
        return _record(row) if row else None

    def _put(self, db: sqlite3.Connection, type: str, id: str, customer_id: str, data: str) -> int:
        seq = self._next()
        db.execute(PUT, (type, id, customer_id, data, seq, seq, ChangeOp.UPSERT.value, 0))
        return seq

    def _tombstone(self, db: sqlite3.Connection, rec: Record, op: str = ChangeOp.DELETE.value,
                   data: dict[str, Any] | None = None) -> int:
        """Mark a record deleted, keeping only its `tombstone_body`."""
        data = tombstone_body(rec, data)
        seq = self._next()
        db.execute(PUT, (rec.type, rec.id, rec.customer_id,
                         json.dumps(data) if data is not None else None, seq, seq, op, 1))
        return seq

    def _resolve(self, db: sqlite3.Connection, customer_id: str) -> str:
        """Follow merges: the customer a (possibly merged) id now lives in."""
        for _ in range(1000):
            row = db.execute("SELECT into_id FROM merges WHERE from_id = ?", (customer_id,)).fetchone()
            if not row:
                return customer_id
            customer_id = row[0]
        raise StoreError("merge chain too long")

    def _customer(self, db: sqlite3.Connection, customer_id: str) -> Record | None:
        rec = self._get(db, RecordType.CUSTOMER, customer_id)
        return rec if rec and rec.live else None

    def _refresh_search(self, db: sqlite3.Connection, customer_id: str) -> None:
        """Rebuild a customer's search row from its customer and contact records."""
        customer = self._customer(db, customer_id)
        if customer is None:
            db.execute("DELETE FROM search WHERE customer_id = ?", (customer_id,))
            return
        contacts = [json.loads(d) for (d,) in db.execute(
            "SELECT data FROM records WHERE customer_id = ? AND type = 'contact' AND deleted = 0 "
            "ORDER BY seq", (customer_id,))]
        db.execute(INSERT_SEARCH, search_row(customer.data, contacts))

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

    def profile(self, customer_id: str, agent: Agent) -> list[tuple[int, str, str, str, str, int, str]]:
        def read(db: sqlite3.Connection) -> list[tuple[int, str, str, str, str, int, str]]:
            rec = self._get(db, RecordType.CUSTOMER, customer_id)
            if rec is None or rec.deleted:
                target = self._resolve(db, customer_id) if rec and rec.op == ChangeOp.MERGE else ""
                if target and self._customer(db, target):
                    raise NotFound(f"customer {customer_id} was merged into {target}",
                                   merged_into=target)
                raise NotFound(f"customer {customer_id} does not exist")
            if agent.scoped:
                self._scope(db, agent.name, customer_id, True)
            return db.execute(
                "SELECT seq, 'upsert', type, id, customer_id, revision, data FROM records "
                "WHERE customer_id = ? AND deleted = 0 ORDER BY type != 'customer', seq",
                (customer_id,)).fetchall()

        if agent.scoped:
            with self._write() as db:
                return read(db)
        with self._read() as db:
            return read(db)

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
    def upsert(self, type: RecordType | str, record: dict[str, Any], customer_id: str) -> int:
        type = RecordType(type)
        try:
            model = MODELS[type].model_validate(record)
        except ValidationError as error:
            raise StoreError(reason(error)) from None
        if (why := storable_problem(model)) is not None:
            raise StoreError(why)
        rid = str(getattr(model, "id"))
        with self._write() as db:
            if type == RecordType.CUSTOMER:
                if customer_id != rid:
                    raise StoreError("a customer's customer_id is its own id")
                merged = db.execute("SELECT 1 FROM merges WHERE from_id = ?", (rid,)).fetchone()
                if merged:
                    raise StoreError(f"customer {rid} was merged; write to the customer it lives in")
            else:
                customer_id = self._resolve(db, customer_id)
                if self._customer(db, customer_id) is None:
                    raise NotFound(f"customer {customer_id} does not exist")
            seq = self._put(db, type, rid, customer_id, dump(model))
            if type in SEARCHED:
                self._refresh_search(db, customer_id)
            return seq

    def delete(self, type: RecordType | str, id: str) -> int | None:
        type = RecordType(type)
        if type == RecordType.CUSTOMER:
            self.erase_customer(id)
            return self.head()
        with self._write() as db:
            rec = self._get(db, type, id)
            if rec is None or rec.deleted:
                return None
            seq = self._tombstone(db, rec)
            if type == RecordType.CONTACT:
                self._refresh_search(db, rec.customer_id)
            return seq

    def erase_customer(self, customer_id: str) -> None:
        with self._write() as db:
            customer_id = self._resolve(db, customer_id)
            rec = self._customer(db, customer_id)
            if rec is None:
                raise NotFound(f"customer {customer_id} does not exist")
            db.execute("DELETE FROM records WHERE customer_id = ? AND type != 'customer'", (customer_id,))
            for row in db.execute(
                    f"{RECORD} WHERE type = 'relationship' AND deleted = 0 "
                    "AND json_extract(data, '$.customer_id') = ?", (customer_id,)).fetchall():
                self._tombstone(db, _record(row))  # links from others held the erased name
            self._tombstone(db, rec)
            db.execute("DELETE FROM search WHERE customer_id = ?", (customer_id,))
            db.execute("DELETE FROM mutations WHERE customer_id = ?", (customer_id,))
        # Push the erased pages out of the WAL too (best effort: readers may hold it).
        with self._lock:
            self._w.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def merge_customers(self, from_id: str, into_id: str) -> None:
        with self._write() as db:
            into_id = self._resolve(db, into_id)
            source, target = self._customer(db, from_id), self._customer(db, into_id)
            if source is None or target is None:
                raise NotFound(f"customer {from_id if source is None else into_id} does not exist")
            if from_id == into_id:
                raise StoreError("a customer cannot be merged into itself")
            rows = db.execute(
                f"{RECORD} WHERE customer_id = ? AND deleted = 0 AND type != 'customer' ORDER BY seq",
                (from_id,)).fetchall()
            for rec in map(_record, rows):
                if rec.type == RecordType.RELATIONSHIP and rec.data.get("customer_id") in (from_id, into_id):
                    self._tombstone(db, rec)  # would link the customer to itself
                    continue
                text = db.execute("SELECT data FROM records WHERE type = ? AND id = ?",
                                  (rec.type, rec.id)).fetchone()[0]
                self._put(db, rec.type, rec.id, into_id, text)
            for row in db.execute(
                    f"{RECORD} WHERE type = 'relationship' AND deleted = 0 "
                    "AND json_extract(data, '$.customer_id') = ?", (from_id,)).fetchall():
                rec = _record(row)
                if rec.customer_id == into_id:
                    self._tombstone(db, rec)
                    continue
                data = {**rec.data, "customer_id": into_id, "name": target.data["name"]}
                self._put(db, rec.type, rec.id, rec.customer_id,
                          dump(MODELS[RecordType.RELATIONSHIP].model_validate(data)))
            # Agents who had the merged customer in scope now need the one it lives in.
            for (agent,) in db.execute(
                    "SELECT agent FROM scope WHERE customer_id = ? AND active = 1", (from_id,)).fetchall():
                self._scope(db, agent, into_id, True)
            db.execute("INSERT OR REPLACE INTO merges VALUES (?, ?)", (from_id, into_id))
            db.execute("UPDATE merges SET into_id = ? WHERE into_id = ?", (into_id, from_id))
            self._tombstone(db, source, op=ChangeOp.MERGE.value, data={"into": into_id})
            self._refresh_search(db, from_id)
            self._refresh_search(db, into_id)

    def _scope(self, db: sqlite3.Connection, agent: str, customer_id: str, active: bool) -> None:
        row = db.execute("SELECT active FROM scope WHERE agent = ? AND customer_id = ?",
                         (agent, customer_id)).fetchone()
        if row is not None and bool(row[0]) == active:
            return
        if row is None and not active:
            return
        db.execute("INSERT OR REPLACE INTO scope VALUES (?, ?, ?, ?)",
                   (agent, customer_id, int(active), self._next()))

    def set_scope(self, agent: str, customer_ids: Iterable[str]) -> None:
        with self._write() as db:
            wanted = {self._resolve(db, c) for c in customer_ids}
            wanted = {c for c in wanted if self._customer(db, c)}
            current = {c for (c,) in db.execute(
                "SELECT customer_id FROM scope WHERE agent = ? AND active = 1", (agent,))}
            for c in sorted(current - wanted):
                self._scope(db, agent, c, False)
            for c in sorted(wanted - current):
                self._scope(db, agent, c, True)

    def bulk_load(self, items: Iterable[tuple[Profile, list[TimelineEntry]]]) -> int:
        """One transaction, executemany, in the order of `load_order` (seqs as they come)."""
        load = BulkLoad(items)

        def rows() -> Iterator[tuple[Any, ...]]:
            up = ChangeOp.UPSERT.value
            for type, id, customer_id, model in load.records():
                seq = self._next()
                yield (type, id, customer_id, dump(model), seq, seq, up, 0)

        with self._write() as db:
            for row in db.execute("SELECT id, json_extract(data, '$.name') FROM records "
                                  "WHERE type = 'customer' AND deleted = 0").fetchall():
                load.names[row[0]] = row[1]
            db.executemany(PUT, rows())
            db.executemany(INSERT_SEARCH, load.search_rows)
        return load.count

    def reset_epoch(self) -> str:
        """A new identity, after restoring a backup: every desk's cursor becomes void (410)."""
        with self._write() as db:
            epoch = secrets.token_hex(8)
            db.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (epoch,))
            return epoch

    # --- mutations -----------------------------------------------------------------------
    def apply(self, mutations: Sequence[Mutation], agent: Agent) -> list[MutationResult]:
        """Each mutation as `mutation_rules.decide` says, its result stored by mutation id."""
        results: list[MutationResult] = []
        with self._write() as db:
            for m in mutations:
                stored = db.execute("SELECT result FROM mutations WHERE id = ?", (m.id,)).fetchone()
                if stored:
                    results.append(MutationResult.model_validate_json(stored[0]))
                    continue
                customer_id = self._resolve(db, m.customer_id)
                try:
                    if self._customer(db, customer_id) is None:
                        raise Rejected(f"customer {m.customer_id} no longer exists")
                    result = self._apply(db, m, customer_id)
                except Rejected as error:
                    result = rejected(m, error)
                db.execute("INSERT INTO mutations VALUES (?, ?, ?, ?)",
                           (m.id, customer_id, agent.name, result.model_dump_json()))
                results.append(result)
        return results

    def _apply(self, db: sqlite3.Connection, m: Mutation, customer_id: str) -> MutationResult:
        """Write what the rules decided; the write's seq is the revision the desk is told."""
        type, id = target(m, customer_id)
        rec = self._get(db, type, id)
        decision = decide(m, customer_id, rec)
        written = None
        if decision.write is not None:
            written = self._put(db, type, id, customer_id, dump(decision.write))
        elif decision.delete and rec is not None:
            written = self._tombstone(db, rec)
        if written is not None and type in SEARCHED:
            self._refresh_search(db, customer_id)
        return decision.result(m, written)

    # --- tokens --------------------------------------------------------------------------
    def add_token(self, token: str, agent: str, scoped: bool = False) -> None:
        if len(token) < 16:
            raise StoreError("a token needs at least 16 characters")
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, 0)",
                       (token_hash(token), agent, int(scoped)))

    def check_token(self, token: str) -> Agent | None:
        with self._read() as db:
            row = db.execute("SELECT agent, scoped, revoked FROM tokens WHERE hash = ?",
                             (token_hash(token),)).fetchone()
        return Agent(row[0], bool(row[1]), bool(row[2])) if row else None

    def revoke_token(self, token: str) -> bool:
        with self._write() as db:
            return db.execute("UPDATE tokens SET revoked = 1 WHERE hash = ?",
                              (token_hash(token),)).rowcount > 0

    def has_tokens(self) -> bool:
        with self._read() as db:
            return db.execute("SELECT 1 FROM tokens LIMIT 1").fetchone() is not None

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()
            self._all.clear()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

