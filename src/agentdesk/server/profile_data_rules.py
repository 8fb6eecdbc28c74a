"""How a desk's edits of fields, identifiers and subscriptions change the store's records.

Registered into `mutation_rules` (its `RULES`, `TARGET_TYPES`, `TARGETS`) when imported, as
`transaction` does; the conflict rules are the same as for the other records (field by field,
against the value the edit was based on). A field's values from other sources are never
touched by a desk: the desk's value joins them and the priority rule (`model.fields`) orders
them, so the winner is the desk's.
"""

from __future__ import annotations

from typing import Any

from agentdesk.model.fields import Field, FieldValue, field_id, fold
from agentdesk.model.identifiers import Identifier, Subscription
from agentdesk.model.profile_kinds import FieldSource
from agentdesk.model.protocol import Mutation, MutationKind, RecordType
from agentdesk.server import mutation_rules as rules
from agentdesk.server.mutation_rules import MISSING, Decision, Rejected, stamp, validated
from agentdesk.server.stored import Record


def _field_target(m: Mutation, customer_id: str) -> tuple[RecordType, str]:
    """A field is found by its key in the customer it lives in now (merges followed)."""
    key = m.data.get("key")
    if not isinstance(key, str) or not key.strip():
        return RecordType.FIELD, m.target  # refused by the rule, with a reason
    return RecordType.FIELD, field_id(customer_id, key.strip())


def _desk_value(data: dict[str, Any] | None) -> Any:
    """The desk's value in a stored field, or MISSING."""
    for v in (data or {}).get("values", []):
        if v.get("source") == FieldSource.DESK.value:
            return v.get("value")
    return MISSING


def _field_set(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    data = m.data
    key, base = data.get("key"), data.get("base")
    if not isinstance(key, str) or "value" not in data:
        raise Rejected("field.set needs data.key and data.value")
    if base is not None and not isinstance(base, dict):
        raise Rejected("field.set needs data.base to be an object or null")
    live = rec is not None and rec.live
    if live and rec.customer_id != customer_id:
        raise Rejected(f"field {rec.id} belongs to another customer")
    mine = validated(FieldValue, {"value": data["value"], "source": FieldSource.DESK.value,
                                  "by": str(data.get("by", ""))[:200], "at": stamp(m.made_at)})
    assert isinstance(mine, FieldValue)
    fid = field_id(customer_id, key.strip())
    if not live:
        if base is not None:  # the agent changed a field that was removed meanwhile
            return Decision(rec.revision if rec else None, None, ("deleted",))
        shape = {k: data[k] for k in ("type", "group", "label") if k in data}
        return Decision(None, write=validated(Field, {**shape, "id": fid, "key": key,
                                                      "values": [mine.model_dump(mode="json")]}))
    assert rec is not None
    current = _desk_value(rec.data)
    if current == data["value"]:
        return Decision(rec.revision)
    based = (base or {}).get("value", MISSING) == current if base is not None else current is MISSING
    if not based and m.base_revision != rec.revision:
        return Decision(rec.revision, rec.data, ("value",))
    old = Field.model_validate(rec.data)
    shape = {k: data[k] for k in ("label",) if k in data and data[k]}
    return Decision(rec.revision, write=validated(Field, {
        **rec.data, **shape,
        "values": [v.model_dump(mode="json") for v in fold(old.values, [mine])]}))


def _field_remove(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    if rec is None or rec.deleted:
        return Decision(rec.revision if rec else None)
    if rec.customer_id != customer_id:
        raise Rejected(f"field {rec.id} belongs to another customer")
    base = m.data.get("base")
    if base is not None and not isinstance(base, dict):
        raise Rejected("field.remove needs data.base to be an object or null")
    same = isinstance(base, dict) and base.get("values") == rec.data.get("values")
    if same or m.base_revision == rec.revision or (base is None and m.base_revision is None):
        return Decision(rec.revision, delete=True)
    return Decision(rec.revision, rec.data, ("values",))


def _identifier_consent(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    set_, base = m.data.get("set"), m.data.get("base")
    if not isinstance(set_, dict) or set(set_) != {"consent"}:
        raise Rejected("identifier.consent sets exactly one field: consent")
    if base is not None and not isinstance(base, dict):
        raise Rejected("identifier.consent needs data.base to be an object or null")
    if rec is None or rec.deleted:
        raise Rejected("the identifier no longer exists")
    if rec.customer_id != customer_id:
        raise Rejected(f"identifier {m.target} belongs to another customer")
    wanted = validated(Identifier, {**rec.data, **set_}).model_dump(mode="json")
    extra = {"consent_at": stamp(m.made_at), "consent_by": str(m.data.get("by", ""))[:200]}
    return rules._field_merge(m, rec, Identifier, set_, base, wanted, extra=extra)


def _subscription_add(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    if m.data.get("id", m.target) != m.target:
        raise Rejected("the subscription's id must equal the mutation's target")
    sub = validated(Subscription, {**m.data, "id": m.target})
    if rec is not None:
        if rec.customer_id != customer_id and rec.live:
            raise Rejected(f"subscription {m.target} belongs to another customer")
        if rec.live:
            return Decision(rec.revision)  # the same add again
    return Decision(rec.revision if rec else None, write=sub)


def _subscription_remove(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    if rec is None or rec.deleted:
        return Decision(rec.revision if rec else None)
    if rec.customer_id != customer_id:
        raise Rejected(f"subscription {m.target} belongs to another customer")
    return Decision(rec.revision, delete=True)


TARGET_TYPES = {
    MutationKind.FIELD_SET: RecordType.FIELD,
    MutationKind.FIELD_REMOVE: RecordType.FIELD,
    MutationKind.IDENTIFIER_CONSENT: RecordType.IDENTIFIER,
    MutationKind.SUBSCRIPTION_ADD: RecordType.SUBSCRIPTION,
    MutationKind.SUBSCRIPTION_REMOVE: RecordType.SUBSCRIPTION,
}
RULES = {
    MutationKind.FIELD_SET: _field_set,
    MutationKind.FIELD_REMOVE: _field_remove,
    MutationKind.IDENTIFIER_CONSENT: _identifier_consent,
    MutationKind.SUBSCRIPTION_ADD: _subscription_add,
    MutationKind.SUBSCRIPTION_REMOVE: _subscription_remove,
}
rules.TARGET_TYPES.update(TARGET_TYPES)
rules.RULES.update(RULES)
rules.TARGETS[MutationKind.FIELD_SET] = _field_target
