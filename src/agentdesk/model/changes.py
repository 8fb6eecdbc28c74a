"""Checking one change of the store's feed before anything is filed (no I/O).

A change is an envelope (`seq`, `op`, `type`, `id`, `customer_id`, `revision`) and, for an
upsert, the record (`data`), checked against its domain model. A change that fails is a
`BadRecord` with a reason an agent can read; the sync skips it and files the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, NamedTuple

from typing_extensions import NotRequired, TypedDict

from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config

from agentdesk.model.protocol import UNREADABLE, ChangeOp, RecordType
from agentdesk.model.sanitize import clean_line
from agentdesk.model.records import RECORD_CHECKS, RECORD_MODELS, Model, parse_instant

_CHECKED_MODELS = {RECORD_MODELS[kind] for kind in RECORD_CHECKS}


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
    """The first problem as one line: where, and the validator's own words (never the value)."""
    first = error.errors()[0]
    where = ".".join(str(x) for x in first.get("loc", ())) or "record"
    ctx = first.get("ctx") or {}
    message = str(ctx["error"]) if first.get("type") == "value_error" and "error" in ctx \
        else first.get("msg", "invalid")
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {message}{more}"


def fields_validator(model: type[Model]) -> Callable[[Any], Any]:
    """Validate data against a model's fields without making the model object.

    The replica stores the dicts it receives, not models: making (and dropping) a model object
    for each of a first sync's 300,000 records was half of the validation's cost. So the fields
    are checked as a TypedDict of the same annotations (pydantic's public TypeAdapter). A model
    with model-level validators (ContactPoint normalizes its value) is validated whole, unless
    its check across fields is in `RECORD_CHECKS` (entries: made by `validate` after this).
    """
    if model.__pydantic_decorators__.model_validators and model not in _CHECKED_MODELS:
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
CONVERSATION = RecordType.CONVERSATION.value


def _validator(kind: str) -> Callable[[Any], Any]:
    """The check of a record type's fields (built on first use: the models defer_build)."""
    found = _validators.get(kind)
    if found is None:
        found = _validators[kind] = fields_validator(RECORD_MODELS[kind])
    return found


MAX_INT = 2**63 - 1  # what a store's integer column (and a cache file) holds
MAX_ID = 128


def _label(raw: dict[str, Any]) -> str:
    """The change's id for a message, whatever it is (no control character survives)."""
    value = raw.get("id", "?")
    return clean_line(value[:60]) if isinstance(value, str) else repr(value)[:60]


def _envelope(raw: Any) -> Rec:
    """The change's own fields, checked by hand: this runs 300,000 times in a first sync and
    pydantic would validate the record's data a second time (it is checked against its
    domain model next). The common case is one test; a change failing it is looked at again
    field by field, for the reason. Total: whatever `raw` is, a Rec or a BadRecord."""
    if type(raw) is dict and UNREADABLE not in raw:
        seq, revision, rid, cid = raw.get("seq"), raw.get("revision"), raw.get("id"), raw.get("customer_id")
        op, kind, data = raw.get("op"), raw.get("type"), raw.get("data")
        if (type(seq) is int and type(revision) is int and type(rid) is str and type(cid) is str
                and type(op) is str and type(kind) is str
                and 0 < seq <= MAX_INT and 0 <= revision <= MAX_INT
                and 0 < len(rid) <= MAX_ID and 0 < len(cid) <= MAX_ID
                and op in _OPS and kind in _TYPES and (data is None or type(data) is dict)):
            return Rec(seq, _OPS[op], _TYPES[kind], rid, cid, revision, data)
    return _envelope_checked(raw)


def _envelope_checked(raw: Any) -> Rec:
    if not isinstance(raw, dict):
        raise BadRecord(f"a change that is not an object: {type(raw).__name__}")
    if UNREADABLE in raw:  # see sync.client._loads
        raise BadRecord(str(raw[UNREADABLE])[:300])
    label = _label(raw)
    for name, low in (("seq", 1), ("revision", 0)):
        value = raw.get(name)
        if type(value) is not int or not low <= value <= MAX_INT:
            raise BadRecord(f"change {label}: {name}: must be an integer from {low} to 2^63-1")
    for name in ("id", "customer_id"):
        value = raw.get(name)
        if type(value) is not str or not 1 <= len(value) <= MAX_ID:
            raise BadRecord(f"change {label}: {name}: must be a string of 1 to {MAX_ID} characters")
    op, kind, data = raw.get("op"), raw.get("type"), raw.get("data")
    if type(op) is not str or op not in _OPS:
        raise BadRecord(f"change {label}: op: unknown operation {op!r:.30}")
    if type(kind) is not str or kind not in _TYPES:
        raise BadRecord(f"change {label}: type: unknown record type {kind!r:.30}")
    if data is not None and type(data) is not dict:
        raise BadRecord(f"change {label}: data: must be an object or null")
    return Rec(raw["seq"], _OPS[op], _TYPES[kind], raw["id"], raw["customer_id"],
               raw["revision"], data)


def _bad(change: Rec, why: str) -> BadRecord:
    label = f"{change.type} {clean_line(change.id[:60])} of customer {clean_line(change.customer_id[:60])}"
    return BadRecord(f"{label}: {why}")


def _fields(kind: str) -> tuple[frozenset[str], dict[str, Any]]:
    """A record type's field names, and the fields a record may leave out with their stored
    (JSON) defaults."""
    found = _FIELDS.get(kind)
    if found is None:
        from pydantic_core import to_jsonable_python

        model = RECORD_MODELS[kind]
        # (An empty list or object is a fixed default too: an entry's `details`, which a store
        # written before entries had kinds does not send.)
        defaults = {name: to_jsonable_python(info.default if info.default_factory is None
                                             else info.default_factory())  # type: ignore[call-arg]
                    for name, info in model.model_fields.items()
                    if not info.is_required()
                    and info.default_factory in (None, dict, list)}
        found = _FIELDS[kind] = (frozenset(model.model_fields), defaults)
    return found


_FIELDS: dict[str, tuple[frozenset[str], dict[str, Any]]] = {}


def _complete(change: Rec) -> Rec:
    """The record with every field of its model: one the store sent without a field that has
    a default gets it, so the desk never reads a record without a field it draws. A field
    whose default is made when a record is (an id, a time) must be sent."""
    data = change.data
    assert data is not None
    names, defaults = _fields(change.type)
    if data.keys() >= names:  # what every store sends: all of them
        return change
    missing = names - data.keys() - defaults.keys()
    if missing:
        raise _bad(change, f"{', '.join(sorted(missing))}: a required field is missing")
    return change._replace(data={**{k: v for k, v in defaults.items() if k not in data}, **data})


def _checked_id(change: Rec, value: Any, what: str) -> str:
    if type(value) is not str or not 1 <= len(value) <= MAX_ID:
        raise _bad(change, f"{what}: must be a customer id (a string of 1 to {MAX_ID} characters)")
    return value


def validate(raw: Any) -> Rec:
    """One change from the feed, checked: its envelope, and its record against the model.
    What passes can be filed and read back; anything else raises BadRecord, never another
    exception."""
    change = _envelope(raw)
    op, data = change.op, change.data
    if op == UPSERT:
        if data is None:
            raise _bad(change, "an upsert without data")
        try:
            _validator(change.type)(data)
        except ValidationError as error:
            raise _bad(change, reason(error)) from None
        check = RECORD_CHECKS.get(change.type)
        if check is not None and (why := check(data)):
            raise _bad(change, why)
        if data.get("id") != change.id:
            raise _bad(change, "data: is for another id")
        if change.type == CUSTOMER and change.id != change.customer_id:
            raise _bad(change, "a customer record filed under another customer")
        return _complete(change)
    if change.type == CUSTOMER and change.id != change.customer_id:
        raise _bad(change, f"a customer {op} filed under another customer")
    if op == DELETE and change.type == ENTRY:
        try:
            parse_instant((data or {}).get("at"))
        except ValueError as error:
            raise _bad(change, f"an entry tombstone without its time (at: {error})") from None
    elif op in (MERGE, EVICT, INCLUDE) and change.type != CUSTOMER:
        raise _bad(change, f"{op} is for customers, not for {change.type} records")
    elif op == MERGE:
        into = _checked_id(change, (data or {}).get("into"), "data.into")
        if into == change.id:
            raise _bad(change, "a customer merged into itself")
    return change
