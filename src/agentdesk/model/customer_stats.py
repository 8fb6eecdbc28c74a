"""Customers over time, by day: total, reachable, unreachable and monthly active (no I/O).

Counted from the customers' search rows (`cache.search_index.IndexRow`: `since`, `reachable`,
`channels`, `active`), which is what lets 100,000 customers be counted in a fraction of a second:
each row is read once, into per-day differences that one running sum turns into the series.

What a day's figures mean:
* total: customers created on or before that day (a row without a creation day counts from
  the start);
* reachable / unreachable: of those, whether marketing can reach them *now*. The cache holds
  no history of consent or deliverability, so a past day shows today's reachability of the
  customers who existed then (where a platform aggregating nightly would show that night's);
* monthly active: customers who did something themselves in the 30 days up to that day
  (`customer_facts.WINDOW`), whether or not they are counted in the total (activity recorded
  before the customer's creation day is still activity).

A channel filter keeps the customers with a conversation on that channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from agentdesk.model.customer_facts import WINDOW, day_number
from agentdesk.model.kinds import Channel

METRICS = ("total", "reachable", "unreachable", "monthly_active")
TREND_DAYS = 30  # the trend compares the last day with this many days earlier
DEFAULT_DAYS = 90
MAX_DAYS = 3660  # ten years: longer periods are a typing mistake, not a chart
CHANNELS = tuple(c.value for c in Channel if c is not Channel.NOTE)  # a note is no channel


class StatsError(ValueError):
    """A period or channel that cannot be counted; the message says why."""


class Row(Protocol):
    since: str
    reachable: bool
    channels: list[str]
    active: list[int]


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_of(today: date, *, start: date | None = None, end: date | None = None,
              days: int | None = None) -> Period:
    """The period asked for: from/to (either may be left out: the period then ends today or
    spans DEFAULT_DAYS), or the last `days` days up to today; DEFAULT_DAYS when nothing is
    given. StatsError for a period that is backwards, empty or longer than MAX_DAYS."""
    if days is not None and (start is not None or end is not None):
        raise StatsError("give either a number of days or from/to dates, not both")
    if days is not None:
        if not 1 <= days <= MAX_DAYS:
            raise StatsError(f"the number of days must be 1 to {MAX_DAYS} (got {days})")
        return Period(today - timedelta(days=days - 1), today)
    end = end or (today if start is None or start <= today else start + timedelta(DEFAULT_DAYS - 1))
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise StatsError(f"the period starts ({start}) after it ends ({end})")
    if (end - start).days + 1 > MAX_DAYS:
        raise StatsError(f"the period is longer than {MAX_DAYS} days ({start} to {end})")
    return Period(start, end)


def check_channel(channel: str | None) -> str | None:
    """The channel named (lower case), or None for all; StatsError for an unknown one."""
    if channel is None or channel.strip().lower() in ("", "all"):
        return None
    name = channel.strip().lower()
    if name not in CHANNELS:
        raise StatsError(f'unknown channel "{channel}" (channels: all, {", ".join(CHANNELS)})')
    return name


@dataclass(frozen=True)
class Day:
    """One day's figures."""

    day: date
    total: int
    reachable: int
    unreachable: int
    monthly_active: int

    def value(self, metric: str) -> int:
        return int(getattr(self, metric))


@dataclass(frozen=True)
class Trend:
    """A metric's value on the last day and its change since `days` days before."""

    metric: str
    value: int
    change: int
    days: int  # how far back the change is measured (shorter for a short period)


@dataclass(frozen=True)
class Series:
    period: Period
    channel: str | None
    days: Sequence[Day]

    @property
    def current(self) -> Day:
        return self.days[-1]

    def trend(self, metric: str, back: int = TREND_DAYS) -> Trend:
        """The change of `metric` over the last `back` days (the whole period if shorter)."""
        back = min(back, len(self.days) - 1)
        now, then = self.days[-1].value(metric), self.days[-1 - back].value(metric)
        return Trend(metric, now, now - then, back)

    def trends(self) -> list[Trend]:
        return [self.trend(m) for m in METRICS]

    def column(self, metric: str) -> list[int]:
        return [d.value(metric) for d in self.days]


def series(rows: Iterable[Row | Any], period: Period, channel: str | None = None) -> Series:
    """The day-by-day figures of the customers in `rows` over `period`."""
    first, n = day_number(period.start), period.days
    # Differences per day (index 0 = the period's first day; n: past its end): a customer
    # counted from day d adds 1 at d; one active from a to b adds 1 at a and removes it at b+1.
    total = [0] * (n + 1)
    reachable = [0] * (n + 1)
    active = [0] * (n + 1)
    day_of_since: dict[str, int] = {}
    for row in rows:
        if channel is not None and channel not in row.channels:
            continue
        since = row.since
        at = day_of_since.get(since)
        if at is None:
            try:
                at = day_number(date.fromisoformat(since)) - first if since else 0
            except ValueError:
                at = 0
            day_of_since[since] = at
        if at <= n:
            slot = max(at, 0)
            total[slot] += 1
            if row.reachable:
                reachable[slot] += 1
        runs = row.active
        for i in range(0, len(runs) - 1, 2):
            start, stop = runs[i] - first, runs[i + 1] + WINDOW - first  # stop: first day not covered
            if stop <= 0 or start >= n:
                continue
            active[max(start, 0)] += 1
            active[min(stop, n)] -= 1
    days: list[Day] = []
    t = r = a = 0
    for i in range(n):
        t, r, a = t + total[i], r + reachable[i], a + active[i]
        days.append(Day(period.start + timedelta(days=i), t, r, t - r, a))
    return Series(period, channel, days)


class Facts(tuple):  # type: ignore[type-arg]
    """What `series` reads of a row, and nothing else: a screen keeps 100,000 of these while
    it is open (a whole search row would be several times the memory)."""

    __slots__ = ()

    since = property(lambda self: self[0])
    reachable = property(lambda self: self[1])
    channels = property(lambda self: self[2])
    active = property(lambda self: self[3])


def facts_of(docs: Iterable[Mapping[str, Any]]) -> list[Facts]:
    """The facts of stored search rows (`SearchIndexFiles.docs`: dicts, no IndexRow made);
    equal days and channel lists shared, not copied. A row written before schema 9 lacks
    them: it counts as created at the start, unreachable, never active."""
    shared: dict[Any, Any] = {}
    out: list[Facts] = []
    for doc in docs:
        since = doc.get("since") or ""
        since = shared.setdefault(since, since)
        channels = tuple(doc.get("channels") or ())
        channels = shared.setdefault(channels, channels)
        out.append(Facts((since, bool(doc.get("reachable")), channels,
                          tuple(doc.get("active") or ()))))
    return out
