"""Agent edits as protocol mutations, and their effect on a profile's tables.

An edit is made once as a `Mutation` (with a client-made idempotency id and the revision and
values it was based on), queued in the outbox, and applied to the local copy with `apply`.
The same function re-applies still-pending edits on top of fresh data from the store, and
`revert` undoes one the store rejected, so the local copy always reads "store + my pending
edits".
"""

from __future__ import annotations

from typing import Any

from agentdesk.cache import tables as t
from agentdesk.model.records import new_id, utcnow
from agentdesk.model.protocol import Mutation, MutationKind

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


def apply(tables: t.Tables, m: Mutation) -> None:
    """Make the edit on the local copy (idempotent: applying twice changes nothing more)."""
    data = m.data
    match m.kind:
        case MutationKind.NOTE_ADD:
            t.put(tables, "notes", dict(data))
        case MutationKind.NOTE_EDIT:
            note = t.find(tables, "notes", m.target)
            if note is not None:
                note.update(data.get("set", {}))
                if m.made_at:
                    note["updated"] = _json_time(m.made_at)
        case MutationKind.NOTE_DELETE | MutationKind.CONTACT_DELETE:
            t.remove(tables, _table(m), m.target)
        case MutationKind.CUSTOMER_UPDATE:
            doc = t.customer(tables)
            if doc is not None:
                doc.update(data.get("set", {}))
        case MutationKind.CONTACT_UPSERT:
            t.put(tables, "contacts", dict(data.get("set", {})))


def revert(tables: t.Tables, m: Mutation) -> None:
    """Undo the edit on the local copy (the store rejected it)."""
    base = m.data.get("base")
    match m.kind:
        case MutationKind.NOTE_ADD:
            t.remove(tables, "notes", m.target)
        case MutationKind.NOTE_EDIT:
            note = t.find(tables, "notes", m.target)
            if note is not None and base:
                note.update(base)
        case MutationKind.CUSTOMER_UPDATE:
            doc = t.customer(tables)
            if doc is not None and base:
                doc.update(base)
        case MutationKind.NOTE_DELETE | MutationKind.CONTACT_DELETE | MutationKind.CONTACT_UPSERT:
            if base:
                t.put(tables, _table(m), dict(base))
            else:
                t.remove(tables, _table(m), m.target)


def _table(m: Mutation) -> str:
    return "notes" if m.kind.startswith("note.") else "contacts"


def _json_time(iso: str) -> str:
    return iso.replace("+00:00", "Z")


def reapply(m: Mutation, current: dict[str, Any] | None, revision: int | None,
            fields: list[str]) -> Mutation:
    """A new mutation re-applying the agent's values of conflicting fields on the store's
    current version (the agent chose "keep mine" on a conflict)."""
    mine = m.data.get("set", {})
    if m.kind in (MutationKind.NOTE_ADD,):
        return make(m.kind, m.customer_id, m.target, m.data, None)
    if m.kind in (MutationKind.NOTE_DELETE, MutationKind.CONTACT_DELETE):
        return make(m.kind, m.customer_id, m.target, {"base": current}, revision)
    if m.kind == MutationKind.CONTACT_UPSERT:
        merged = {**(current or {}), **{k: mine[k] for k in mine if k in fields or current is None}}
        return make(m.kind, m.customer_id, m.target, {"set": merged, "base": current}, revision)
    chosen = {k: mine[k] for k in fields if k in mine} or dict(mine)
    base = {k: (current or {}).get(k) for k in chosen}
    return make(m.kind, m.customer_id, m.target, {"set": chosen, "base": base}, revision)
