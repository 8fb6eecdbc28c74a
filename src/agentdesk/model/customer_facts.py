"""The facts of one customer that the customers-over-time chart counts, made from a profile
file's raw documents (no pydantic, no I/O): when the customer was created, whether marketing
can reach them, how many conversations are open, and on which days they were active.

They are computed where the customer's search row is made (`cache.search_index.IndexRow`) and
kept in it, so counting 100,000 customers reads the 256 index shards, never a profile file.

Activity is kept as *runs*: a customer is "monthly active" on day D when they did something
in the 30 days up to D (D-29..D). Days of activity closer than 30 days to each other make one
run, and a run [first, last] covers exactly the days first..last+29, so a customer who writes
every week for two years is two numbers, not a hundred, and the answer is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from agentdesk.model.reachability import reachable

# Entries of the customer's own (inbound) that are no activity: joining or leaving a list and
# consent changes, which syncs between systems record as often as the customer does them (the
# platforms' "monthly active" leaves them out too).
NOT_ACTIVE = frozenset({"subscription"})
WINDOW = 30  # days: "monthly active" on D = active on one of D-29..D
MAX_RUNS = 24  # runs kept, newest first: older activity is dropped (an old MAU undercounts)
CLOSED = "closed"  # a conversation of any other status is open (new, open, pending, snoozed)
_EPOCH = date(1970, 1, 1).toordinal()


def day_number(when: date) -> int:
    """Days since 1970-01-01: what the rows store (5 digits for a day, where an ISO date is 12)."""
    return when.toordinal() - _EPOCH


def day_of(number: int) -> date:
    return date.fromordinal(number + _EPOCH)


def utc_day(iso_time: Any) -> date | None:
    """The UTC day of a stored ISO time; None for what does not read as one."""
    try:
        when = datetime.fromisoformat(str(iso_time))
    except ValueError:
        return None
    return (when.astimezone(UTC) if when.tzinfo else when).date()


def since(customer: dict[str, Any]) -> str:
    """The ISO day the customer was created ("customer since"); "" when not known."""
    day = utc_day(customer.get("created")) if customer.get("created") else None
    return day.isoformat() if day else ""


class _Identifier:
    """A stored identifier document read as `reachability` reads an Identifier; what the
    document leaves out has the model's default."""

    __slots__ = ("_doc",)
    _DEFAULTS = {"consent": "unknown", "deliverable": True}

    def __init__(self, doc: dict[str, Any]) -> None:
        self._doc = doc

    def __getattr__(self, name: str) -> Any:
        return self._doc.get(name, self._DEFAULTS.get(name))


def reachable_of(identifiers: Iterable[dict[str, Any]]) -> bool:
    """`reachability.reachable` over a profile file's identifier documents."""
    return reachable([_Identifier(d) for d in identifiers if isinstance(d, dict)])


def open_count(conversations: Iterable[dict[str, Any]]) -> int:
    """Conversations not closed."""
    return sum(1 for d in conversations if str(d.get("status") or "new") != CLOSED)


def is_activity(entry: dict[str, Any]) -> bool:
    """A stored timeline entry the customer did themselves: inbound, and not a list or
    consent change."""
    return entry.get("direction") == "inbound" and entry.get("kind") not in NOT_ACTIVE


def active_runs(days: Iterable[int]) -> list[int]:
    """Days of activity as runs, flat: [first, last, first, last, ...], oldest first, at most
    MAX_RUNS of them (the newest)."""
    runs: list[int] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1] <= WINDOW:
            runs[-1] = day
        else:
            runs += [day, day]
    return runs[-2 * MAX_RUNS:]


def active_on(runs: Sequence[int], day: int) -> bool:
    """Monthly active on `day` (a day number): some activity in day-29..day."""
    for i in range(0, len(runs) - 1, 2):
        if runs[i] <= day <= runs[i + 1] + WINDOW - 1:
            return True
    return False
