"""Forms open on the field the agent chose, with the cursor at the end, and nothing typed in
them is lost: a draft survives Esc, a crash and a restart, and discarding one asks first."""

from __future__ import annotations

import os
import stat

from test_ui_navigation import SIZE, select_option, wait_for
from textual.widgets import Input, TextArea

from agentdesk.cache.cache import Cache
from agentdesk.cache.drafts import details_key, note_key
from agentdesk.config import Config
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.drafting import PAUSE
from agentdesk.ui.forms import ConfirmScreen, ContactForm, NoteForm
from agentdesk.ui.keybar import KeyBar
from agentdesk.ui.profile import ProfileScreen

CUSTOMER = "cus_000001"


async def test_e_opens_on_the_name_with_the_cursor_at_its_end(demo_cache: Cache,
                                                              config: Config) -> None:
    name = demo_cache.load_profile(CUSTOMER).customer.name
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, ContactForm)
        await pilot.pause()
        assert app.focused is form.query_one("#name", Input)
        await pilot.press(*" Jr")  # typed text lands at the end of the name, replacing nothing
        assert form.query_one("#name", Input).value == name + " Jr"
        await pilot.press("tab")  # the next field is not selected whole by Tab either
        await pilot.press("x")
        company = form.query_one("#company", Input)
        assert app.focused is company and company.value.endswith("x") and len(company.value) > 1


async def test_enter_on_a_contact_opens_the_form_on_that_contact(demo_cache: Cache,
                                                                 config: Config) -> None:
    point = demo_cache.load_profile(CUSTOMER).contacts[1]
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await select_option(pilot, "contacts", point.id)
        await pilot.press("enter")
        form = app.screen
        assert isinstance(form, ContactForm)
        await pilot.pause()
        focused = app.focused
        assert isinstance(focused, Input) and focused.value == point.value
        assert focused.cursor_position == len(point.value)


async def test_editing_a_note_puts_the_cursor_at_the_end(demo_cache: Cache, config: Config) -> None:
    note = demo_cache.load_profile(CUSTOMER).notes[0]
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await select_option(pilot, "notes", note.id)
        await pilot.press("enter")
        assert isinstance(app.screen, NoteForm)
        await pilot.pause()
        await pilot.press(*" More.")
        assert app.screen.query_one(TextArea).text == note.text + " More."


async def type_a_note(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("n")
    await wait_for(lambda: isinstance(pilot.app.screen, NoteForm), pilot)
    await pilot.pause()
    await pilot.press(*text)


async def test_esc_keeps_a_note_as_a_draft_that_comes_back(demo_cache: Cache,
                                                           config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await type_a_note(pilot, "Call back on Friday")
        await pilot.press("escape")
        assert isinstance(app.screen, ProfileScreen)
        path = demo_cache.root / "drafts.json"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.query_one(TextArea).text == "Call back on Friday"
        assert "Draft restored" in str(app.screen.query_one("#draft-status").render())


async def test_a_draft_survives_a_crash_and_a_restart(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await type_a_note(pilot, "Typed before the crash")
        await pilot.pause(PAUSE + 0.2)
        # The desk dies here, form open: what another process finds in the cache folder.
        with Cache.open(demo_cache.root) as other:
            assert other.read_only
            kept = other.drafts.get(note_key(CUSTOMER))
        assert kept is not None and kept["fields"] == {"text": "Typed before the crash"}
    demo_cache.close()
    with Cache.open(demo_cache.root) as reopened:  # the next start
        app = AgentDesk(reopened, config, customer_id=CUSTOMER)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("n")
            await pilot.pause()
            assert app.screen.query_one(TextArea).text == "Typed before the crash"
            await pilot.press(*" and after", "ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, ProfileScreen)
        texts = [n.text for n in reopened.load_profile(CUSTOMER).notes]
        assert "Typed before the crash and after" in texts
        assert reopened.drafts.get(note_key(CUSTOMER)) is None  # saved: no draft left


async def test_discarding_a_draft_asks_first(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await type_a_note(pilot, "Maybe")
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # no: back to the form, text intact
        assert isinstance(app.screen, NoteForm)
        assert app.screen.query_one(TextArea).text == "Maybe"
        await pilot.press("ctrl+g", "y")
        await pilot.pause()
        assert isinstance(app.screen, ProfileScreen)
        assert demo_cache.drafts.get(note_key(CUSTOMER)) is None
        await pilot.press("n")  # nothing typed: closed without a question
        await pilot.pause()
        assert app.screen.query_one(TextArea).text == ""
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, ProfileScreen)


async def test_an_edit_of_the_details_is_kept_as_a_draft(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        form.query_one("#company", Input).value = "Drafted Company Ltd"
        await pilot.press("escape")
        assert demo_cache.drafts.get(details_key(CUSTOMER)) is not None
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one("#company", Input).value == "Drafted Company Ltd"
        # Put back as it was: no draft is left.
        app.screen.query_one("#company", Input).value = form.profile.customer.company
        await pilot.press("escape")
        assert demo_cache.drafts.get(details_key(CUSTOMER)) is None


async def test_a_dialog_shows_its_own_keys(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        shown = app.screen.query_one(KeyBar).render().plain
        assert "Save" in shown and "Discard draft" in shown and "esc" in shown
        assert "Note" not in shown and "Edit" not in shown and "Search" not in shown
        # What is on screen at the bottom row is the dialog's bar, not the profile's.
        assert "Save" in app.export_screenshot()
