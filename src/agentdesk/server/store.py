"""The storage interface of the remote store: SQLite (`sqlite_store`) or PostgreSQL
(`postgres_store`).

The HTTP layer (`agentdesk.server.app`) only talks to a `Store`. Semantics every implementation
must keep are written down in `docs/sync-protocol.md`; `tests/server/test_server.py` checks
them over HTTP on every engine (its tests are parametrised by engine).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from agentdesk.model.records import RECORD_MODELS, AgentInfo, CannedReply, Profile, TimelineEntry
from agentdesk.model.protocol import Mutation, MutationResult, RecordType, SearchHit

MODELS = RECORD_MODELS  # the domain model each record type is validated with


class StoreError(Exception):
    """A request the store refuses; `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra = extra


class NotFound(StoreError):
    """Unknown or erased customer; `extra["merged_into"]` is set when it was merged."""

    status = 404


class CursorGone(StoreError):
    """A cursor this store cannot continue from: the client must start over (HTTP 410)."""

    status = 410


@dataclass(frozen=True)
class Agent:
    """Who a token belongs to. `scoped` agents only see the customers in their scope."""

    name: str
    scoped: bool = False
    revoked: bool = False


@dataclass(frozen=True)
class FeedRows:
    """A page of the change feed, still as stored JSON text (so serving it needs no parsing).

    Each row: (seq, op, type, id, customer_id, revision, data JSON text or None).
    """

    epoch: str
    rows: list[tuple[int, str, str, str, str, int, str | None]]
    after: int  # the seq the page starts after
    more: bool

    @property
    def last_seq(self) -> int:
        return self.rows[-1][0] if self.rows else self.after


@runtime_checkable
class Store(Protocol):
    """A remote store: records with revisions, a compacted change feed, mutations, tokens."""

    # --- reading -------------------------------------------------------------------------
    def epoch(self) -> str:
        """Identity of this store; a new one means every client cursor is void."""

    def head(self) -> int:
        """The latest sequence number handed out."""

    def status(self) -> tuple[str, int]:
        """(epoch, head), read together."""

    def is_empty(self) -> bool:
        """No record at all (`--demo` seeds only then)."""

    def changes(self, after_seq: int, limit: int, agent: Agent, epoch: str | None = None) -> FeedRows:
        """Latest change per record (and the agent's scope changes) with seq > after_seq.

        Raises CursorGone if `epoch` is given and not ours, or after_seq is past the head.
        """

    def profile(self, customer_id: str, agent: Agent) -> list[tuple[int, str, str, str, str, int, str]]:
        """Every live record of a customer, customer first; adds it to a scoped agent's scope.

        Raises NotFound (with `merged_into` when it was merged).
        """

    def search(self, q: str, limit: int) -> list[SearchHit]:
        """Live customers whose name, company, e-mail, phone digits or id contain `q`."""

    def digest(self) -> str:
        """`agentdesk.model.digest.digest` over every live record."""

    # --- writing -------------------------------------------------------------------------
    def apply(self, mutations: Sequence[Mutation], agent: Agent) -> list[MutationResult]:
        """Apply a batch of desk edits, each at most once (results stored by mutation id)."""

    def upsert(self, type: RecordType, record: dict[str, Any], customer_id: str) -> int:
        """Write one record (validated with its domain model); returns its new revision."""

    def delete(self, type: RecordType, id: str) -> int | None:
        """Tombstone one record; a customer is erased. Returns the tombstone's seq, if any."""

    def erase_customer(self, customer_id: str) -> None:
        """Forget a customer and every record of it (privacy), leaving one bare tombstone."""

    def merge_customers(self, from_id: str, into_id: str) -> None:
        """Move every record of `from_id` into `into_id`; mutations naming it follow."""

    def set_scope(self, agent: str, customer_ids: Iterable[str]) -> None:
        """Make a scoped agent's scope exactly `customer_ids` (emits include/evict changes)."""

    def bulk_load(self, items: Iterable[tuple[Profile, list[TimelineEntry]]]) -> int:
        """Load many profiles in one transaction; returns how many."""

    def reset_epoch(self) -> str:
        """Make a new epoch (after restoring a backup) so every client starts over."""

    # --- tokens --------------------------------------------------------------------------
    def add_token(self, token: str, agent: str, scoped: bool = False) -> None:
        """Allow a bearer token (only its hash is kept)."""

    def check_token(self, token: str) -> Agent | None:
        """The agent of a token (possibly revoked), or None if unknown."""

    def revoke_token(self, token: str) -> bool:
        """Revoke a token; False if it was unknown."""

    def has_tokens(self) -> bool:
        """Whether any token was ever added (first start makes one)."""

    # --- what every agent sees (see `directory`) -----------------------------------------
    def canned(self) -> list[CannedReply]:
        """The canned replies, by title."""

    def put_canned(self, record: dict[str, Any]) -> CannedReply:
        """Add or replace (by id) a canned reply (validated)."""

    def remove_canned(self, reply_id: str) -> bool: ...

    def agents(self) -> list[AgentInfo]:
        """The agents listed, and every agent a live token belongs to."""

    def put_agent(self, record: dict[str, Any]) -> AgentInfo:
        """Add or replace (by name) an agent (validated)."""

    def close(self) -> None:
        """Release connections."""
