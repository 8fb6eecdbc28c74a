"""How the store applies the mutations of working conversations, whatever the engine.

Unlike `mutation_rules` (one record each), these may write several records (a reply is an
entry and a change to its conversation; a new customer comes with its contact points), or
need the store (is the assignee an agent? does the other customer exist?), so each rule gets
the engine's `Transaction` and uses only its row operations; every engine then answers the
same. What is checked is `model.work_mutations`, the desk's own checks. A mutation is applied
once (the transaction stores its result by id); a record written by an earlier try is taken
as already there. The rules are described for people in docs/sync-protocol.md.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agentdesk.model.protocol import Mutation, MutationKind, MutationResult, MutationStatus, RecordType
from agentdesk.model.records import Conversation, Relationship, utcnow
from agentdesk.model.work_mutations import (
    CONVERSATION_FIELDS,
    Refused,
    check_new_customer,
    check_relationship,
    check_reply,
    check_start,
    conversation_after_entry,
    conversation_after_update,
    names_match,
)
from agentdesk.server.mutation_rules import MISSING, Decision, Rejected, stamp, validated
from agentdesk.server.store import Agent
from agentdesk.server.stored import Record, dump

if TYPE_CHECKING:
    from agentdesk.server.transaction import Transaction

RELATIONSHIP_FIELDS = ("customer_id", "label")
# The records the mutation being applied wrote ("type:id" -> revision), for its result.
_WRITTEN: ContextVar[dict[str, int]] = ContextVar("written")


def _applied(m: Mutation, revision: int | None) -> MutationResult:
    return MutationResult(id=m.id, status=MutationStatus.APPLIED, revision=revision)


def _checked(check: Callable[[], Any]) -> Any:
    try:
        return check()
    except Refused as error:
        raise Rejected(str(error)) from None


def _live_customer(tx: Transaction, m: Mutation, customer_id: str) -> Record:
    rec = tx.customer(customer_id)
    if rec is None:
        raise Rejected(f"customer {m.customer_id} no longer exists")
    return rec


def _conversation(tx: Transaction, conversation_id: str, customer_id: str) -> Record:
    rec = tx.get(RecordType.CONVERSATION, conversation_id)
    if rec is None or rec.deleted or rec.customer_id != customer_id:
        raise Rejected(f"conversation {conversation_id} does not exist")
    return rec


def _write(tx: Transaction, type: RecordType, record: BaseModel, customer_id: str) -> int:
    record_id = str(getattr(record, "id"))
    seq = tx.put(type, record_id, customer_id, dump(record))
    written = _WRITTEN.get(None)
    if written is not None:
        written[f"{type.value}:{record_id}"] = seq
    return seq


def _set_conversation(tx: Transaction, rec: Record, fields: dict[str, Any]) -> int | None:
    """Write the conversation with `fields` changed (validated), if they change it."""
    merged = {**rec.data, **fields}
    if merged == rec.data:
        return None
    return _write(tx, RecordType.CONVERSATION, validated(Conversation, merged), rec.customer_id)


def entry_added(tx: Transaction, entry: dict[str, Any], customer_id: str) -> None:
    """An entry was written (a reply, a connector's message, an admin's upsert): its
    conversation's `last_line` and `waiting_since` follow (`conversation_after_entry`)."""
    conversation_id = entry.get("conversation_id")
    rec = tx.get(RecordType.CONVERSATION, str(conversation_id))
    if rec is None or rec.deleted or rec.customer_id != customer_id:
        return  # an entry may arrive before its conversation: it is set when a later one comes
    _set_conversation(tx, rec, conversation_after_entry(rec.data, entry))


# -- the rules ---------------------------------------------------------------------------------


def _conversation_update(tx: Transaction, m: Mutation, customer_id: str, agent: Agent
                         ) -> MutationResult:
    """Field by field, like customer.update: a field is written when the store still has the
    value the edit was based on; otherwise the store's value wins (a conflict). What follows
    from the fields written (`ended`, `snoozed_until` cleared) is worked out here again."""
    _live_customer(tx, m, customer_id)
    set_, base = m.data.get("set"), m.data.get("base")
    if not isinstance(set_, dict) or not (base is None or isinstance(base, dict)):
        raise Rejected("conversation.update needs data.set and data.base objects")
    unknown = sorted(set(set_) - set(CONVERSATION_FIELDS))
    if unknown:
        raise Rejected(f"conversation.update cannot set: {', '.join(unknown)}")
    rec = _conversation(tx, m.target, customer_id)
    now = utcnow()
    # The values themselves, as stored (a time in the store's form, tags trimmed).
    effect = _checked(lambda: conversation_after_update(rec.data, set_, now))
    assignee = set_.get("assignee")
    if assignee and not tx.known_agent(assignee):
        raise Rejected(f"no agent {assignee[:128]}")
    applied: dict[str, Any] = {}
    conflicts: list[str] = []
    for field in set_:
        new, current = effect[field], rec.data.get(field)
        if new == current:
            continue
        based = (base.get(field, MISSING) == current) if base is not None and field in base \
            else m.base_revision == rec.revision
        if based:
            applied[field] = new
        else:
            conflicts.append(field)
    written = None
    if applied:
        try:
            fields = conversation_after_update(rec.data, applied, now)
        except Refused:  # what was applied no longer fits what won (a snooze without its time)
            conflicts, fields = sorted({*conflicts, *applied}), {}
        if "ended" in fields and fields["ended"] is not None:
            fields["ended"] = stamp(m.made_at).isoformat()
        written = _set_conversation(tx, rec, fields) if fields else None
    decision = Decision(rec.revision, rec.data, tuple(conflicts))
    if written is None:
        return decision.result(m)
    current = tx.get(RecordType.CONVERSATION, m.target)
    result = decision.result(m)
    return result.model_copy(update={"revision": written,
                                     "current": current.data if current and conflicts else None})


def _reply_add(tx: Transaction, m: Mutation, customer_id: str, agent: Agent) -> MutationResult:
    """The entry is written and its conversation follows (last line, waiting, reopened)."""
    _live_customer(tx, m, customer_id)
    entry = _checked(lambda: check_reply(m.data, m.target))
    conv = _conversation(tx, entry.conversation_id, customer_id)
    held = tx.get(RecordType.ENTRY, m.target)
    if held is not None:
        if held.deleted or held.customer_id != customer_id:
            raise Rejected(f"entry {m.target} was deleted")
        return _applied(m, held.revision)  # written by an earlier try
    seq = _write(tx, RecordType.ENTRY, validated(type(entry), entry.model_dump(mode="json")),
                 customer_id)
    _set_conversation(tx, conv, conversation_after_entry(conv.data, entry.model_dump(mode="json")))
    return _applied(m, seq)


def _conversation_start(tx: Transaction, m: Mutation, customer_id: str, agent: Agent
                        ) -> MutationResult:
    _live_customer(tx, m, customer_id)
    conversation, entry = _checked(lambda: check_start(m.data, m.target))
    held = tx.get(RecordType.CONVERSATION, m.target)
    if held is not None:
        if held.deleted or held.customer_id != customer_id:
            raise Rejected(f"conversation {m.target} was deleted")
        return _applied(m, held.revision)
    if conversation.assignee and not tx.known_agent(conversation.assignee):
        raise Rejected(f"no agent {conversation.assignee[:128]}")
    if tx.get(RecordType.ENTRY, entry.id) is not None:
        raise Rejected(f"entry {entry.id} exists already")
    first = entry.model_dump(mode="json")
    doc = conversation.model_dump(mode="json")
    seq = _write(tx, RecordType.CONVERSATION,
                 validated(Conversation, {**doc, **conversation_after_entry(doc, first)}),
                 customer_id)
    _write(tx, RecordType.ENTRY, validated(type(entry), first), customer_id)
    return _applied(m, seq)


def _customer_create(tx: Transaction, m: Mutation, customer_id: str, agent: Agent
                     ) -> MutationResult:
    if m.customer_id != m.target:
        raise Rejected("customer.create's target is the new customer's id")
    customer, contacts = _checked(lambda: check_new_customer(m.data, m.target))
    held = tx.get(RecordType.CUSTOMER, m.target)
    if held is not None:
        if held.deleted or tx.merged_into(m.target) is not None:
            raise Rejected(f"customer {m.target} was erased or merged")
        return _applied(m, held.revision)
    for point in contacts:
        if tx.get(RecordType.CONTACT, point.id) is not None:
            raise Rejected(f"contact {point.id} exists already")
    seq = _write(tx, RecordType.CUSTOMER, validated(type(customer), customer.model_dump(mode="json")),
                 m.target)
    for point in contacts:
        _write(tx, RecordType.CONTACT, point, m.target)
    tx.refresh_search(m.target)
    if agent.scoped:  # who made the customer sees it
        tx.scope(agent.name, m.target, True)
    return _applied(m, seq)


def _relationship_upsert(tx: Transaction, m: Mutation, customer_id: str, agent: Agent
                         ) -> MutationResult:
    """Like contact.upsert; the other customer must exist (its name is the store's)."""
    _live_customer(tx, m, customer_id)
    rel = _checked(lambda: check_relationship(m.data, m.target, customer_id))
    other_id = tx.resolve(rel.customer_id)
    other = tx.customer(other_id)
    if other is None or other_id == customer_id:
        raise Rejected(f"customer {rel.customer_id} does not exist")
    wanted = {**rel.model_dump(mode="json"), "customer_id": other_id,
              "name": other.data.get("name", "")}
    rec = tx.get(RecordType.RELATIONSHIP, m.target)
    base = m.data.get("base")
    if rec is not None and rec.live and rec.customer_id != customer_id:
        raise Rejected(f"relationship {m.target} belongs to another customer")
    if rec is None or rec.deleted:
        if base is not None or rec is not None:
            return Decision(rec.revision if rec else None, None, ("deleted",)).result(m)
        seq = _write(tx, RecordType.RELATIONSHIP, validated(Relationship, wanted), customer_id)
        return _applied(m, seq)
    merged, conflicts = dict(rec.data), []
    for field in RELATIONSHIP_FIELDS:
        new, current = wanted[field], rec.data.get(field)
        if new == current:
            continue
        based = (base.get(field, MISSING) == current) if isinstance(base, dict) and field in base \
            else m.base_revision == rec.revision
        if based:
            merged[field] = new
        else:
            conflicts.append(field)
    if merged.get("customer_id") == wanted["customer_id"]:
        merged["name"] = wanted["name"]
    decision = Decision(rec.revision, rec.data, tuple(conflicts))
    if merged == rec.data:
        return decision.result(m)
    seq = _write(tx, RecordType.RELATIONSHIP, validated(Relationship, merged), customer_id)
    return decision.result(m, seq).model_copy(
        update={"current": merged if conflicts else None})


def _relationship_delete(tx: Transaction, m: Mutation, customer_id: str, agent: Agent
                         ) -> MutationResult:
    """Like contact.delete: removed unless changed since the desk saw it (a conflict)."""
    _live_customer(tx, m, customer_id)
    base = m.data.get("base")
    if base is not None and not isinstance(base, dict):
        raise Rejected("relationship.delete needs data.base to be an object or null")
    rec = tx.get(RecordType.RELATIONSHIP, m.target)
    if rec is not None and rec.live and rec.customer_id != customer_id:
        raise Rejected(f"relationship {m.target} belongs to another customer")
    if rec is None or rec.deleted:
        return _applied(m, rec.revision if rec else None)
    changed = ([f for f in RELATIONSHIP_FIELDS if base.get(f) != rec.data.get(f)]
               if isinstance(base, dict) else [])
    if (m.base_revision == rec.revision or (isinstance(base, dict) and not changed)
            or (base is None and m.base_revision is None)):
        return _applied(m, tx.tombstone(rec))
    return Decision(rec.revision, rec.data, tuple(changed or ["revision"])).result(m)


def _customer_erase(tx: Transaction, m: Mutation, customer_id: str, agent: Agent
                    ) -> MutationResult:
    """The store's erasure (see `Transaction.erase`), once the name typed matches."""
    rec = _live_customer(tx, m, customer_id)
    if not names_match(m.data.get("confirm"), str(rec.data.get("name", ""))):
        raise Rejected("the name given to confirm is not the customer's: nothing was erased")
    tx.erase(customer_id)
    return _applied(m, None)


WORK_RULES: dict[MutationKind, Callable[[Transaction, Mutation, str, Agent], MutationResult]] = {
    MutationKind.CONVERSATION_UPDATE: _conversation_update,
    MutationKind.REPLY_ADD: _reply_add,
    MutationKind.CONVERSATION_START: _conversation_start,
    MutationKind.CUSTOMER_CREATE: _customer_create,
    MutationKind.RELATIONSHIP_UPSERT: _relationship_upsert,
    MutationKind.RELATIONSHIP_DELETE: _relationship_delete,
    MutationKind.CUSTOMER_ERASE: _customer_erase,
}
WORK_KINDS = frozenset(WORK_RULES)


def apply_work(tx: Transaction, m: Mutation, customer_id: str, agent: Agent) -> MutationResult:
    """Apply one of these mutations (raises Rejected). `customer_id` is the mutation's
    customer with merges followed."""
    written: dict[str, int] = {}
    token = _WRITTEN.set(written)
    try:
        result = WORK_RULES[m.kind](tx, m, customer_id, agent)
    finally:
        _WRITTEN.reset(token)
    if written and result.status != MutationStatus.REJECTED:
        result = result.model_copy(update={"written": written})
    return result
