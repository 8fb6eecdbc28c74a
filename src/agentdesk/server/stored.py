"""What a store keeps, whatever its engine: the stored form of records and tokens.

A record is kept as its domain model dumped as JSON (served as is), a deleted one as a
tombstone that holds no personal data, and a token only as its hash. Every engine keeps the
same forms, so feeds, digests and tokens mean the same whichever one serves them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from agentdesk.model.protocol import RecordType, unstorable
from agentdesk.model.work_mutations import why


@dataclass(slots=True)
class Record:
    """One stored record, read back: `data` is its JSON parsed ({} for a bare tombstone)."""

    type: str
    id: str
    customer_id: str
    data: dict[str, Any]
    revision: int
    deleted: bool
    op: str

    @property
    def live(self) -> bool:
        return not self.deleted


def dump(model: BaseModel) -> str:
    """The stored (and served) form of a record: its domain model dumped as JSON."""
    return model.model_dump_json()


def storable_problem(model: BaseModel) -> str | None:
    """Why a record cannot be stored as a desk will read it back, or None."""
    try:
        data = model.model_dump(mode="json")
    except (ValueError, PydanticSerializationError) as error:
        return f"the record cannot be stored ({str(error)[:120]})"
    why = unstorable(data)
    return None if why is None else f"the record cannot be stored: {why}"


def tombstone_body(rec: Record, data: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """What a deleted record keeps. No personal data stays: entries keep only `at` (the desk
    files entries by time), merged customers only `into` (given as `data`), the rest nothing."""
    if data is None and rec.type == RecordType.ENTRY and "at" in rec.data:
        return {"at": rec.data["at"]}
    return data


def token_hash(token: str) -> str:
    """How a bearer token is kept: its SHA-256, so a copy of the store lets no one in."""
    return hashlib.sha256(token.encode()).hexdigest()


def reason(error: ValidationError) -> str:
    """A validation error as one readable line (the validator's own message, no input echo):
    the same line the desk gives for the same refusal (`work_mutations.why`)."""
    return why(error)
