"""The outbox: edits made at this desk that the store has not confirmed yet.

One small TinyDB file (`outbox.json` in the cache: table `outbox`, an item per edit, its
document id the item's `seq`; table `counter`, the next `seq`), rewritten atomically and
fsynced before the UI says an edit is saved, so an acknowledged edit survives any crash.
Items keep their order;
the sync engine pushes pending ones in that order. An item the store rejected or answered with
a conflict stays, with the reason or the store's version, until the agent re-applies or
discards it. The file only ever holds unconfirmed edits, so it stays small.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.cache.database import changing, put_single, single
from agentdesk.cache.files import ReadOnlyCacheError, read_json

if TYPE_CHECKING:  # imported when an item is read: not on the desk's start-up path
    from tinydb.table import Table

    from agentdesk.model.protocol import Mutation

PENDING = "pending"
REJECTED = "rejected"
CONFLICT = "conflict"


@dataclass
class OutboxItem:
    seq: int
    mutation: Mutation
    status: str = PENDING
    reason: str = ""
    conflicts: list[str] = field(default_factory=list)
    current: dict[str, Any] | None = None  # the store's version, for conflicts
    revision: int | None = None  # the store's revision of `current`
    attempts: int = 0
    # Sent to the store at least once: its answer may have been lost after the store applied
    # it. A remote without idempotency keys (RT) looks such an edit up before sending it again.
    sent: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "mutation": self.mutation.model_dump(mode="json"),
            "status": self.status,
            "reason": self.reason,
            "conflicts": self.conflicts,
            "current": self.current,
            "revision": self.revision,
            "attempts": self.attempts,
            "sent": self.sent,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> OutboxItem:
        from agentdesk.model.protocol import Mutation

        return cls(
            seq=int(doc["seq"]),
            mutation=Mutation.model_validate(doc["mutation"]),
            status=doc.get("status", PENDING),
            reason=doc.get("reason", ""),
            conflicts=list(doc.get("conflicts") or []),
            current=doc.get("current"),
            revision=doc.get("revision"),
            attempts=int(doc.get("attempts", 0)),
            sent=bool(doc.get("sent", False)),
        )


@dataclass(frozen=True)
class OutboxCounts:
    pending: int = 0
    rejected: int = 0
    conflicts: int = 0


class Outbox:
    """The outbox file of one cache. Thread-safe; every change is written before returning."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        self._items: list[OutboxItem] | None = None
        self._next = 1

    def _load(self) -> list[OutboxItem]:
        if self._items is None:
            data = read_json(self.path) or {}
            table = data.get("outbox") or {}
            self._items = [OutboxItem.from_json(table[k]) for k in sorted(table, key=int)]
            counter = single(data, "counter") or {}
            self._next = max([int(counter.get("next", 1))] + [i.seq + 1 for i in self._items])
        return self._items

    def reload(self) -> None:
        with self._lock:
            self._items = None

    def _write(self, change: Callable[[Table], Any]) -> None:
        """Change the file through TinyDB, written once and fsynced. If that fails, the items
        are read again from the file, which still holds what it held."""
        if self.read_only:
            raise ReadOnlyCacheError("This cache is open read-only: another agentdesk is using it.")
        try:
            with changing(self.path) as db:
                change(db.table("outbox"))
                put_single(db, "counter", {"next": self._next})
        except BaseException:
            self._items = None
            raise

    # -- reading -------------------------------------------------------------------------

    def items(self, customer_id: str | None = None) -> list[OutboxItem]:
        with self._lock:
            return [i for i in self._load() if customer_id in (None, i.mutation.customer_id)]

    def pending(self, customer_id: str | None = None) -> list[OutboxItem]:
        return [i for i in self.items(customer_id) if i.status == PENDING]

    def counts(self) -> OutboxCounts:
        items = self.items()
        return OutboxCounts(
            pending=sum(i.status == PENDING for i in items),
            rejected=sum(i.status == REJECTED for i in items),
            conflicts=sum(i.status == CONFLICT for i in items),
        )

    def customers(self) -> set[str]:
        return {i.mutation.customer_id for i in self.items()}

    # -- writing -------------------------------------------------------------------------

    def add(self, mutations: Iterable[Mutation]) -> list[OutboxItem]:
        """Queue edits (all or none: one atomic write)."""
        from tinydb.table import Document

        with self._lock:
            items = self._load()
            added = [OutboxItem(seq=self._next + n, mutation=m) for n, m in enumerate(mutations)]
            self._next += len(added)
            self._write(lambda table: table.insert_multiple(
                Document(i.to_json(), doc_id=i.seq) for i in added))
            items.extend(added)
            return added

    def done(self, mutation_ids: Iterable[str]) -> None:
        ids = set(mutation_ids)
        with self._lock:
            items = self._load()
            gone = [i.seq for i in items if i.mutation.id in ids]
            if gone:
                self._write(lambda table: table.remove(doc_ids=gone))
                items[:] = [i for i in items if i.mutation.id not in ids]

    def discard(self, mutation_id: str) -> None:
        self.done([mutation_id])

    def _rewrite(self, changed: list[OutboxItem]) -> None:
        """Write new versions of some items (same seq), then keep them in memory."""
        if not changed:
            return
        new = {i.seq: i.to_json() for i in changed}

        def replace(doc: dict[str, Any]) -> None:
            item = new[doc["seq"]]
            doc.clear()
            doc.update(item)

        self._write(lambda table: table.update(replace, doc_ids=list(new)))
        by_seq = {i.seq: i for i in changed}
        items = self._load()
        items[:] = [by_seq.get(i.seq, i) for i in items]

    def mark(self, mutation_id: str, status: str, *, reason: str = "",
             conflicts: list[str] | None = None, current: dict[str, Any] | None = None,
             revision: int | None = None) -> None:
        with self._lock:
            self._rewrite([
                replace(i, status=status, reason=reason, conflicts=list(conflicts or []),
                        current=current, revision=revision)
                for i in self._load() if i.mutation.id == mutation_id
            ])

    def mark_sent(self, mutation_ids: Iterable[str]) -> None:
        """Record, before a push, that these edits are on their way (one write, none if all
        were sent before)."""
        ids = set(mutation_ids)
        with self._lock:
            self._rewrite([replace(i, sent=True) for i in self._load()
                           if i.mutation.id in ids and not i.sent])

    def failed(self, failures: dict[str, str]) -> list[OutboxItem]:
        """Pending edits the store failed on (mutation id -> why), one more attempt each,
        written in one go; the items as they are now."""
        with self._lock:
            changed = [replace(i, attempts=i.attempts + 1, reason=failures[i.mutation.id])
                       for i in self._load()
                       if i.mutation.id in failures and i.status == PENDING]
            self._rewrite(changed)
            return changed

    def retarget(self, old_id: str, new_id: str) -> int:
        """Pending edits naming a customer merged into another follow it to the new id."""
        with self._lock:
            moved = [
                replace(i, mutation=i.mutation.model_copy(update={
                    "customer_id": new_id,
                    "target": new_id if i.mutation.target == old_id else i.mutation.target,
                }))
                for i in self._load() if i.mutation.customer_id == old_id
            ]
            self._rewrite(moved)
            return len(moved)

    def replace(self, mutation_id: str, new: Mutation) -> None:
        """Swap an item for a new mutation, re-queued as pending at the end (re-apply)."""
        from tinydb.table import Document

        with self._lock:
            items = self._load()
            old = [i.seq for i in items if i.mutation.id == mutation_id]
            item = OutboxItem(seq=self._next, mutation=new)
            self._next += 1

            def change(table: Table) -> None:
                table.remove(doc_ids=old)
                table.insert(Document(item.to_json(), doc_id=item.seq))

            self._write(change)
            items[:] = [i for i in items if i.mutation.id != mutation_id] + [item]
