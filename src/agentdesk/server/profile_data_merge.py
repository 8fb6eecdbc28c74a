"""Where the source priority rule meets the store's writes: a field sent by API or an
integration joins the values the store holds, and two customers merged (by e-mail, say)
keep one field per key, one identifier per address, one subscription per list.

Used by `transaction` (every engine): the rule itself is `model.fields.fold`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agentdesk.model.fields import Field, field_id, fold
from agentdesk.model.protocol import RecordType
from agentdesk.server.store import StoreError
from agentdesk.server.stored import Record, dump, reason

if TYPE_CHECKING:
    from agentdesk.server.transaction import Transaction


def incoming_field(tx: Transaction, record: dict[str, Any], customer_id: str) -> dict[str, Any]:
    """A field to write (from the API or an integration) as it is stored afterwards: under its
    customer's id for its key, its values folded into those the store has (each source keeps
    one value; the rule orders them). The record's type, group and label are the sender's;
    an older value that no longer fits the type is dropped."""
    try:
        new = Field.model_validate({**record, "id": record.get("id") or "new"})
    except ValidationError as error:
        raise StoreError(reason(error)) from None
    fid = field_id(customer_id, new.key)
    old = tx.get(RecordType.FIELD, fid)
    values = new.values
    if old is not None and old.live:
        kept = []
        for v in Field.model_validate(old.data).values:
            try:
                Field.model_validate({**new.model_dump(), "values": [v]})
            except ValidationError:
                continue  # of another type than the field has now
            kept.append(v)
        values = fold(kept, new.values)
    return {**new.model_dump(mode="json"), "id": fid,
            "values": [v.model_dump(mode="json") for v in values]}


def fold_into(tx: Transaction, from_id: str, into_id: str, records: list[Record]) -> list[Record]:
    """Before `from_id`'s records move into `into_id`: fields the two share become one (the
    rule picks the winner), identifiers with the same value and subscriptions or segments
    with the same name are kept once. Returns the records left to move as they are."""
    mine = [r for r in tx.records_of(into_id)
            if r.type in (RecordType.IDENTIFIER, RecordType.SUBSCRIPTION, RecordType.SEGMENT)]
    seen = {_identity(r) for r in mine}
    rest: list[Record] = []
    for rec in records:
        if rec.type == RecordType.FIELD:
            _move_field(tx, rec, into_id)
        elif rec.type in (RecordType.IDENTIFIER, RecordType.SUBSCRIPTION, RecordType.SEGMENT) \
                and _identity(rec) in seen:
            if rec.type == RecordType.IDENTIFIER:
                _keep_newest(tx, rec, next(r for r in mine if _identity(r) == _identity(rec)))
            tx.tombstone(rec)
        else:
            rest.append(rec)
    return rest


def _identity(rec: Record) -> tuple[str, str, str]:
    if rec.type == RecordType.IDENTIFIER:
        return (rec.type, str(rec.data.get("kind")), str(rec.data.get("value", "")).casefold())
    return (rec.type, str(rec.data.get("kind", "")), str(rec.data.get("name", "")).casefold())


def _move_field(tx: Transaction, rec: Record, into_id: str) -> None:
    """The field under `into_id`'s id for its key, its values folded with any there."""
    moved = Field.model_validate(rec.data)
    fid = field_id(into_id, moved.key)
    there = tx.get(RecordType.FIELD, fid)
    values = moved.values
    if there is not None and there.live:
        values = fold(Field.model_validate(there.data).values,
                      [v for v in moved.values if _fits(there.data, v)])
        moved = Field.model_validate({**there.data, "values": [v.model_dump() for v in values]})
    else:
        moved = moved.model_copy(update={"id": fid})
    tx.tombstone(rec)
    tx.put(RecordType.FIELD, fid, into_id, dump(Field.model_validate(moved.model_dump())))


def _fits(data: dict[str, Any], value: Any) -> bool:
    try:
        Field.model_validate({**data, "values": [value.model_dump()]})
    except ValidationError:
        return False
    return True


def _keep_newest(tx: Transaction, gone: Record, kept: Record) -> None:
    """Two records of one identifier: the one kept takes the other's news (seen later, an
    opt-out, a blacklisting...) where it has none."""
    data = dict(kept.data)
    changed = False
    for name, value in gone.data.items():
        if name in ("id", "kind", "value") or value in (None, "", True):
            continue
        if name == "last_seen" and data.get(name) and data[name] >= value:
            continue
        if name == "consent" and value == "unknown":
            continue
        if data.get(name) in (None, "", True, "unknown") or name == "last_seen":
            data[name], changed = value, True
    if changed:
        from agentdesk.model.identifiers import Identifier

        tx.put(RecordType.IDENTIFIER, kept.id, kept.customer_id,
               dump(Identifier.model_validate(data)))


def merge_by_email(tx: Transaction, email: str) -> tuple[str, list[str]]:
    """Merge every customer with `email` (a contact point or an identifier) into the one
    made first; returns (the customer kept, the customers merged into it)."""
    wanted = email.strip().casefold()
    if "@" not in wanted:
        raise StoreError("merge by e-mail needs an e-mail address")
    found = {tx.resolve(c) for c in tx.customers_with_email(wanted)}
    customers = sorted((c for c in (tx.customer(i) for i in found) if c is not None),
                       key=lambda c: (str(c.data.get("created", "")), c.id))
    if len(customers) < 2:
        raise StoreError(f"fewer than two customers have that e-mail ({len(customers)})")
    into = customers[0].id
    for other in customers[1:]:
        tx.merge(other.id, into)
    return into, [c.id for c in customers[1:]]
