"""The outbox: edits made at this desk that the store has not confirmed yet.

One small JSON file (`outbox.json` in the cache), rewritten atomically and fsynced before the
UI says an edit is saved, so an acknowledged edit survives any crash. Items keep their order;
the sync engine pushes pending ones in that order. An item the store rejected or answered with
a conflict stays, with the reason or the store's version, until the agent re-applies or
discards it. The file only ever holds unconfirmed edits, so it stays small.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.cache.files import atomic_write_json, read_json

if TYPE_CHECKING:  # imported when an item is read: not on the desk's start-up path
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
            self._items = [OutboxItem.from_json(d) for d in data.get("items", [])]
            self._next = max([int(data.get("next", 1))] + [i.seq + 1 for i in self._items])
        return self._items

    def reload(self) -> None:
        with self._lock:
            self._items = None

    def _save(self) -> None:
        assert self._items is not None
        atomic_write_json(
            self.path, {"next": self._next, "items": [i.to_json() for i in self._items]}
        )

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
        with self._lock:
            items = self._load()
            added = []
            for m in mutations:
                added.append(OutboxItem(seq=self._next, mutation=m))
                self._next += 1
            items.extend(added)
            try:
                self._save()
            except BaseException:
                del items[len(items) - len(added):]
                raise
            return added

    def _update(self, change: Any) -> None:
        with self._lock:
            items = self._load()
            before = [i.to_json() for i in items]
            try:
                change(items)
                self._save()
            except BaseException:
                self._items = [OutboxItem.from_json(d) for d in before]
                raise

    def done(self, mutation_ids: Iterable[str]) -> None:
        ids = set(mutation_ids)
        self._update(lambda items: items.__setitem__(
            slice(None), [i for i in items if i.mutation.id not in ids]))

    def discard(self, mutation_id: str) -> None:
        self.done([mutation_id])

    def mark(self, mutation_id: str, status: str, *, reason: str = "",
             conflicts: list[str] | None = None, current: dict[str, Any] | None = None,
             revision: int | None = None) -> None:
        def change(items: list[OutboxItem]) -> None:
            for item in items:
                if item.mutation.id == mutation_id:
                    item.status, item.reason = status, reason
                    item.conflicts = list(conflicts or [])
                    item.current, item.revision = current, revision
        self._update(change)

    def retarget(self, old_id: str, new_id: str) -> int:
        """Pending edits naming a customer merged into another follow it to the new id."""
        moved = 0

        def change(items: list[OutboxItem]) -> None:
            nonlocal moved
            for item in items:
                m = item.mutation
                if m.customer_id == old_id:
                    target = new_id if m.target == old_id else m.target
                    item.mutation = m.model_copy(update={"customer_id": new_id, "target": target})
                    moved += 1
        self._update(change)
        return moved

    def replace(self, mutation_id: str, new: Mutation) -> None:
        """Swap an item for a new mutation, re-queued as pending at the end (re-apply)."""
        def change(items: list[OutboxItem]) -> None:
            items[:] = [i for i in items if i.mutation.id != mutation_id]
            items.append(OutboxItem(seq=self._next, mutation=new))
            self._next += 1
        self._update(change)
