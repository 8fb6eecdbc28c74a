"""Customers over time from their rows: the day-by-day figures, the period and channel asked
for, the trend; and the runs of activity the rows keep (table-driven)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from agentdesk.model.customer_facts import active_on, active_runs, day_number, MAX_RUNS
from agentdesk.model.customer_stats import (
    Period,
    StatsError,
    check_channel,
    period_of,
    series,
)

TODAY = date(2026, 1, 6)


def n(day: str) -> int:
    return day_number(date.fromisoformat(day))


@dataclass
class R:
    since: str = ""
    reachable: bool = False
    channels: list[str] = field(default_factory=list)
    active: list[int] = field(default_factory=list)


@pytest.mark.parametrize(("days", "runs"), [
    ([], []),
    ([5], [5, 5]),
    ([5, 5, 6], [5, 6]),
    ([5, 35], [5, 35]),  # 30 days apart: the coverage of 5 (5..34) touches 35
    ([5, 36], [5, 5, 36, 36]),  # 31 apart: a day (35) with nobody active in between
    ([40, 5, 20], [5, 40]),  # any order
])
def test_activity_runs(days: list[int], runs: list[int]) -> None:
    assert active_runs(days) == runs


def test_runs_keep_the_newest() -> None:
    runs = active_runs(range(0, 100 * 31, 31))  # a hundred separate days
    assert len(runs) == 2 * MAX_RUNS and runs[-1] == 99 * 31


@pytest.mark.parametrize(("runs", "day", "expected"), [
    ([10, 10], 9, False),
    ([10, 10], 10, True),
    ([10, 10], 39, True),  # the 30th day counting the active one
    ([10, 10], 40, False),
    ([10, 20, 100, 100], 60, False),
    ([10, 20, 100, 100], 49, True),
    ([10, 20, 100, 100], 129, True),
])
def test_active_on(runs: list[int], day: int, expected: bool) -> None:
    assert active_on(runs, day) is expected


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, Period(TODAY - timedelta(days=89), TODAY)),
    ({"days": 1}, Period(TODAY, TODAY)),
    ({"days": 7}, Period(date(2025, 12, 31), TODAY)),
    ({"start": date(2025, 12, 1)}, Period(date(2025, 12, 1), TODAY)),
    ({"end": date(2025, 12, 1)}, Period(date(2025, 9, 3), date(2025, 12, 1))),
    ({"start": date(2025, 1, 1), "end": date(2025, 1, 1)}, Period(date(2025, 1, 1), date(2025, 1, 1))),
])
def test_periods(kwargs: dict, expected: Period) -> None:
    assert period_of(TODAY, **kwargs) == expected


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"days": 0}, "must be 1 to"),
    ({"days": 100_000}, "must be 1 to"),
    ({"days": 5, "start": TODAY}, "not both"),
    ({"start": date(2025, 2, 1), "end": date(2025, 1, 1)}, "starts (2025-02-01) after it ends"),
    ({"start": date(1990, 1, 1)}, "longer than"),
])
def test_bad_periods_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(StatsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        period_of(TODAY, **kwargs)


@pytest.mark.parametrize(("given", "expected"), [(None, None), ("all", None), ("SMS", "sms"),
                                                 (" chat ", "chat")])
def test_channels(given: str | None, expected: str | None) -> None:
    assert check_channel(given) == expected


def test_an_unknown_channel_is_named() -> None:
    with pytest.raises(StatsError, match='unknown channel "fax"'):
        check_channel("fax")


ROWS = [
    R(since="2025-12-01", reachable=True, channels=["email"], active=[n("2025-12-01")] * 2),
    R(since="2026-01-02", reachable=False, channels=["sms", "email"],
      active=[n("2026-01-03"), n("2026-01-04")]),
    R(since="2026-01-05", reachable=True, channels=["chat"]),
    R(since="2027-01-01", reachable=True),  # created after the period: never counted
    R(since="", reachable=False, active=[n("2025-12-30")] * 2),  # no day known: from the start
    R(since="not a day", reachable=True),  # the same
]


@pytest.mark.parametrize(("channel", "day", "figures"), [
    # (total, reachable, unreachable, monthly active)
    (None, "2026-01-01", (3, 2, 1, 1)),  # 2025-12-01 covers up to 12-30; 12-30 covers this
    (None, "2026-01-02", (4, 2, 2, 1)),
    (None, "2026-01-04", (4, 2, 2, 2)),
    (None, "2026-01-06", (5, 3, 2, 2)),
    ("email", "2026-01-01", (1, 1, 0, 0)),
    ("email", "2026-01-06", (2, 1, 1, 1)),
    ("sms", "2026-01-06", (1, 0, 1, 1)),
    ("voice", "2026-01-06", (0, 0, 0, 0)),
])
def test_figures_by_day(channel: str | None, day: str, figures: tuple[int, ...]) -> None:
    found = series(ROWS, Period(date(2026, 1, 1), TODAY), channel)
    by_day = {d.day.isoformat(): d for d in found.days}
    d = by_day[day]
    assert (d.total, d.reachable, d.unreachable, d.monthly_active) == figures
    assert [d.day for d in found.days] == [date(2026, 1, i) for i in range(1, 7)]


def test_current_values_and_trend() -> None:
    found = series(ROWS, Period(date(2025, 11, 1), TODAY))
    assert found.current.day == TODAY and found.current.total == 5
    trend = found.trend("total")
    assert (trend.value, trend.change, trend.days) == (5, 5 - 3, 30)  # 2025-12-07: 3
    short = series(ROWS, Period(date(2026, 1, 3), TODAY)).trend("total")
    assert (short.value, short.change, short.days) == (5, 1, 3)  # since the period's start
    assert [t.metric for t in found.trends()] == ["total", "reachable", "unreachable",
                                                  "monthly_active"]


def test_facts_of_stored_rows_count_as_the_rows() -> None:
    from agentdesk.model.customer_stats import facts_of

    docs = [r.__dict__ for r in ROWS] + [{"id": "old", "name": "written before schema 9"}]
    facts = facts_of(docs)
    assert facts[-1] == ("", False, (), ())  # from the start, unreachable, never active
    assert facts[0].channels is facts[0].channels and facts[0].since == "2025-12-01"
    period = Period(date(2025, 11, 1), TODAY)
    with_old = series(ROWS + [R()], period)
    assert series(facts, period) == with_old


@pytest.mark.parametrize(("entry", "counts"), [
    ({"direction": "inbound", "kind": "message"}, True),
    ({"direction": "inbound"}, True),  # stored before entries had kinds: a message
    ({"direction": "inbound", "kind": "order"}, True),
    ({"direction": "inbound", "kind": "event"}, True),
    ({"direction": "inbound", "kind": "subscription"}, False),  # a list or consent change
    ({"direction": "outbound", "kind": "campaign"}, False),
    ({"direction": "internal", "kind": "message"}, False),  # an agent's note
])
def test_what_counts_as_activity(entry: dict, counts: bool) -> None:
    from agentdesk.model.customer_facts import is_activity

    assert is_activity(entry) is counts
