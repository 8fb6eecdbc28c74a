"""Agent edits as protocol mutations: made once, with what they were based on.

An edit is a `Mutation` with a client-made idempotency id and the revision and values it was
based on, so the store can apply it once and tell a conflict from a change. What a mutation
does to a cached profile is `agentdesk.cache.edits.apply`.
"""

from __future__ import annotations

from typing import Any

from agentdesk.model.protocol import Mutation, MutationKind
from agentdesk.model.records import new_id, utcnow

CUSTOMER_FIELDS = ("name", "company", "status", "tags", "source")


def make(kind: MutationKind, customer_id: str, target: str, data: dict[str, Any],
         base_revision: int | None) -> Mutation:
    return Mutation(
        id=new_id("mut"),
        kind=kind,
        customer_id=customer_id,
        target=target,
        base_revision=base_revision,
        data=data,
        made_at=utcnow().isoformat(),
    )


# The record type (protocol.RecordType value) each kind's target is, where it is not the
# kind's first word; and the profile table of each record type (entries are in timelines).
_TARGET_TYPES = {"reply.add": "entry", "conversation.start": "conversation"}
_TABLES = {"note": "notes", "customer": "customer", "contact": "contacts",
           "conversation": "conversations", "relationship": "relationships", "entry": "entries",
           "field": "fields", "identifier": "identifiers", "subscription": "subscriptions"}


def table_of(m: Mutation) -> str:
    """The profile table a mutation changes."""
    return _TABLES[record_type_of(m)]


def record_type_of(m: Mutation) -> str:
    """The record type (protocol.RecordType value) a mutation changes."""
    kind = m.kind.value.split(".")[0]
    return _TARGET_TYPES.get(m.kind.value) or ("entry" if kind in ("feedback", "response") else kind)


def reapply(m: Mutation, current: dict[str, Any] | None, revision: int | None,
            fields: list[str]) -> Mutation:
    """A new mutation re-applying the agent's values of conflicting fields on the store's
    current version (the agent chose "keep mine" on a conflict)."""
    mine = m.data.get("set", {})
    if m.kind == MutationKind.FIELD_SET:  # on top of the desk value the store has now
        desk = next((v for v in (current or {}).get("values", []) if v.get("source") == "desk"), None)
        return make(m.kind, m.customer_id, m.target, {**m.data, "base": desk}, revision)
    if m.kind in (MutationKind.FIELD_REMOVE, MutationKind.SUBSCRIPTION_REMOVE):
        return make(m.kind, m.customer_id, m.target, {"base": current}, revision)
    if m.kind == MutationKind.SUBSCRIPTION_ADD:
        return make(m.kind, m.customer_id, m.target, m.data, None)
    if m.kind in (MutationKind.NOTE_ADD, MutationKind.REPLY_ADD, MutationKind.CONVERSATION_START,
                  MutationKind.CUSTOMER_CREATE, MutationKind.CUSTOMER_ERASE):
        return make(m.kind, m.customer_id, m.target, m.data, None)
    if m.kind in (MutationKind.NOTE_DELETE, MutationKind.CONTACT_DELETE,
                  MutationKind.RELATIONSHIP_DELETE):
        return make(m.kind, m.customer_id, m.target, {"base": current}, revision)
    if m.kind in (MutationKind.CONTACT_UPSERT, MutationKind.RELATIONSHIP_UPSERT):
        merged = {**(current or {}), **{k: mine[k] for k in mine if k in fields or current is None}}
        return make(m.kind, m.customer_id, m.target, {"set": merged, "base": current}, revision)
    if m.kind == MutationKind.RESPONSE_UPDATE:  # fields within the entry's details
        details = (current or {}).get("details") or {}
        chosen = {k: mine[k] for k in fields if k in mine} or dict(mine)
        return make(m.kind, m.customer_id, m.target,
                    {"set": chosen, "base": {k: details.get(k) for k in chosen},
                     "entry": current or m.data.get("entry")}, revision)
    chosen = {k: mine[k] for k in fields if k in mine} or dict(mine)
    if m.kind == MutationKind.CONVERSATION_UPDATE and "status" in chosen and "snoozed_until" in mine:
        chosen["snoozed_until"] = mine["snoozed_until"]  # a snooze is a status and its time
    base = {k: (current or {}).get(k) for k in chosen}
    extra = {"by": m.data["by"]} if "by" in m.data else {}  # identifier.consent says who
    return make(m.kind, m.customer_id, m.target, {"set": chosen, "base": base, **extra}, revision)
