"""The customer data pane in a real app on a real cache (Pilot): shown on `i`, its views,
filter and losing values, sections collapsed and remembered, and every edit it offers, with
what a wrong value does (refused inline, nothing queued)."""

from __future__ import annotations

from typing import Any

from test_ui_navigation import wait_for
from textual.widgets import Collapsible, Input, Static

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model.demo_profile_data import EVERYTHING_ID
from agentdesk.model.fields import field_id
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.customer_data import CustomerDataPane
from agentdesk.ui.forms import ConfirmScreen
from agentdesk.ui.profile_data_forms import FieldForm, StatusTagsForm, SubscriptionForm
from agentdesk.ui.timeline import TimelineView

SIZE = (120, 35)
CID = EVERYTHING_ID


def _rows(app: AgentDesk, list_id: str) -> list[str]:
    found = app.screen.query_one(f"#{list_id}")
    return [str(o.id) for o in found.options if not o.disabled]


def _texts(app: AgentDesk, list_id: str) -> str:
    found = app.screen.query_one(f"#{list_id}")
    return "\n".join("".join(s for s, _ in o.prompt._spans) for o in found.options)


def _select(app: AgentDesk, list_id: str, option_id: str) -> None:
    found = app.screen.query_one(f"#{list_id}")
    found.focus()
    found.highlighted = next(i for i, o in enumerate(found.options) if o.id == option_id)


def _kinds(cache: Cache) -> list[str]:
    return [i.mutation.kind.value for i in cache.outbox.items(CID)]


async def _open(app: AgentDesk, pilot: Any) -> CustomerDataPane:
    await pilot.pause()
    await pilot.press("p")
    await pilot.pause()
    return app.screen.query_one(CustomerDataPane)


async def test_i_shows_the_pane_in_the_timelines_place_and_back(demo_cache: Cache,
                                                                config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CID)
    async with app.run_test(size=SIZE) as pilot:
        pane = await _open(app, pilot)
        assert pane.display and not app.screen.query_one(TimelineView).display
        assert app.screen.focused.id == "data-fields"
        assert "Ariana Costa" in str(app.screen.query_one("#figures", Static).render())
        await pilot.press("p")
        await pilot.pause()
        assert not pane.display and app.screen.focused is app.screen.query_one(TimelineView)


async def test_views_filter_and_the_values_that_lost(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CID)
    async with app.run_test(size=SIZE) as pilot:
        pane = await _open(app, pilot)
        common = _rows(app, "data-fields")
        assert field_id(CID, "first_name") in common and field_id(CID, "orders.count") not in common
        await pilot.press("v")  # known only: every field with a value, none unknown
        assert len(_rows(app, "data-fields")) == 31 and pane.view == "known"
        await pilot.press("v")  # all fields
        assert pane.view == "all"
        await pilot.press("f")
        assert isinstance(app.screen.focused, Input)
        await pilot.press(*"hubspot")  # a source's name is not searched: values and keys are
        assert _rows(app, "data-fields") == []
        app.screen.focused.value = ""
        await pilot.press(*"lisbon")
        assert _rows(app, "data-fields") == [field_id(CID, "address.city"), field_id(CID, "timezone")]
        app.screen.focused.value = "persona"
        await pilot.press("enter")
        assert app.screen.focused.id == "data-fields"
        assert "+3 others" in _texts(app, "data-fields")
        await pilot.press("o")
        shown = _texts(app, "data-fields")
        assert "Team lead" in shown and "Evaluator" in shown and "Decision maker" in shown
        assert shown.index("Team lead") < shown.index("Evaluator") < shown.index("Decision maker")
        await pilot.press("o")
        assert "Team lead" not in _texts(app, "data-fields")
    again = AgentDesk(demo_cache, config, customer_id=CID)
    async with again.run_test(size=SIZE) as pilot:
        assert (await _open(again, pilot)).view == "all"  # the view chosen is remembered


async def test_a_collapsed_section_stays_collapsed(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CID)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot)
        title = app.screen.query_one("#section-fields CollapsibleTitle")
        title.focus()
        await pilot.pause()
        assert app.screen.focused is title
        await pilot.press("enter")
        await wait_for(lambda: app.screen.query_one("#section-fields", Collapsible).collapsed, pilot)
    again = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with again.run_test(size=SIZE) as pilot:
        await _open(again, pilot)
        assert again.screen.query_one("#section-fields", Collapsible).collapsed
        assert not again.screen.query_one("#section-identifiers", Collapsible).collapsed
        assert again.screen.focused.id == "data-identifiers"  # the first open section


async def test_editing_a_field_refuses_a_wrong_value_inline_then_saves(demo_cache: Cache,
                                                                       config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CID)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot)
        await pilot.press("v")
        _select(app, "data-fields", field_id(CID, "orders.count"))
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, FieldForm), pilot)
        value = app.screen.query_one("#field-value", Input)
        value.value = "thirty"
        await pilot.press("ctrl+s")
        assert "Not a number value" in str(app.screen.query_one("#field-error", Static).render())
        assert _kinds(demo_cache) == []
        value.value = "31"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, FieldForm), pilot)
        await pilot.pause()
        assert _kinds(demo_cache) == ["field.set"]
        shown = _texts(app, "data-fields")
        assert "31" in shown and "desk · Test Agent" in shown


async def test_adding_and_removing_a_field(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot)
        assert all(r.startswith("\0unknown\0") for r in _rows(app, "data-fields"))
        await pilot.press("a")
        await wait_for(lambda: isinstance(app.screen, FieldForm), pilot)
        app.screen.query_one("#field-key", Input).value = "favourite colour"
        app.screen.query_one("#field-value", Input).value = "green"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, FieldForm), pilot)
        await pilot.press("v")  # known only: the new field
        assert _rows(app, "data-fields") == [field_id("cus_000001", "favourite colour")]
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await pilot.pause()
        assert _rows(app, "data-fields") == []
        assert [i.mutation.kind.value for i in demo_cache.outbox.items("cus_000001")] == [
            "field.set", "field.remove"]


async def test_consent_cycles_on_c_and_is_queued(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CID)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot)
        _select(app, "data-identifiers", "idn_e2")
        assert "opted out" in _texts(app, "data-identifiers").split("ariana.costa@")[1][:80]
        await pilot.press("c")
        await pilot.pause()
        assert "consent unknown" in _texts(app, "data-identifiers").split("ariana.costa@")[1][:80]
        assert app.screen.query_one("#data-identifiers").highlighted is not None
        await pilot.press("c")
        await pilot.pause()
        view, _ = demo_cache.view_profile(CID)
        assert next(i for i in view.identifiers if i.id == "idn_e2").consent == "opted_in"
        assert _kinds(demo_cache) == ["identifier.consent", "identifier.consent"]
        assert "not reachable: CCPA opt-out" in str(app.screen.query_one("#reach", Static).render())


async def test_subscriptions_are_added_and_removed(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CID)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot)
        app.screen.query_one("#data-subscriptions").focus()
        await pilot.press("a")
        await wait_for(lambda: isinstance(app.screen, SubscriptionForm), pilot)
        await pilot.press("ctrl+s")  # no name: refused
        assert "A name" in str(app.screen.query_one("#subscription-error", Static).render())
        app.screen.query_one("#subscription-name", Input).value = "Beta programme"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SubscriptionForm), pilot)
        await pilot.pause()
        assert "Beta programme" in _texts(app, "data-subscriptions")
        _select(app, "data-subscriptions", "sub_ev1")
        await pilot.press("d")
        await pilot.pause()
        assert "Product updates" not in _texts(app, "data-subscriptions")
        assert _kinds(demo_cache) == ["subscription.add", "subscription.remove"]


async def test_status_and_tags_are_edited_on_s(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("S")
        await wait_for(lambda: isinstance(app.screen, StatusTagsForm), pilot)
        app.screen.query_one("#tags", Input).value = "beta, key account"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, StatusTagsForm), pilot)
        await pilot.pause()
        view, _ = demo_cache.view_profile(CID)
        assert view.customer.tags == ["beta", "key account"]
        assert "#key account" in str(app.screen.query_one("#summary", Static).render())


async def test_a_narrow_terminal_shows_the_pane_alone(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CID)
    async with app.run_test(size=(60, 20)) as pilot:
        pane = await _open(app, pilot)
        assert pane.display and pane.size.width > 40
        await pilot.press("b")  # the details panel instead
        await pilot.pause()
        assert not pane.display


async def test_hostile_profile_data_is_shown_inert(demo_cache: Cache, config: Config) -> None:
    from agentdesk.model import demo

    app = AgentDesk(demo_cache, config, customer_id=demo.HOSTILE_ID)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot)
        await pilot.press("v", "o")  # every field, and the value that lost
        await pilot.pause()
        drawn = "".join(_texts(app, f"data-{name}") for name in
                        ("fields", "identifiers", "subscriptions", "segments"))
        drawn += str(app.screen.query_one("#figures", Static).render())
        assert "[red]wiped[/red]" in drawn and "[bold]List" in drawn  # shown as typed
        for bad in ("\x1b", "\x9b", "\x9d", "\x9c", "\u202e", "\x07"):
            assert bad not in drawn
        lines = [app.screen.query_one("#data-fields").render_line(y) for y in range(10)]
        assert all("\x1b" not in seg.text for line in lines for seg in line)
