"""Snapshots of the customer data pane (SVGs in snapshots/; looked at as PNGs)."""

from __future__ import annotations

from test_snapshots import SIZE, index_loaded, pressing, steady

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.model.demo_profile_data import EVERYTHING_ID
from agentdesk.model.fields import field_id
from agentdesk.ui.app import AgentDesk


def test_customer_data_pane(snap_compare, demo_cache: Cache, config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id=EVERYTHING_ID),
                        terminal_size=SIZE, run_before=pressing("p"))


def test_customer_data_values_that_lost(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("p", "v", "v", "f", *"pers", "enter", "o")
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=EVERYTHING_ID),
                        terminal_size=SIZE, run_before=run)


def test_customer_data_identifiers_at_80_columns(snap_compare, demo_cache: Cache,
                                                  config: Config) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("p")
        await pilot.pause()
        title = pilot.app.screen.query_one("#section-fields CollapsibleTitle")
        title.focus()
        await pilot.pause()
        await pilot.press("enter")  # fold the fields: the identifiers come up
        await pilot.pause(0.2)
        pilot.app.screen.query_one("#data-identifiers").focus()
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=EVERYTHING_ID),
                        terminal_size=(80, 24), run_before=run)


def test_customer_data_of_the_hostile_customer(snap_compare, demo_cache: Cache,
                                               config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id=demo.HOSTILE_ID),
                        terminal_size=SIZE, run_before=pressing("p", "v"))


def test_field_form_with_error(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("p", "v")
        await pilot.pause()
        fields = pilot.app.screen.query_one("#data-fields")
        fields.highlighted = next(i for i, o in enumerate(fields.options)
                                  if o.id == field_id(EVERYTHING_ID, "orders.count"))
        await pilot.press("enter")
        await pilot.pause()
        pilot.app.screen.query_one("#field-value").value = "thirty"
        await pilot.press("ctrl+s")
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=EVERYTHING_ID),
                        terminal_size=SIZE, run_before=run)
