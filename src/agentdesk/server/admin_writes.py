"""The store's administrative writes, the same on every engine: each is one `Transaction`
(`transaction.py`), which holds what a write does; an engine provides `_write` (a transaction
on its database), `erase_customer`, `head` and `close`."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from agentdesk.model.protocol import RecordType
from agentdesk.server.profile_data_merge import merge_by_email
from agentdesk.server.transaction import Transaction


class AdminWrites:
    """The shared half of a store's admin writes (as `Directory` is of its lists)."""

    def _write(self) -> AbstractContextManager[Transaction]:
        raise NotImplementedError

    def erase_customer(self, customer_id: str) -> None:
        raise NotImplementedError

    def head(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def upsert(self, type: RecordType | str, record: dict[str, Any], customer_id: str) -> int:
        with self._write() as tx:
            return tx.upsert(type, record, customer_id)

    def delete(self, type: RecordType | str, id: str) -> int | None:
        type = RecordType(type)
        if type == RecordType.CUSTOMER:
            self.erase_customer(id)
            return self.head()
        with self._write() as tx:
            return tx.delete(type, id)

    def merge_customers(self, from_id: str, into_id: str) -> None:
        with self._write() as tx:
            tx.merge(from_id, into_id)

    def merge_by_email(self, email: str) -> tuple[str, list[str]]:
        """Merge the customers sharing `email` (the source priority rule folds their fields)."""
        with self._write() as tx:
            return merge_by_email(tx, email)

    def set_scope(self, agent: str, customer_ids: Iterable[str]) -> None:
        with self._write() as tx:
            tx.set_scope(agent, customer_ids)

    def __exit__(self, *exc: object) -> None:
        self.close()
