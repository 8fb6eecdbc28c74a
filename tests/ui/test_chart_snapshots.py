"""Snapshot of the customers-over-time chart (the demo with some reachable customers, the
last 365 days up to the fixed clock's day; drawn the same in every run)."""

from __future__ import annotations

from test_snapshots import SIZE, index_loaded
from test_ui_navigation import wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.ui.app import AgentDesk
from support.chart_data import make_some_reachable


def test_customers_over_time(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("H")
        await wait_for(lambda: hasattr(pilot.app.screen, "series"), pilot)
        await pilot.press("p", "p")  # 90 -> 180 -> 365 days
        await wait_for(lambda: getattr(pilot.app.screen, "series", None) is not None
                       and len(pilot.app.screen.series.days) == 365, pilot)
        await pilot.pause()

    app = AgentDesk(make_some_reachable(demo_cache), config, customer_id="cus_000001")
    assert snap_compare(app, terminal_size=SIZE, run_before=run)
