"""How a desk's mutation changes a record, whatever the engine: the store's side of conflicts.

`decide` takes one mutation and the record it targets as the store has it now, and says what
to write (the record's new state, or its deletion) and what to answer. What counts as a
conflict, which fields merge and what is rejected (and why) is decided here, once, so every
engine answers the same; an engine only reads the record, writes what it is told and passes
on `Rejected`. The rules are described for people in `docs/sync-protocol.md`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from agentdesk.model.protocol import (
    Mutation,
    MutationKind,
    MutationResult,
    MutationStatus,
    RecordType,
)
from agentdesk.model.records import (
    ContactPoint,
    Customer,
    Note,
    TimelineEntry,
    parse_instant,
    utcnow,
)
from agentdesk.server.stored import Record, reason, storable_problem

CUSTOMER_FIELDS = ("name", "company", "status", "tags", "source")
CONTACT_FIELDS = ("kind", "value", "label", "primary")
MISSING = object()  # a field the desk's base does not hold (None is a value)


class Rejected(Exception):
    """Nothing is written, the result is `rejected` with this reason."""


@dataclass(frozen=True)
class Decision:
    """What one mutation does: write `write` (the record's new state), or `delete` the record,
    or neither; then it is applied, or a conflict on `conflicts` (the store's value won)."""

    revision: int | None  # the record's revision when nothing is written
    current: dict[str, Any] | None = None  # the store's version, for a conflict
    conflicts: tuple[str, ...] = ()
    write: BaseModel | None = None
    delete: bool = False
    # A record written to another customer too: (customer id, record), the customer named as
    # the desk sent it (the transaction follows merges and refuses one that does not exist).
    moved: tuple[str, BaseModel] | None = None
    # Another record written to the same customer: (its type, the record).
    extra: tuple[RecordType, BaseModel] | None = None

    def result(self, m: Mutation, written: int | None = None) -> MutationResult:
        """The answer to the desk, given the revision the write (if any) got."""
        revision, current = self.revision, self.current
        if written is not None:
            revision = written
            if self.write is not None:
                current = self.write.model_dump(mode="json")
        if self.conflicts:
            return MutationResult(id=m.id, status=MutationStatus.CONFLICT, revision=revision,
                                  current=current, conflicts=list(self.conflicts))
        return MutationResult(id=m.id, status=MutationStatus.APPLIED, revision=revision)


def rejected(m: Mutation, error: Rejected) -> MutationResult:
    return MutationResult(id=m.id, status=MutationStatus.REJECTED, reason=str(error))


def target(m: Mutation, customer_id: str) -> tuple[RecordType, str]:
    """The record a mutation changes. `customer_id` is the mutation's customer with merges
    followed, which is the record a customer.update changes."""
    if m.kind == MutationKind.CUSTOMER_UPDATE:
        return RecordType.CUSTOMER, customer_id
    if m.kind in TARGETS:
        return TARGETS[m.kind](m, customer_id)
    return TARGET_TYPES[m.kind], m.target


def decide(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    """What `m` does to `rec`, its `target` as stored now (None if there never was one).
    The customer (`customer_id`) is known to exist. Raises Rejected."""
    return RULES[m.kind](m, customer_id, rec)


def stamp(made_at: str) -> datetime:
    """When an edit was made: the desk's clock if it sent a usable one (with a zone, in
    range: see records.parse_instant), else ours."""
    try:
        return parse_instant(made_at)
    except ValueError:
        return utcnow()


def validated(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """The record as `model` makes it, and as a desk can file and read it back
    (`protocol.unstorable`): a lone surrogate passed pydantic and made a 500."""
    try:
        record = model.model_validate(data)
    except ValidationError as error:
        raise Rejected(reason(error)) from None
    why = storable_problem(record)
    if why is not None:
        raise Rejected(why)
    return record


def _base(m: Mutation) -> dict[str, Any]:
    """The edit's `base`: an object, or none."""
    base = m.data.get("base")
    if base is None:
        return {}
    if not isinstance(base, dict):
        raise Rejected(f"{m.kind.value} needs data.base to be an object or null")
    return base


def _owned(rec: Record | None, type: RecordType, m: Mutation, customer_id: str) -> None:
    if rec is not None and rec.live and rec.customer_id != customer_id:
        raise Rejected(f"{type.value} {m.target} belongs to another customer")


def _parts(m: Mutation) -> tuple[dict[str, Any], dict[str, Any]]:
    set_, base = m.data.get("set"), _base(m)
    if not isinstance(set_, dict):
        raise Rejected(f"{m.kind.value} needs data.set and data.base objects")
    return set_, base


def _note_add(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    if m.data.get("id", m.target) != m.target:
        raise Rejected("the note's id must equal the mutation's target")
    note = validated(Note, {**m.data, "id": m.target})
    _owned(rec, RecordType.NOTE, m, customer_id)
    if rec is not None:
        if rec.deleted:
            raise Rejected("the note was deleted")
        return Decision(rec.revision)  # the same note again: already there
    return Decision(None, write=note)


def _note_edit(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    set_, base = _parts(m)
    if set(set_) != {"text"} or not isinstance(set_["text"], str):
        raise Rejected("note.edit sets exactly one field: text")
    _owned(rec, RecordType.NOTE, m, customer_id)
    if rec is None or rec.deleted:
        raise Rejected("the note was deleted")
    new, current = set_["text"], rec.data.get("text")
    if current == new:
        return Decision(rec.revision)
    if m.base_revision == rec.revision or base.get("text", MISSING) == current:
        note = validated(Note, {**rec.data, "text": new, "updated": stamp(m.made_at)})
        return Decision(rec.revision, write=note)
    return Decision(rec.revision, rec.data, ("text",))


def _note_delete(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    _owned(rec, RecordType.NOTE, m, customer_id)
    base = _base(m)
    if rec is None or rec.deleted:
        return Decision(rec.revision if rec else None)
    unconditional = m.base_revision is None and "text" not in base
    if unconditional or m.base_revision == rec.revision or base.get("text", MISSING) == rec.data.get("text"):
        return Decision(rec.revision, delete=True)
    return Decision(rec.revision, rec.data, ("text",))


def _customer_update(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    set_, base = _parts(m)
    unknown = sorted(set(set_) - set(CUSTOMER_FIELDS))
    if unknown:
        raise Rejected(f"customer.update cannot set: {', '.join(unknown)}")
    assert rec is not None and rec.live
    wanted = validated(Customer, {**rec.data, **set_}).model_dump(mode="json")
    if "name" in set_ and not wanted["name"].strip():
        raise Rejected("name: a customer needs a name")
    return _field_merge(m, rec, Customer, set_, base, wanted, extra={"updated": stamp(m.made_at)})


def _contact_upsert(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    set_, base = m.data.get("set"), m.data.get("base")
    if not isinstance(set_, dict) or not (base is None or isinstance(base, dict)):
        raise Rejected("contact.upsert needs data.set (a contact) and data.base (a contact or null)")
    if set_.get("id", m.target) != m.target:
        raise Rejected("the contact's id must equal the mutation's target")
    wanted = validated(ContactPoint, {**set_, "id": m.target}).model_dump(mode="json")
    _owned(rec, RecordType.CONTACT, m, customer_id)
    if rec is None or rec.deleted:
        if base is not None or rec is not None:
            return Decision(rec.revision if rec else None, None, ("deleted",))
        return Decision(None, write=ContactPoint.model_validate(wanted))
    fields = {f: wanted[f] for f in CONTACT_FIELDS if f in set_}
    return _field_merge(m, rec, ContactPoint, fields, base, wanted)


def _contact_delete(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    _owned(rec, RecordType.CONTACT, m, customer_id)
    base = m.data.get("base")
    if base is not None and not isinstance(base, dict):
        raise Rejected("contact.delete needs data.base to be an object or null")
    if rec is None or rec.deleted:
        return Decision(rec.revision if rec else None)
    changed = ([f for f in CONTACT_FIELDS if base.get(f) != rec.data.get(f)]
               if isinstance(base, dict) else [])
    if (m.base_revision == rec.revision or (isinstance(base, dict) and not changed)
            or (base is None and m.base_revision is None)):
        return Decision(rec.revision, delete=True)
    return Decision(rec.revision, rec.data, tuple(changed or ["revision"]))


def _field_merge(m: Mutation, rec: Record, model: type[BaseModel], set_: dict[str, Any],
                 base: dict[str, Any] | None, wanted: dict[str, Any],
                 extra: dict[str, Any] | None = None) -> Decision:
    """Field by field: a field is written when the store still has the value the edit was
    based on (or already has the new one); otherwise the store's value wins (a conflict)."""
    merged, conflicts = dict(rec.data), []
    for field in set_:
        new, current = wanted[field], rec.data.get(field)
        if new == current:
            continue
        based = (base.get(field, MISSING) == current) if base is not None and field in base \
            else m.base_revision == rec.revision
        if based:
            merged[field] = new
        else:
            conflicts.append(field)
    write = validated(model, {**merged, **(extra or {})}) if merged != rec.data else None
    return Decision(rec.revision, rec.data, tuple(conflicts), write=write)


def _feedback(m: Mutation, customer_id: str, rec: Record | None) -> Record:
    """The feedback entry a feedback mutation targets, live and this customer's."""
    _owned(rec, RecordType.ENTRY, m, customer_id)
    if rec is None or rec.deleted:
        raise Rejected("the feedback item is no longer in this customer's timeline")
    if rec.data.get("kind") != "feedback":
        raise Rejected(f"{m.kind.value} applies to feedback items only")
    return rec


def _feedback_reassign(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    to, new_id = m.data.get("to"), m.data.get("new_id")
    if not isinstance(to, str) or not 0 < len(to) <= 128:
        raise Rejected("feedback.reassign needs data.to, the customer to assign the item to")
    if not isinstance(new_id, str) or not 0 < len(new_id) <= 128 or new_id == m.target:
        raise Rejected("feedback.reassign needs data.new_id, a new id for the item")
    found = _feedback(m, customer_id, rec)
    if to == customer_id:
        raise Rejected("the feedback item is this customer's already")
    moved = validated(TimelineEntry, {**found.data, "id": new_id})
    return Decision(found.revision, delete=True, moved=(to, moved))


def _feedback_unlink(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    found = _feedback(m, customer_id, rec)
    return Decision(found.revision, delete=True)


RESPONSE_FIELDS = {"ignored": bool, "tags": list}


def _response_update(m: Mutation, customer_id: str, rec: Record | None) -> Decision:
    """Field by field within the response's details, as `_field_merge` does for records."""
    set_, base = _parts(m)
    if not set_ or any(k not in RESPONSE_FIELDS or not isinstance(v, RESPONSE_FIELDS[k])
                       for k, v in set_.items()):
        raise Rejected("response.update sets ignored (true/false) and/or tags (a list)")
    _owned(rec, RecordType.ENTRY, m, customer_id)
    if rec is None or rec.deleted:
        raise Rejected("the response is no longer in this customer's timeline")
    if rec.data.get("kind") != "response":
        raise Rejected("response.update applies to survey responses only")
    details = dict(rec.data.get("details") or {})
    merged, conflicts = dict(details), []
    for name, new in set_.items():
        current = details.get(name)
        if new == current:
            continue
        if (base.get(name, MISSING) == current) if name in base else m.base_revision == rec.revision:
            merged[name] = new
        else:
            conflicts.append(name)
    write = validated(TimelineEntry, {**rec.data, "details": merged}) if merged != details else None
    return Decision(rec.revision, rec.data, tuple(conflicts), write=write)


TARGET_TYPES = {
    MutationKind.NOTE_ADD: RecordType.NOTE,
    MutationKind.NOTE_EDIT: RecordType.NOTE,
    MutationKind.NOTE_DELETE: RecordType.NOTE,
    MutationKind.CONTACT_UPSERT: RecordType.CONTACT,
    MutationKind.CONTACT_DELETE: RecordType.CONTACT,
    MutationKind.FEEDBACK_REASSIGN: RecordType.ENTRY,
    MutationKind.FEEDBACK_UNLINK: RecordType.ENTRY,
    MutationKind.RESPONSE_UPDATE: RecordType.ENTRY,
}
# Kinds whose record is found from the mutation's data rather than its target (a field by its
# key); `profile_data_rules` adds its kinds to these tables.
TARGETS: dict[MutationKind, Callable[[Mutation, str], tuple[RecordType, str]]] = {}
RULES = {
    MutationKind.NOTE_ADD: _note_add,
    MutationKind.NOTE_EDIT: _note_edit,
    MutationKind.NOTE_DELETE: _note_delete,
    MutationKind.CUSTOMER_UPDATE: _customer_update,
    MutationKind.CONTACT_UPSERT: _contact_upsert,
    MutationKind.CONTACT_DELETE: _contact_delete,
    MutationKind.FEEDBACK_REASSIGN: _feedback_reassign,
    MutationKind.FEEDBACK_UNLINK: _feedback_unlink,
    MutationKind.RESPONSE_UPDATE: _response_update,
}
