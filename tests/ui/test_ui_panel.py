"""The Customer Details panel and the customer search as an agent meets them (Pilot, real demo
cache): lines cut rather than wrapped, one scroll, topics that open and close, Notes newest
first, relationships both ways, huge values, and a search that finds every contact point,
says where it matched, folds accents and says when the store cannot be asked."""

from __future__ import annotations

from rich.style import Style
from support.sync_world import TOKEN, World
from test_ui_navigation import select_option, wait_for
from textual.widgets import Input

from agentdesk.cache.cache import Cache
from agentdesk.config import Config, Remote
from agentdesk.model import demo
from agentdesk.model.records import ContactPoint, Conversation, Note
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.details import FEWER, MORE, PER_TOPIC, RELATED_BY, DetailsPanel, NoteList, SectionList
from agentdesk.ui.fit import fit_parts
from agentdesk.ui.forms import ContactForm, PrimaryBox
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.search import ResultList, SearchScreen
from agentdesk.ui.timeline import TimelineView
from agentdesk.ui.timeline_draw import ACTIVITY

SIZE = (120, 35)


def lines(widget: SectionList) -> list[str]:
    """The text of every line the list draws, as the terminal shows it."""
    width = widget.scrollable_content_region.width
    return [str(Row_text) for option in widget.options
            for Row_text in (s.text for s in option.prompt.strips(width, Style()))]


async def opened(pilot, customer_id: str | None = None) -> ProfileScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(lambda: isinstance(app.screen, ProfileScreen) and app.screen.profile is not None
                   and app.index is not None, pilot)
    await pilot.pause()
    return app.screen


# -- the panel ------------------------------------------------------------------------------


async def test_label_value_lines_are_cut_not_wrapped_under_their_label(demo_cache: Cache,
                                                                      config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        contacts = screen.query_one("#contacts", SectionList)
        shown = lines(contacts)
        assert len(shown) == len(screen.profile.contacts)  # one line each, nothing wrapped
        address = next(line for line in shown if "address" in line)
        assert address.rstrip().endswith("…") and "97201" not in address
        email = next(line for line in shown if "★ email" in line)
        assert email.startswith("★ email   kofi.novak0@")
        summary = screen.query_one("#summary").render_line(3).text
        assert summary.startswith("id cus_000000")


async def test_topics_open_and_close_and_the_panel_is_the_one_scroll(demo_cache: Cache,
                                                                     config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        panel = screen.query_one(DetailsPanel)
        conversations = screen.query_one("#conversations", SectionList)
        # The list is as tall as its rows: it never scrolls inside the scrolling panel.
        assert conversations.size.height == conversations.virtual_size.height > 15
        assert conversations.max_scroll_y == 0
        topic = next(o.id[len(MORE):] for o in conversations.options if o.id and o.id.startswith(MORE))
        count = sum(1 for c in screen.profile.conversations if c.topic == topic)
        await select_option(pilot, "conversations", MORE + topic)
        before = conversations.option_count
        await pilot.press("enter")
        await pilot.pause()
        assert conversations.option_count == before + count - PER_TOPIC  # all listed, "fewer" line
        await select_option(pilot, "conversations", FEWER + topic)
        assert panel.scroll_y > 0  # the panel followed the cursor down the long list
        top, bottom = panel.scroll_y, panel.scroll_y + panel.scrollable_content_region.height
        row = conversations.virtual_region.y + 1 + conversations.highlighted
        assert top <= row < bottom
        await pilot.press("enter")
        await pilot.pause()
        assert conversations.option_count == before  # collapsed again, back on "… more"
        assert conversations.get_option_at_index(conversations.highlighted).id == MORE + topic


async def test_topic_headings_are_drawn_to_be_read(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        conversations = screen.query_one("#conversations", SectionList)
        heading = list(conversations.render_line(0))[0].style
        closed = next(i for i, o in enumerate(conversations.options) if not o.disabled)
        row = list(conversations.render_line(closed))[-2].style
        assert heading.bold and heading.color == row.color  # not the dim "disabled" colour
        placeholder = list(screen.query_one("#notes", NoteList).render_line(0))[0].style
        assert placeholder.color != heading.color  # "no notes yet" stays dim


async def test_notes_are_called_notes_and_a_new_one_is_on_top(demo_cache: Cache,
                                                              config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000003")
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        notes = screen.query_one("#notes", NoteList)
        assert notes.border_title == "Notes" and NoteList.HELP_GROUP == "Notes"
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"Newest of all")
        await pilot.press("ctrl+s")
        await wait_for(lambda: screen.profile is not None and len(screen.profile.notes) >= 1
                       and any(n.text == "Newest of all" for n in screen.profile.notes), pilot)
        await pilot.pause()
        assert lines(notes)[0] == "Newest of all"
        created = [n.created for n in sorted(screen.profile.notes, key=lambda n: n.created, reverse=True)]
        ids = [o.id for o in notes.options]
        by_id = {n.id: n.created for n in screen.profile.notes}
        assert [by_id[i] for i in ids] == created


async def test_relationships_are_shown_both_ways(demo_cache: Cache, config: Config) -> None:
    # Kofi Novak lists Elena Petrov as spouse, Mateo Haddad lists her as child; she lists
    # neither.
    app = AgentDesk(demo_cache, config, customer_id="cus_000039")
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        relationships = screen.query_one("#relationships", SectionList)
        shown = [line.rstrip() for line in lines(relationships)]
        assert any(line.startswith("spouse of") and "Kofi Novak ›" in line for line in shown)
        assert any(line.startswith("child of") and "Mateo Haddad ›" in line for line in shown)
        await select_option(pilot, "relationships", RELATED_BY + "cus_000000")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.customer_id == "cus_000000", pilot)
        # A change through the one door (as the replica makes one) reaches the other side:
        # Kofi's link to Elena is removed on the store.
        profile = demo_cache.load_profile("cus_000000")
        with demo_cache.change_profile("cus_000000") as stored:
            for rel in profile.relationships:
                if rel.customer_id == "cus_000039":
                    stored.remove("relationships", rel.id)
        app.load_index()
        await pilot.press("escape")
        await wait_for(lambda: app.screen.customer_id == "cus_000039", pilot)
        await wait_for(lambda: not any("Kofi" in line for line in lines(
            app.screen.query_one("#relationships", SectionList))), pilot)


async def test_huge_values_are_cut_to_what_fits(demo_cache: Cache, config: Config) -> None:
    """A 1 MB topic, address and note (issue 21's store can send them) are drawn from their
    first characters: the profile opens and every line fits."""
    huge = "x" * 1_000_000
    profile = demo_cache.load_profile("cus_000001")
    profile.contacts.append(ContactPoint(kind="address", value="1 Long Road " + huge))
    profile.conversations.append(Conversation(topic="Topic " + huge, started=demo.EPOCH))
    profile.notes.append(Note(text="Note " + huge))
    demo_cache.put_profile(profile)
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        for list_id in ("contacts", "conversations"):
            widget = screen.query_one(f"#{list_id}", SectionList)
            assert all(len(line) <= widget.size.width for line in lines(widget))
            assert any(line.rstrip().endswith("…") for line in lines(widget))
        note = next(o for o in screen.query_one(NoteList).options if "Note xxx" in str(o.prompt))
        assert len(str(note.prompt)) < 3_000


async def test_at_200_columns_the_panel_uses_the_room(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await opened(pilot)
        panel = screen.query_one(DetailsPanel)
        assert panel.size.width >= 75  # 40% of the screen, no longer held to 60 columns
        conversations = screen.query_one("#conversations", SectionList)
        assert conversations.size.height > 15  # no list is capped with room to spare


async def test_the_edit_forms_fields_have_a_box_and_primary_is_not_colour_alone(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, ContactForm), pilot)
        form = app.screen
        boxes = list(form.query(PrimaryBox))
        on = [b for b in boxes if b.value]
        off = [b for b in boxes if not b.value]
        assert on and off
        assert "✓" in str(on[0].render()) and "✓" not in str(off[0].render())
        name = form.query_one("#name", Input)
        panel = form.query_one(".form")
        assert name.styles.background != panel.styles.background


async def test_conversation_headers_keep_the_important_part(demo_cache: Cache,
                                                            config: Config) -> None:
    parts = [("Warranty claim", 0), ("NEW", 1), ("social, email", 4),
             ("started 2024-09-13 17:56", 2), ("Jo Park", 3)]
    assert fit_parts(parts, 40) == "Warranty claim · NEW"
    assert fit_parts(parts, 12) == "Warranty cl…"
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=(79, 24)) as pilot:
        await opened(pilot)
        view = app.screen.query_one(TimelineView)
        view.action_conversation(-1)  # a conversation's header at the top of the view
        await pilot.pause()
        headers = [strip.text.strip() for n in range(view.size.height)
                   if (strip := view.render_line(n)).text.strip().startswith("■")]
        assert headers
        for header in headers:
            assert not header.endswith("·")
            topic = header.removeprefix("■ ").split(" · ")[0]
            if topic == ACTIVITY:  # the heading of entries outside any conversation
                continue
            assert topic in {c.topic for c in app.screen.profile.conversations}  # whole


# -- the search -----------------------------------------------------------------------------


async def search_for(pilot, query: str) -> SearchScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(lambda: app.index is not None, pilot)
    await pilot.press("slash")
    await wait_for(lambda: isinstance(app.screen, SearchScreen), pilot)
    app.screen.query_one(Input).value = query
    await pilot.pause()
    return app.screen


def result_lines(screen: SearchScreen) -> list[str]:
    results = screen.query_one(ResultList)
    return [results.render_line(n).text for n in range(len(results.rows))]


async def test_search_finds_every_contact_point_and_says_which(demo_cache: Cache,
                                                               config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        screen = await search_for(pilot, "kofi0@mail")
        assert [r.id for r in screen.query_one(ResultList).rows] == ["cus_000000"]
        assert "email: kofi0@mail.example.org" in result_lines(screen)[0]
        screen.query_one(Input).value = "215 harbor"
        await pilot.pause()
        assert "address: 215 Harbor Street" in result_lines(screen)[0]
        results = screen.query_one(ResultList)
        line = results.render_line(0)
        matched = {s.text for s in line if s.style and s.style.underline}
        assert matched == {"215", "Harbor"}  # each word's match is highlighted, nothing else
        screen.query_one(Input).value = "@kofi_nov"
        await pilot.pause()
        assert "social: @kofi_novak0" in result_lines(screen)[0]


async def test_search_folds_accents_both_ways(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        screen = await search_for(pilot, "ádè")
        names = [r.name for r in screen.query_one(ResultList).rows]
        assert "Adèle Alvarez" in names
        screen.query_one(Input).value = "zoe"
        await pilot.pause()
        assert "Zoë Rossi" in [r.name for r in screen.query_one(ResultList).rows]


async def test_offline_the_store_search_says_the_store_is_unreachable(synced: World,
                                                                      config: Config) -> None:
    app = AgentDesk(synced.cache, config, remote=Remote(synced.url, TOKEN))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.sync_view.online is not None and not app.sync_view.syncing, pilot)
        synced.stop_server()
        screen = await search_for(pilot, "nobody cached")
        count = screen.query_one("#search-count")
        await wait_for(lambda: "unreachable" in str(count.render()), pilot, timeout=20)
        assert "the store is unreachable (offline)" in str(count.render())


async def test_going_back_is_viewing_and_so_is_the_first_profile(demo_cache: Cache,
                                                                 config: Config) -> None:
    assert demo_cache.recent() == []
    app = AgentDesk(demo_cache, config)
    async with app.run_test(size=SIZE) as pilot:
        first = await opened(pilot)
        await wait_for(lambda: demo_cache.recent()[:1] == [first.customer_id], pilot)
        app.open_customer("cus_000005")
        await wait_for(lambda: demo_cache.recent()[:1] == ["cus_000005"], pilot)
        await pilot.press("backspace")
        await wait_for(lambda: app.screen is first, pilot)
        await wait_for(lambda: demo_cache.recent()[:1] == [first.customer_id], pilot)
        assert app.index is not None and app.index.recent[0] == first.customer_id
    assert demo_cache.start_customer_id() == first.customer_id  # reopens where the agent was
