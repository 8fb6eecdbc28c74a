"""Any field as a column of the customers table (`C`, issue 18): the picker lists the keys the
customers have, a ticked one is read and shown, sorts by its type, is remembered, exported,
and a hostile key or value stays inert. A real app (Pilot) on the demo cache."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from test_customers_screen import START, _export, ids, open_customers
from test_ui_navigation import SIZE, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.model.demo_profile_data import EVERYTHING_ID
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.customers import CustomersScreen
from agentdesk.ui.customers_grid import CustomerGrid
from agentdesk.ui.customers_picker import ColumnPicker
from agentdesk.ui.row_list import RowList

SEATS = {"cus_000003": "100", "cus_000007": "9", "cus_000011": "10", EVERYTHING_ID: "-5"}
HOSTILE_KEY = "[bold]persona[/bold]"  # the demo's hostile customer's field


def _with_seats(cache: Cache) -> None:
    for cid, text in SEATS.items():
        cache.set_field(cid, "seats", text, type="number")


async def _tick(app: AgentDesk, pilot, column_id: str) -> None:  # type: ignore[no-untyped-def]
    """Open the picker, tick `column_id`, close it, wait for the table holding it."""
    await pilot.press("c")
    await wait_for(lambda: isinstance(app.screen, ColumnPicker), pilot)
    picker = app.screen
    assert isinstance(picker, ColumnPicker)
    picker.query_one(RowList).highlighted = picker.order.index(column_id)
    await pilot.press("space", "escape")
    await wait_for(lambda: isinstance(app.screen, CustomersScreen) and not app.screen.reading
                   and app.screen.table is not None and app.screen.table.holds(column_id), pilot)
    await pilot.pause()


def _line_of(grid: CustomerGrid, customer_id: str) -> str:
    """The customer's line as drawn (the table scrolled to its top first)."""
    grid.scroll_to(y=0, animate=False, immediate=True)
    return grid.render_line(1 + ids(grid).index(customer_id)).text


async def test_the_picker_lists_the_keys_most_common_first_with_their_counts(
        demo_cache: Cache, config: Config) -> None:
    _with_seats(demo_cache)
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        await open_customers(app, pilot)
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, ColumnPicker), pilot)
        picker = app.screen
        assert isinstance(picker, ColumnPicker)
        fields = [i for i in picker.order if i.startswith("field:")]
        assert fields[0] == "field:seats"  # four customers; every other key has one or two
        assert {"field:billing.plan", f"field:{HOSTILE_KEY}"} <= set(fields)
        lines = [str(o.prompt) for o in picker.query_one(RowList).options]
        assert "☐ seats (field, 4)" in lines
        assert "☐ City (field, 1)" in lines  # a common field's label


async def test_a_ticked_field_column_shows_sorts_as_numbers_and_is_remembered(
        demo_cache: Cache, config: Config) -> None:
    _with_seats(demo_cache)
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        await pilot.press("down", "down")
        kept = grid.current
        await _tick(app, pilot, "field:seats")
        assert grid.current == kept  # the table read again, the cursor on its customer
        assert [c.id for c in grid.shown][-1] == "field:seats"
        while grid.shown[grid.focus_column].id != "field:seats":  # the last column: → to it
            await pilot.press("right")
        assert "seats" in grid.render_line(0).text
        await pilot.press("s")
        await pilot.pause()
        # Numbers by value, not as text ("10" < "100" < "9"); customers without it last.
        assert ids(grid)[:4] == [EVERYTHING_ID, "cus_000007", "cus_000011", "cus_000003"]
        assert "-5" in _line_of(grid, EVERYTHING_ID) and "100" in _line_of(grid, "cus_000003")
        await pilot.press("s")  # the other way, as every column: the empty ones first
        await pilot.pause()
        assert ids(grid)[-4:] == ["cus_000003", "cus_000011", "cus_000007", EVERYTHING_ID]
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        assert "field:seats" in [c.id for c in grid.shown]
        assert grid.table is not None and grid.table.holds("field:seats")
        assert grid.table.values["field:seats"][grid.table.index_of("cus_000003")] == 100


async def test_a_remembered_field_no_customer_has_is_left_out_quietly(
        demo_cache: Cache, config: Config) -> None:
    demo_cache.panel.set_table_columns(["name", "field:gone.key", "email"])
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        assert [c.id for c in grid.shown] == ["name", "email"]
        assert not app._notifications


async def test_a_field_column_is_exported_as_shown(demo_cache: Cache, config: Config,
                                                  tmp_path: Path) -> None:
    _with_seats(demo_cache)
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        await _tick(app, pilot, "field:seats")
        await _tick(app, pilot, "field:interests")
        fields = [c.id for c in grid.shown]
        shown = ids(grid)
        await _export(app, pilot, tmp_path / "view.csv")
        await wait_for(lambda: (tmp_path / "view.csv").exists(), pilot)
        await _export(app, pilot, tmp_path / "view.json", "json")
        await wait_for(lambda: (tmp_path / "view.json").exists(), pilot)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "view.csv").read_text(), newline="")))
    assert list(rows[0]) == fields and len(rows) == len(shown)
    by_id = dict(zip(shown, rows, strict=True))
    assert by_id["cus_000007"]["field:seats"] == "9"
    assert by_id[EVERYTHING_ID]["field:seats"] == "-5"  # a number: never read as a formula
    assert by_id[EVERYTHING_ID]["field:interests"] == "lab software; APIs"
    assert by_id[START]["field:seats"] == ""
    docs = dict(zip(shown, json.loads((tmp_path / "view.json").read_text()), strict=True))
    assert docs["cus_000011"]["field:seats"] == 10 and docs[START]["field:seats"] is None
    assert docs[EVERYTHING_ID]["field:interests"] == ["lab software", "APIs"]


async def test_a_hostile_field_key_and_value_are_shown_inert(demo_cache: Cache,
                                                            config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        column = f"field:{HOSTILE_KEY}"
        await _tick(app, pilot, column)
        while grid.shown[grid.focus_column].id != column:
            await pilot.press("right")
        await pilot.press("s")  # the hostile customer's value first
        await pilot.pause()
        assert ids(grid)[0] == demo.HOSTILE_ID
        line, heading = _line_of(grid, demo.HOSTILE_ID), grid.render_line(0).text
        assert HOSTILE_KEY in heading
        assert "[red]wiped[/red]" in line  # markup shown as typed
        assert not any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in heading + line)


async def test_keys_typed_at_once_in_the_picker_tick_what_they_reach(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, ColumnPicker), pilot)
        picker = app.screen
        assert isinstance(picker, ColumnPicker)
        first = picker.order.index("field:billing.plan")
        picker.query_one(RowList).highlighted = first
        # A tick and the next keys queued at once (as a terminal delivers typed-ahead keys):
        # a refill of the list used to drop the highlight until drawn, and "down" went to Name.
        for key in ("space", "down", "space", "escape"):
            app.simulate_key(key)
        await wait_for(lambda: isinstance(app.screen, CustomersScreen), pilot)
        await pilot.pause()
        ticked = [c.id for c in grid.shown]
        assert "name" in ticked
        assert ticked[-2:] == picker.order[first:first + 2]


async def test_a_table_read_without_the_field_shown_is_read_again_with_it(
        demo_cache: Cache, config: Config) -> None:
    """`/` reads the table for its filters without field columns and keeps it on the app."""
    from agentdesk.cache.customer_table import CustomerTable

    demo_cache.panel.set_table_columns(["name", "field:billing.plan"])
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=(60, 20)) as pilot:  # narrow too: the field column in view
        await wait_for(lambda: app.index is not None, pilot)
        app.customer_table = CustomerTable.load(demo_cache.index_rows())
        app.customer_table_index = app.index
        grid = await open_customers(app, pilot)
        assert grid.table is not None and grid.table.holds("field:billing.plan")
        await pilot.press("right")
        assert "billing.plan" in grid.render_line(0).text
        assert grid.render_line(0).cell_length == grid.scrollable_content_region.width
        assert "Business" in _line_of(grid, EVERYTHING_ID)
