"""What a store's transaction does, whatever the engine: merges, erasure, scope, mutations.

Every write the store makes (an admin upsert, an erasure, a merge, a scope change, a desk's
mutation) is written here once, in terms of a few row operations (`get`, `write_row`,
`links_to`, ...) that each engine implements in its own SQL. So the order of the changes a
merge emits, what an erasure forgets and how a mutation is recorded are the same on SQLite and
PostgreSQL, and an engine holds only SQL. An engine opens a transaction, hands the store a
`Transaction` over it, and commits when the operation returns.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from agentdesk.model.protocol import ChangeOp, Mutation, MutationResult, RecordType
from agentdesk.server import profile_data_rules  # noqa: F401  (registers its rules)
from agentdesk.server.mutation_rules import Rejected, decide, rejected, target
from agentdesk.server.profile_data_merge import fold_into, incoming_field
from agentdesk.server.search_index import SEARCHED, SearchRow, search_row
from agentdesk.server.store import MODELS, Agent, NotFound, StoreError
from agentdesk.server.stored import Record, dump, reason, storable_problem, tombstone_body
from agentdesk.server.work_rules import WORK_KINDS, apply_work, entry_added

ProfileRows = list[tuple[int, str, str, str, str, int, str]]


def parse(row: Sequence[Any]) -> Record:
    """A record row (type, id, customer_id, data text, revision, deleted, op), parsed."""
    type, id, customer_id, data, revision, deleted, op = row
    return Record(type, id, customer_id, json.loads(data) if data else {}, revision, bool(deleted), op)


class Transaction(ABC):
    """One transaction of an engine. Subclasses implement the row operations in SQL; every
    record write takes the next seq of the store's one counter (`write_row`)."""

    # --- row operations, in each engine's SQL ---------------------------------------------
    @abstractmethod
    def get(self, type: str, id: str) -> Record | None:
        """The record as stored (live or tombstone), or None if there never was one."""

    @abstractmethod
    def text(self, type: str, id: str) -> str:
        """A record's data exactly as stored (moved records keep their bytes)."""

    @abstractmethod
    def write_row(self, type: str, id: str, customer_id: str, data: str | None, op: str,
                  deleted: bool) -> int:
        """Write a record's new state at the next seq (its revision); returns the seq."""

    @abstractmethod
    def merged_into(self, customer_id: str) -> str | None:
        """The customer `customer_id` was merged into (one step), if it was."""

    @abstractmethod
    def records_of(self, customer_id: str) -> list[Record]:
        """A customer's live records other than the customer itself, by seq."""

    @abstractmethod
    def links_to(self, customer_id: str) -> list[Record]:
        """Live relationships (of any customer) whose other customer is `customer_id`."""

    @abstractmethod
    def live_contacts(self, customer_id: str) -> list[dict[str, Any]]:
        """A customer's live contact points, oldest first."""

    @abstractmethod
    def customers_with_email(self, email: str) -> list[str]:
        """Customers with a live e-mail contact point or identifier equal to `email`
        (compared in lower case)."""

    @abstractmethod
    def forget(self, customer_id: str) -> None:
        """Delete every row of an erased customer but its customer record: its other
        records, its search row and its stored mutation results."""

    @abstractmethod
    def add_merge(self, from_id: str, into_id: str) -> None:
        """Record that `from_id` lives in `into_id` now (and so do ids merged into it)."""

    @abstractmethod
    def put_search(self, row: SearchRow) -> None: ...

    @abstractmethod
    def drop_search(self, customer_id: str) -> None: ...

    @abstractmethod
    def scope_state(self, agent: str, customer_id: str) -> bool | None:
        """Whether the customer is in the agent's scope (None: it never was)."""

    @abstractmethod
    def write_scope(self, agent: str, customer_id: str, active: bool) -> None:
        """Set a scope row at the next seq (the include/evict change the agent reads)."""

    @abstractmethod
    def scope_of(self, agent: str) -> set[str]: ...

    @abstractmethod
    def agents_scoping(self, customer_id: str) -> list[str]:
        """Scoped agents that have the customer in their scope."""

    @abstractmethod
    def stored_result(self, mutation_id: str) -> str | None: ...

    @abstractmethod
    def store_result(self, mutation_id: str, customer_id: str, agent: str, result: str) -> None: ...

    @abstractmethod
    def profile_rows(self, customer_id: str) -> ProfileRows:
        """Every live record of a customer as profile rows, the customer first, then by seq."""

    @abstractmethod
    def known_agent(self, name: str) -> bool:
        """Whether the store lists an agent of that name (or a live token belongs to one)."""

    def prefetch(self, mutations: Sequence[Mutation]) -> None:
        """Read at once what `apply` will ask for each mutation (its stored result, its
        customer, the record it targets), for an engine whose every read is a round trip
        made while the store is locked. Nothing by default."""

    # --- built on them, the same for every engine -----------------------------------------
    def put(self, type: str, id: str, customer_id: str, data: str) -> int:
        return self.write_row(type, id, customer_id, data, ChangeOp.UPSERT.value, False)

    def tombstone(self, rec: Record, op: str = ChangeOp.DELETE.value,
                  data: dict[str, Any] | None = None) -> int:
        """Mark a record deleted, keeping only its `tombstone_body`."""
        body = tombstone_body(rec, data)
        return self.write_row(rec.type, rec.id, rec.customer_id,
                              json.dumps(body) if body is not None else None, op, True)

    def resolve(self, customer_id: str) -> str:
        """Follow merges: the customer a (possibly merged) id now lives in."""
        for _ in range(1000):
            into = self.merged_into(customer_id)
            if into is None:
                return customer_id
            customer_id = into
        raise StoreError("merge chain too long")

    def customer(self, customer_id: str) -> Record | None:
        rec = self.get(RecordType.CUSTOMER, customer_id)
        return rec if rec and rec.live else None

    def refresh_search(self, customer_id: str) -> None:
        """Rebuild a customer's search row from its customer and contact records."""
        customer = self.customer(customer_id)
        if customer is None:
            self.drop_search(customer_id)
        else:
            self.put_search(search_row(customer.data, self.live_contacts(customer_id)))

    def scope(self, agent: str, customer_id: str, active: bool) -> None:
        """Bring a customer into (or out of) an agent's scope, if that changes anything."""
        state = self.scope_state(agent, customer_id)
        if state is None and not active or state == active:
            return
        self.write_scope(agent, customer_id, active)

    # --- the store's operations -----------------------------------------------------------
    def profile(self, customer_id: str, agent: Agent) -> ProfileRows:
        """A customer's profile rows; a scoped agent's scope gains the customer (so a scoped
        agent's profile read must run in a write transaction)."""
        rec = self.get(RecordType.CUSTOMER, customer_id)
        if rec is None or rec.deleted:
            into = self.resolve(customer_id) if rec and rec.op == ChangeOp.MERGE else ""
            if into and self.customer(into):
                raise NotFound(f"customer {customer_id} was merged into {into}", merged_into=into)
            raise NotFound(f"customer {customer_id} does not exist")
        if agent.scoped:
            self.scope(agent.name, customer_id, True)
        return self.profile_rows(customer_id)

    def upsert(self, type: RecordType | str, record: dict[str, Any], customer_id: str) -> int:
        type = RecordType(type)
        if type == RecordType.FIELD:  # joins the values of the other sources
            customer_id = self.resolve(customer_id)
            record = incoming_field(self, record, customer_id)
        try:
            model = MODELS[type].model_validate(record)
        except ValidationError as error:
            raise StoreError(reason(error)) from None
        if (why := storable_problem(model)) is not None:
            raise StoreError(why)
        rid = str(getattr(model, "id"))
        if type == RecordType.CUSTOMER:
            if customer_id != rid:
                raise StoreError("a customer's customer_id is its own id")
            if self.merged_into(rid) is not None:
                raise StoreError(f"customer {rid} was merged; write to the customer it lives in")
        else:
            customer_id = self.resolve(customer_id)
            if self.customer(customer_id) is None:
                raise NotFound(f"customer {customer_id} does not exist")
        seq = self.put(type, rid, customer_id, dump(model))
        if type in SEARCHED:
            self.refresh_search(customer_id)
        if type == RecordType.ENTRY:  # its conversation's last line, and who waits since when
            entry_added(self, model.model_dump(mode="json"), customer_id)
        return seq

    def delete(self, type: RecordType, id: str) -> int | None:
        """Tombstone one record other than a customer (customers are erased)."""
        rec = self.get(type, id)
        if rec is None or rec.deleted:
            return None
        seq = self.tombstone(rec)
        if type == RecordType.CONTACT:
            self.refresh_search(rec.customer_id)
        return seq

    def erase(self, customer_id: str) -> None:
        """Forget a customer: its records go, links from others (they hold its name) are
        tombstoned, and one bare tombstone of the customer stays."""
        customer_id = self.resolve(customer_id)
        rec = self.customer(customer_id)
        if rec is None:
            raise NotFound(f"customer {customer_id} does not exist")
        self.forget(customer_id)
        for link in self.links_to(customer_id):
            self.tombstone(link)
        self.tombstone(rec)

    def merge(self, from_id: str, into_id: str) -> None:
        """Move every record of `from_id` into `into_id`, in the order docs/sync-protocol.md
        gives: its records, links from others, scopes, then the merge change last."""
        into_id = self.resolve(into_id)
        source, target_ = self.customer(from_id), self.customer(into_id)
        if source is None or target_ is None:
            raise NotFound(f"customer {from_id if source is None else into_id} does not exist")
        if from_id == into_id:
            raise StoreError("a customer cannot be merged into itself")
        for rec in fold_into(self, from_id, into_id, self.records_of(from_id)):
            if rec.type == RecordType.RELATIONSHIP and rec.data.get("customer_id") in (from_id, into_id):
                self.tombstone(rec)  # would link the customer to itself
                continue
            self.put(rec.type, rec.id, into_id, self.text(rec.type, rec.id))  # as stored
        for rec in self.links_to(from_id):
            if rec.customer_id == into_id:
                self.tombstone(rec)
                continue
            data = {**rec.data, "customer_id": into_id, "name": target_.data["name"]}
            self.put(rec.type, rec.id, rec.customer_id,
                     dump(MODELS[RecordType.RELATIONSHIP].model_validate(data)))
        # Agents who had the merged customer in scope now need the one it lives in.
        for agent in self.agents_scoping(from_id):
            self.scope(agent, into_id, True)
        self.add_merge(from_id, into_id)
        self.tombstone(source, op=ChangeOp.MERGE.value, data={"into": into_id})
        self.refresh_search(from_id)
        self.refresh_search(into_id)

    def set_scope(self, agent: str, customer_ids: Iterable[str]) -> None:
        wanted = {self.resolve(c) for c in customer_ids}
        wanted = {c for c in wanted if self.customer(c)}
        current = self.scope_of(agent)
        for c in sorted(current - wanted):
            self.scope(agent, c, False)
        for c in sorted(wanted - current):
            self.scope(agent, c, True)

    def apply(self, mutations: Sequence[Mutation], agent: Agent) -> list[MutationResult]:
        """Each mutation as `mutation_rules.decide` says, its result stored by mutation id in
        this transaction, so a mutation seen before is answered from its stored result."""
        results: list[MutationResult] = []
        self.prefetch(mutations)
        for m in mutations:
            stored = self.stored_result(m.id)
            if stored is not None:
                results.append(MutationResult.model_validate_json(stored))
                continue
            customer_id = self.resolve(m.customer_id)
            try:
                if m.kind in WORK_KINDS:  # rules that need the transaction (`work_rules`)
                    result = apply_work(self, m, customer_id, agent)
                elif self.customer(customer_id) is None:
                    raise Rejected(f"customer {m.customer_id} no longer exists")
                else:
                    result = self._apply(m, customer_id)
            except Rejected as error:
                result = rejected(m, error)
            self.store_result(m.id, customer_id, agent.name, result.model_dump_json())
            results.append(result)
        return results

    def _apply(self, m: Mutation, customer_id: str) -> MutationResult:
        """Write what the rules decided; the write's seq is the revision the desk is told."""
        type, id = target(m, customer_id)
        rec = self.get(type, id)
        decision = decide(m, customer_id, rec)
        written = None
        moved_to = None
        if decision.moved is not None:  # checked before anything is written
            moved_to = self.resolve(decision.moved[0])
            if self.customer(moved_to) is None or moved_to == customer_id:
                raise Rejected(f"customer {decision.moved[0]} does not exist" if moved_to != customer_id
                               else "the record is this customer's already")
        if decision.write is not None:
            written = self.put(type, id, customer_id, dump(decision.write))
        elif decision.delete and rec is not None:
            written = self.tombstone(rec)
        if written is not None and type in SEARCHED:
            self.refresh_search(customer_id)
        if decision.extra is not None and written is not None:
            extra_type, extra = decision.extra
            self.put(extra_type, str(getattr(extra, "id")), customer_id, dump(extra))
        if decision.moved is not None and moved_to is not None:
            moved = decision.moved[1]
            self.put(type, str(getattr(moved, "id")), moved_to, dump(moved))
        return decision.result(m, written)
