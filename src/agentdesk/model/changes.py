"""Checking one change of the store's feed before anything is filed (no I/O).

A change is an envelope (`seq`, `op`, `type`, `id`, `customer_id`, `revision`) and, for an
upsert, the record (`data`), checked against its domain model. A change that fails is a
`BadRecord` with a reason an agent can read; the sync skips it and files the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, NamedTuple

from typing_extensions import NotRequired, TypedDict

from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config

from agentdesk.model.protocol import UNREADABLE, ChangeOp, RecordType
from agentdesk.model.records import RECORD_MODELS, Model


class BadRecord(ValueError):
    """A record from the store that fails validation: skipped, with this reason."""


class Rec(NamedTuple):
    """A checked change (protocol.Change's fields, without building a pydantic object). A
    tuple: a first sync's spool writes and reads 300,000 of them (`tuple(rec)`, `Rec._make`)."""

    seq: int
    op: str  # a ChangeOp value
    type: str  # a RecordType value
    id: str
    customer_id: str
    revision: int
    data: dict[str, Any] | None


def reason(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(x) for x in first.get("loc", ())) or "record"
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def fields_validator(model: type[Model]) -> Callable[[Any], Any]:
    """Validate data against a model's fields without making the model object.

    The replica stores the dicts it receives, not models: making (and dropping) a model object
    for each of a first sync's 300,000 records was half of the validation's cost. So the fields
    are checked as a TypedDict of the same annotations (pydantic's public TypeAdapter). A model
    with model-level validators (ContactPoint normalizes its value) is validated whole.
    """
    if model.__pydantic_decorators__.model_validators:
        return model.model_validate
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[name] = kind if info.is_required() else NotRequired[kind]
    shape = with_config(ConfigDict(extra="allow"))(TypedDict(f"{model.__name__}Fields", fields))  # type: ignore[operator]
    return TypeAdapter(shape).validate_python


# Plain strings (equal to the enum members): this runs per record, and an enum member's
# `.value` is a Python-level property.
_OPS = {op.value: op.value for op in ChangeOp}
_TYPES = {t.value: t.value for t in RecordType}
_validators: dict[str, Callable[[Any], Any]] = {}
UPSERT, DELETE, MERGE = ChangeOp.UPSERT.value, ChangeOp.DELETE.value, ChangeOp.MERGE.value
EVICT, INCLUDE = ChangeOp.EVICT.value, ChangeOp.INCLUDE.value
ENTRY, CUSTOMER = RecordType.ENTRY.value, RecordType.CUSTOMER.value


def _validator(kind: str) -> Callable[[Any], Any]:
    """The check of a record type's fields (built on first use: the models defer_build)."""
    found = _validators.get(kind)
    if found is None:
        found = _validators[kind] = fields_validator(RECORD_MODELS[kind])
    return found


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _envelope(raw: Any) -> Rec:
    """The change's own fields, checked by hand: this runs 300,000 times in a first sync and
    pydantic would validate the record's data a second time (it is checked against its
    domain model next). The common case is one test; a change failing it is looked at again
    field by field, for the reason."""
    if type(raw) is dict and UNREADABLE not in raw:
        seq, revision, rid, cid = raw.get("seq"), raw.get("revision"), raw.get("id"), raw.get("customer_id")
        op, kind, data = _OPS.get(raw.get("op")), _TYPES.get(raw.get("type")), raw.get("data")
        if (type(seq) is int and type(revision) is int and type(rid) is str and type(cid) is str
                and 0 < len(rid) <= 128 and 0 < len(cid) <= 128 and op is not None
                and kind is not None and (data is None or type(data) is dict)):
            return Rec(seq, op, kind, rid, cid, revision, data)
    return _envelope_checked(raw)


def _envelope_checked(raw: Any) -> Rec:
    if not isinstance(raw, dict):
        raise BadRecord(f"a change that is not an object: {type(raw).__name__}")
    if UNREADABLE in raw:  # see sync.client._loads
        raise BadRecord(str(raw[UNREADABLE]))
    label = str(raw.get("id", "?"))[:60]
    for name in ("seq", "revision"):
        if type(raw.get(name)) is not int:
            raise BadRecord(f"change {label}: {name}: must be an integer")
    for name in ("id", "customer_id"):
        value = raw.get(name)
        if not isinstance(value, str) or not 1 <= len(value) <= 128:
            raise BadRecord(f"change {label}: {name}: must be a string of 1 to 128 characters")
    op, kind, data = _OPS.get(raw.get("op")), _TYPES.get(raw.get("type")), raw.get("data")
    if op is None:
        raise BadRecord(f"change {label}: op: unknown operation {raw.get('op')!r:.30}")
    if kind is None:
        raise BadRecord(f"change {label}: type: unknown record type {raw.get('type')!r:.30}")
    if data is not None and not isinstance(data, dict):
        raise BadRecord(f"change {label}: data: must be an object")
    return Rec(raw["seq"], op, kind, str(raw["id"]), str(raw["customer_id"]), raw["revision"], data)


def _bad(change: Rec, why: str) -> BadRecord:
    label = f"{change.type} {change.id!s:.60} of customer {change.customer_id!s:.60}"
    return BadRecord(f"{label}: {why}")


def validate(raw: Any) -> Rec:
    """One change from the feed, checked: its envelope, and its record against the model."""
    change = _envelope(raw)
    op, data = change.op, change.data
    if op == UPSERT:
        if data is None:
            raise _bad(change, "an upsert without data")
        try:
            _validator(change.type)(data)
        except ValidationError as error:
            raise _bad(change, reason(error)) from None
        if data.get("id") != change.id:
            raise _bad(change, f"data is for id {data.get('id')!r:.60}")
        if change.type == CUSTOMER and change.id != change.customer_id:
            raise _bad(change, "a customer record filed under another customer")
    elif op == DELETE and change.type == ENTRY:
        try:
            parse_time((data or {}).get("at"))
        except (TypeError, ValueError):
            raise _bad(change, "an entry tombstone without its time") from None
    elif op == MERGE:
        into = (data or {}).get("into")
        if not isinstance(into, str) or not into or into == change.id:
            raise _bad(change, "a merge without a valid target customer")
    return change
