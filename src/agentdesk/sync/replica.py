"""Applying what the store sends to the cache: feed pages, profile snapshots, push results.

A page is applied customer by customer: each customer's profile file is read once, changed in
memory, the desk's still-pending edits re-applied on top (so the agent keeps seeing them), and
written once; its timeline chunks likewise. Every record is validated first; one that fails is
skipped with a reason and the rest of the page applies. Applying the same page twice changes
nothing (records are keyed by id), which is what makes "save the cursor after the page" safe.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError
from pydantic_core import SchemaValidator

from agentdesk.cache import mutations

from agentdesk.cache import timeline as timeline_files
from agentdesk.cache import tables as t
from agentdesk.cache.cache import Cache, IndexRow
from agentdesk.model.digest import digest as digest_of
from agentdesk.model.records import RECORD_MODELS
from agentdesk.cache.outbox import CONFLICT, REJECTED, OutboxItem
from agentdesk.model.protocol import UNREADABLE, ChangeOp, MutationResult, MutationStatus, RecordType
from agentdesk.cache.files import AtomicJSONStorage, read_json
from agentdesk.cache.timeline import TimelineSummary

log = logging.getLogger("agentdesk.sync")

MODEL_OF = RECORD_MODELS


class BadRecord(ValueError):
    """A record from the store that fails validation: skipped, with this reason."""


def _reason(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(x) for x in first.get("loc", ())) or "record"
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


# Plain strings (equal to the enum members): this runs per record, and an enum member's
# `.value` is a Python-level property.
_OPS = {op.value: op.value for op in ChangeOp}
_TYPES = {t.value: t.value for t in RecordType}
_validators: dict[str, Any] = {}
_UPSERT, _DELETE, _MERGE = ChangeOp.UPSERT.value, ChangeOp.DELETE.value, ChangeOp.MERGE.value
_ENTRY, _CUSTOMER = RecordType.ENTRY.value, RecordType.CUSTOMER.value


def _validator(kind: str) -> Any:
    """The check of a record type's fields (built on first use: the models defer_build)."""
    found = _validators.get(kind)
    if found is None:
        found = _validators[kind] = fields_validator(MODEL_OF[RecordType(kind)])
    return found


def fields_validator(model: type[Any]) -> Any:
    """Validate data against a model's fields without building the model object.

    The replica stores the dicts it receives, not models: making (and dropping) a model object
    for each of a first sync's 300,000 records was half of the validation's cost. A model with
    model-level validators (ContactPoint normalizes its value) is validated whole.
    """
    model.model_rebuild()
    schema = model.__pydantic_core_schema__
    if schema.get("type") == "model" and schema["schema"].get("type") == "model-fields":
        return SchemaValidator(schema["schema"], schema.get("config")).validate_python
    return model.__pydantic_validator__.validate_python


class Rec(NamedTuple):
    """A checked change (protocol.Change's fields, without building a pydantic object). A
    tuple: a first sync's spool writes and reads 300,000 of them (`tuple(rec)`, `Rec._make`)."""

    seq: int
    op: str  # a ChangeOp value
    type: str  # a RecordType value
    id: str
    customer_id: str
    revision: int
    data: dict[str, Any] | None


def _envelope(raw: Any) -> Rec:
    """The change's own fields, checked by hand: this runs 300,000 times in a first sync and
    pydantic would validate the record's data a second time (it is checked against its
    domain model next). The common case is one test; a change failing it is looked at again
    field by field, for the reason."""
    if type(raw) is dict and UNREADABLE not in raw:
        seq, revision, rid, cid = raw.get("seq"), raw.get("revision"), raw.get("id"), raw.get("customer_id")
        op, kind, data = _OPS.get(raw.get("op")), _TYPES.get(raw.get("type")), raw.get("data")
        if (type(seq) is int and type(revision) is int and type(rid) is str and type(cid) is str
                and 0 < len(rid) <= 128 and 0 < len(cid) <= 128 and op is not None
                and kind is not None and (data is None or type(data) is dict)):
            return Rec(seq, op, kind, rid, cid, revision, data)
    return _envelope_checked(raw)


def _envelope_checked(raw: Any) -> Rec:
    if not isinstance(raw, dict):
        raise BadRecord(f"a change that is not an object: {type(raw).__name__}")
    if UNREADABLE in raw:  # see remote._loads
        raise BadRecord(str(raw[UNREADABLE]))
    label = str(raw.get("id", "?"))[:60]
    for name in ("seq", "revision"):
        if type(raw.get(name)) is not int:
            raise BadRecord(f"change {label}: {name}: must be an integer")
    for name in ("id", "customer_id"):
        value = raw.get(name)
        if not isinstance(value, str) or not 1 <= len(value) <= 128:
            raise BadRecord(f"change {label}: {name}: must be a string of 1 to 128 characters")
    op, kind, data = _OPS.get(raw.get("op")), _TYPES.get(raw.get("type")), raw.get("data")
    if op is None:
        raise BadRecord(f"change {label}: op: unknown operation {raw.get('op')!r:.30}")
    if kind is None:
        raise BadRecord(f"change {label}: type: unknown record type {raw.get('type')!r:.30}")
    if data is not None and not isinstance(data, dict):
        raise BadRecord(f"change {label}: data: must be an object")
    return Rec(raw["seq"], op, kind, str(raw["id"]), str(raw["customer_id"]), raw["revision"], data)


def _bad(change: Rec, why: str) -> BadRecord:
    label = f"{change.type} {change.id!s:.60} of customer {change.customer_id!s:.60}"
    return BadRecord(f"{label}: {why}")


def validate(raw: Any) -> Rec:
    """One change from the feed, checked: its envelope, and its record against the model."""
    change = _envelope(raw)
    op, data = change.op, change.data
    if op == _UPSERT:
        if data is None:
            raise _bad(change, "an upsert without data")
        try:
            _validator(change.type)(data)
        except ValidationError as error:
            raise _bad(change, _reason(error)) from None
        if data.get("id") != change.id:
            raise _bad(change, f"data is for id {data.get('id')!r:.60}")
        if change.type == _CUSTOMER and change.id != change.customer_id:
            raise _bad(change, "a customer record filed under another customer")
    elif op == _DELETE and change.type == _ENTRY:
        try:
            timeline_files._time((data or {}).get("at"))
        except (TypeError, ValueError):
            raise _bad(change, "an entry tombstone without its time") from None
    elif op == _MERGE:
        into = (data or {}).get("into")
        if not isinstance(into, str) or not into or into == change.id:
            raise _bad(change, "a merge without a valid target customer")
    return change


def fresh_tables(changes: list[Rec]) -> tuple[t.Tables, list[dict[str, Any]], int] | None:
    """The tables of a customer the cache does not hold, built straight from its changes when
    they are all upserts (a first sync's customers), and how many changes counted: what
    `Replica._changed` makes of them, at a fraction of the cost. A later version of a record
    replaces an earlier one in its place; a record sent again unchanged does not count."""
    by_table: dict[str, dict[str, dict[str, Any]]] = {}
    revisions: dict[str, int] = {}
    entries: dict[str, dict[str, Any]] = {}
    table_of = t.TABLE_OF
    counted = 0
    for change in changes:
        if change.op != _UPSERT or change.data is None:
            return None
        key = f"{change.type}:{change.id}"
        if change.type == _ENTRY:
            entries[change.id] = change.data
        else:
            table = by_table.setdefault(table_of[change.type], {})
            if revisions.get(key) == change.revision and table[change.id] == change.data:
                continue
            table[change.id] = change.data
        revisions[key] = change.revision
        counted += 1
    tables: t.Tables = {name: {str(n): doc for n, doc in enumerate(docs.values(), 1)}
                        for name, docs in by_table.items()}
    tables["revisions"] = {"1": revisions}
    return tables, list(entries.values()), counted


def file_timeline(folder: Path, tables: t.Tables, upserts: list[dict[str, Any]],
                  deletes: list[dict[str, Any]], *, durable: bool) -> list[Path]:
    """Write the chunks the arriving entries and tombstones change and put the timeline's new
    summary (and entries kept inline) into `tables`; the files that became obsolete, to
    delete once `tables` is saved."""
    doc = next(iter((tables.get("timeline") or {}).values()), None) or {}
    summary, inline, obsolete = timeline_files.apply(
        folder, TimelineSummary.from_json(doc), timeline_files.inline_docs(tables), upserts,
        deletes, durable=durable
    )
    tables["timeline"] = {"1": summary.to_json()}
    if inline:
        tables["entries"] = timeline_files.entries_table(inline)
    else:
        tables.pop("entries", None)
    return obsolete


@dataclass
class Applied:
    """What one page (or snapshot) did to the cache."""

    changes: int = 0
    skipped: list[str] = field(default_factory=list)
    customers: dict[str, int] = field(default_factory=dict)  # customer id -> changes applied
    removed: set[str] = field(default_factory=set)
    merged: dict[str, str] = field(default_factory=dict)
    scope: list[tuple[str, str]] = field(default_factory=list)  # ("include"|"evict", id), in order

    def add(self, other: Applied) -> None:
        self.changes += other.changes
        self.skipped += other.skipped
        for k, v in other.customers.items():
            self.customers[k] = self.customers.get(k, 0) + v
        self.removed |= other.removed
        self.merged.update(other.merged)
        self.scope += other.scope


class Replica:
    """The cache as a replica of the store."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    # -- applying changes ------------------------------------------------------------------

    def apply(self, raw_changes: Iterable[Any], *, durable: bool = False) -> Applied:
        """Validate and apply a batch of changes. Files are written without fsync unless
        `durable`; the engine syncs the file system once per batch before saving its cursor."""
        records, result = self.check(raw_changes)
        rows: dict[str, IndexRow | None] = {}
        self.apply_records(records, result, rows, durable=durable)
        if rows:
            self.cache._write_index_rows(rows, durable=durable)
        return result

    @staticmethod
    def check(raw_changes: Iterable[Any]) -> tuple[list[Rec], Applied]:
        """The changes that pass validation, and an Applied with the skipped ones' reasons and
        the scope changes (which name a customer but change no file)."""
        result = Applied()
        records: list[Rec] = []
        for raw in raw_changes:
            try:
                change = validate(raw)
            except BadRecord as error:
                log.warning("skipped a record from the store: %s", error)
                result.skipped.append(str(error))
                continue
            if change.op == ChangeOp.EVICT or change.op == ChangeOp.INCLUDE:
                result.scope.append((change.op, change.customer_id))
            else:
                records.append(change)
        return records, result

    def apply_records(self, records: Iterable[Rec], result: Applied,
                      rows: dict[str, IndexRow | None], *, durable: bool) -> None:
        """Apply checked changes customer by customer; their search rows go into `rows`."""
        self.cache._require_writable()
        groups: dict[str, list[Rec]] = {}
        for change in records:
            groups.setdefault(change.customer_id, []).append(change)
        renames: dict[str, str | None] = {}
        for customer_id, changes in groups.items():
            with self.cache.write_lock:
                self._apply_customer(customer_id, changes, result, rows, renames, durable)
        self.cache.forget_recent(renames)

    def _apply_customer(self, customer_id: str, changes: list[Rec], result: Applied,
                        rows: dict[str, IndexRow | None], renames: dict[str, str | None],
                        durable: bool) -> None:
        path = self.cache.profile_path(customer_id)
        tables: t.Tables | None = read_json(path)
        fresh = fresh_tables(changes) if tables is None else None
        if fresh is not None:
            tables, upserts, counted = fresh
            deletes: list[dict[str, Any]] = []
            result.changes += counted
            result.customers[customer_id] = result.customers.get(customer_id, 0) + counted
        else:
            tables, upserts, deletes, touched = self._changed(customer_id, tables or {}, changes,
                                                              result, rows, renames)
            if not touched:
                return
        for item in self.cache.outbox.pending(customer_id):  # the agent's unsent edits
            mutations.apply(tables, item.mutation)
        obsolete = []
        if upserts or deletes:
            obsolete = file_timeline(self.cache.folder(customer_id), tables, upserts, deletes,
                                     durable=durable)
        AtomicJSONStorage(path, durable=durable).write(tables)  # makes the shard folder, 0700
        for old in obsolete:
            old.unlink(missing_ok=True)
        if t.customer(tables):
            rows[customer_id] = IndexRow.of_tables(tables)

    def _changed(self, customer_id: str, tables: t.Tables, changes: list[Rec], result: Applied,
                 rows: dict[str, IndexRow | None], renames: dict[str, str | None],
                 ) -> tuple[t.Tables, list[dict[str, Any]], list[dict[str, Any]], bool]:
        """A cached customer's tables with the changes applied (entries aside: the arriving
        ones and the tombstones), and whether anything changed."""
        upserts: list[dict[str, Any]] = []
        deletes: list[dict[str, Any]] = []
        touched = False
        for change in changes:
            if change.type == RecordType.CUSTOMER and change.op in (
                ChangeOp.DELETE, ChangeOp.MERGE
            ):
                self._remove(customer_id)
                tables, upserts, deletes, touched = {}, [], [], False
                rows[customer_id] = None
                if change.op == ChangeOp.MERGE:
                    into = (change.data or {})["into"]
                    result.merged[customer_id] = into
                    renames[customer_id] = into
                    self.cache.outbox.retarget(customer_id, into)
                else:
                    result.removed.add(customer_id)
                    renames[customer_id] = None
                result.changes += 1
                continue
            key = f"{change.type}:{change.id}"
            if (change.op == ChangeOp.UPSERT and change.type != RecordType.ENTRY
                    and t.revision_of(tables, change.type, change.id) == change.revision
                    and t.find(tables, t.TABLE_OF[change.type], change.id) == change.data):
                continue  # what the cache holds already: the store's echo of our own edit
            result.changes += 1
            result.customers[customer_id] = result.customers.get(customer_id, 0) + 1
            touched = True
            if change.type == RecordType.ENTRY and change.op == ChangeOp.UPSERT:
                upserts.append(change.data or {})
            elif change.type == RecordType.ENTRY:  # tombstones carry the entry's time
                deletes.append({"id": change.id, "at": (change.data or {})["at"]})
            elif change.op == ChangeOp.UPSERT:
                t.put(tables, t.TABLE_OF[change.type], dict(change.data or {}))
            else:
                t.remove(tables, t.TABLE_OF[change.type], change.id)
            if change.op == ChangeOp.UPSERT:
                t.revisions(tables)[key] = change.revision
            else:
                t.revisions(tables).pop(key, None)
        return tables, upserts, deletes, touched

    def _remove(self, customer_id: str) -> None:
        """The profile file goes first: without it the chunks are unreachable garbage, which a
        crash before the folder goes would leave (and a later sync of the id would sweep)."""
        self.cache.profile_path(customer_id).unlink(missing_ok=True)
        folder = self.cache.folder(customer_id)
        if folder.exists():
            shutil.rmtree(folder)

    def evict(self, customer_ids: Iterable[str]) -> list[str]:
        """Drop customers that left the agent's scope, except those with unconfirmed edits."""
        keep = self.cache.outbox.customers()
        gone = [c for c in customer_ids if c not in keep]
        with self.cache.write_lock:
            for customer_id in gone:
                self._remove(customer_id)
            self.cache._write_index_rows(dict.fromkeys(gone), durable=False)
            self.cache.forget_recent(dict.fromkeys(gone))
        return gone

    def sweep_temp_files(self) -> int:
        """Remove the temporary files of writes a killed process cut short: 256 folder reads
        (and one per long timeline), so only after a sync did not finish."""
        customers = self.cache.root / "customers"
        with self.cache.write_lock:  # not the temporary file of an edit being saved now
            leftovers = [*customers.glob("*/.*.tmp"), *customers.glob("*/*.entries/.*.tmp")]
            for path in leftovers:
                path.unlink(missing_ok=True)
        return len(leftovers)

    def wipe(self) -> None:
        """Forget every record (the store was rebuilt); the outbox is kept."""
        with self.cache.write_lock:
            for name in ("customers", "index", "spool"):
                shutil.rmtree(self.cache.root / name, ignore_errors=True)
            self.cache._journal_rows = None

    # -- results of pushed edits -----------------------------------------------------------

    def record_result(self, item: OutboxItem, result: MutationResult) -> None:
        """Apply the store's answer to one pushed edit to the outbox and the local copy."""
        m = item.mutation
        outbox = self.cache.outbox
        if result.status == MutationStatus.APPLIED:
            self._update(m.customer_id, lambda tables: self._set_revision(tables, m, result))
            outbox.done([m.id])
            return
        if result.status == MutationStatus.CONFLICT:
            def take_theirs(tables: t.Tables) -> None:
                name = "notes" if m.kind.startswith("note.") else (
                    "customer" if m.kind == "customer.update" else "contacts")
                if result.current is not None:
                    t.put(tables, name, dict(result.current))
                elif name != "customer":
                    t.remove(tables, name, m.target)
                self._set_revision(tables, m, result)
            self._update(m.customer_id, take_theirs)
            outbox.mark(m.id, CONFLICT, reason=result.reason, conflicts=result.conflicts,
                        current=result.current, revision=result.revision)
            return
        self._update(m.customer_id, lambda tables: mutations.revert(tables, m))
        outbox.mark(m.id, REJECTED, reason=result.reason or "rejected by the server")

    @staticmethod
    def _set_revision(tables: t.Tables, m: Any, result: MutationResult) -> None:
        if result.revision is None:
            return
        kind = {"note": "note", "customer": "customer", "contact": "contact"}[m.kind.split(".")[0]]
        t.revisions(tables)[f"{kind}:{m.target}"] = result.revision

    def _update(self, customer_id: str, change: Any) -> None:
        path = self.cache.profile_path(customer_id)
        with self.cache.write_lock:
            tables = read_json(path)
            if not tables:
                return
            row = IndexRow.of_tables(tables)
            change(tables)
            AtomicJSONStorage(path).write(tables)
            if t.customer(tables) and IndexRow.of_tables(tables) != row:
                self.cache._write_index_rows(
                    {customer_id: IndexRow.of_tables(tables)}, durable=True
                )

    # -- comparing with the store ----------------------------------------------------------

    def records(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        for path in sorted((self.cache.root / "customers").glob("*/*.json")):
            tables = read_json(path) or {}
            customer = t.customer(tables)
            if customer is None:
                continue
            customer_id = customer["id"]
            yield "customer", customer_id, customer_id, customer
            for kind, name in t.TABLE_OF.items():
                if name != "customer":
                    for doc in t.docs(tables, name):
                        yield str(kind), doc["id"], customer_id, doc
            doc = next(iter((tables.get("timeline") or {}).values()), None) or {}
            summary = TimelineSummary.from_json(doc)
            folder = self.cache.folder(customer_id)
            inline = timeline_files.inline_docs(tables)
            for index in range(len(summary.chunk_sizes)):
                for entry in timeline_files.chunk_docs(folder, summary.file(index), inline):
                    yield "entry", entry["id"], customer_id, entry

    def digest(self) -> str:
        return digest_of(self.records())
