"""Snapshots of the timeline's own states: find, the filter, a jump near the end, a long entry.

Deterministic as the other snapshots: fixed size, UTC, the tests' fixed clock (relative times),
demo data from a fixed seed; the scan of the timeline's files is waited for.
"""

from __future__ import annotations

from pathlib import Path

from support.timeline_screen import put_huge
from test_snapshots import index_loaded, steady

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.timeline import TimelineView

SIZE = (120, 35)


async def scanned(pilot) -> None:  # type: ignore[no-untyped-def]
    view = pilot.app.screen.query_one(TimelineView) if pilot.app.screen.query(TimelineView) else \
        pilot.app.screen_stack[-2].query_one(TimelineView)
    for _ in range(400):
        if view.scan is not None and view.scan.complete:
            break
        await pilot.pause(0.05)
    await pilot.pause()


def test_find_in_the_timeline(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def find(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("ctrl+f", *"refund")
        await scanned(pilot)
        await pilot.press("enter")
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=demo.BIG_ID), terminal_size=SIZE,
                        run_before=find)


def test_filter_the_timeline(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def filtered(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("f")
        await scanned(pilot)
        await pilot.press("space", "j", "space")  # email and chat hidden
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=demo.BIG_ID), terminal_size=SIZE,
                        run_before=filtered)


def test_jump_to_the_newest_conversation_at_80_columns(snap_compare, demo_cache: Cache, config: Config) -> None:
    """80x24: the panel folds away; `[` then `]` land on the newest conversation, which starts
    too near the end to come to the top: it is marked."""
    async def jump(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("left_square_bracket", "left_square_bracket", "right_square_bracket")
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"), terminal_size=(80, 24),
                        run_before=jump)


def test_long_entry_cut(snap_compare, tmp_path: Path, config: Config) -> None:
    with put_huge(tmp_path / "cache") as cache:
        assert snap_compare(AgentDesk(cache, config, customer_id="huge"), terminal_size=SIZE,
                            run_before=index_loaded)
