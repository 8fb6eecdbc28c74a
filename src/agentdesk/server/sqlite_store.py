"""The SQLite implementation of `Store`: one file, WAL, one writer at a time, readers in parallel.

Each record is one row holding the latest state of the record (its domain model as JSON text,
exactly as served), the seq of its last write and whether it is a tombstone, so the change feed
is a compacted log: `WHERE seq > cursor ORDER BY seq`. Every write takes the next seq from one
counter (under the writer lock, inside the transaction), and a record's revision is that seq.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agentdesk.model.digest import digest as records_digest
from agentdesk.model.records import ContactPoint, Customer, Note, Profile, TimelineEntry, utcnow
from agentdesk.model.protocol import (
    ChangeOp,
    Mutation,
    MutationKind,
    MutationResult,
    MutationStatus,
    RecordType,
    SearchHit,
)
from agentdesk.server.store import MODELS, Agent, CursorGone, FeedRows, NotFound, StoreError

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

CUSTOMER_FIELDS = ("name", "company", "status", "tags", "source")
CONTACT_FIELDS = ("kind", "value", "label", "primary")
PHONEISH = re.compile(r"^[+0-9 ()\-./]+$")
MISSING = object()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def dump(model: BaseModel) -> str:
    """The stored (and served) form of a record: its domain model dumped as JSON."""
    return model.model_dump_json()


def reason(error: ValidationError) -> str:
    """A validation error as one readable line (the validator's own message, no input echo)."""
    parts = []
    for e in error.errors():
        message = str(e["ctx"]["error"]) if e["type"] == "value_error" and "ctx" in e else e["msg"]
        where = ".".join(str(p) for p in e["loc"])
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


class Rejected(Exception):
    """Inside a mutation handler: nothing is written, the result is `rejected` with this reason."""


def _stamp(made_at: str) -> datetime:
    """When an edit was made: the desk's clock if it sent a usable one, else ours."""
    try:
        when = datetime.fromisoformat(made_at)
    except ValueError:
        return utcnow()
    return when if when.tzinfo else utcnow()


class Record:
    """One stored row, parsed."""

    __slots__ = ("type", "id", "customer_id", "data", "revision", "deleted", "op")

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.type, self.id, self.customer_id, data, self.revision, deleted, self.op = row
        self.data: dict[str, Any] = json.loads(data) if data else {}
        self.deleted = bool(deleted)

    @property
    def live(self) -> bool:
        return not self.deleted


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
        row = db.execute(
            "SELECT type, id, customer_id, data, revision, deleted, op FROM records "
            "WHERE type = ? AND id = ?", (type, id)).fetchone()
        return Record(row) if row else None

    def _put(self, db: sqlite3.Connection, type: str, id: str, customer_id: str, data: str) -> int:
        seq = self._next()
        db.execute(PUT, (type, id, customer_id, data, seq, seq, ChangeOp.UPSERT.value, 0))
        return seq

    def _tombstone(self, db: sqlite3.Connection, rec: Record, op: str = ChangeOp.DELETE.value,
                   data: dict[str, Any] | None = None) -> int:
        """Mark a record deleted. No personal data stays: entries keep only `at` (the desk
        files entries by time), merged customers only `into`, everything else nothing."""
        if data is None and rec.type == RecordType.ENTRY and "at" in rec.data:
            data = {"at": rec.data["at"]}
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
        db.execute("INSERT OR REPLACE INTO search VALUES (?, ?, ?, ?, ?, ?, ?)",
                   self._search_row(customer.data, contacts))

    @staticmethod
    def _search_row(customer: dict[str, Any], contacts: list[dict[str, Any]]) -> tuple[str, ...]:
        def primary(kind: str) -> str:
            points = [c for c in contacts if c.get("kind") == kind]
            best = next((c for c in points if c.get("primary")), points[0] if points else None)
            return str(best["value"]) if best else ""

        emails = [str(c["value"]) for c in contacts if c.get("kind") == "email"]
        phones = ["".join(ch for ch in str(c["value"]) if ch.isdigit())
                  for c in contacts if c.get("kind") == "phone"]
        hay = "\n".join([customer["name"], customer.get("company", ""), *emails, customer["id"]]).lower()
        return (customer["id"], customer["name"], customer.get("company", ""), primary("email"),
                primary("phone"), hay, "\n".join(phones))

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
        q = q.strip()
        if not q:
            return []
        digits = "".join(ch for ch in q if ch.isdigit())
        use_digits = bool(PHONEISH.match(q)) and len(digits) >= 3
        with self._read() as db:
            rows = db.execute(
                "SELECT customer_id, name, email, phone, company FROM search "
                "WHERE instr(hay, :q) > 0 OR (:d != '' AND instr(digits, :d) > 0) "
                "ORDER BY instr(lower(name), :q) != 1, name, customer_id LIMIT :limit",
                {"q": q.lower(), "d": digits if use_digits else "", "limit": limit}).fetchall()
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
            if type in (RecordType.CUSTOMER, RecordType.CONTACT):
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
                    "SELECT type, id, customer_id, data, revision, deleted, op FROM records "
                    "WHERE type = 'relationship' AND deleted = 0 "
                    "AND json_extract(data, '$.customer_id') = ?", (customer_id,)).fetchall():
                self._tombstone(db, Record(row))  # links from others held the erased name
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
                "SELECT type, id, customer_id, data, revision, deleted, op FROM records "
                "WHERE customer_id = ? AND deleted = 0 AND type != 'customer' ORDER BY seq",
                (from_id,)).fetchall()
            for rec in map(Record, rows):
                if rec.type == RecordType.RELATIONSHIP and rec.data.get("customer_id") in (from_id, into_id):
                    self._tombstone(db, rec)  # would link the customer to itself
                    continue
                text = db.execute("SELECT data FROM records WHERE type = ? AND id = ?",
                                  (rec.type, rec.id)).fetchone()[0]
                self._put(db, rec.type, rec.id, into_id, text)
            for row in db.execute(
                    "SELECT type, id, customer_id, data, revision, deleted, op FROM records "
                    "WHERE type = 'relationship' AND deleted = 0 "
                    "AND json_extract(data, '$.customer_id') = ?", (from_id,)).fetchall():
                rec = Record(row)
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
        """One transaction, executemany, in the order a store's history would have them.

        A relationship is written once both of its customers exist, as it would have been
        made: with its customer when the other one is already there, else right after the
        other one arrives. Its empty `name` is filled with the other customer's (as
        `demo.fill` does for a cache). Feeds are read in this order, so a first sync meets
        each customer's records together instead of revisiting every customer at the end.
        """
        count = 0
        names: dict[str, str] = {}
        waiting: dict[str, list[tuple[str, Any]]] = {}  # other customer -> its relationships
        search_rows: list[tuple[str, ...]] = []
        up, zero = ChangeOp.UPSERT.value, 0

        def link(cid: str, rel: Any) -> tuple[Any, ...]:
            if not rel.name and rel.customer_id in names:
                rel = rel.model_copy(update={"name": names[rel.customer_id]})
            seq = self._next()
            return ("relationship", rel.id, cid, dump(rel), seq, seq, up, zero)

        def rows() -> Iterator[tuple[Any, ...]]:
            nonlocal count
            for profile, entries in items:
                count += 1
                c = profile.customer
                cid = c.id
                names[cid] = c.name
                seq = self._next()
                yield ("customer", cid, cid, dump(c), seq, seq, up, zero)
                for kind, records in (("contact", profile.contacts), ("note", profile.notes),
                                      ("conversation", profile.conversations), ("entry", entries)):
                    for r in records:
                        seq = self._next()
                        yield (kind, r.id, cid, dump(r), seq, seq, up, zero)
                for rel in profile.relationships:
                    if rel.customer_id in names:
                        yield link(cid, rel)
                    else:
                        waiting.setdefault(rel.customer_id, []).append((cid, rel))
                for source, rel in waiting.pop(cid, []):
                    yield link(source, rel)
                search_rows.append(self._search_row(
                    c.model_dump(mode="json"), [p.model_dump(mode="json") for p in profile.contacts]))
            for pending in waiting.values():  # the other customer is not in this load
                for source, rel in pending:
                    yield link(source, rel)

        with self._write() as db:
            for row in db.execute("SELECT id, json_extract(data, '$.name') FROM records "
                                  "WHERE type = 'customer' AND deleted = 0").fetchall():
                names[row[0]] = row[1]
            db.executemany(PUT, rows())
            db.executemany("INSERT OR REPLACE INTO search VALUES (?, ?, ?, ?, ?, ?, ?)", search_rows)
        return count

    def reset_epoch(self) -> str:
        """A new identity, after restoring a backup: every desk's cursor becomes void (410)."""
        with self._write() as db:
            epoch = secrets.token_hex(8)
            db.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (epoch,))
            return epoch

    # --- mutations -----------------------------------------------------------------------
    def apply(self, mutations: Sequence[Mutation], agent: Agent) -> list[MutationResult]:
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
                    result = HANDLERS[m.kind](self, db, m, customer_id)
                except Rejected as error:
                    result = MutationResult(id=m.id, status=MutationStatus.REJECTED, reason=str(error))
                db.execute("INSERT INTO mutations VALUES (?, ?, ?, ?)",
                           (m.id, customer_id, agent.name, result.model_dump_json()))
                results.append(result)
        return results

    def _record_of(self, db: sqlite3.Connection, type: RecordType, m: Mutation,
                   customer_id: str) -> Record | None:
        rec = self._get(db, type, m.target)
        if rec is not None and rec.live and rec.customer_id != customer_id:
            raise Rejected(f"{type.value} {m.target} belongs to another customer")
        return rec

    def _note_add(self, db: sqlite3.Connection, m: Mutation, customer_id: str) -> MutationResult:
        if m.data.get("id", m.target) != m.target:
            raise Rejected("the note's id must equal the mutation's target")
        note = self._validated(Note, {**m.data, "id": m.target})
        rec = self._record_of(db, RecordType.NOTE, m, customer_id)
        if rec is not None:
            if rec.deleted:
                raise Rejected("the note was deleted")
            return _applied(m, rec.revision)  # the same note again: already there
        return _applied(m, self._put(db, RecordType.NOTE, m.target, customer_id, dump(note)))

    def _note_edit(self, db: sqlite3.Connection, m: Mutation, customer_id: str) -> MutationResult:
        set_, base = _parts(m)
        if set(set_) != {"text"} or not isinstance(set_["text"], str):
            raise Rejected("note.edit sets exactly one field: text")
        rec = self._record_of(db, RecordType.NOTE, m, customer_id)
        if rec is None or rec.deleted:
            raise Rejected("the note was deleted")
        new, current = set_["text"], rec.data.get("text")
        if current == new:
            return _applied(m, rec.revision)
        if m.base_revision == rec.revision or base.get("text", MISSING) == current:
            note = self._validated(Note, {**rec.data, "text": new, "updated": _stamp(m.made_at)})
            return _applied(m, self._put(db, RecordType.NOTE, rec.id, customer_id, dump(note)))
        return _conflict(m, rec.revision, rec.data, ["text"])

    def _note_delete(self, db: sqlite3.Connection, m: Mutation, customer_id: str) -> MutationResult:
        rec = self._record_of(db, RecordType.NOTE, m, customer_id)
        if rec is None or rec.deleted:
            return _applied(m, rec.revision if rec else None)
        base = m.data.get("base") or {}
        unconditional = m.base_revision is None and "text" not in base
        if unconditional or m.base_revision == rec.revision or base.get("text", MISSING) == rec.data.get("text"):
            return _applied(m, self._tombstone(db, rec))
        return _conflict(m, rec.revision, rec.data, ["text"])

    def _customer_update(self, db: sqlite3.Connection, m: Mutation, customer_id: str) -> MutationResult:
        set_, base = _parts(m)
        unknown = sorted(set(set_) - set(CUSTOMER_FIELDS))
        if unknown:
            raise Rejected(f"customer.update cannot set: {', '.join(unknown)}")
        rec = self._customer(db, customer_id)
        assert rec is not None
        wanted = self._validated(Customer, {**rec.data, **set_}).model_dump(mode="json")
        if "name" in set_ and not wanted["name"].strip():
            raise Rejected("name: a customer needs a name")
        return self._field_merge(db, m, rec, RecordType.CUSTOMER, Customer, set_, base, wanted,
                                 extra={"updated": _stamp(m.made_at)})

    def _contact_upsert(self, db: sqlite3.Connection, m: Mutation, customer_id: str) -> MutationResult:
        set_, base = m.data.get("set"), m.data.get("base")
        if not isinstance(set_, dict) or not (base is None or isinstance(base, dict)):
            raise Rejected("contact.upsert needs data.set (a contact) and data.base (a contact or null)")
        if set_.get("id", m.target) != m.target:
            raise Rejected("the contact's id must equal the mutation's target")
        wanted = self._validated(ContactPoint, {**set_, "id": m.target}).model_dump(mode="json")
        rec = self._record_of(db, RecordType.CONTACT, m, customer_id)
        if rec is None or rec.deleted:
            if base is not None or rec is not None:
                return _conflict(m, rec.revision if rec else None, None, ["deleted"])
            seq = self._put(db, RecordType.CONTACT, m.target, customer_id,
                            dump(ContactPoint.model_validate(wanted)))
            self._refresh_search(db, customer_id)
            return _applied(m, seq)
        fields = {f: wanted[f] for f in CONTACT_FIELDS if f in set_}
        return self._field_merge(db, m, rec, RecordType.CONTACT, ContactPoint, fields, base, wanted)

    def _contact_delete(self, db: sqlite3.Connection, m: Mutation, customer_id: str) -> MutationResult:
        rec = self._record_of(db, RecordType.CONTACT, m, customer_id)
        if rec is None or rec.deleted:
            return _applied(m, rec.revision if rec else None)
        base = m.data.get("base")
        changed = ([f for f in CONTACT_FIELDS if base.get(f) != rec.data.get(f)]
                   if isinstance(base, dict) else [])
        if (m.base_revision == rec.revision or (isinstance(base, dict) and not changed)
                or (base is None and m.base_revision is None)):
            seq = self._tombstone(db, rec)
            self._refresh_search(db, customer_id)
            return _applied(m, seq)
        return _conflict(m, rec.revision, rec.data, changed or ["revision"])

    def _field_merge(self, db: sqlite3.Connection, m: Mutation, rec: Record, type: RecordType,
                     model: type[BaseModel], set_: dict[str, Any], base: dict[str, Any] | None,
                     wanted: dict[str, Any], extra: dict[str, Any] | None = None) -> MutationResult:
        """Field by field: a field is written when the store still has the value the edit was
        based on (or already has the new one); otherwise the store's value wins (a conflict)."""
        merged, conflicts = dict(rec.data), []
        for field in set_:
            new, current = wanted[field], rec.data.get(field)
            if new == current:
                continue
            based = (base.get(field, MISSING) == current) if base is not None and field in base \
                else m.base_revision == rec.revision
            if based:
                merged[field] = new
            else:
                conflicts.append(field)
        revision, current_data = rec.revision, rec.data
        if merged != rec.data:
            stored = self._validated(model, {**merged, **(extra or {})})
            revision = self._put(db, type, rec.id, rec.customer_id, dump(stored))
            current_data = stored.model_dump(mode="json")
            if type in (RecordType.CUSTOMER, RecordType.CONTACT):
                self._refresh_search(db, rec.customer_id)
        if conflicts:
            return _conflict(m, revision, current_data, conflicts)
        return _applied(m, revision)

    @staticmethod
    def _validated(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
        try:
            return model.model_validate(data)
        except ValidationError as error:
            raise Rejected(reason(error)) from None

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


def _parts(m: Mutation) -> tuple[dict[str, Any], dict[str, Any]]:
    set_, base = m.data.get("set"), m.data.get("base") or {}
    if not isinstance(set_, dict) or not isinstance(base, dict):
        raise Rejected(f"{m.kind.value} needs data.set and data.base objects")
    return set_, base


def _applied(m: Mutation, revision: int | None) -> MutationResult:
    return MutationResult(id=m.id, status=MutationStatus.APPLIED, revision=revision)


def _conflict(m: Mutation, revision: int | None, current: dict[str, Any] | None,
              conflicts: list[str]) -> MutationResult:
    return MutationResult(id=m.id, status=MutationStatus.CONFLICT, revision=revision,
                          current=current, conflicts=conflicts)


HANDLERS = {
    MutationKind.NOTE_ADD: SqliteStore._note_add,
    MutationKind.NOTE_EDIT: SqliteStore._note_edit,
    MutationKind.NOTE_DELETE: SqliteStore._note_delete,
    MutationKind.CUSTOMER_UPDATE: SqliteStore._customer_update,
    MutationKind.CONTACT_UPSERT: SqliteStore._contact_upsert,
    MutationKind.CONTACT_DELETE: SqliteStore._contact_delete,
}
