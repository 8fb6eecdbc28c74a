"""Snapshots of the customers screen (issue 18) at 120x35 and 80x24: a query, a sort, the
cursor a few rows down. Deterministic: the fixed clock (conftest), no cursor blink."""

from __future__ import annotations

from test_snapshots import SIZE, index_loaded, steady
from test_ui_navigation import wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.customers import CustomersScreen

CUSTOMER = "cus_000001"


async def customers_shown(pilot) -> None:  # type: ignore[no-untyped-def]
    await index_loaded(pilot)
    await pilot.press("C")
    await wait_for(lambda: isinstance(pilot.app.screen, CustomersScreen)
                   and pilot.app.screen.table is not None and not pilot.app.screen.reading, pilot)


def test_customers_table(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await customers_shown(pilot)
        await pilot.press("f", *"-status:blocked", "enter", "right", "right", "right", "right",
                          "s", "down", "down")
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=CUSTOMER), terminal_size=SIZE,
                        run_before=run)


def test_customers_table_at_80_columns_with_a_bad_query(snap_compare, demo_cache: Cache,
                                                        config: Config) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await customers_shown(pilot)
        pilot.app.screen.query_one("#customers-query").value = "tag:vip colour:red"
        await pilot.press("f", "end")
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=CUSTOMER), terminal_size=(80, 24),
                        run_before=run)
