"""Opening a profile holds Python's collector off until the profile's first frame, and never
leaves it paused: not when the profile is never painted, not when the desk quits, and not
when someone else had paused it."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.profile import ProfileScreen

SIZE = (120, 35)


class FramesDesk(AgentDesk):
    """The desk, noting whether the collector ran as each profile's first frame went out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.first_frames: dict[str, bool] = {}  # customer id -> collector enabled at its frame

    def _display(self, screen: Any, renderable: Any) -> None:
        super()._display(screen, renderable)
        if (renderable is not None and isinstance(screen, ProfileScreen)
                and screen.profile is not None and screen.customer_id not in self.first_frames):
            self.first_frames[screen.customer_id] = gc.isenabled()


@pytest.fixture(autouse=True)
def collector_back_on() -> Iterator[None]:
    """Whatever a test does, the rest of the run collects."""
    try:
        yield
    finally:
        gc.enable()


async def settle(pilot: Any, condition: Any, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


async def started(pilot: Any, app: FramesDesk) -> None:
    """The first profile painted, and the collector let go after it."""
    await settle(pilot, lambda: demo.HOSTILE_ID in app.first_frames)
    await settle(pilot, gc.isenabled)


async def test_no_collection_from_the_open_to_the_first_frame(demo_cache: Cache, config: Config) -> None:
    app = FramesDesk(demo_cache, config, customer_id=demo.HOSTILE_ID)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        app.open_customer(demo.BIG_ID)  # 10,000 entries, 120 conversations
        assert not gc.isenabled()
        await settle(pilot, lambda: demo.BIG_ID in app.first_frames)
        assert app.first_frames[demo.BIG_ID] is False  # still held as the frame went out
        await settle(pilot, gc.isenabled, timeout=0.9)  # then let go, well before the timer


async def test_a_profile_never_painted_does_not_leave_it_paused(demo_cache: Cache, config: Config) -> None:
    app = FramesDesk(demo_cache, config, customer_id=demo.HOSTILE_ID)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        app.open_customer(demo.BIG_ID)
        app.open_customer("cus_000000")  # on top, before any frame
        await asyncio.sleep(1.1)
        await pilot.pause()
        assert gc.isenabled()
        assert demo.BIG_ID not in app.first_frames


class QuitAtFirstFrame(FramesDesk):
    def _display(self, screen: Any, renderable: Any) -> None:
        super()._display(screen, renderable)
        if demo.BIG_ID in self.first_frames:
            self.exit()


async def test_quitting_while_it_is_held_resumes_it(demo_cache: Cache, config: Config) -> None:
    app = QuitAtFirstFrame(demo_cache, config, customer_id=demo.HOSTILE_ID)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        app.open_customer(demo.BIG_ID)
        await settle(pilot, lambda: demo.BIG_ID in app.first_frames)
    assert app.first_frames[demo.BIG_ID] is False
    assert gc.isenabled()


async def test_a_collector_paused_by_another_stays_paused(demo_cache: Cache, config: Config) -> None:
    app = FramesDesk(demo_cache, config, customer_id=demo.HOSTILE_ID)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        gc.disable()  # as the command's start-up does until its first frame (ui.startup)
        app.open_customer(demo.BIG_ID)
        await settle(pilot, lambda: demo.BIG_ID in app.first_frames)
        await asyncio.sleep(1.1)
        await pilot.pause()
        assert not gc.isenabled()  # not this open's to resume
        gc.enable()
