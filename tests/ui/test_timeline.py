"""Pilot tests of the timeline as the agent reads it: where it opens, the conversation heading
that stays on top, the entry a jump went to, times, and entries too long for the screen."""

from __future__ import annotations

from pathlib import Path

from support.timeline_screen import put_huge, row_styles, rows

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.model.kinds import Direction
from agentdesk.ui import clock
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.safe import when
from agentdesk.ui.timeline_kinds import MARKS
from agentdesk.ui.timeline import TimelineView

from test_ui_navigation import select_option

ARROWS = ("←", "→", "✎")


def timeline(app: AgentDesk) -> TimelineView:
    return app.screen.query_one(TimelineView)


def newest(view: TimelineView):  # type: ignore[no-untyped-def]
    tl = view._timeline  # noqa: SLF001
    return tl.chunk(len(tl.summary.chunk_sizes) - 1)[-1]


async def test_the_timeline_opens_on_the_newest_entry_whole(demo_cache: Cache, config: Config) -> None:
    """Not mid-entry, not on a blank line: the first line under the heading starts an entry,
    and the newest entry is on screen from its first line to its last."""
    for customer_id, size in (("cus_000000", (120, 35)), (demo.BIG_ID, (80, 24)),
                              (demo.BIG_ID, (200, 60)), ("cus_000003", (120, 35))):
        app = AgentDesk(demo_cache, config, customer_id=customer_id)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            view = timeline(app)
            shown = rows(view)
            assert shown[0].lstrip().startswith("■"), (customer_id, size, shown[:2])
            first = shown[1].lstrip()
            assert first.startswith((*ARROWS, *MARKS.values(), "■")), (customer_id, size, shown[:3])
            last = newest(view)
            meta = next(i for i, r in enumerate(shown) if when(last.at) in r)
            last_words = (last.body or last.subject).split()[-1]
            assert any(last_words in r for r in shown[meta:]), (customer_id, size, shown)
            assert view.scroll_offset.y == view.max_scroll_y  # and it is the end of the timeline


async def test_a_heading_says_which_conversation_the_lines_on_screen_belong_to(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        view = timeline(app)
        await pilot.press("g", "right_square_bracket", "right_square_bracket")
        await pilot.press(*["j"] * 12)  # well into the third conversation: its heading scrolled by
        position, on_header = view.top_entry()
        assert not on_header
        entry = view._timeline.chunk(0)[position]  # noqa: SLF001 - the first file holds it
        topic = view.conversation(entry.conversation_id).topic
        heading = rows(view)[0]
        assert heading.lstrip().startswith("■") and topic in heading


async def test_a_jump_near_the_end_marks_the_entry_it_went_to(demo_cache: Cache, config: Config) -> None:
    """The newest conversation starts less than a screen from the end: the view cannot scroll
    it to the top, so the entry is marked, by `]` and by Enter in the conversation list."""
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        view = timeline(app)
        starts = view._timeline.summary.starts  # noqa: SLF001
        newest_conv = max(starts, key=starts.get)
        await pilot.press("g", *["right_square_bracket"] * (len(starts) - 1))
        assert view.mark == starts[newest_conv]
        assert view.scroll_offset.y == view.max_scroll_y  # could not scroll it to the top
        entry = view._timeline.chunk(0)[starts[newest_conv]]  # noqa: SLF001
        row = next(y for y, r in enumerate(rows(view)) if when(entry.at) in r)
        mark = view._line_styles()["mark"].bgcolor  # noqa: SLF001
        assert all(s.bgcolor == mark for s in row_styles(view, row)[1:])

        await pilot.press("g")
        view.mark = None
        await select_option(pilot, "conversations", newest_conv)
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is view and view.mark == starts[newest_conv]


async def test_times_are_relative_too_and_in_the_customer_s_time_zone(
        demo_cache: Cache, config: Config) -> None:
    """Kofi Novak lives in Portland: his timeline says how long ago each entry was (on the
    tests' fixed clock) and what his clock said, and its heading what his clock says now."""
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=(220, 40)) as pilot:
        await pilot.pause()
        view = timeline(app)
        assert view.customer_zone is not None
        last = newest(view)
        row = next(r for r in rows(view) if when(last.at) in r)
        assert f"{when(last.at)} · {clock.relative(last.at)}" in row
        assert clock.relative(last.at).endswith(" ago")  # the demo is older than the fixed now
        if last.direction != Direction.INTERNAL:
            assert f"{last.at.astimezone(view.customer_zone):%H:%M} their time" in row
        assert "their time Tue 01:00" in str(view.border_title)  # 09:00 UTC in Los Angeles


def test_relative_times_read_as_a_person_would_say_them(fixed_clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    now = fixed_clock
    for delta, said in ((timedelta(seconds=20), "just now"), (timedelta(minutes=5), "5 min ago"),
                        (timedelta(hours=2, minutes=59), "2 h ago"), (timedelta(days=3), "3 d ago"),
                        (timedelta(days=75), "2 mo ago"), (timedelta(days=800), "2 y ago"),
                        (-timedelta(hours=3), "in 3 h")):
        assert clock.relative(now - delta) == said
    assert clock.zone("Europe/Paris") is not None
    assert clock.zone("") is None and clock.zone("Mars/Olympus_Mons") is None


async def test_an_entry_longer_than_the_screen_is_cut_and_enter_shows_all_of_it(
        tmp_path: Path, config: Config) -> None:
    """A 1 MB body: only a screenful of it is wrapped and drawn, with the rest counted;
    Enter shows it all, Enter again cuts it."""
    with put_huge(tmp_path / "cache") as cache:
        app = AgentDesk(cache, config, customer_id="huge")
        async with app.run_test(size=(120, 35)) as pilot:
            await pilot.pause()
            view = timeline(app)
            height = view.scrollable_content_region.height
            assert view.virtual_size.height < 3 * height  # not 150,000 lines
            shown = rows(view)
            cut = [r for r in shown if "more lines · enter shows all" in r]
            assert len(cut) == 1 and "about" in cut[0]
            assert shown[1].lstrip().startswith(ARROWS)  # the long entry, whole (as cut)

            await pilot.press("enter")
            await pilot.pause()
            assert view.virtual_size.height > 10_000  # all of it now
            assert view.mark is not None
            await pilot.press("G")
            assert any("enter shows less" in r for r in rows(view))

            await pilot.press("enter")
            await pilot.pause()
            assert view.virtual_size.height < 3 * height
            assert any("more lines · enter shows all" in r for r in rows(view))


async def test_find_filter_and_long_entries_at_tiny_sizes_do_not_crash(tmp_path: Path, config: Config) -> None:
    with put_huge(tmp_path / "cache") as cache:
        for size in [(1, 1), (10, 5), (40, 12), (60, 20)]:
            app = AgentDesk(cache, config, customer_id="huge")
            async with app.run_test(size=size) as pilot:
                await pilot.press("enter", "G", "ctrl+f", *"ref", "up", "down", "escape",
                                  "f", "space", "j", "space", "a", "escape", "enter", "left_square_bracket")
                await pilot.pause()
                assert app.is_running


async def test_a_long_newest_entry_cut_again_from_its_end_shows_whole_from_its_first_line(
        tmp_path: Path, config: Config) -> None:
    with put_huge(tmp_path / "cache") as cache:
        app = AgentDesk(cache, config, customer_id="huge")
        async with app.run_test(size=(120, 35)) as pilot:
            await pilot.press("enter", "G")
            view = timeline(app)
            assert any("enter shows less" in r for r in rows(view))
            await pilot.press("enter")
            await pilot.pause()
            shown = rows(view)
            assert shown[1].lstrip().startswith(ARROWS), shown[:3]  # its first line, under the heading
            assert any("enter shows all" in r for r in shown)


async def test_a_theme_chosen_while_open_redraws_the_entries_in_its_colours(
        demo_cache: Cache, config: Config) -> None:
    """The entries already drawn are drawn again: the same lines, styled as a desk started in
    that theme styles them (the timeline's component styles are worked out after the change)."""
    light = Config(path=config.path, author=config.author, keymap={}, theme="textual-light")
    drawn = {}
    for name, started_in, switch in (("switched", config, True), ("started", light, False)):
        app = AgentDesk(demo_cache, started_in, customer_id="cus_000000")
        async with app.run_test(size=(120, 35)) as pilot:
            await pilot.pause()
            view = timeline(app)
            if switch:
                dark = [row_styles(view, y) for y in range(1, 12)]
                app.theme = "textual-light"
                await pilot.pause()
                await pilot.pause()
            drawn[name] = [row_styles(view, y) for y in range(1, 12)]
    assert drawn["switched"] == drawn["started"]
    assert drawn["switched"] != dark
