"""Customers over time (`H`): the figures on screen are what `customer_stats` counts from the
cache's rows, a channel and a period change them, `m` switches the chart, `x` writes the
chart's data as CSV (0600), a narrow terminal still works; and the drawing's parts."""

from __future__ import annotations

import csv
import stat
from datetime import date
from pathlib import Path

import pytest
from rich.style import Style

from test_ui_navigation import SIZE, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model.customer_stats import Period, period_of, series
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.customer_chart import (
    ACTIVE,
    CUSTOMERS,
    CustomerChart,
    days_per_column,
    draw,
    nice_top,
    short,
)
from agentdesk.ui.customer_chart_screen import CustomerChartScreen
from support.chart_data import make_some_reachable

TODAY = date(2026, 1, 6)  # conftest's fixed clock


async def open_chart(app: AgentDesk, pilot) -> CustomerChartScreen:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.press("H")
    await wait_for(lambda: isinstance(app.screen, CustomerChartScreen)
                   and not app.screen.counting, pilot)
    return app.screen  # type: ignore[return-value]


async def counted(screen: CustomerChartScreen, pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_for(lambda: not screen.counting, pilot)
    await pilot.pause()


def figures_text(screen: CustomerChartScreen) -> str:
    return str(screen.query_one("#chart-figures").render())


def expected(cache: Cache, days: int, channel: str | None = None):  # type: ignore[no-untyped-def]
    return series(cache.index_rows(), period_of(TODAY, days=days), channel)


async def test_channel_and_period_change_the_figures(demo_cache: Cache, config: Config) -> None:
    cache = make_some_reachable(demo_cache)
    app = AgentDesk(cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chart(app, pilot)
        assert screen.series == expected(cache, 90)
        current = screen.series.current
        lines = figures_text(screen).splitlines()
        assert lines[0] == "On 2026-01-06"
        assert lines[2].split()[:2] == ["Total", f"{current.total:,}"]
        assert lines[3].split()[1:3] == ["Reachable", f"{current.reachable:,}"]
        assert 0 < current.reachable < current.total
        await pilot.press("c")  # all channels -> email
        await counted(screen, pilot)
        assert screen.channel == "email" and screen.series == expected(cache, 90, "email")
        assert screen.series.current.total < current.total
        assert figures_text(screen).splitlines()[2].split()[1] == f"{screen.series.current.total:,}"
        await pilot.press("p")  # 90 -> 180 days
        await counted(screen, pilot)
        assert screen.series == expected(cache, 180, "email")
        assert len(screen.series.days) == 180
        assert "last 180 days, 2025-07-11 to 2026-01-06" in str(
            screen.query_one("#chart-title").render())
        await pilot.press("m")
        await pilot.pause()
        assert screen.query_one(CustomerChart).view == ACTIVE
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CustomerChartScreen)


async def test_a_sync_that_changes_customers_is_counted_again(demo_cache: Cache,
                                                              config: Config) -> None:
    from agentdesk.ui.sync_bar import SyncEffects

    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chart(app, pilot)
        before = screen.series.current.reachable
        make_some_reachable(demo_cache)  # as a sync would have, through the cache's one door
        app.sync_applied.publish(SyncEffects(customers={"cus_000000": 1}, gone=frozenset(),
                                             merged={}))
        await wait_for(lambda: not screen.counting
                       and screen.series.current.reachable > before, pilot)
        assert screen.series == expected(demo_cache, 90)


async def test_export_writes_the_charts_data(demo_cache: Cache, config: Config,
                                             tmp_path: Path) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_chart(app, pilot)
        screen.export_folder = tmp_path
        await pilot.press("p")  # 180 days
        await counted(screen, pilot)
        await pilot.press("x")
        name = "agentdesk-customers-all-2025-07-11-2026-01-06.csv"
        await wait_for(lambda: any(str(tmp_path / name) in n.message
                                   for n in app._notifications), pilot)  # noqa: SLF001
        await pilot.press("x")  # again: a second file, the first one kept
        await wait_for(lambda: (tmp_path / name.replace(".csv", "-2.csv")).exists(), pilot)
    path = tmp_path / name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    want = expected(demo_cache, 180)
    assert [(r["date"], int(r["total"]), int(r["reachable"]), int(r["unreachable"]),
             int(r["monthly_active"])) for r in rows] == [
        (d.day.isoformat(), d.total, d.reachable, d.unreachable, d.monthly_active)
        for d in want.days]


async def test_a_narrow_terminal(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await open_chart(app, pilot)
        assert screen.query_one("#chart-body").has_class("narrow")
        chart = screen.query_one(CustomerChart)
        assert chart.size.width > 20 and chart.size.height >= 4
        for key in ("c", "p", "m", "p", "m"):
            await pilot.press(key)
            await counted(screen, pilot)
        assert "█" in str(chart.render()) or "▁" in str(chart.render())
        await pilot.resize_terminal(30, 10)  # smaller still: no crash, says so
        await pilot.pause()
        await pilot.resize_terminal(120, 35)
        await pilot.pause()
        assert not screen.query_one("#chart-body").has_class("narrow")


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (3, 5), (54, 100), (100, 100),
                                            (101, 200), (99_999, 100_000)])
def test_axis_top(value: int, top: int) -> None:
    assert nice_top(value) == top


@pytest.mark.parametrize(("n", "text"), [(0, "0"), (9_999, "9,999"), (12_345, "12k"),
                                         (1_250_000, "1.2M")])
def test_short_counts(n: int, text: str) -> None:
    assert short(n) == text


def test_columns_show_the_last_day_of_their_group() -> None:
    days = expected_days(10)
    shown, each = days_per_column(days, 4)
    assert shown == [1, 4, 6, 9] and each == 1  # days 0-1, 2-4, 5-6, 7-9
    shown, each = days_per_column(days, 25)
    assert shown == list(range(10)) and each == 2


def expected_days(n: int):  # type: ignore[no-untyped-def]
    from agentdesk.model.customer_stats import Day

    return [Day(date(2026, 1, 1), i, 0, i, 0) for i in range(n)]


def test_bars_are_exact_to_an_eighth() -> None:
    from agentdesk.model.customer_stats import Series

    # (total, reachable) a day; the axis' top is 20, two lines of 8 eighths each.
    days = [_day(1, 0, 0), _day(2, 8, 4), _day(3, 16, 5), _day(4, 16, 10)]
    found = Series(Period(date(2026, 1, 1), date(2026, 1, 4)), None, days)
    green, red, plain = Style(color="green"), Style(color="red"), Style()
    lines = draw(found, CUSTOMERS, 4 + 4 * 3, 2 + 2, lower=green, upper=red, axis=plain,
                 blank=plain)
    assert [line.plain for line in lines] == [
        "20 │      ▅▅▅▅▅▅",  # 16 of 20 = 12.8 -> 13 eighths: a full line and 5 eighths
        " 0 │   ▆▆▆▄▄▄███",  # 8 -> 6.4 -> 6 eighths; reachable 5 -> 4 eighths, 10 -> 8
        "   └────────────",
        "    2026-01-04".rjust(16),
    ]

    def style_at(line: int, x: int) -> Style:
        return next(s.style for s in lines[line].spans if s.start <= x < s.end)

    # Columns 4-6 are the first day (none), 7-9 the second, 10-12 the third, 13-15 the fourth.
    assert style_at(1, 7) == green  # 3 of 6 eighths reachable: the larger part's colour
    assert style_at(1, 10).color == green.color  # the reachable part's top (4 eighths), over...
    assert style_at(1, 10).bgcolor == red.color  # ...the unreachable part's colour
    assert style_at(1, 13) == green and style_at(0, 13) == red  # all reachable below, then not
    assert style_at(0, 10) == red


def _day(n: int, total: int, reachable: int):  # type: ignore[no-untyped-def]
    from agentdesk.model.customer_stats import Day

    return Day(date(2026, 1, n), total, reachable, total - reachable, 0)


async def test_the_palette_opens_the_chart_and_names_its_key(demo_cache: Cache,
                                                             config: Config) -> None:
    from test_palette import palette_entries

    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        entries = await palette_entries(pilot)
        assert "Customers over time   H" in entries
        await pilot.press(*"customers over time", "enter")
        await wait_for(lambda: isinstance(app.screen, CustomerChartScreen)
                       and app.screen.series is not None, pilot)


async def test_a_second_H_counts_from_the_facts_read_by_the_first_until_a_customer_changes(
        demo_cache: Cache, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading every customer's facts is most of `H` on a large cache: a second chart takes
    them from the first while nothing changed; an edit on a profile lets them go."""
    from agentdesk.ui import customer_chart_screen
    from agentdesk.ui.forms import ContactForm

    reads: list[int] = []
    read = customer_chart_screen._read_facts

    def counting(cache: Cache):  # type: ignore[no-untyped-def]
        reads.append(1)
        return read(cache)

    monkeypatch.setattr(customer_chart_screen, "_read_facts", counting)
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.index is not None, pilot)
        first = await open_chart(app, pilot)
        await pilot.press("escape")
        second = await open_chart(app, pilot)
        assert second is not first and len(reads) == 1
        assert second.series == expected(demo_cache, 90)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("e")  # an edit of the customer's details through the desk
        await wait_for(lambda: isinstance(app.screen, ContactForm), pilot)
        await pilot.press(*" Jr", "ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, ContactForm), pilot)
        await open_chart(app, pilot)
        assert len(reads) == 2
