"""Issue 15's customer-level actions, driven by keys against a real demo cache: start a
conversation (`c`), create a customer (from the search when nothing matches, and from the
palette), relationships from the panel's list (add, change, remove), erase from the palette.
Each refuses a bad value inline with nothing saved, and each saved edit is queued once."""

from __future__ import annotations

from test_palette import palette_entries
from test_ui_navigation import SIZE, select_option, timeline, wait_for
from textual.command import CommandPalette
from textual.widgets import Input, Select, Static

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model.kinds import Channel
from agentdesk.model.protocol import MutationKind
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.conversation_start import StartConversationForm, start_key
from agentdesk.ui.customer_erase import EraseScreen, typeable
from agentdesk.ui.customer_new import DRAFT_KEY, NEED_CONTACT, NewCustomerForm, opening_fields
from agentdesk.ui.details import RELATED_BY, SectionList
from agentdesk.ui.forms import ConfirmScreen
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.relationship_edit import RelationshipForm
from agentdesk.ui.search import ResultList, SearchScreen


def kinds(cache: Cache, customer_id: str) -> list[MutationKind]:
    return [i.mutation.kind for i in cache.outbox.items(customer_id)]


def text_of(app: AgentDesk, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def on_profile(app: AgentDesk, customer_id: str) -> bool:
    screen = app.screen
    return (isinstance(screen, ProfileScreen) and screen.customer_id == customer_id
            and screen.profile is not None)


async def type_in(pilot, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    pilot.app.screen.query_one(selector).focus()
    await pilot.pause()
    await pilot.press(*text)


# -- start a conversation ----------------------------------------------------------------------

async def test_c_starts_a_conversation_shown_at_once_and_queued(demo_cache: Cache,
                                                                config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: on_profile(app, "cus_000001"), pilot)
        before = len(app.screen.profile.conversations)
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, StartConversationForm), pilot)
        form = app.screen
        assert form.query_one("#channel", Select).value == Channel.EMAIL  # she has an e-mail
        assert app.focused is form.query_one("#topic", Input)
        await pilot.press("ctrl+s")  # nothing typed: refused, field by field
        await pilot.pause()
        assert app.screen is form
        assert "A topic is needed" in text_of(app, "#topic-error")
        assert "needs some text" in text_of(app, "#message-error")
        form.query_one("#channel", Select).value = Channel.SOCIAL  # she has no handle
        await pilot.press(*"Renewal offer")
        await type_in(pilot, "#first-message", "Hello Chiara, your plan renews soon.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "no social contact point" in text_of(app, "#channel-error")
        assert kinds(demo_cache, "cus_000001") == []
        # What was typed is kept as a draft, a moment after the last key.
        await wait_for(lambda: demo_cache.drafts.get(start_key("cus_000001")) is not None, pilot)
        form.query_one("#channel", Select).value = Channel.EMAIL
        await pilot.press("ctrl+s")
        await wait_for(lambda: on_profile(app, "cus_000001"), pilot)
        profile = app.screen.profile
        assert len(profile.conversations) == before + 1
        started = next(c for c in profile.conversations if c.topic == "Renewal offer")
        assert kinds(demo_cache, "cus_000001") == [MutationKind.CONVERSATION_START]
        assert demo_cache.drafts.get(start_key("cus_000001")) is None
        # The timeline shows it at once: the newest entry, on screen at the bottom.
        view = timeline(app)
        line = app.screen.timeline
        last = line.chunk(len(line.summary.chunk_sizes) - 1)[-1]
        assert (last.conversation_id, last.body) == (started.id,
                                                    "Hello Chiara, your plan renews soon.")
        assert last.direction.value == "outbound" and last.author == "Test Agent"
        await wait_for(lambda: view.scroll_offset.y == view.max_scroll_y, pilot)


# -- create a customer -------------------------------------------------------------------------

def test_what_was_searched_goes_in_its_field() -> None:
    assert opening_fields(" zed@example.org ") == ("", "zed@example.org", "")
    assert opening_fields("+1 (555) 010-9999") == ("", "", "+1 (555) 010-9999")
    assert opening_fields("Zed   Quill") == ("Zed Quill", "", "")
    assert opening_fields("555") == ("555", "", "")  # too short to be a number


async def test_a_search_that_finds_nobody_offers_a_new_customer(demo_cache: Cache,
                                                                config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.index is not None, pilot)
        await pilot.press("slash", *"Kofi")
        await pilot.pause()
        await pilot.press("ctrl+n")  # customers match: not offered
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*["backspace"] * 4, *"zed.quill@example.org")
        await pilot.pause()
        assert "No customer matches" in text_of(app, "#search-count")
        assert "^n: new customer" in text_of(app, "#search-count")
        await pilot.press("ctrl+n")
        await wait_for(lambda: isinstance(app.screen, NewCustomerForm), pilot)
        form = app.screen
        assert form.query_one("#value-0", Input).value == "zed.quill@example.org"
        await pilot.press("ctrl+s")  # no name
        await pilot.pause()
        assert app.screen is form and "A name is required" in text_of(app, "#name-error")
        await type_in(pilot, "#name", "Zed Quill")
        await type_in(pilot, "#value-1", "12")  # not a phone number
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "Not a valid phone number" in text_of(app, "#error-1")
        await pilot.press("backspace", "backspace")
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.profile is not None
                       and app.screen.profile.customer.name == "Zed Quill", pilot)
        new_id = app.screen.customer_id
        assert not any(isinstance(s, SearchScreen) for s in app.screen_stack)  # search closed
        assert [p.value for p in app.screen.profile.contacts] == ["zed.quill@example.org"]
        assert app.screen.profile.contacts[0].primary  # the only e-mail is the primary one
        assert kinds(demo_cache, new_id) == [MutationKind.CUSTOMER_CREATE]
        assert demo_cache.drafts.get(DRAFT_KEY) is None
        await pilot.press("escape")  # back where the agent was
        await wait_for(lambda: on_profile(app, "cus_000001"), pilot)
        await pilot.press("slash", *"zed quill")  # and the search finds the new customer
        await pilot.pause()
        assert [r.id for r in app.screen.query_one(ResultList).rows] == [new_id]


async def test_the_palette_creates_a_customer_with_at_least_one_contact_point(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: on_profile(app, "cus_000001"), pilot)
        entries = await palette_entries(pilot)
        assert "New customer" in entries
        await pilot.press(*"new customer", "enter")
        await wait_for(lambda: isinstance(app.screen, NewCustomerForm), pilot)
        form = app.screen
        await pilot.press(*"[bold]Ivy[/] \x1b[2JHart")  # hostile text is kept as text
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and NEED_CONTACT in text_of(app, "#error-0")
        await type_in(pilot, "#value-2", "1 Elm Row, Leeds")  # an address is a contact point
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.customer_id != "cus_000001"
                       and app.screen.profile is not None, pilot)
        profile = app.screen.profile
        assert profile.customer.name == "[bold]Ivy[/] [2JHart"  # ESC removed, markup as typed
        assert [(p.kind.value, p.value, p.primary) for p in profile.contacts] == [
            ("address", "1 Elm Row, Leeds", True)]


# -- relationships -----------------------------------------------------------------------------

async def test_relationships_are_added_changed_and_removed_from_the_panel(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: on_profile(app, "cus_000001") and app.index is not None, pilot)
        app.screen.query_one("#relationships").focus()
        await pilot.press("a")  # the other customer first, found by search
        await wait_for(lambda: isinstance(app.screen, SearchScreen), pilot)
        assert "Related customer of Chiara Silva" in text_of(app, "#search-title")
        await pilot.press(*"rosa kaur", "enter")
        await wait_for(lambda: isinstance(app.screen, RelationshipForm), pilot)
        await pilot.press("ctrl+s")  # no label
        await pilot.pause()
        assert "A label is needed" in text_of(app, "#label-error")
        await pilot.press(*"sister", "ctrl+s")
        await wait_for(lambda: on_profile(app, "cus_000001")
                       and len(app.screen.profile.relationships) == 1, pilot)
        rel = app.screen.profile.relationships[0]
        assert (rel.customer_id, rel.label, rel.name) == ("cus_000002", "sister", "Rosa Kaur")
        assert kinds(demo_cache, "cus_000001") == [MutationKind.RELATIONSHIP_UPSERT]
        # The other customer's profile shows the link the other way round at once.
        assert ("cus_000001", "Chiara Silva", "sister") in app.related_to("cus_000002")

        await select_option(pilot, "relationships", rel.id)
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, RelationshipForm), pilot)
        assert app.screen.query_one("#label", Input).value == "sister"
        await pilot.press(*["backspace"] * 6, *"cousin")
        await pilot.press("ctrl+o")  # another customer
        await wait_for(lambda: isinstance(app.screen, SearchScreen), pilot)
        await pilot.press(*"chiara", "enter")  # herself: refused by the form
        await wait_for(lambda: isinstance(app.screen, RelationshipForm), pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "cannot be related to themselves" in text_of(app, "#other-error")
        await pilot.press("ctrl+o")
        await wait_for(lambda: isinstance(app.screen, SearchScreen), pilot)
        await pilot.press(*"quinn silva", "enter")
        await wait_for(lambda: isinstance(app.screen, RelationshipForm), pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: on_profile(app, "cus_000001")
                       and app.screen.profile.relationships[0].label == "cousin", pilot)
        changed = app.screen.profile.relationships[0]
        assert (changed.id, changed.customer_id, changed.name) == (rel.id, "cus_000003",
                                                                   "Quinn Silva")

        await select_option(pilot, "relationships", rel.id)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert "cousin" in str(app.screen.question) and "Quinn Silva" in str(app.screen.question)
        await pilot.press("y")
        await wait_for(lambda: on_profile(app, "cus_000001")
                       and not app.screen.profile.relationships, pilot)
        assert kinds(demo_cache, "cus_000001") == [MutationKind.RELATIONSHIP_UPSERT] * 2 + [
            MutationKind.RELATIONSHIP_DELETE]


async def test_a_link_another_customer_made_is_changed_on_theirs(demo_cache: Cache,
                                                                 config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000039")  # Kofi lists her as spouse
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: on_profile(app, "cus_000039") and app.index is not None, pilot)
        await wait_for(lambda: app.screen.query_one("#relationships", SectionList)
                       .option_count == 2, pilot)
        await select_option(pilot, "relationships", f"{RELATED_BY}cus_000000")
        for key in ("e", "d"):
            await pilot.press(key)
            await pilot.pause()
            assert on_profile(app, "cus_000039")  # no form, no question
        assert kinds(demo_cache, "cus_000039") == kinds(demo_cache, "cus_000000") == []


# -- erase -------------------------------------------------------------------------------------

def test_the_name_is_compared_as_it_can_be_typed() -> None:
    assert typeable("  Ana\u200b  María ") == typeable("ana maria")
    assert typeable("Ólafur Mensah") == typeable("olafur mensah")
    assert typeable("Ana") != typeable("Anna")


async def test_erase_asks_for_the_name_then_the_customer_leaves_and_the_desk_goes_back(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: on_profile(app, "cus_000001") and app.index is not None, pilot)
        app.open_customer("cus_000002")
        await wait_for(lambda: on_profile(app, "cus_000002"), pilot)
        entries = await palette_entries(pilot)
        assert "Erase customer…" in entries
        await pilot.press(*"erase customer", "enter")
        await wait_for(lambda: isinstance(app.screen, EraseScreen), pilot)
        assert "Erase Rosa Kaur (cus_000002)?" in str(app.screen.query_one(".form-title").render())
        await pilot.press(*"Rosa", "enter")  # not the name
        await pilot.pause()
        assert isinstance(app.screen, EraseScreen)
        assert "nothing is erased" in text_of(app, "#erase-error")
        assert demo_cache.profile_path("cus_000002").exists()
        await pilot.press("escape")  # and Esc keeps the customer
        await wait_for(lambda: on_profile(app, "cus_000002"), pilot)
        assert kinds(demo_cache, "cus_000002") == []

        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette), pilot)
        await pilot.press(*"erase customer")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, EraseScreen), pilot)
        await pilot.press(*"rosa  kaur", "enter")  # case and spaces do not count
        await wait_for(lambda: on_profile(app, "cus_000001"), pilot)  # back to the one before
        assert len(app.screen_stack) == 2
        assert not demo_cache.profile_path("cus_000002").exists()
        assert kinds(demo_cache, "cus_000002") == [MutationKind.CUSTOMER_ERASE]
        assert demo_cache.outbox.items("cus_000002")[0].mutation.data == {"confirm": "Rosa Kaur"}
        assert "cus_000002" not in demo_cache.recent()
        await wait_for(lambda: app.index is not None and app.index.get("cus_000002") is None,
                       pilot)
        await pilot.press("slash", *"rosa kaur")
        await pilot.pause()
        assert "cus_000002" not in [r.id for r in app.screen.query_one(ResultList).rows]


async def test_erasing_the_only_customer_open_goes_to_the_start_customer(demo_cache: Cache,
                                                                          config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000003")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: on_profile(app, "cus_000003"), pilot)
        from agentdesk.ui.customer_erase import erase_customer

        demo_cache.mark_viewed("cus_000004")
        demo_cache.mark_viewed("cus_000003")
        app.call_later(erase_customer, app.screen)
        await wait_for(lambda: isinstance(app.screen, EraseScreen), pilot)
        await pilot.press(*"Quinn Silva", "enter")
        await wait_for(lambda: on_profile(app, "cus_000004"), pilot)
        assert len(app.screen_stack) == 2


# -- a read-only desk --------------------------------------------------------------------------

async def test_a_read_only_desk_offers_none_of_them(demo_cache: Cache, config: Config) -> None:
    second = Cache.open(demo_cache.root)
    assert second.read_only
    app = AgentDesk(second, config, customer_id="cus_000001")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: on_profile(app, "cus_000001") and app.index is not None, pilot)
            entries = [e.rsplit("   ", 1)[0] for e in await palette_entries(pilot)]
            for title in ("New customer", "Erase customer…", "Start a conversation",
                          "Add a relationship"):
                assert title not in entries
            await pilot.press("escape", "c")
            await pilot.pause()
            app.screen.query_one("#relationships").focus()
            await pilot.press("a")
            await pilot.pause()
            assert on_profile(app, "cus_000001")
            await pilot.press("slash", *"nobody-at-all")
            await pilot.pause()
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert isinstance(app.screen, SearchScreen)
            assert "new customer" not in text_of(app, "#search-count")
    finally:
        second.close()


# -- narrow terminals --------------------------------------------------------------------------

async def test_every_new_form_fits_a_60x20_terminal(demo_cache: Cache, config: Config) -> None:
    from agentdesk.ui.relationship_edit import Other

    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for(lambda: on_profile(app, "cus_000001"), pilot)
        profile = app.screen.profile
        for form, fields in (
                (StartConversationForm(profile), ("#channel", "#topic", "#first-message")),
                (NewCustomerForm("zed@example.org"), ("#name", "#value-0", "#value-1")),
                (RelationshipForm(Other("cus_000001", "Chiara Silva"),
                                  Other("cus_000002", "Rosa Kaur")), ("#label", "#other")),
                (EraseScreen("cus_000001", "Chiara Silva"), ("#erase-name",))):
            await app.push_screen(form)
            await wait_for(lambda: app.screen is form, pilot)  # noqa: B023
            await pilot.pause()
            for selector in fields:
                region = form.query_one(selector).region
                assert region.width >= 10 and region.height >= 1, (form, selector, region)
                assert region.right <= 60 and region.bottom <= 20, (form, selector, region)
            save = form.query("#save") or form.query("#erase")
            assert save and save.first().region.width > 0 and save.first().region.bottom <= 20
            app.pop_screen()
            await pilot.pause()
