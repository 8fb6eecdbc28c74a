"""The desk's idea of "now", and times as the agent reads them ("2 h ago", the customer's
local time).

Relative times change with the clock, so what the desk draws from them would differ from one
run to the next: the clock is replaceable (`use`), and the tests and snapshots run on a fixed
one. Everything on screen that depends on the time asks `now()` here, never `datetime.now`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

Clock = Callable[[], datetime]


def _system() -> datetime:
    return datetime.now(UTC)


_clock: Clock = _system


def now() -> datetime:
    """The current time (aware)."""
    return _clock()


def use(clock: Clock | None) -> Clock:
    """Make `clock` the desk's clock (None: the system's); returns the one it replaces."""
    global _clock
    previous, _clock = _clock, clock or _system
    return previous


def relative(at: datetime, reference: datetime | None = None) -> str:
    """How long ago `at` was, in one short unit: "just now", "5 min ago", "2 h ago", "3 d ago",
    "4 mo ago", "2 y ago" (or "in 2 h" for a time ahead of the clock)."""
    seconds = ((reference or now()) - at).total_seconds()
    ahead, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "just now"
    for size, unit in ((31_557_600, "y"), (2_629_800, "mo"), (86_400, "d"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            count = int(seconds // size)
            return f"in {count} {unit}" if ahead else f"{count} {unit} ago"
    return "just now"  # not reached


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo | None:
    """The time zone of an IANA name ("Europe/Paris"), or None when the name is empty or not
    one the system knows: a customer's local time is shown only when it is known."""
    if not name or not isinstance(name, str):
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def differs_from_desk(at: datetime, customer_zone: tzinfo) -> bool:
    """Whether the customer's clock showed another time than the desk's at `at` (no need to
    say "08:58 their time" beside "08:58")."""
    return at.astimezone(customer_zone).utcoffset() != at.astimezone().utcoffset()
