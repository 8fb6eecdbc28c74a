"""Snapshots of the timeline of every kind: marks and colours per kind, a response expanded
in place, the Responses view filtered and the Survey outbox with its Delivery figures.

Deterministic as the other snapshots: fixed size, UTC, the tests' fixed clock, demo data from
a fixed seed; the surveys are waited for.
"""

from __future__ import annotations

from test_snapshots import index_loaded, steady

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model.demo_activity import ACTIVITY_ID
from agentdesk.model.kinds import EntryKind
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.surveys import SurveysScreen
from agentdesk.ui.timeline import TimelineView

SIZE = (120, 35)


async def newest_response_expanded(pilot) -> None:  # type: ignore[no-untyped-def]
    await index_loaded(pilot)
    view = pilot.app.screen.query_one(TimelineView)
    timeline = view._timeline  # noqa: SLF001
    entries = [e for n in range(len(timeline.summary.chunk_sizes)) for e in timeline.chunk(n)]
    position = max(p for p, e in enumerate(entries) if e.kind == EntryKind.RESPONSE and e.body)
    view.go_to(position)
    await pilot.press("t", "enter")
    await pilot.pause()


async def surveys_loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        screen = pilot.app.screen
        if isinstance(screen, SurveysScreen) and screen.surveys is not None:
            break
        await pilot.pause(0.05)
    steady(pilot)
    await pilot.pause()


def test_every_kind_with_a_response_expanded(snap_compare, demo_cache: Cache, config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id=ACTIVITY_ID), terminal_size=SIZE,
                        run_before=newest_response_expanded)


def test_survey_responses_promoters(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def responses(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("t", "O")
        await surveys_loaded(pilot)
        await pilot.press("s", "s", "s")  # promoters
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=ACTIVITY_ID), terminal_size=SIZE,
                        run_before=responses)


def test_survey_outbox_with_delivery(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def outbox(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("t", "O", "tab")
        await surveys_loaded(pilot)

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=ACTIVITY_ID), terminal_size=SIZE,
                        run_before=outbox)


def test_event_picker_narrowed(snap_compare, demo_cache: Cache, config: Config) -> None:
    from agentdesk.model import demo
    from agentdesk.ui.timeline_goto import EventPicker

    async def picker(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("t", "E")
        for _ in range(200):
            if isinstance(pilot.app.screen, EventPicker) and pilot.app.screen.events is not None:
                break
            await pilot.pause(0.05)
        await pilot.press(*"order #")
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=demo.BIG_ID), terminal_size=SIZE,
                        run_before=picker)
