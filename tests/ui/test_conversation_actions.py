"""Conversation actions on a profile (`s` status with a snooze time, `A` assignee, `P`
priority, `T` topic and tags): a real app (Pilot) on a real cache; each change is in the
cache and the outbox at once, and shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_ui_navigation import SIZE, wait_for
from textual.widgets import Input

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model.records import AgentInfo
from agentdesk.ui import clock
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.conversation_actions import ChoiceScreen, SnoozeUntilScreen, TopicForm, current_conversation
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.row_list import RowList
from agentdesk.ui.timeline import TimelineView

CUSTOMER = "cus_000001"


def stored(cache: Cache, conversation_id: str):  # type: ignore[no-untyped-def]
    profile = cache.load_profile(CUSTOMER)
    return next(c for c in profile.conversations if c.id == conversation_id)


def updates(cache: Cache) -> list[dict]:  # type: ignore[type-arg]
    return [i.mutation.data["set"] for i in cache.outbox.items(CUSTOMER)
            if i.mutation.kind == "conversation.update"]


async def choose(app: AgentDesk, pilot, key: str, option: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
    choices = app.screen.query_one(RowList)
    choices.highlighted = next(i for i, o in enumerate(choices.options) if o.id == option)
    await pilot.press("enter")
    await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
    await pilot.pause()


async def reopened(app: AgentDesk, pilot):  # type: ignore[no-untyped-def]
    """The conversation at the top of the timeline, open (the demo's newest may be closed)."""
    conversation = current_conversation(app.screen)
    if conversation.status.value != "open":
        await choose(app, pilot, "s", "open")
    assert stored(app.cache, conversation.id).status.value == "open"
    return conversation


async def test_status_snooze_close_and_reopen(demo_cache: Cache, config: Config) -> None:
    clock.use(None)  # a snooze is in the future by the real clock, the one the cache checks
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        conversation = await reopened(app, pilot)
        await choose(app, pilot, "s", "closed")
        assert stored(demo_cache, conversation.id).status.value == "closed"
        assert updates(demo_cache)[-1] == {"status": "closed"}
        # The timeline's heading says it at once.
        assert current_conversation(app.screen).status.value == "closed"
        await choose(app, pilot, "s", "snooze:4h")
        snoozed = stored(demo_cache, conversation.id)
        assert snoozed.status.value == "snoozed"
        assert abs(snoozed.snoozed_until - (clock.now() + timedelta(hours=4))) < timedelta(minutes=1)
        # Snooze until a typed time: a past one is refused, a future one kept.
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        choices = app.screen.query_one(RowList)
        choices.highlighted = next(i for i, o in enumerate(choices.options) if o.id == "snooze:until")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, SnoozeUntilScreen), pilot)
        await pilot.press(*"2001-01-01 09:00", "enter")
        assert isinstance(app.screen, SnoozeUntilScreen)
        assert "future" in str(app.screen.query_one("#snooze-error").render())
        app.screen.query_one(Input).value = ""
        await pilot.press(*"2d", "enter")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        until = stored(demo_cache, conversation.id).snoozed_until
        assert abs(until - (clock.now() + timedelta(days=2))) < timedelta(minutes=1)
        await choose(app, pilot, "s", "open")
        again = stored(demo_cache, conversation.id)
        assert again.status.value == "open" and again.snoozed_until is None


async def test_assignee_me_another_agent_nobody(demo_cache: Cache, config: Config) -> None:
    demo_cache.save_agents([AgentInfo(name="sam", display_name="Sam Agent"),
                            AgentInfo(name="kim", display_name="Kim Other")], me="sam")
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.work.me == "sam", pilot)
        conversation = await reopened(app, pilot)
        await choose(app, pilot, "A", "sam")
        assert stored(demo_cache, conversation.id).assignee == "sam"
        await choose(app, pilot, "A", "kim")
        assert stored(demo_cache, conversation.id).assignee == "kim"
        await choose(app, pilot, "A", "\0nobody")
        assert stored(demo_cache, conversation.id).assignee == ""
        assert [u["assignee"] for u in updates(demo_cache) if "assignee" in u] == ["sam", "kim", ""]
        # The queue follows: the conversation is unassigned there now.
        await wait_for(lambda: any(r.conversation_id == conversation.id and r.assignee == ""
                                   for r in app.work.rows or []), pilot)


async def test_priority_topic_and_tags(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        conversation = current_conversation(app.screen)
        await choose(app, pilot, "P", "urgent")
        assert stored(demo_cache, conversation.id).priority.value == "urgent"
        await pilot.press("T")
        await wait_for(lambda: isinstance(app.screen, TopicForm), pilot)
        app.screen.query_one("#topic-text", Input).value = ""
        await pilot.press("enter")
        assert isinstance(app.screen, TopicForm)  # an empty topic is refused
        app.screen.query_one("#topic-text", Input).value = "Refund [b]now[/b]"
        app.screen.query_one("#topic-tags", Input).value = "billing, vip, billing"
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        changed = stored(demo_cache, conversation.id)
        assert changed.topic == "Refund [b]now[/b]" and changed.tags == ["billing", "vip"]


async def test_read_only_desk_offers_no_conversation_actions(demo_cache: Cache,
                                                            config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        demo_cache.read_only = True
        try:
            app.screen.refresh_bindings()
            await pilot.press("s", "A", "R")
            await pilot.pause()
            assert isinstance(app.screen, ProfileScreen)
            assert not updates(demo_cache)
        finally:
            demo_cache.read_only = False


async def test_one_action_after_another_on_the_conversation_the_queue_opened(
        demo_cache: Cache, config: Config) -> None:
    """Status, then assignee, then priority: all on the conversation opened from the queue,
    even where it is not at the top of the screen (its entry stays marked)."""
    app = AgentDesk(demo_cache, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.work.rows is not None, pilot)

        def short_and_not_first(r) -> bool:  # type: ignore[no-untyped-def]
            timeline = demo_cache.view_profile(r.customer_id)[1]
            return timeline.total <= 6 and timeline.summary.starts[r.conversation_id] > 0

        row = next(r for r in app.work.ordered(clock.now()) if short_and_not_first(r))
        app.open_customer(row.customer_id, conversation_id=row.conversation_id, from_queue=True)
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.customer_id == row.customer_id, pilot)
        await pilot.pause()
        status = "pending" if row.status.value != "pending" else "open"
        priority = "urgent" if row.priority.value != "urgent" else "low"
        await choose(app, pilot, "s", status)
        await choose(app, pilot, "P", priority)
        profile = demo_cache.load_profile(row.customer_id)
        acted = next(c for c in profile.conversations if c.id == row.conversation_id)
        assert (acted.status.value, acted.priority.value) == (status, priority)
        assert current_conversation(app.screen).id == row.conversation_id


@pytest.mark.parametrize("customer", ["cus_activity", "cus_big_timeline"])
async def test_R_with_only_activity_on_screen_replies_to_the_newest_open_conversation(
        demo_cache: Cache, config: Config, customer: str) -> None:
    """The timeline opens on a screenful of campaigns and orders: `R` still has a
    conversation to answer (the newest not closed), not "No conversation here"."""
    from agentdesk.ui.composer import ReplyComposer

    profile, _timeline = demo_cache.view_profile(customer)  # type: ignore[misc]
    open_ones = [c for c in profile.conversations if c.status.value != "closed"]
    expected = max(open_ones or profile.conversations, key=lambda c: c.started)
    app = AgentDesk(demo_cache, config, customer_id=customer)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one(TimelineView)
        top = timeline.scroll_offset.y
        on_screen = {found[1].conversations[found[2]] for y in range(top, top + SIZE[1])
                     if (found := timeline.entry_at(y)) is not None}
        assert on_screen == {""}  # nothing but activity in sight
        assert current_conversation(app.screen).id == expected.id
        await pilot.press("R")
        await wait_for(lambda: isinstance(app.screen, ReplyComposer), pilot)
        assert expected.topic[:10] in str(app.screen.heading)
