"""The status line and the profile tell the truth: changes by others since opening, the
store's value during a conflict, counts that follow the agent's answers, feedback on `r`,
going offline said at once, what happened to a saved edit."""

from __future__ import annotations

import re

from support.sync_world import TOKEN, World
from test_ui_navigation import SIZE, wait_for
from textual.widgets import Input

from agentdesk.config import Config, Remote
from agentdesk.model.protocol import RecordType
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.forms import ContactForm
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.sync_bar import SyncBar
from agentdesk.ui.unsynced import ResolveScreen

CUSTOMER = "cus_000005"


def desk(w: World, config: Config, **kwargs) -> AgentDesk:  # type: ignore[no-untyped-def]
    return AgentDesk(w.cache, config, remote=Remote(w.url, TOKEN), **kwargs)


def bar_text(app: AgentDesk) -> str:
    return str(app.screen.query_one(SyncBar).render())


async def synced_once(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(lambda: app.sync_view.online is not None and not app.sync_view.syncing, pilot)


async def rename(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await pilot.press("e")
    await wait_for(lambda: isinstance(app.screen, ContactForm), pilot)
    app.screen.query_one("#name", Input).value = name
    await pilot.press("ctrl+s")
    await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)


async def test_new_here_counts_only_others_changes(synced: World, config: Config) -> None:
    app = desk(synced, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        screen = app.screen
        await rename(pilot, "Renamed Here")  # the agent's own edit, pushed and echoed back
        await wait_for(lambda: app.sync_view.pending == 0 and not app.sync_view.syncing, pilot)
        app.action_sync()
        await synced_once(pilot)
        assert screen.changes_since_open == 0 and "new here" not in bar_text(app)
        record = synced.server_records(CUSTOMER, "customer")[0]
        synced.store.upsert(RecordType.CUSTOMER, {**record, "company": "Changed Elsewhere"},
                            CUSTOMER)
        await pilot.press("r")
        await wait_for(lambda: screen.changes_since_open == 1, pilot)
        assert "1 new here since opened" in bar_text(app)


async def test_a_first_sync_is_not_new_here(world: World, config: Config) -> None:
    app = desk(world, config, customer_id="cus_000002")  # not cached yet: the first sync brings it
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.profile is not None, pilot, timeout=60)
        await synced_once(pilot)
        assert app.screen.changes_since_open == 0
        assert "new here" not in bar_text(app)


async def test_a_conflict_shows_the_stores_value_and_discarding_it_counts_at_once(
        synced: World, config: Config) -> None:
    app = desk(synced, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        record = synced.server_records(CUSTOMER, "customer")[0]
        synced.store.upsert(RecordType.CUSTOMER, {**record, "name": "Name From The Store"},
                            CUSTOMER)
        await rename(pilot, "Name Typed Here")  # based on the old name: a conflict
        await wait_for(lambda: app.sync_view.conflicts == 1 and not app.sync_view.syncing, pilot)
        screen = app.screen
        await wait_for(lambda: screen.profile.customer.name == "Name From The Store", pilot)
        assert "Name From The Store" in str(screen.query_one("#topbar").render())
        unsynced = screen.query_one("#unsynced")
        assert unsynced.display
        shown = str(unsynced.get_option_at_index(0).prompt)
        assert "Name Typed Here" in shown and "Name From The Store" in shown
        assert "1 conflict" in bar_text(app)
        unsynced.focus()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ResolveScreen), pilot)
        await pilot.press("d")  # discard mine
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        assert app.sync_view.conflicts == 0 and "conflict" not in bar_text(app)  # at once


async def test_r_shows_when_it_synced_to_the_second(synced: World, config: Config) -> None:
    app = desk(synced, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        await pilot.press("r")
        await synced_once(pilot)
        assert re.search(r"synced \d\d:\d\d:\d\d", bar_text(app)), bar_text(app)


async def test_going_offline_is_said_at_once(synced: World, config: Config) -> None:
    shown: list[str] = []
    app = desk(synced, config, customer_id=CUSTOMER)
    set_view = app.set_sync_view
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        app.set_sync_view = lambda view: (set_view(view), shown.append(bar_text(app)))  # type: ignore[method-assign]
        synced.stop_server()
        await pilot.press("r")
        # A store that cannot be reached is offline from its first refused connection, not
        # after the retries (15-25 s of them).
        await wait_for(lambda: any("offline · trying again" in s for s in shown), pilot, timeout=5)
        assert not any("0 changes" in s for s in shown)
        await wait_for(lambda: app.sync_view.online is False and not app.sync_view.syncing,
                       pilot, timeout=60)
        assert "offline" in bar_text(app)


async def test_saving_online_says_it_is_sent(synced: World, config: Config) -> None:
    app = desk(synced, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        await pilot.press("n", *"Sent right away", "ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        messages = lambda: [str(n.message) for n in app._notifications]  # noqa: E731
        assert any("sending it to the store now" in m for m in messages())
        assert not any("next sync" in m for m in messages())
        await wait_for(lambda: any("Sent to the store" in m for m in messages()), pilot)


def test_the_bar_says_what_the_store_asked_and_what_was_skipped() -> None:
    from agentdesk.ui.sync_bar import SyncView, render

    waiting = SyncView(configured=True, online=True, syncing=True, retrying=True,
                       waiting="waiting 45 s before asking the store again: it answered 503")
    assert "waiting 45 s before asking the store again: it answered 503" in str(render(waiting))
    skipped = SyncView(configured=True, online=True, skipped=3, skipped_log="logs/skipped.log")
    assert "3 bad records skipped (logs/skipped.log)" in str(render(skipped))
    hostile = SyncView(configured=True, online=True, syncing=True, waiting="\x1b]52;c;eA==\x07x")
    assert "\x1b" not in str(render(hostile))


def test_an_edit_the_store_failed_on_says_so_in_unsynced_edits() -> None:
    from agentdesk.cache.outbox import OutboxItem
    from agentdesk.model.mutations import make
    from agentdesk.model.protocol import MutationKind
    from agentdesk.ui.unsynced import describe

    m = make(MutationKind.NOTE_ADD, "cus_1", "note_1", {"id": "note_1", "text": "x"}, None)
    quiet = str(describe(OutboxItem(seq=1, mutation=m)))
    assert "failed" not in quiet
    failing = OutboxItem(seq=1, mutation=m, attempts=2, reason="the server answered 500")
    assert "the store failed on it 2 times: the server answered 500" in str(describe(failing))


async def test_the_edit_form_keeps_invisible_characters_it_was_given(
        synced: World, config: Config) -> None:
    """A name with a zero-width space is shown with a mark in the panel, but the form holds
    it as it is: saved untouched, it is not turned into the mark."""
    app = desk(synced, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        await rename(pilot, "Ann\u200bLee")
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, ContactForm), pilot)
        assert app.screen.query_one("#name", Input).value == "Ann\u200bLee"
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        assert synced.cache.load_profile(CUSTOMER).customer.name == "Ann\u200bLee"
