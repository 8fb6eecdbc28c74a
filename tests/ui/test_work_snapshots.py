"""Snapshots of the queue, the composer and a pending reply (issue 15), and the new screens on
a narrow terminal. Deterministic: the fixed clock (conftest), the reply's time pinned too."""

from __future__ import annotations

import pytest
from test_snapshots import SIZE, index_loaded, steady
from test_ui_navigation import wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import records
from agentdesk.model.records import AgentInfo, CannedReply
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.canned import CannedPicker
from agentdesk.ui.composer import ReplyComposer
from agentdesk.ui.conversation_actions import ChoiceScreen, TopicForm
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.queue import QueueList, QueueScreen

CUSTOMER = "cus_000001"


def seed(cache: Cache) -> None:
    cache.save_agents([AgentInfo(name="sam", display_name="Sam Agent")], me="sam")
    cache.save_canned_replies([CannedReply(
        id="can_1", title="Refund done", tags=["billing"],
        body="Hi {customer.first_name},\nyour refund is on its way.\n{agent.name}")])


async def queue_loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    await index_loaded(pilot)
    await wait_for(lambda: pilot.app.work.rows is not None, pilot)


def test_queue(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await queue_loaded(pilot)
        await pilot.press("i", "a", "down", "down")
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=CUSTOMER), terminal_size=SIZE,
                        run_before=run)


def test_composer_with_a_canned_reply_and_an_unknown_placeholder(snap_compare, demo_cache: Cache,
                                                                  config: Config) -> None:
    seed(demo_cache)

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await queue_loaded(pilot)
        await pilot.press("R", "ctrl+t", "enter")
        await pilot.press("enter", *"PS: {customer.nickname}")
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=CUSTOMER), terminal_size=SIZE,
                        run_before=run)


def test_composer_writing_an_internal_note(snap_compare, demo_cache: Cache,
                                           config: Config) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await queue_loaded(pilot)
        await pilot.press("R", "ctrl+n", *"Called her twice, no answer.", "enter",
                          *"[bold]not markup[/bold]")
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=CUSTOMER), terminal_size=SIZE,
                        run_before=run)


def test_pending_reply(snap_compare, demo_cache: Cache, config: Config,
                       monkeypatch: pytest.MonkeyPatch, fixed_clock) -> None:  # type: ignore[no-untyped-def]
    seed(demo_cache)
    monkeypatch.setattr(records, "utcnow", lambda: fixed_clock)

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await queue_loaded(pilot)
        await pilot.press("R", *"Thanks, the refund went out today.", "ctrl+s")
        await wait_for(lambda: isinstance(pilot.app.screen, ProfileScreen), pilot)
        await pilot.pause(0.2)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=CUSTOMER), terminal_size=SIZE,
                        run_before=run)


def test_queue_at_60_columns(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await queue_loaded(pilot)
        await pilot.press("i")
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=CUSTOMER), terminal_size=(60, 20),
                        run_before=run)


async def test_every_new_screen_fits_60_by_20(demo_cache: Cache, config: Config) -> None:
    """No zero-width widget, no crash; each screen shows what it is for."""
    seed(demo_cache)
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for(lambda: app.work.rows is not None, pilot)
        await pilot.press("i")
        await wait_for(lambda: isinstance(app.screen, QueueScreen), pilot)
        rows = app.screen.query_one(QueueList)
        await pilot.pause()
        assert rows.size.width > 0 and rows.rows
        assert rows.rows[0].customer[:5] in rows.render_line(1).text
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        for key, kind in (("R", ReplyComposer), ("s", ChoiceScreen), ("A", ChoiceScreen),
                          ("P", ChoiceScreen), ("T", TopicForm)):
            await pilot.press(key)
            await wait_for(lambda kind=kind: isinstance(app.screen, kind), pilot)
            await pilot.pause()
            assert app.screen.query_one(".form").size.width > 20
            if key == "R":
                await pilot.press("ctrl+t")
                await wait_for(lambda: isinstance(app.screen, CannedPicker), pilot)
                await pilot.pause()
                assert app.screen.query_one("#canned-list").size.width > 20
                await pilot.press("escape")
            await pilot.press("escape")
            await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
