"""The base of every domain model, and the times and ids records hold (no I/O).

Apart from `records` so the modules of newer kinds of profile data (`fields`, `identifiers`)
build on it without importing `records`, which lists them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]


# The times a record may hold: a day inside what Python's datetime can represent, so every
# one of them can be shifted to any time zone (for display, for comparing two of them) and
# written back. Outside it, comparing or converting raised OverflowError in the desk.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


_fromisoformat = datetime.fromisoformat


def parse_instant(value: Any) -> datetime:
    """A stored or received time as the desk reads it back (`datetime.fromisoformat`, as
    `model.views` does), refused unless it names its zone and lies in EARLIEST..LATEST.

    Only ISO 8601 text (or a datetime) is taken: pydantic alone would also read `0` or
    "1717236000" as a Unix time and a bare "2024-06-01" as midnight without a zone, and the
    cache keeps the text as received, which the desk then could not read (or compare).
    """
    if type(value) is str:
        try:
            when = _fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 date and time") from None
        if when.tzinfo is not None and 1 < when.year < 9999:  # the common case, first: a
            return when  # fixed offset, and any zone's shift of it stays in range
    elif isinstance(value, datetime):
        when = value
    else:
        raise ValueError(f"a date and time must be ISO 8601 text, not {type(value).__name__}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("a date and time needs its time zone (e.g. Z or +02:00)")
    if 1 < when.year < 9999:  # any zone's shift stays inside: the common case, no comparing
        return when
    try:
        in_range = EARLIEST <= when <= LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError("a date and time out of range (years 1 to 9999, UTC)")
    return when


# Every time in a record: aware, in range, and readable the way the desk reads it back.
Instant = Annotated[datetime, BeforeValidator(parse_instant)]


def new_id(prefix: str) -> str:
    """A client-made id: unique without asking a server, so a retried create never duplicates."""
    return f"{prefix}_{uuid.uuid4().hex}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    """Base of every domain model: unknown fields are kept, so newer data survives a round trip."""

    # Schemas are built on first validation, not at import: the desk paints its first profile
    # from stored data (see `from_stored`) without building any.
    model_config = ConfigDict(extra="allow", validate_assignment=True, defer_build=True)
