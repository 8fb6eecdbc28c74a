"""The queue's rows: one per conversation still to work (new, open, pending or snoozed).

The queue screen lists conversations of every cached customer without reading their profile
files: each profile change (`Cache.change_profile`, the one door) brings the changed
customer's rows up to date here, as it does its search row. Rows are kept in
`queue/<shard>.json` (TinyDB, table `rows`, by the same shard as the customer's files), so an
edit rewrites one small file whatever the number of open conversations; they are read whole,
once, into memory (`QueueFiles.rows`) and kept up to date there by every write.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.cache.database import changing
from agentdesk.cache.files import flush_to_disk, make_private_dir, read_json
from agentdesk.cache.layout import shard_of
from agentdesk.cache.profile_file import docs
from agentdesk.model.kinds import OLD_STATUSES, ConversationStatus, Priority

QUEUED = {"new", "open", "pending", "snoozed", *OLD_STATUSES}  # stored status values queued
MAX_TEXT = 200  # characters of a name, topic or last line a row keeps
REBUILD = "rebuild"  # a file in the queue folder: the rows are to be made again

Doc = dict[str, Any]


def _cut(value: object) -> str:
    return str(value or "")[:MAX_TEXT]


def rows_of_tables(tables: dict[str, Any]) -> list[Doc]:
    """The queue rows of a profile file's raw tables (none without a customer), no models."""
    customers = docs(tables, "customer")
    if not customers:
        return []
    customer = customers[0]
    rows = []
    for conv in docs(tables, "conversations"):
        status = conv.get("status")
        if status not in QUEUED:
            continue
        channels = conv.get("channels") or []
        rows.append({
            "customer_id": str(customer.get("id", "")),
            "customer": _cut(customer.get("name")),
            "conversation_id": str(conv.get("id", "")),
            "topic": _cut(conv.get("topic")),
            "channel": str(channels[0]) if channels else "",
            "status": OLD_STATUSES.get(status, status),
            "assignee": _cut(conv.get("assignee")),
            "priority": conv.get("priority") or Priority.NORMAL.value,
            "waiting_since": conv.get("waiting_since"),
            "snoozed_until": conv.get("snoozed_until"),
            "last_line": _cut(conv.get("last_line")),
            "started": conv.get("started"),
        })
    return rows


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


_STATUSES = {m.value: m for m in ConversationStatus}
_PRIORITIES = {m.value: m for m in Priority}
_NEVER = datetime.fromisoformat("9999-12-30T00:00:00+00:00")


def _shared(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One conversation of the queue, as the queue screen draws and sorts it. Text fields
    hold the customer's text as stored: clean it before drawing (`model.sanitize`)."""

    customer_id: str
    customer: str  # the customer's name
    conversation_id: str
    topic: str
    channel: str  # the conversation's first channel ("" if none)
    status: ConversationStatus
    assignee: str  # the agent's name as the store knows it ("" = unassigned)
    priority: Priority
    waiting_since: datetime | None  # since when the customer waits for an answer
    snoozed_until: datetime | None
    last_line: str
    started: datetime | None

    @classmethod
    def of(cls, doc: Doc) -> QueueRow:
        return cls(
            customer_id=doc["customer_id"], customer=doc["customer"],
            # A few topics, channels and agents recur across 20,000 rows: one string each.
            conversation_id=doc["conversation_id"], topic=_shared(doc["topic"]),
            channel=_shared(doc["channel"]),
            status=_STATUSES.get(doc["status"], ConversationStatus.OPEN),
            assignee=_shared(doc["assignee"]),
            priority=_PRIORITIES.get(doc["priority"], Priority.NORMAL),
            waiting_since=_time(doc.get("waiting_since")),
            snoozed_until=_time(doc.get("snoozed_until")),
            last_line=doc["last_line"], started=_time(doc.get("started")),
        )


def queue_order(rows: Iterable[QueueRow], me: str) -> list[QueueRow]:
    """Rows as the queue lists them: the agent's own first, then unassigned ones, then the
    rest; in each, the customer who has waited longest first, then those not waiting by when
    their conversation started."""
    def key(row: QueueRow) -> tuple[int, bool, datetime, datetime]:
        group = 0 if me and row.assignee == me else 1 if not row.assignee else 2
        return (group, row.waiting_since is None, row.waiting_since or _NEVER,
                row.started or _NEVER)

    return sorted(rows, key=key)


class QueueFiles:
    """The queue folder of one cache: rows written by customer, read back whole."""

    def __init__(self, folder: Path, *, read_only: bool) -> None:
        self.folder = folder
        self.read_only = read_only
        self._lock = threading.Lock()
        self._by_customer: dict[str, list[QueueRow]] | None = None

    def forget(self) -> None:
        """Read the files again next time (the folder was wiped, or another desk wrote it)."""
        with self._lock:
            self._by_customer = None

    def _load(self) -> dict[str, list[QueueRow]]:
        by_customer: dict[str, list[QueueRow]] = {}
        shards = sorted(self.folder.glob("[0-9a-f][0-9a-f].json")) if self.folder.exists() else []
        for path in shards:
            try:
                table = (read_json(path) or {}).get("rows") or {}
            except (ValueError, OSError):
                continue  # rebuilt by the next change of its customers
            for doc in table.values():
                try:
                    row = QueueRow.of(doc)
                except (KeyError, TypeError, AttributeError):
                    continue
                by_customer.setdefault(row.customer_id, []).append(row)
        return by_customer

    def rows(self) -> list[QueueRow]:
        """Every queued conversation of the cache, in no particular order (`queue_order`).
        Read from disk the first time (a read-only desk: every time, as another desk writes)."""
        with self._lock:
            by_customer = self._by_customer
            if by_customer is None:
                by_customer = self._load()
                if not self.read_only:
                    self._by_customer = by_customer
            return [row for rows in by_customer.values() for row in rows]

    def write(self, changes: dict[str, list[Doc]], *, durable: bool) -> None:
        """Make each named customer's rows exactly these (none: the customer has no queued
        conversation, or is gone)."""
        known = self._by_customer
        if known is not None:  # rows as they are already: nothing to write
            changes = {cid: rows for cid, rows in changes.items()
                       if [QueueRow.of(d) for d in rows] != known.get(cid, [])}
        if not changes:
            return
        by_shard: dict[str, dict[str, list[Doc]]] = {}
        for customer_id, rows in changes.items():
            by_shard.setdefault(shard_of(customer_id), {})[customer_id] = rows
        with self._lock:
            for shard, shard_changes in sorted(by_shard.items()):
                path = self.folder / f"{shard}.json"
                if not path.exists() and not any(shard_changes.values()):
                    continue
                make_private_dir(self.folder)
                with changing(path, durable=durable) as db:
                    table = db.table("rows")
                    gone = [doc.doc_id for doc in table.all() if doc["customer_id"] in shard_changes]
                    if gone:
                        table.remove(doc_ids=gone)
                    added = [doc for rows in shard_changes.values() for doc in rows]
                    if added:
                        table.insert_multiple(added)
            if self._by_customer is not None:
                for customer_id, rows in changes.items():
                    if rows:
                        self._by_customer[customer_id] = [QueueRow.of(d) for d in rows]
                    else:
                        self._by_customer.pop(customer_id, None)

    def rebuild(self, rows: dict[str, list[Doc]]) -> None:
        """Write the rows of every customer afresh (a migration): the folder's files are
        replaced by these."""
        with self._lock:
            if self.folder.exists():
                for path in [*self.folder.glob("*.json"), *self.folder.glob(".*.tmp")]:
                    path.unlink()
            self._by_customer = None
        self.write({cid: r for cid, r in rows.items() if r}, durable=False)
        if self.folder.exists():
            flush_to_disk(self.folder)


class QueueKeeping:
    """The queue rows of a cache, as methods of `Cache` (which keeps them through
    `change_profile` and writes a batch's with `write_index_rows`)."""

    if TYPE_CHECKING:  # provided by Cache
        root: Path
        queue: QueueFiles
        write_lock: threading.RLock
        _queue_batch: dict[str, list[Doc]]

    def queue_rows(self) -> list[QueueRow]:
        """Every conversation to work (new, open, pending, snoozed) of every cached customer,
        unordered (see `queue_order`). The first call reads the queue files."""
        return self.queue.rows()

    @property
    def rows_waiting(self) -> bool:
        """Queue rows collected by `change_profile(rows=...)` wait for `write_index_rows`
        (some come from customers a page filed again without changing them)."""
        return bool(self._queue_batch)

    def filed_queue_rows(self, rows: dict[str, list[Doc]]) -> None:
        """Queue rows of customers filed without `change_profile` (a first sync's helper
        process, which files only customers the cache did not hold): written with the next
        `write_index_rows`."""
        with self.write_lock:
            self._queue_batch.update(rows)

    def rebuild_queue(self, *, later: bool = False) -> None:
        """Make the queue's rows again from the profile files: a sync killed between filing a
        batch and writing its rows leaves rows behind. `later`: only note that it is needed
        (the sync that restarts does it at its end: `rebuild_queue_if_needed`), so a sync
        killed again and again is not slowed at each start."""
        flag = self.root / "queue" / REBUILD
        if later:
            make_private_dir(flag.parent)
            flag.touch(mode=0o600)
            return
        from agentdesk.cache.schema import build_queue_index

        with self.write_lock:
            build_queue_index(self.root)
            self.queue.forget()
            self._queue_batch = {}
        flag.unlink(missing_ok=True)

    def rebuild_queue_if_needed(self) -> None:
        if (self.root / "queue" / REBUILD).exists():
            self.rebuild_queue()
