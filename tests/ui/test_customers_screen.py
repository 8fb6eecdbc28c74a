"""The customers screen (`C`, issue 18): a real app (Pilot) on the demo cache, a real cache on
disk; exports are read back from the files written and compared with the cache."""

from __future__ import annotations

import csv
import io
import json
import stat
from datetime import datetime
from pathlib import Path

import pytest
from test_ui_navigation import SIZE, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.cache.customer_columns import DEFAULT_SHOWN
from agentdesk.cache.customer_export import write_csv
from agentdesk.cache.customer_select import by_name, select
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.model.customer_query import parse
from agentdesk.model.fold import fold
from agentdesk.ui import customers as customers_module
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.customers import CustomersScreen
from agentdesk.ui.customers_export import ExportForm
from agentdesk.ui.customers_grid import CustomerGrid
from agentdesk.ui.customers_picker import ColumnPicker
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.sync_bar import SyncEffects

START = "cus_000001"


async def open_customers(app: AgentDesk, pilot) -> CustomerGrid:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.press("C")
    await wait_for(lambda: isinstance(app.screen, CustomersScreen)
                   and app.screen.table is not None and not app.screen.reading, pilot)
    await pilot.pause()
    return app.screen.query_one(CustomerGrid)


def ids(grid: CustomerGrid) -> list[str]:
    assert grid.table is not None
    return [grid.table.values["id"][i] for i in grid.view]


def now() -> datetime:
    from agentdesk.ui import clock

    return clock.now()


async def test_c_lists_every_customer_by_name_and_nothing_loads_at_start(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.index is not None, pilot)
        assert app.customer_table is None  # nothing of the screen at start-up
        grid = await open_customers(app, pilot)
        expected = [r.id for r in by_name(demo_cache.index_rows())]
        assert ids(grid) == expected
        title = str(app.screen.query_one("#customers-title").render())
        assert f"{len(expected)} of {len(expected)}" in title
        # The heading line, then the first customer's name and e-mail on the first row.
        assert "Name ↑" in grid.render_line(0).text
        first = next(r for r in demo_cache.index_rows() if r.id == expected[0])
        assert first.name[:15] in grid.render_line(1).text
        assert first.email[:15] in grid.render_line(1).text
        assert app.customer_table is grid.table  # kept for the next time


async def test_sort_by_any_column_and_again_the_other_way(demo_cache: Cache,
                                                         config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    rows = by_name(demo_cache.index_rows())
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        await pilot.press("right", "s")  # the company column, focused, then sorted
        assert app.screen.sort == ("company", False)
        company = [r.id for r in sorted(rows, key=lambda r: (not r.company, fold(r.company)))]
        assert ids(grid) == company
        assert "Company ↑" in grid.render_line(0).text
        await pilot.press("s")
        descending = [r.id for r in sorted(rows, key=lambda r: (not r.company, fold(r.company)),
                                           reverse=True)]
        assert [grid.table.values["company"][i] for i in grid.view] == [
            next(r.company for r in rows if r.id == cid) for cid in descending]
        assert ids(grid)[0] != company[0]
        # Last contact, newest first: a click on its heading, then `s` again.
        await pilot.press("right", "right", "right", "right", "right", "s", "s")
        assert app.screen.sort == ("last_contact", True)
        lasts = [grid.table.values["last_contact"][i] for i in grid.view]
        assert lasts == sorted(lasts, key=lambda t: (not t, t), reverse=True)


async def test_a_click_on_a_heading_sorts_by_its_column(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        x = next(x for column, x, _ in grid._layout(grid.size.width) if column.id == "status")
        await pilot.click(CustomerGrid, offset=(x + 1, 0))
        await pilot.pause()
        assert app.screen.sort == ("status", False)
        statuses = [grid.table.values["status"][i] for i in grid.view]
        assert statuses == sorted(statuses)


async def test_the_query_filters_as_typed_like_agentdesk_export(demo_cache: Cache,
                                                               config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        await pilot.press("f", *"tag:vip -status:churned")
        await pilot.pause()
        query = parse("tag:vip -status:churned")
        expected = [r.id for r in by_name(select(demo_cache.index_rows(), query, now()))]
        assert expected and len(expected) < len(list(demo_cache.index_rows()))
        assert ids(grid) == expected
        title = str(app.screen.query_one("#customers-title").render())
        assert f"{len(expected)} of " in title
        await pilot.press("ctrl+u", *"kaur")  # free text, as `/` matches it
        await pilot.pause()
        assert ids(grid) == [r.id for r in by_name(select(demo_cache.index_rows(), parse("kaur"),
                                                           now()))]
        assert ids(grid)


@pytest.mark.parametrize(("typed", "message"), [
    ("colour:red", 'unknown filter "colour:"'),
    ("last-contact:30", "last-contact takes <Nd or >Nd"),
    ("status:gone", 'unknown status "gone"'),
    ('segment:"Trial', "unclosed quote"),
    ("tag:", "tag: needs a value"),
])
async def test_a_bad_query_is_named_inline_and_the_table_stays(
        demo_cache: Cache, config: Config, typed: str, message: str) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        await pilot.press("f", *"tag:vip")
        await pilot.pause()
        before = ids(grid)
        assert before
        field = app.screen.query_one("#customers-query")
        field.value = f"tag:vip {typed}"  # pasted: typed a key at a time, each step is run
        await pilot.pause()
        error = app.screen.query_one("#customers-error")
        assert error.display and message in str(error.render())
        assert ids(grid) == before
        await pilot.press("end", *["backspace"] * (len(typed) + 1))
        await pilot.pause()
        assert not error.display and ids(grid) == before


async def test_column_picker_choice_is_shown_and_remembered(demo_cache: Cache,
                                                            config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        assert [c.id for c in grid.shown] == list(DEFAULT_SHOWN)
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, ColumnPicker), pilot)
        await pilot.press("down", "enter")  # company off
        await pilot.press("down", "down", "down", "down", "down", "down", "space")  # channels on
        await pilot.press("escape")
        await pilot.pause()
        chosen = ["name", "email", "phone", "status", "tags", "channels", "last_contact"]
        assert [c.id for c in grid.shown] == chosen
        assert "Channels" in grid.render_line(0).text and "Company" not in grid.render_line(0).text
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        assert [c.id for c in grid.shown] == chosen


async def test_the_last_column_cannot_be_unticked(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        await open_customers(app, pilot)
        picker = ColumnPicker(["name"])
        await app.push_screen(picker)
        await pilot.pause()
        await pilot.press("enter", "escape")
        await pilot.pause()
        assert app.screen.query_one(CustomerGrid).shown[0].id == "name"


async def test_enter_opens_the_customer_and_esc_comes_back_to_the_same_row(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=(100, 20)) as pilot:
        grid = await open_customers(app, pilot)
        await pilot.press(*["down"] * 30)
        chosen, cursor, top = grid.current, grid.cursor, grid.scroll_offset.y
        assert cursor == 30 and top > 0
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.customer_id == chosen, pilot)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, CustomersScreen), pilot)
        await pilot.pause()
        assert (grid.current, grid.cursor, grid.scroll_offset.y) == (chosen, cursor, top)
        # `C` from a profile opened from the table leads back to that table, not a new one.
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        await pilot.press("C")
        await pilot.pause()
        assert app.screen is grid.screen
        assert sum(isinstance(s, CustomersScreen) for s in app.screen_stack) == 1


async def test_a_sync_that_changes_customers_reloads_the_table_keeping_the_cursor(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        await pilot.press("down", "down", "down")
        chosen = grid.current
        old = grid.table
        # A new customer whose name sorts first, as a sync would have written it.
        profile, entries = demo.dataset()[5]
        customer = profile.customer.model_copy(update={"id": "cus_new", "name": "Aaa Newcomer"})
        demo_cache.put_profile(profile.model_copy(update={"customer": customer, "contacts": [],
                                                          "relationships": []}), entries)
        app.sync_applied.publish(SyncEffects(customers={"cus_new": 1}, gone=frozenset(), merged={}))
        await wait_for(lambda: grid.table is not old and not app.screen.reading, pilot)
        await pilot.pause()
        assert ids(grid) == [r.id for r in by_name(demo_cache.index_rows())]
        assert "cus_new" in ids(grid)
        assert grid.current == chosen  # the cursor stayed on its customer


async def test_the_first_rows_show_before_the_whole_index_is_read(
        demo_cache: Cache, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customers_module, "FIRST_PAGE", 10)
    shown: list[int] = []
    original = CustomersScreen._shown

    def spy(self, table, index, *, partial):  # type: ignore[no-untyped-def]
        shown.append(len(table))
        original(self, table, index, partial=partial)

    monkeypatch.setattr(CustomersScreen, "_shown", spy)
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        total = len(list(demo_cache.index_rows()))
        assert shown == [10, total]
        assert ids(grid) == [r.id for r in by_name(demo_cache.index_rows())]
        assert grid.cursor == 0


async def test_the_screens_first_frame_already_shows_rows(
        demo_cache: Cache, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first page is read as the screen opens, not by the worker after an empty frame."""
    monkeypatch.setattr(customers_module, "FIRST_PAGE", 10)
    first_frames: list[int] = []

    class Desk(AgentDesk):
        def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
            super()._display(screen, renderable)
            if renderable is not None and isinstance(screen, CustomersScreen) and not first_frames:
                first_frames.append(len(screen.query_one(CustomerGrid).view))

    app = Desk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.index is not None, pilot)
        await pilot.press("C")
        await wait_for(lambda: bool(first_frames), pilot)
        assert first_frames == [10]


def _export_rows(demo_cache: Cache, query: str) -> list:  # type: ignore[type-arg]
    return by_name(select(demo_cache.index_rows(), parse(query), now()))


async def _export(app: AgentDesk, pilot, path: Path, fmt: str = "csv") -> None:  # type: ignore[no-untyped-def]
    await pilot.press("x")
    await wait_for(lambda: isinstance(app.screen, ExportForm), pilot)
    form = app.screen
    form.query_one("#export-path").value = str(path)
    if fmt == "json":
        form.query_one("#export-json").value = True
        await pilot.pause()
    await pilot.press("enter")
    await wait_for(lambda: isinstance(app.screen, CustomersScreen), pilot)


async def test_export_writes_the_view_as_shown_csv_and_json(demo_cache: Cache, config: Config,
                                                           tmp_path: Path) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    query = "-status:blocked"
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        await pilot.press("f", *query, "enter", "right", "right", "right", "right", "s", "s")
        await pilot.pause()
        fields = [c.id for c in grid.shown]
        shown = ids(grid)
        csv_path = tmp_path / "out" / "view.csv"
        csv_path.parent.mkdir()
        await _export(app, pilot, csv_path)
        await wait_for(lambda: csv_path.exists(), pilot)
        await _export(app, pilot, tmp_path / "out" / "view.json", "json")
        await wait_for(lambda: (tmp_path / "out" / "view.json").exists(), pilot)
        await pilot.pause()
        notes = [n.message for n in app._notifications]
    assert any(f"Exported {len(shown)} customers to {csv_path}" in m for m in notes)
    assert stat.S_IMODE(csv_path.stat().st_mode) == 0o600
    # The same rows in the same order (status, descending) as `agentdesk export` writes them.
    by_id = {r.id: r for r in _export_rows(demo_cache, query)}
    assert set(shown) == set(by_id)
    expected = io.StringIO()
    write_csv([by_id[cid] for cid in shown], fields, expected)
    written = csv_path.read_bytes().decode("utf-8")
    assert written == expected.getvalue()
    parsed = list(csv.reader(io.StringIO(written, newline="")))
    assert parsed[0] == fields and len(parsed) == len(shown) + 1
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in parsed[1:] for cell in row)
    docs = json.loads((tmp_path / "out" / "view.json").read_text(encoding="utf-8"))
    assert [d["name"] for d in docs if d["name"].isprintable()] == [
        by_id[cid].name for cid in shown if by_id[cid].name.isprintable()]
    assert all(isinstance(d["tags"], list) for d in docs)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".part")]


async def test_an_export_that_cannot_be_written_says_where_and_leaves_nothing(
        demo_cache: Cache, config: Config, tmp_path: Path) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    target = tmp_path / "missing" / "view.csv"
    async with app.run_test(size=SIZE) as pilot:
        await open_customers(app, pilot)
        await _export(app, pilot, target)
        await wait_for(lambda: any("Could not write" in n.message for n in app._notifications),
                       pilot)
        message = next(n for n in app._notifications if "Could not write" in n.message).message
        assert str(target) in message and "Nothing was exported" in message
        assert isinstance(app.screen, CustomersScreen)
    assert not target.parent.exists()


async def test_the_export_form_names_a_folder_and_follows_the_format(
        demo_cache: Cache, config: Config, tmp_path: Path) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        await open_customers(app, pilot)
        await pilot.press("x")
        await wait_for(lambda: isinstance(app.screen, ExportForm), pilot)
        form = app.screen
        path = form.query_one("#export-path")
        assert path.value.endswith(".csv")
        form.query_one("#export-json").value = True
        await pilot.pause()
        assert path.value.endswith(".json")
        path.value = str(tmp_path)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        assert "is a folder" in str(form.query_one("#export-error").render())


@pytest.mark.parametrize("size", [(60, 20), (40, 12)])
async def test_a_narrow_terminal_does_not_break_the_screen(demo_cache: Cache, config: Config,
                                                          size: tuple[int, int]) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=size) as pilot:
        grid = await open_customers(app, pilot)
        await pilot.press(*["right"] * 8, "s", "down", "c")
        await pilot.pause()
        await pilot.press("escape", "x")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CustomersScreen)
        assert grid.render_line(0).cell_length == grid.scrollable_content_region.width
        assert "Last conta" in grid.render_line(0).text  # the focused column is in view


async def test_the_palette_opens_the_customers_screen(demo_cache: Cache, config: Config) -> None:
    from test_palette import palette_entries

    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        entries = await palette_entries(pilot)
        assert "Customers   C" in entries
        await pilot.press(*"Customers", "enter")
        await wait_for(lambda: isinstance(app.screen, CustomersScreen), pilot)


def test_the_export_progress_moves_every_step_and_reads_as_a_bar(
        demo_cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentdesk.cache.customer_table import CustomerTable
    from agentdesk.ui import customers_export

    monkeypatch.setattr(customers_export, "STEP", 10)
    table = CustomerTable.load(demo_cache.index_rows())
    moves: list[int] = []
    written = list(customers_export.records(table, list(table.by_name), ["id", "tags"], moves.append))
    assert moves == list(range(10, len(table) + 1, 10))
    assert [r.id for r in written] == [table.values["id"][i] for i in table.by_name]
    assert all(isinstance(r.tags, list) for r in written)
    line = customers_export.progress_line(25, 100, width=20).plain
    assert line == " Exporting █████░░░░░░░░░░░░░░░ 25% (25 of 100)"


async def test_a_customer_edited_on_the_profile_shows_edited_back_in_the_table(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        grid = await open_customers(app, pilot)
        await pilot.press("down", "down", "enter")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.profile is not None, pilot)
        chosen = app.screen.customer_id
        old = grid.table
        # What the details form does once saved: the profile through the cache, then the index.
        profile = demo_cache.load_profile(chosen)
        edited = profile.model_copy(update={"customer": profile.customer.model_copy(
            update={"name": "Zzz Renamed"})})
        demo_cache.put_profile(edited)
        app.index_changed(edited)
        await pilot.press("escape")
        await wait_for(lambda: grid.table is not old and not app.screen.reading, pilot)
        await pilot.pause()
        assert grid.current == chosen  # the cursor followed the customer to its new place
        assert grid.table.values["name"][grid.view[grid.cursor]] == "Zzz Renamed"


async def test_closing_the_screen_while_it_reads_keeps_the_table_for_the_next_time(
        demo_cache: Cache, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customers_module, "FIRST_PAGE", 5)
    monkeypatch.setattr("agentdesk.cache.customer_table.PROGRESS_EVERY", 5)
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.index is not None, pilot)
        await pilot.press("C", "escape")
        await wait_for(lambda: app.customer_table is not None, pilot)
        await pilot.pause()
        assert isinstance(app.screen, ProfileScreen)
        assert len(app.customer_table) == len(list(demo_cache.index_rows()))
        grid = await open_customers(app, pilot)  # shown at once from what was read
        assert grid.table is app.customer_table
