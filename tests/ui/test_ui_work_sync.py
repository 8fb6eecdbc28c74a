"""Working conversations against the real store on 127.0.0.1 (Pilot): a reply written while
the store is down is marked pending, then delivered once and unmarked; a status changed here
reaches the store; another agent's change arrives in the open desk and its queue."""

from __future__ import annotations

from support.sync_world import World
from test_ui_navigation import SIZE, wait_for
from test_ui_sync import desk, synced_once

from agentdesk.config import Config
from agentdesk.model.protocol import RecordType
from agentdesk.ui.composer import ReplyArea, ReplyComposer
from agentdesk.ui.conversation_actions import ChoiceScreen, current_conversation
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.row_list import RowList
from agentdesk.ui.timeline import TimelineView

CUSTOMER = "cus_000002"


async def test_a_reply_offline_is_marked_pending_then_delivered_once(synced: World,
                                                                    config: Config) -> None:
    app = desk(synced, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        conversation = current_conversation(app.screen)
        synced.stop_server()
        await pilot.press("R")
        await wait_for(lambda: isinstance(app.screen, ReplyComposer), pilot)
        app.screen.query_one(ReplyArea).insert("Sent while the store was down")
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        view = app.screen.query_one(TimelineView)
        await wait_for(lambda: app.sync_view.online is False, pilot, timeout=60)
        assert len(view.pending) == 1
        lines = [view.render_line(y).text for y in range(1, view.size.height)]
        assert any("⧗ sending" in line for line in lines)
        synced.start_server()
        await pilot.press("r")
        await wait_for(lambda: app.sync_view.online and app.sync_view.pending == 0, pilot,
                       timeout=30)
        await synced_once(pilot)
        await wait_for(lambda: not view.pending, pilot)
        lines = [view.render_line(y).text for y in range(1, view.size.height)]
        assert not any("⧗ sending" in line for line in lines)
        assert any("Sent while the store was down" in line for line in lines)
    bodies = [e["body"] for e in synced.server_records(CUSTOMER, "entry")
              if e.get("conversation_id") == conversation.id]
    assert bodies.count("Sent while the store was down") == 1


async def test_status_here_reaches_the_store_and_theirs_arrives_here(synced: World,
                                                                    config: Config) -> None:
    app = desk(synced, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        await wait_for(lambda: app.work.rows is not None, pilot)
        conversation = current_conversation(app.screen)
        target = "pending" if conversation.status.value != "pending" else "open"
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        choices = app.screen.query_one(RowList)
        choices.highlighted = next(i for i, o in enumerate(choices.options) if o.id == target)
        await pilot.press("enter")
        await wait_for(lambda: app.sync_view.pending == 0 and not app.sync_view.syncing, pilot,
                       timeout=30)
        stored = next(c for c in synced.server_records(CUSTOMER, "conversation")
                      if c["id"] == conversation.id)
        assert stored["status"] == target
        # Another agent closes it on the store: the open desk shows it, and it leaves the queue.
        synced.store.upsert(RecordType.CONVERSATION, {**stored, "status": "closed",
                                                      "ended": stored["started"]}, CUSTOMER)
        await pilot.press("r")
        await wait_for(lambda: current_conversation(app.screen).status.value == "closed", pilot,
                       timeout=30)
        await wait_for(lambda: not any(r.conversation_id == conversation.id
                                       for r in app.work.rows or []), pilot, timeout=30)
