"""Pilot tests of find (ctrl+f) and the filter (f) in the timeline, on the demo's 10,000-entry
customer and on a 100,000-entry one, read from the cache a file at a time."""

from __future__ import annotations

from pathlib import Path

from support.timeline_screen import put_history, row_styles, rows
from test_ui_navigation import wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.timeline import TimelineView
from agentdesk.ui.timeline_filter import FilterList, FilterPanel
from agentdesk.ui.timeline_find import FindBar, FindInput

SIZE = (120, 35)


def timeline(app: AgentDesk) -> TimelineView:
    return app.screen.query_one(TimelineView)


def entry_at(view: TimelineView, position: int):  # type: ignore[no-untyped-def]
    chunk, offset = view._timeline.locate(position)  # noqa: SLF001
    return view._timeline.chunk(chunk)[offset]  # noqa: SLF001


async def test_find_goes_to_the_newest_match_then_older_and_newer_ones(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = timeline(app)
        await pilot.press("ctrl+f")
        assert isinstance(app.focused, FindInput)
        await pilot.press(*"Refund")
        await wait_for(lambda: view.scan.complete, pilot)
        await pilot.pause()
        finder = view.finder
        # Every entry with the text, in any case, and only those (the scan read every file).
        every = [p for p in range(view.total) if "refund" in
                 f"{entry_at(view, p).subject}\n{entry_at(view, p).body}\n{entry_at(view, p).author}".lower()]
        assert finder.positions == every and len(every) > 100
        # The newest match at or above the bottom of the screen, marked and highlighted.
        assert finder.current == every[-1] and view.mark == every[-1]
        row = next(y for y, r in enumerate(rows(view)) if "refund" in r.lower() and y)
        match = view._line_styles()["match"]  # noqa: SLF001
        assert any(s.bgcolor == match.bgcolor for s in row_styles(view, row))
        status = str(app.screen.query_one("#find-status").render())
        assert status.startswith(f"1 of {len(every):,}")

        await pilot.press("enter", "up")  # two older
        assert finder.current == every[-3] and view.mark == every[-3]
        top = view.top_entry()[0]
        assert top <= every[-3]  # scrolled to it
        await pilot.press("down")  # one newer
        assert finder.current == every[-2]
        await pilot.press("down", "down")  # past the newest: round to the oldest
        assert finder.current == every[0]
        assert "wrapped" in str(app.screen.query_one("#find-status").render())

        # Typing never reaches the desk's single-key bindings.
        await pilot.press("q", "slash")
        assert isinstance(app.screen, ProfileScreen) and app.is_running

        await pilot.press("escape")
        bar = app.screen.query_one(FindBar)
        assert not bar.has_class("-open") and app.focused is view
        assert view._pattern is None  # noqa: SLF001 - no highlight left
        await pilot.press("ctrl+f")
        assert app.screen.query_one(FindInput).value == "Refundq/"  # the query is kept


async def test_find_and_filter_on_100000_entries_read_a_file_at_a_time(tmp_path: Path, config: Config) -> None:
    with Cache.open(tmp_path / "big") as cache:
        put_history(cache, "huge", 100_000)
        app = AgentDesk(cache, config, customer_id="huge")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            view = timeline(app)
            await pilot.press("ctrl+f", *"message 4242")
            await wait_for(lambda: view.scan.complete, pilot, timeout=60)
            await pilot.pause()
            expected = [4242, *range(42420, 42430)]
            assert view.finder.positions == expected
            assert view.finder.current == 42429  # the newest, as the view was at the end
            assert "message 42429" in "\n".join(rows(view))
            await pilot.press(*["up"] * 10)
            assert view.finder.current == 4242 and "message 4242" in "\n".join(rows(view))
            # Only what was drawn was laid out; the entries were not all made at once.
            assert len(view._layouts) <= 64  # noqa: SLF001
            assert len(view._timeline._chunks) <= 16  # noqa: SLF001
            assert view.scan.chunks == 500

            await pilot.press("escape", "f")
            options = app.screen.query_one(FilterPanel).query_one(FilterList)
            options.highlighted = 19  # direction: internal
            await pilot.press("space")
            await pilot.pause()
            assert view.shown_total == 100_000 - 33_333
            # The agent's place stays: the entry marked by find is still on screen.
            assert view.top_entry()[0] <= 4242
            assert "message 4242" in "\n".join(rows(view))


async def test_the_filter_shows_only_the_chosen_channels_directions_and_conversation(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = timeline(app)
        await pilot.press("g", "right_square_bracket", "right_square_bracket", "f")
        screen = app.screen.query_one(FilterPanel)
        assert app.focused is screen.query_one(FilterList)
        await wait_for(lambda: view.scan.complete, pilot)
        options = screen.query_one(FilterList)
        all_entries = [entry_at(view, p) for p in range(view.total)]

        def laid_out() -> list:  # type: ignore[type-arg]
            return [entry_at(view, p) for layout in view._layouts.values() for p in layout.positions]  # noqa: SLF001

        options.highlighted = 8  # channel: email
        await pilot.press("space")
        await pilot.pause()
        assert view.shown_total == sum(e.channel.value != "email" for e in all_entries)
        assert laid_out() and all(e.channel.value != "email" for e in laid_out())
        assert f"{view.shown_total:,} of {view.total:,} shown" in str(view.border_title)
        assert "[ ] email" in str(options.get_option_at_index(8).prompt)

        options.highlighted = 17  # direction: inbound
        await pilot.press("enter")
        await pilot.pause()
        assert all(e.channel.value != "email" and e.direction.value != "inbound" for e in laid_out())

        options.highlighted = 21  # only this conversation: the second (g went to the oldest
        await pilot.press("space")  # entry, outside any; ] ] to the second conversation)
        await pilot.pause()
        third = sorted(view._timeline.summary.starts, key=view._timeline.summary.starts.get)[1]  # noqa: SLF001
        assert screen.conversation == third
        assert view.shown_total == sum(e.conversation_id == third and e.channel.value != "email"
                                       and e.direction.value != "inbound" for e in all_entries)
        assert {e.conversation_id for e in laid_out()} == {third}

        await pilot.press("a")  # show all again
        await pilot.pause()
        assert view.shown_total == view.total and not view.filtering.filter.active
        await pilot.press("escape")
        assert not app.screen.query(FilterPanel) and app.focused is view


async def test_find_and_filter_keys_have_ids_and_show_in_help(demo_cache: Cache, config: Config) -> None:
    from agentdesk.ui.help import HelpScreen

    for cls in (FindInput, FilterPanel, FilterList, TimelineView):
        for binding in cls.BINDINGS:
            assert binding.id, f"{cls.__name__} {binding.key}"
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = {row[3]: row for row in app.screen.rows}
        for binding_id in ("timeline.find", "timeline.filter", "timeline.expand", "timeline.older_match",
                           "find.older", "find.newer", "find.close", "filter.toggle", "filter.show_all",
                           "filter.close"):
            assert binding_id in shown, binding_id
        assert shown["timeline.find"][1] == "^f" and shown["timeline.filter"][1] == "f"


async def test_a_conversation_chosen_in_the_panel_opens_at_its_first_entry_the_filter_shows(
        demo_cache: Cache, config: Config) -> None:
    """Filtered, Enter on a conversation goes to its first entry shown, not to a hidden one
    (nor to whatever follows it); one the filter hides entirely is said to be hidden."""
    from support.timeline_screen import rows as shown_rows
    from test_ui_navigation import select_option

    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = timeline(app)
        starts = view._timeline.summary.starts  # noqa: SLF001
        target = min(starts, key=starts.get)  # the oldest conversation
        first = entry_at(view, starts[target])
        await pilot.press("f")
        options = app.screen.query_one(FilterList)
        row = next(i for i, o in enumerate(options.options) if o.id == f"direction:{first.direction.value}")
        options.highlighted = row
        await pilot.press("space", "escape")
        await select_option(pilot, "conversations", target)
        await pilot.press("enter")
        await pilot.pause()
        marked = entry_at(view, view.mark)
        assert marked.conversation_id == target and marked.direction != first.direction
        assert view.mark > starts[target] and "■" in shown_rows(view)[0]
        # Only that conversation shown: another one chosen in the panel moves nothing.
        await pilot.press("t", "f")
        options = app.screen.query_one(FilterList)
        options.highlighted = next(i for i, o in enumerate(options.options) if o.id == "conversation")
        await pilot.press("space", "escape")
        mark, top = view.mark, view.scroll_offset.y
        other = max(starts, key=starts.get)
        await select_option(pilot, "conversations", other)
        await pilot.press("enter")
        await pilot.pause()
        assert view.mark == mark and view.scroll_offset.y == top


async def test_the_find_bar_and_data_pane_are_made_when_first_used_and_in_help_before(
        demo_cache: Cache, config: Config) -> None:
    """Neither the find bar nor the customer data pane is built on the way to the first frame
    (start-up); the help screen names their keys all the same, before either was opened, and
    ctrl+f then makes the bar and puts the cursor in it."""
    from agentdesk.ui.help import HelpScreen

    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        assert not app.screen.query(FindBar) and not app.screen.query("#customer-data")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = {row[3] for row in app.screen.rows}
        assert {"find.older", "find.close"} <= shown
        assert {"fields.view", "identifiers.consent"} <= shown
        await pilot.press("escape")
        await pilot.press("ctrl+f")
        await wait_for(lambda: isinstance(app.focused, FindInput), pilot)
        assert app.screen.query_one(FindBar).has_class("-open")
