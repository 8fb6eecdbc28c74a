"""Pilot tests: the desk driven by keys against a real demo cache on disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input, TextArea

from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.cache.cache import Cache
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.details import MORE, DetailsPanel, NoteList, SectionList
from agentdesk.ui.forms import ConfirmScreen, ContactForm, NoteForm
from agentdesk.ui.help import HelpScreen
from agentdesk.ui.empty_screen import EmptyScreen
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.search import ResultList, SearchScreen
from agentdesk.ui.timeline import TimelineView

SIZE = (120, 35)


async def wait_for(condition, pilot, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until `condition()` holds (the index loads in a worker thread)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


async def select_option(pilot, list_id: str, option_id: str) -> None:  # type: ignore[no-untyped-def]
    """Focus a details list and move its highlight to `option_id` with the keyboard."""
    app = pilot.app
    option_list = app.screen.query_one(f"#{list_id}", SectionList)
    option_list.focus()
    await pilot.pause()
    for _ in range(option_list.option_count + 1):
        highlighted = option_list.highlighted
        if highlighted is not None and option_list.get_option_at_index(highlighted).id == option_id:
            return
        await pilot.press("j")
    raise AssertionError(f"{option_id} not reachable in #{list_id}")


def timeline(app: AgentDesk) -> TimelineView:
    return app.screen.query_one(TimelineView)


async def test_opens_on_a_profile_with_details_and_timeline(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProfileScreen)
        assert screen.profile is not None and screen.profile.customer.id == "cus_000000"
        assert isinstance(app.focused, TimelineView)
        # The timeline opens on the newest entries.
        view = timeline(app)
        assert view.scroll_offset.y == view.max_scroll_y
        top = view.top_entry()
        assert top is not None and top[0] > 0
        panel = screen.query_one(DetailsPanel)
        assert panel.query_one("#conversations", SectionList).option_count >= 2


async def test_enter_on_a_conversation_scrolls_to_its_first_entry(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProfileScreen) and screen.timeline is not None
        starts = screen.timeline.summary.starts
        # An old conversation, far from the newest entries shown at start.
        target = min(starts, key=lambda c: abs(starts[c] - 3_000))
        # An old conversation is behind its topic's "… more" line: Enter there lists them all.
        topic = next(c.topic for c in screen.profile.conversations if c.id == target)
        listed = screen.query_one("#conversations", SectionList)
        topics = {c.topic for c in screen.profile.conversations}
        assert listed.option_count <= len(topics) * 5  # title, 3 newest, "… more" per topic
        assert len(screen.profile.conversations) > listed.option_count
        await select_option(pilot, "conversations", MORE + topic)
        await pilot.press("enter")
        await select_option(pilot, "conversations", target)
        await pilot.press("enter")
        await pilot.pause()
        view = timeline(app)
        assert app.focused is view
        assert view.top_entry() == (starts[target], True)
        chunk, offset = screen.timeline.locate(starts[target])
        entry = screen.timeline.chunk(chunk)[offset]
        assert entry.conversation_id == target
        # Only the chunks needed were read, not all 50 chunks of the timeline.
        assert len(screen.timeline._chunks) <= 6


async def test_bracket_keys_move_between_conversations(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # (Beatrix's oldest entry is not in a conversation: it has an "Activity" heading, and
        # the first ] goes to her first conversation.)
        starts = [0, *sorted(p for p in app.screen.timeline.summary.starts.values() if p)]
        view = timeline(app)
        await pilot.press("g")
        assert view.top_entry() == (0, True)
        await pilot.press("right_square_bracket")
        assert view.top_entry() == (starts[1], True)
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert view.top_entry() == (starts[3], True)
        await pilot.press("j", "j", "j")  # into the conversation: [ goes to its start
        await pilot.press("left_square_bracket")
        assert view.top_entry() == (starts[3], True)
        await pilot.press("left_square_bracket")
        assert view.top_entry() == (starts[2], True)
        await pilot.press("G")
        assert view.scroll_offset.y == view.max_scroll_y


async def test_relationship_opens_the_related_customer_and_back(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = app.screen
        await select_option(pilot, "relationships", "rel_0_big")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProfileScreen) and app.screen.customer_id == demo.BIG_ID
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is first
        await select_option(pilot, "relationships", "rel_0_big")
        await pilot.press("enter", "backspace")
        await pilot.pause()
        assert app.screen is first
        await pilot.press("escape")  # nothing further back: stays on the first profile
        assert app.screen is first


async def test_going_back_shows_edits_made_further_on(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        first = app.screen
        await wait_for(lambda: app.index is not None, pilot)
        await pilot.press("slash", *"cus_000000", "enter")  # the same customer, opened again
        await pilot.pause()
        assert isinstance(app.screen, ProfileScreen) and app.screen is not first
        await pilot.press("n", *"Seen on the second screen", "ctrl+s")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is first
        texts = [n.text for n in first.profile.notes]
        assert "Seen on the second screen" in texts
        assert any(o.id == first.profile.notes[-1].id for o in first.query_one(NoteList).options)


async def test_search_is_incremental_and_opens_the_profile(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        await wait_for(lambda: app.index is not None, pilot)
        results = app.screen.query_one(ResultList)
        assert results.rows[0].id == "cus_000000"  # recently viewed first
        await pilot.press(*"beat")
        assert [r.id for r in results.rows] == [demo.BIG_ID]
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        await pilot.press(*"longhistory50@")  # by e-mail
        assert [r.id for r in results.rows] == [demo.BIG_ID]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProfileScreen) and app.screen.customer_id == demo.BIG_ID


async def test_single_keys_do_not_fire_while_typing(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await pilot.press(*"qnebg?j")
        await pilot.pause()
        assert app.is_running
        assert isinstance(app.screen, SearchScreen)
        assert app.screen.query_one(Input).value == "qnebg?j"


async def test_add_edit_delete_a_note(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        before = len(app.screen.profile.notes)
        await pilot.press("n")
        assert isinstance(app.screen, NoteForm)
        await pilot.press("ctrl+s")  # empty: refused inline
        assert isinstance(app.screen, NoteForm)
        assert "needs some text" in str(app.screen.query_one("#note-error").render())
        await pilot.press(*"Prefers [bold]tea[/]")
        await pilot.press("ctrl+s")
        await pilot.pause()
        profile_screen = app.screen
        assert isinstance(profile_screen, ProfileScreen)
        notes = demo_cache.load_profile("cus_000001").notes
        assert len(notes) == before + 1
        added = next(n for n in notes if n.text == "Prefers [bold]tea[/]")
        assert added.author == "Test Agent"
        note_list = profile_screen.query_one(NoteList)
        assert note_list.get_option(added.id) is not None  # shown at once
        assert [c["kind"] for c in demo_cache.local_changes("cus_000001")] == ["note.add"]
        # Edit it: Enter on the note in the Details list.
        await select_option(pilot, "notes", added.id)
        await pilot.press("enter")
        assert isinstance(app.screen, NoteForm)
        area = app.screen.query_one(TextArea)
        area.text = "Prefers green tea"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert any(n.text == "Prefers green tea" for n in demo_cache.load_profile("cus_000001").notes)
        # Delete it, confirming.
        await select_option(pilot, "notes", added.id)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        notes = demo_cache.load_profile("cus_000001").notes
        assert all(n.id != added.id for n in notes) and len(notes) == before
        kinds = [c["kind"] for c in demo_cache.local_changes("cus_000001")]
        assert kinds == ["note.add", "note.edit", "note.delete"]
        assert all(o.id != added.id for o in note_list.options)


async def test_invalid_email_is_refused_inline_and_nothing_is_saved(demo_cache: Cache, config: Config) -> None:
    path = demo_cache.profile_path("cus_000002")
    before = path.read_bytes()
    app = AgentDesk(demo_cache, config, customer_id="cus_000002")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, ContactForm)
        emails = [i for i, p in enumerate(form.profile.contacts) if p.kind.value == "email"]
        value = form.query_one(f"#value-{emails[0]}", Input)
        value.value = "not an email@"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # still open
        error = str(form.query_one(f"#error-{emails[0]}").render())
        assert "Not a valid e-mail address" in error
        assert value.has_class("invalid")
        assert path.read_bytes() == before  # nothing saved
        # A bad phone in the "new phone" row is refused too.
        new_phone = len(form.profile.contacts) + 1
        value.value = "fixed@example.com"
        form.query_one(f"#value-{new_phone}", Input).value = "12"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "7 to 15" in str(form.query_one(f"#error-{new_phone}").render())
        assert path.read_bytes() == before
        # Fixed: saved, shown, searchable under the new values.
        form.query_one(f"#value-{new_phone}", Input).value = "+44 20 7946 0958"
        form.query_one("#name", Input).value = "Renamed Person"
        await pilot.press("ctrl+s")
        await pilot.pause()
    saved = demo_cache.load_profile("cus_000002")
    assert saved.customer.name == "Renamed Person"
    values = {c.value for c in saved.contacts}
    assert "fixed@example.com" in values and "+44 20 7946 0958" in values
    kinds = [c["kind"] for c in demo_cache.local_changes("cus_000002")]
    assert kinds[0] == "customer.update" and kinds.count("contact.upsert") == 2


async def test_renamed_customer_is_found_by_search_at_once(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000003")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.index is not None, pilot)
        await pilot.press("e")
        app.screen.query_one("#name", Input).value = "Zebulon Quux"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("slash", *"zebulon")
        results = app.screen.query_one(ResultList)
        assert [r.id for r in results.rows] == ["cus_000003"]


async def test_help_lists_every_binding_of_the_screen(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        profile = app.screen
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = {row[3]: row for row in app.screen.rows}
        ids = [b.id for b in ProfileScreen.BINDINGS + TimelineView.BINDINGS + AgentDesk.BINDINGS]
        for binding_id in ids:
            assert binding_id in shown, binding_id
        assert shown["profile.new_note"][1] == "n"
        assert shown["timeline.next_conversation"][1] == "]"
        await pilot.press("escape")
        assert app.screen is profile
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_every_binding_has_an_id_and_can_be_remapped(demo_cache: Cache, tmp_path: Path) -> None:
    from agentdesk.ui import details, forms, help, profile, search

    for cls in (AgentDesk, ProfileScreen, TimelineView, details.SectionList, details.NoteList,
                search.ResultList, search.SearchScreen, forms.FormScreen, forms.ConfirmScreen,
                help.HelpScreen, profile.ProfileScreen):
        for binding in cls.BINDINGS:
            assert binding.id, f"{cls.__name__} binding {binding.key} has no id"
    config = Config(path=tmp_path / "c.toml", author="x", keymap={"profile.new_note": "a"})
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, NoteForm)


async def test_command_palette_offers_the_desk_actions(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"new note")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, NoteForm), pilot)


async def test_narrow_terminal_collapses_the_panel(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=(50, 14)) as pilot:
        await pilot.pause()
        screen = app.screen
        details = screen.query_one("#details")
        assert screen.has_class("-narrow")
        assert not details.display or details.size.width == 0
        await pilot.press("b")
        await pilot.pause()
        assert details.size.width > 0 and screen.query_one("#timeline").size.width == 0
        await pilot.press("b")
        await pilot.pause()
        assert timeline(app).size.width > 0


async def test_tiny_terminals_do_not_crash(demo_cache: Cache, config: Config) -> None:
    for size in [(10, 5), (40, 12), (1, 1), (200, 60)]:
        app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
        async with app.run_test(size=size) as pilot:
            await pilot.press("b", "tab", "j", "g", "G", "right_square_bracket", "b", "question_mark")
            await pilot.pause()
            assert app.is_running


async def test_resizing_keeps_the_entry_being_read(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g", *["right_square_bracket"] * 5)
        view = timeline(app)
        before = view.top_entry()
        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        assert view.top_entry() == before


async def test_second_desk_on_the_same_cache_is_read_only(demo_cache: Cache, config: Config) -> None:
    second = Cache.open(demo_cache.root)
    assert second.read_only
    path = second.profile_path("cus_000000")
    before = path.read_bytes()
    app = AgentDesk(second, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        assert "READ-ONLY" in str(app.screen.query_one("#topbar").render())
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ProfileScreen)  # no form: edits are refused
    assert path.read_bytes() == before


async def test_empty_cache_explains_how_to_get_data(empty_cache: Cache, config: Config) -> None:
    app = AgentDesk(empty_cache, config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, EmptyScreen)
        text = str(app.screen.query_one("#empty-message").render())
        assert "agentdesk --demo" in text and "No customers" in text
        await pilot.press("q")
        await asyncio.sleep(0)
    assert not app.is_running


async def test_timeline_is_virtualized_for_100k_entries(tmp_path: Path, config: Config) -> None:
    from agentdesk.model.records import Channel, Conversation, Customer, Direction, Profile, TimelineEntry

    conv = [Conversation(id=f"c{i}", topic=f"Topic {i}", started=demo.EPOCH) for i in range(100)]
    entries = [
        TimelineEntry(id=f"e{i:06d}", conversation_id=f"c{i // 1000}", at=demo.EPOCH.replace(year=2020 + i // 20000),
                      channel=Channel.CHAT, direction=Direction.INBOUND, body=f"message {i}")
        for i in range(100_000)
    ]
    with Cache.open(tmp_path / "big") as cache:
        cache.put_profile(Profile(customer=Customer(id="huge", name="Huge"), conversations=conv), entries,
                          durable=False)
        app = AgentDesk(cache, config, customer_id="huge")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.screen
            assert len(list(screen.walk_children())) < 60  # no widget per entry
            view = timeline(app)
            assert view.total == 100_000
            assert len(screen.timeline._chunks) <= 3
            await pilot.press("g")
            assert view.top_entry() == (0, True)
            await pilot.press("G")
            assert view.scroll_offset.y == view.max_scroll_y
            assert len(screen.timeline._chunks) <= 8


async def test_key_bar_follows_the_focus_and_a_click_presses_the_key(demo_cache: Cache, config: Config) -> None:
    from agentdesk.ui.keybar import KeyBar

    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        shown = bar.render().plain
        assert "Note" in shown and "Search" in shown and "Commands" in shown
        assert "Delete note" not in shown  # only while the notes list has the focus
        app.screen.query_one("#notes", NoteList).focus()
        await pilot.pause()
        assert "Delete note" in bar.render().plain
        # A click on a hint does what its key does.
        start = bar.render().plain.index(" / Search")
        await pilot.click(KeyBar, offset=(start + 2, 0))
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)


async def test_the_command_resumes_garbage_collection_after_the_first_paint(
        demo_cache: Cache, config: Config) -> None:
    import gc

    from agentdesk.ui import startup

    assert gc.isenabled()
    startup.pause_gc()  # what `agentdesk` does before its imports
    try:
        assert not gc.isenabled()
        app = AgentDesk(demo_cache, config, customer_id="cus_000000")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(gc.isenabled, pilot)
            assert isinstance(app.screen, ProfileScreen) and app.screen.profile is not None
    finally:
        gc.enable()
        gc.unfreeze()


async def test_an_app_made_without_the_command_leaves_the_collector_alone(
        demo_cache: Cache, config: Config) -> None:
    import gc

    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert gc.isenabled() and gc.get_freeze_count() == 0


def showing(app: AgentDesk, entries: int) -> bool:
    views = app.screen.query(TimelineView)
    return bool(views) and views.first().total == entries


async def test_the_timeline_keeps_its_width_whether_or_not_it_scrolls(demo_cache: Cache, config: Config) -> None:
    """Its scrollbar's column is kept free: a timeline that outgrows the screen (a sync adds
    entries) does not wrap its text again one column narrower, under the agent's eyes."""
    app = AgentDesk(demo_cache, config, customer_id=demo.HOSTILE_ID)
    async with app.run_test(size=(120, 80)) as pilot:
        await wait_for(lambda: showing(app, 7), pilot)
        await pilot.pause()
        short = timeline(app)
        assert short.max_scroll_y == 0 and not short.show_vertical_scrollbar  # fits on screen
        width = short.scrollable_content_region.width
        app.open_customer(demo.BIG_ID)
        await wait_for(lambda: showing(app, 10_000), pilot)
        await pilot.pause()
        long = timeline(app)
        assert long.show_vertical_scrollbar
        assert long.scrollable_content_region.width == width


async def test_a_profile_closed_before_it_mounts_is_no_crash(demo_cache: Cache, config: Config) -> None:
    """Opened and closed in the same moment (a screen-pop, then Esc or q before the desk
    drew anything): the screen is gone before its mount, which then has nothing to fill."""
    app = AgentDesk(demo_cache, config, customer_id=demo.HOSTILE_ID)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: showing(app, 7), pilot)
        app.open_customer(demo.BIG_ID)
        app.pop_screen()
        await pilot.pause()
        await pilot.pause(0.2)
        assert isinstance(app.screen, ProfileScreen) and app.screen.customer_id == demo.HOSTILE_ID
        app.open_customer(demo.BIG_ID)
        app.exit()
    assert app.return_code == 0  # quit, not crashed
