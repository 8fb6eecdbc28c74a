"""Where the keys go is always visible and always useful: a focused list has a highlighted
row (after Tab, after a dialog, after a sync refills it), and hiding a pane moves the focus
out of it."""

from __future__ import annotations

from test_ui_navigation import SIZE, select_option, timeline, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.details import DetailsPanel, SectionList
from agentdesk.ui.forms import ContactForm
from agentdesk.ui.timeline import TimelineView

CUSTOMER = "cus_000001"


async def test_a_list_that_gets_the_focus_has_a_highlighted_row(demo_cache: Cache,
                                                                config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("tab")
        contacts = app.screen.query_one("#contacts", SectionList)
        assert app.focused is contacts
        assert contacts.highlighted is not None
        await pilot.press("enter")  # Enter acts at once, no j/k needed first
        assert isinstance(app.screen, ContactForm)


async def test_the_highlight_stays_when_a_dialog_closes(demo_cache: Cache, config: Config) -> None:
    note = demo_cache.load_profile(CUSTOMER).notes[-1]
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await select_option(pilot, "notes", note.id)
        notes = app.screen.query_one("#notes", SectionList)
        await pilot.press("n", "escape")  # the profile is shown again as the form closes
        await pilot.pause()
        assert app.focused is notes
        assert notes.highlighted is not None
        assert notes.get_option_at_index(notes.highlighted).id == note.id


async def test_b_moves_the_focus_out_of_the_panel_it_hides(demo_cache: Cache,
                                                           config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        assert app.screen.query_one(DetailsPanel) in app.focused.ancestors
        await pilot.press("b")
        await pilot.pause()
        assert not app.screen.query_one(DetailsPanel).display
        assert isinstance(app.focused, TimelineView)
        view = timeline(app)
        before = view.scroll_offset.y
        await pilot.press("k")  # keys work on what is seen
        assert view.scroll_offset.y == before - 1


async def test_narrowing_the_terminal_moves_the_focus_to_what_is_shown(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        await pilot.resize_terminal(60, 20)
        await wait_for(lambda: app.screen.has_class("-narrow"), pilot)
        await pilot.pause()
        assert isinstance(app.focused, TimelineView)


async def test_esc_on_the_not_found_page_goes_to_the_last_customer(demo_cache: Cache,
                                                                   config: Config) -> None:
    from agentdesk.ui.profile import ProfileScreen

    demo_cache.mark_viewed("cus_000003")
    app = AgentDesk(demo_cache, config, customer_id="cus_nope")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.profile is None
        assert "esc: the last customer viewed" in str(app.screen.query_one("#topbar").render())
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.customer_id == "cus_000003"
                       and app.screen.profile is not None, pilot)
