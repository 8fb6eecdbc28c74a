"""The queue screen (`i`) and next in queue (`N`), on the demo cache: a real app (Pilot)."""

from __future__ import annotations

from dataclasses import replace

from test_ui_navigation import SIZE, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.ui import clock
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.queue import CHANNELS, QueueList, QueueScreen
from agentdesk.ui.queue_order import QueueFilter, ordered, value
from agentdesk.ui.timeline import TimelineView


async def open_queue(app: AgentDesk, pilot) -> QueueList:  # type: ignore[no-untyped-def]
    await wait_for(lambda: app.work.rows is not None, pilot)
    await pilot.press("i")
    await wait_for(lambda: isinstance(app.screen, QueueScreen), pilot)
    await pilot.pause()
    return app.screen.query_one(QueueList)


def at_start_of(screen: ProfileScreen, conversation_id: str) -> bool:
    view = screen.query_one(TimelineView)
    start = view.blocks.first_shown_of(conversation_id, screen.timeline.summary.starts[conversation_id])
    # Gone to and marked (at the top, unless the history ends before a screen's worth).
    return view.mark == start and (view.entry_y(start) <= view.scroll_offset.y + 1
                                   or view.scroll_offset.y >= view.max_scroll_y)


async def test_i_lists_the_queue_oldest_waiting_first_and_enter_opens_the_conversation(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        rows = await open_queue(app, pilot)
        expected = ordered(demo_cache.queue_rows(), app.work.me, QueueFilter(), clock.now())
        assert expected, "the demo has conversations to work"
        assert [r.conversation_id for r in rows.rows] == [r.conversation_id for r in expected]
        waiting = [r.waiting_since for r in rows.rows if r.waiting_since is not None
                   and r.assignee == rows.rows[0].assignee]
        assert waiting == sorted(waiting)  # oldest waiting first
        # The heading line, then the first row: its customer's name and topic on the line.
        first = rows.rows[0]
        line = rows.render_line(1).text
        assert first.customer[:10] in line and first.topic[:10] in line
        await pilot.press("down", "enter")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.customer_id == expected[1].customer_id, pilot)
        screen = app.screen
        await wait_for(lambda: at_start_of(screen, expected[1].conversation_id), pilot)
        assert app.work.current == expected[1].conversation_id
        # Escape goes back to the customer the agent came from, not to the queue.
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ProfileScreen) and app.screen.customer_id == "cus_000001"


async def test_filters_mine_unassigned_all_status_channel_topic(demo_cache: Cache,
                                                               config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    all_rows = demo_cache.queue_rows()
    some_agent = next(r.assignee for r in all_rows if r.assignee)
    app.config = replace(config, author=some_agent)  # this desk's agent has work of their own
    app.work.me = some_agent
    async with app.run_test(size=SIZE) as pilot:
        rows = await open_queue(app, pilot)
        app.work.set_rows(app.work.rows, some_agent)
        await pilot.press("a", "m")
        assert rows.rows and {r.assignee for r in rows.rows} <= {some_agent, ""}
        assert rows.rows[0].assignee == some_agent  # mine first
        await pilot.press("u")
        assert rows.rows and all(r.assignee == "" for r in rows.rows)
        await pilot.press("a")
        everyone = len(rows.rows)
        assert everyone > len([r for r in all_rows if r.assignee in (some_agent, "")]) - 1
        await pilot.press("s")  # status: new
        assert rows.rows and all(value(r.status) == "new" for r in rows.rows)
        await pilot.press("s", "c")  # status: open; channel: email
        assert all(value(r.status) == "open" and r.channel == "email" for r in rows.rows)
        await pilot.press("s", "s", "s", *["c"] * (len(CHANNELS) - 1))  # both back to any
        assert len(rows.rows) == everyone
        topic = rows.rows[0].topic
        await pilot.press("t", *topic.split()[0].lower())
        assert rows.rows and all(topic.split()[0].lower() in r.topic.lower() for r in rows.rows)
        assert len(rows.rows) < everyone
        await pilot.press("m")  # typed into the topic field, not a filter
        assert app.work.filter.who == "all"
        await pilot.press("escape")  # leaves the field, keeps the screen
        assert isinstance(app.screen, QueueScreen) and app.focused is rows
        await pilot.press("escape")
        assert isinstance(app.screen, ProfileScreen)


async def test_N_works_through_the_queue_from_any_profile(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.work.rows is not None, pilot)
        queue = app.work.ordered(clock.now())
        depth = len(app.screen_stack)
        for row in queue[:3]:
            await pilot.press("N")
            await wait_for(lambda row=row: isinstance(app.screen, ProfileScreen)
                           and app.screen.customer_id == row.customer_id
                           and app.screen.start_conversation == row.conversation_id, pilot)
            screen = app.screen
            await wait_for(lambda: at_start_of(screen, row.conversation_id), pilot)
            # Working through the queue replaces the profile: Escape leads back out.
            assert len(app.screen_stack) == depth + 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.customer_id == "cus_000001"


async def test_an_empty_queue_says_so(empty_cache: Cache, config: Config) -> None:
    app = AgentDesk(empty_cache, config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.work.rows is not None, pilot)
        await pilot.press("N")
        await pilot.pause()
        assert any("Nothing more in the queue" in str(n.message) for n in app._notifications)
        await pilot.press("i")
        await pilot.pause()
        assert "0 conversations" in str(app.screen.query_one("#queue-title").render())


async def test_hostile_text_is_inert_in_the_queue(demo_cache: Cache, config: Config) -> None:
    from agentdesk.cache.queue_index import QueueRow

    hostile = "[bold red]boom[/] \x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\u202etxet"
    row = QueueRow.of({"customer_id": "cus_x", "customer": hostile, "conversation_id": "conv_x",
                       "topic": hostile, "channel": "email", "status": "open",
                       "assignee": hostile, "priority": "urgent", "waiting_since": None,
                       "snoozed_until": None, "last_line": hostile, "started": None})
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=(200, 30)) as pilot:
        rows = await open_queue(app, pilot)
        app.work.set_rows([row], app.work.me)
        await pilot.press("a")
        assert rows.rows == [row]
        line = "".join(segment.text for segment in rows.render_line(1))
        assert line.count("[bold red]boom[/]") >= 3  # customer, topic, last line: as typed
        assert not any(c in line for c in "\x1b\x07\x9b\u202e")
        # And in the title, the topic filter typed by the agent.
        await pilot.press("t", *"[b]x")
        title = str(app.screen.query_one("#queue-title").render())
        assert "“[b]x”" in title


async def test_R_after_N_replies_to_the_conversation_the_queue_opened(demo_cache: Cache,
                                                                      config: Config) -> None:
    """Even when the customer's whole history fits the screen (the conversation opened is not
    at the top), the reply goes to the conversation the agent came for."""
    from agentdesk.ui.composer import ReplyComposer
    from agentdesk.ui.conversation_actions import current_conversation

    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.work.rows is not None, pilot)
        queue = app.work.ordered(clock.now())
        def short_and_not_first(r) -> bool:  # type: ignore[no-untyped-def]
            timeline = demo_cache.view_profile(r.customer_id)[1]
            return timeline.total <= 6 and timeline.summary.starts[r.conversation_id] > 0

        row = next(r for r in queue if short_and_not_first(r))
        app.work.current = queue[queue.index(row) - 1].conversation_id if queue.index(row) else None
        await pilot.press("N")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.start_conversation == row.conversation_id, pilot)
        await pilot.pause()
        assert current_conversation(app.screen).id == row.conversation_id
        await pilot.press("R")
        await wait_for(lambda: isinstance(app.screen, ReplyComposer), pilot)
        assert row.topic in str(app.screen.heading)
