"""Snapshots of issue 15's customer forms (SVGs in snapshots/): a new conversation, a new
customer, a relationship, the erase confirmation; hostile names drawn as typed, and the new
customer form at 60x20."""

from __future__ import annotations

from collections.abc import Callable

from test_snapshots import SIZE, index_loaded, steady

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.ui.app import AgentDesk


def then(*keys: str, call: Callable[[AgentDesk], object] | None = None):  # type: ignore[no-untyped-def]
    """A run_before: the index loaded, `call` run in the app (a palette entry), `keys` pressed,
    cursors held still."""

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        if call is not None:
            pilot.app.call_later(call, pilot.app)
            await pilot.pause(0.2)
        await pilot.press(*keys)
        await pilot.pause(0.2)
        steady(pilot)
        await pilot.pause()

    return run


def test_start_conversation_form_with_errors(snap_compare, demo_cache: Cache,
                                             config: Config) -> None:
    """`c` on the hostile customer: the name drawn as text in the title; saved with no message
    and a channel she cannot be reached on, each field says why."""

    def social_without_handle(app: AgentDesk) -> None:
        from agentdesk.model.kinds import Channel
        from textual.widgets import Select

        app.screen.query_one("#channel", Select).value = Channel.SMS

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await then("c", *"Refund [b]now[/b]")(pilot)
        social_without_handle(pilot.app)
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        steady(pilot)

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=demo.HOSTILE_ID),
                        terminal_size=SIZE, run_before=run)


def test_new_customer_form_from_search(snap_compare, demo_cache: Cache, config: Config) -> None:
    """Nothing matched the address typed in search: ctrl+n opens the form with it filled in;
    saved without a name, the name says so."""
    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000001"),
                        terminal_size=SIZE,
                        run_before=then("slash", *"zed.quill@example.org", "ctrl+n", "ctrl+s"))


def test_new_customer_form_at_60x20(snap_compare, demo_cache: Cache, config: Config) -> None:
    def open_form(app: AgentDesk) -> None:
        from agentdesk.ui.customer_new import new_customer

        new_customer(app)

    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000001"),
                        terminal_size=(60, 20), run_before=then(*"Zed Quill", call=open_form))


def test_relationship_form(snap_compare, demo_cache: Cache, config: Config) -> None:
    """`e` on Kofi's spouse: the label, and the customer it points to (ctrl+o for another)."""

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        relationships = pilot.app.screen.query_one("#relationships")
        relationships.focus()
        relationships.highlighted = 0
        await pilot.press("e")
        await pilot.pause(0.2)
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"),
                        terminal_size=SIZE, run_before=run)


def test_erase_confirmation_names_the_customer(snap_compare, demo_cache: Cache,
                                               config: Config) -> None:
    """The hostile customer's name inert in the question; a wrong name typed is refused."""

    def erase(app: AgentDesk) -> None:
        from agentdesk.ui.customer_erase import erase_customer

        erase_customer(app.screen)  # type: ignore[arg-type]

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=demo.HOSTILE_ID),
                        terminal_size=SIZE, run_before=then(*"Mallory", "enter", call=erase))
