"""The timeline of every kind: keys 1-6 show or hide a group of kinds (with the filter panel's
choices and find), Enter expands an entry's details in place and folds them again, the
Responses and Survey outbox views filter and lead back to the timeline."""

from __future__ import annotations

from datetime import timedelta

from support.timeline_screen import rows
from test_timeline_find import entry_at, timeline
from test_ui_navigation import SIZE, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.model.demo_activity import ACTIVITY_ID
from agentdesk.model.kinds import GROUP_OF, Channel, Direction, EntryKind, EntryStatus
from agentdesk.model.records import Customer, Profile, TimelineEntry
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.surveys import SurveyList, SurveysScreen
from agentdesk.ui.timeline_filter import FilterList, FilterPanel


def laid_out(view):  # type: ignore[no-untyped-def]
    return [entry_at(view, p) for layout in view._layouts.values() for p in layout.positions]  # noqa: SLF001


async def test_kind_keys_hide_and_show_groups_with_the_channel_filter(demo_cache: Cache,
                                                                       config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = timeline(app)
        everything = [entry_at(view, p) for p in range(view.total)]
        await pilot.press("t", "1")  # conversations hidden
        await wait_for(lambda: view.filtering.filter.active, pilot)
        await pilot.pause()
        assert view.shown_total == sum(e.kind != EntryKind.MESSAGE for e in everything)
        assert laid_out(view) and all(e.kind != EntryKind.MESSAGE for e in laid_out(view))
        assert "filter: no Conversations" in str(view.border_title)
        await pilot.press("2", "3", "4", "6")  # surveys alone
        await pilot.pause()
        assert {GROUP_OF[e.kind].value for e in laid_out(view)} == {"surveys"}
        assert "filter: only Surveys" in str(view.border_title)
        assert view.shown_total == sum(e.kind in (EntryKind.SURVEY, EntryKind.RESPONSE)
                                       for e in everything)
        # The panel shows the groups the keys chose, and its channel choice combines with them.
        await pilot.press("f")
        options = app.screen.query_one(FilterPanel).query_one(FilterList)
        assert "[ ] 1 Conversations" in str(options.get_option_at_index(1).prompt)
        assert "[x] 5 Surveys" in str(options.get_option_at_index(5).prompt)
        options.highlighted = next(i for i, o in enumerate(options.options) if o.id == "channel:app")
        await pilot.press("space", "escape")
        await pilot.pause()
        assert view.shown_total == sum(e.kind in (EntryKind.SURVEY, EntryKind.RESPONSE)
                                       and e.channel != Channel.APP for e in everything)
        assert all(e.channel != Channel.APP for e in laid_out(view))
        await pilot.press("0")  # every kind again; the channel filter stays
        await pilot.pause()
        assert view.shown_total == sum(e.channel != Channel.APP for e in everything)
        await pilot.press("f", "a", "escape")
        await pilot.pause()
        assert view.shown_total == view.total and not view.filtering.filter.active


async def test_enter_expands_an_entrys_details_in_place_and_folds_them(demo_cache: Cache,
                                                                         config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=ACTIVITY_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = timeline(app)
        position = max(p for p in range(view.total) if entry_at(view, p).kind == EntryKind.ORDER)
        order = entry_at(view, position)
        view.go_to(position)
        await pilot.pause()
        assert not any("items:" in r for r in rows(view))  # folded: the title only
        assert any(order.subject in r for r in rows(view))
        await pilot.press("t", "enter")
        await pilot.pause()
        shown = "\n".join(rows(view))
        assert "items: " + ", ".join(order.details["items"]) in shown
        assert f"payment: {order.details['payment']}" in shown
        assert view.mark == position and order.id in view.expanded
        await pilot.press("enter")
        await pilot.pause()
        assert not any("items:" in r for r in rows(view)) and order.id not in view.expanded


async def test_details_of_hostile_text_stay_inert(tmp_path, config: Config) -> None:  # type: ignore[no-untyped-def]
    with Cache.open(tmp_path / "cache") as cache:
        customer = Customer(id="c1", name="Hostile", created=demo.EPOCH, updated=demo.EPOCH)
        entry = TimelineEntry(
            id="e1", at=demo.EPOCH, channel=Channel.WEB, direction=Direction.INBOUND,
            kind=EntryKind.FEEDBACK, author="[bold]Tool\x1b[31m", subject="[red]Review\x1b]52;c;eA==\x07",
            details={"source": "[link=http://x]evil[/link]\x9b2J", "tags": ["[b]a", "\x1b[5mb"]})
        cache.put_profile(Profile(customer=customer), [entry], durable=False)
        app = AgentDesk(cache, config, customer_id="c1")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            view = timeline(app)
            view.go_to(0)
            await pilot.press("t", "enter")
            await pilot.pause()
            shown = "\n".join(rows(view))
            assert "source: [link=http://x]evil[/link]" in shown
            assert "tags: [b]a, b" in shown or "tags: [b]a, [5mb" in shown
            assert "[red]Review" in shown and "[bold]Tool" in shown
            assert "\x1b" not in shown and "\x9b" not in shown


async def test_responses_and_outbox_filter_and_lead_to_the_timeline(demo_cache: Cache,
                                                                      config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=ACTIVITY_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = timeline(app)
        everything = [entry_at(view, p) for p in range(view.total)]
        responses = [e for e in everything if e.kind == EntryKind.RESPONSE]
        sent = [e for e in everything if e.kind == EntryKind.SURVEY]
        await pilot.press("t", "O")
        screen = app.screen
        assert isinstance(screen, SurveysScreen)
        await wait_for(lambda: screen.surveys is not None, pilot)
        listed = screen.query_one(SurveyList)
        assert listed.option_count == len(responses)
        # Newest first, with campaign, channel and date.
        first = str(listed.get_option_at_index(0).prompt)
        newest = max(responses, key=lambda e: e.at)
        assert newest.details["campaign"] in first and newest.channel.value in first

        await pilot.press("s")  # detractors
        detractors = [e for e in responses if e.details["score"] <= 6]
        assert listed.option_count == max(1, len(detractors)) and "score: detractors" in \
            str(screen.query_one("#surveys-filter").render())
        await pilot.press("s", "s")  # promoters
        promoters = [e for e in responses if e.details["score"] >= 9]
        assert len(screen._items) == len(promoters)  # noqa: SLF001
        await pilot.press("x", "slash", *"onboard")
        await pilot.pause()
        matching = [e for e in responses if "onboard" in e.details["campaign"].lower()]
        assert len(screen._items) == len(matching)  # noqa: SLF001
        await pilot.press("enter", "x")

        await pilot.press("tab")  # the survey outbox and its Delivery figures
        assert listed.option_count == len(sent)
        delivery = str(screen.query_one("#surveys-delivery").render())
        sent_count = sum(e.status not in (EntryStatus.QUEUED, EntryStatus.SENDING) for e in sent)
        answered = sum(e.status in (EntryStatus.SCORED, EntryStatus.RESPONDED) for e in sent)
        assert f"sent {sent_count} " in delivery and f"scored {answered} " in delivery
        assert f"response rate {answered / sent_count:.0%}" in delivery
        await pilot.press("u")  # the first status in order
        statuses = sorted({e.status.value for e in sent})
        assert all(i.entry.status.value == statuses[0] for i in screen._items)  # noqa: SLF001
        await pilot.press("x", "p")  # the last 30 days
        assert all(i.entry.at >= demo.EPOCH - timedelta(days=30) for i in screen._items)  # noqa: SLF001
        await pilot.press("x")

        # Enter: the survey in the timeline, marked and expanded.
        item = screen._items[0]  # noqa: SLF001
        await pilot.press("down", "up", "enter")
        await pilot.pause()
        assert app.screen is not screen
        assert view.mark == item.position and item.entry.id in view.expanded
        assert any("next survey:" in r for r in rows(view))


async def test_feedback_assigned_to_another_customer_found_by_search(demo_cache: Cache,
                                                                    config: Config) -> None:
    from agentdesk.ui.entry_actions import CustomerPickScreen
    from support.sync_world import read_all_entries

    app = AgentDesk(demo_cache, config, customer_id=ACTIVITY_ID)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.index is not None, pilot)
        view = timeline(app)
        position = max(p for p in range(view.total) if entry_at(view, p).kind == EntryKind.FEEDBACK)
        item = entry_at(view, position)
        view.go_to(position)
        await pilot.press("t", "M")
        assert isinstance(app.screen, CustomerPickScreen)
        await pilot.press(*"Kofi Novak", "enter")
        await pilot.pause()
        assert app.screen.customer_id == ACTIVITY_ID  # still on the activity customer: nothing was opened
        assert item.id not in {e["id"] for e in read_all_entries(demo_cache, ACTIVITY_ID)}
        moved = [e for e in read_all_entries(demo_cache, "cus_000000") if e["kind"] == "feedback"]
        assert [e["body"] for e in moved] == [item.body]
        assert view.total == len(read_all_entries(demo_cache, ACTIVITY_ID))  # shown as it is now
        [queued] = demo_cache.outbox.items()
        assert queued.mutation.kind.value == "feedback.reassign"
        assert queued.mutation.data["to"] == "cus_000000"


async def test_feedback_unlinked_after_asking(demo_cache: Cache, config: Config) -> None:
    from support.sync_world import read_all_entries

    app = AgentDesk(demo_cache, config, customer_id=ACTIVITY_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = timeline(app)
        await pilot.press("t", "1", "2", "3", "4", "5")  # feedback only: the first on screen is acted on
        await wait_for(lambda: view.filtering.filter.active, pilot)
        await pilot.pause()
        before = view.shown_total
        await pilot.press("U", "n")  # asked, and no: nothing changes
        await pilot.pause()
        assert view.shown_total == before and not demo_cache.outbox.items()
        await pilot.press("U", "y")
        await pilot.pause()
        await wait_for(lambda: view.shown_total == before - 1, pilot)
        kinds = [e["kind"] for e in read_all_entries(demo_cache, ACTIVITY_ID)]
        assert kinds.count("feedback") == before - 1
        assert "filter: only Feedback" in str(view.border_title)  # the filter stays on


async def test_a_response_ignored_and_tagged_from_the_responses_view(demo_cache: Cache,
                                                                     config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=ACTIVITY_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t", "O")
        screen = app.screen
        await wait_for(lambda: screen.surveys is not None, pilot)
        first = screen._items[0]  # noqa: SLF001
        await pilot.press("i")
        await wait_for(lambda: screen.surveys is not None and screen._items[0].ignored, pilot)  # noqa: SLF001
        assert "(ignored)" in str(screen.query_one(SurveyList).get_option_at_index(0).prompt)
        await pilot.press("plus", *"urgent", "enter")
        await wait_for(lambda: "urgent" in screen._items[0].tags, pilot)  # noqa: SLF001
        assert screen._items[0].entry.id == first.entry.id  # noqa: SLF001
        await pilot.press("minus", *"urgent", "enter")
        await wait_for(lambda: "urgent" not in screen._items[0].tags, pilot)  # noqa: SLF001
        kinds = [i.mutation.kind.value for i in demo_cache.outbox.items()]
        assert kinds == ["response.update"] * 3
        await pilot.press("t")  # the tag filter now offers its tags
        assert screen.filter.tag in first.tags or not first.tags


async def test_jump_to_a_date_and_to_a_picked_event(demo_cache: Cache, config: Config) -> None:
    from datetime import date, datetime, time

    from agentdesk.ui.timeline_goto import DatePrompt, EventPicker

    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = timeline(app)
        everything = [entry_at(view, p) for p in range(view.total)]
        await pilot.press("t", "D")
        assert isinstance(app.screen, DatePrompt)
        await pilot.press(*"June 3", "enter")  # refused, with why; the prompt stays
        assert isinstance(app.screen, DatePrompt)
        assert "YYYY-MM-DD" in str(app.screen.query_one("#jump-date-error").render())
        await pilot.press(*["backspace"] * 6, *"2024-03-15", "enter")
        await pilot.pause()
        day = datetime.combine(date(2024, 3, 15), time()).astimezone()
        expected = next(p for p, e in enumerate(everything) if e.at >= day)
        assert view.mark == expected and view.top_entry()[0] <= expected

        await pilot.press("E")
        picker = app.screen
        assert isinstance(picker, EventPicker)
        await wait_for(lambda: picker.events is not None, pilot)
        outside = [e for e in everything if not e.conversation_id]
        assert len(picker.events) == len(outside)
        await pilot.press(*"undelivered")
        await pilot.pause()
        assert picker.shown and all(everything[e.position].status == EntryStatus.UNDELIVERED
                                    for e in picker.shown)
        await pilot.press("down", "enter")
        await pilot.pause()
        chosen = picker.shown[1]
        assert view.mark == chosen.position and chosen.entry_id in view.expanded
        assert any("reason:" in r for r in rows(view))  # its details, expanded


async def test_a_conversation_started_from_a_response_quotes_it(demo_cache: Cache,
                                                                config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=ACTIVITY_ID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t", "O")
        screen = app.screen
        await wait_for(lambda: screen.surveys is not None, pilot)
        written = next(i for i in screen._items if i.entry.body)  # noqa: SLF001
        listed = screen.query_one(SurveyList)
        listed.highlighted = screen._items.index(written)  # noqa: SLF001
        await pilot.press("N")
        await pilot.pause()
        view = timeline(app)
        assert app.screen is view.screen
        conversations = app.screen.profile.conversations
        started = next(c for c in conversations if c.topic.startswith("Survey response: "))
        assert written.campaign in started.topic and str(started.status) == "open"
        shown = "\n".join(rows(view))
        assert f"> Score {written.score} · {written.campaign}" in shown
        assert f"> {written.entry.body}" in shown
        [queued] = demo_cache.outbox.items()
        assert queued.mutation.kind.value == "conversation.start"


async def test_every_new_view_opens_on_a_narrow_terminal(demo_cache: Cache, config: Config) -> None:
    """60x20: the kind filter, an entry expanded, Responses and Survey outbox, the event
    picker and the date prompt lay out without a zero-width widget crashing them."""
    from agentdesk.ui.timeline_goto import DatePrompt, EventPicker

    app = AgentDesk(demo_cache, config, customer_id=ACTIVITY_ID)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = timeline(app)
        await pilot.press("t", "1", "enter")
        await pilot.pause()
        assert any("▲ enter shows less" in r for r in rows(view))
        await pilot.press("O")
        screen = app.screen
        await wait_for(lambda: isinstance(screen, SurveysScreen) and screen.surveys is not None, pilot)
        await pilot.press("tab", "u", "escape")
        await pilot.press("E")
        await wait_for(lambda: isinstance(app.screen, EventPicker) and app.screen.events is not None, pilot)
        await pilot.press("escape", "D")
        assert isinstance(app.screen, DatePrompt)
        await pilot.press("escape", "f")
        await pilot.pause()
        assert app.is_running and app.screen is view.screen
