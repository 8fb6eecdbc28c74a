"""Reading a profile pauses Python's collector and leaves it as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from agentdesk.cache.cache import Cache
from agentdesk.cache.collector import collector_paused
from agentdesk.model import demo


class _Thing:
    """Counted by the collector when made (lists and dicts come from free lists, uncounted)."""


@pytest.fixture
def eager_collector() -> Iterator[list[str]]:
    """A collector that runs every 10 new containers, and the collections it ran."""
    runs: list[str] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(f"gen{info['generation']}")

    threshold = gc.get_threshold()
    gc.set_threshold(10, 10, 10)
    gc.callbacks.append(seen)
    try:
        yield runs
    finally:
        gc.callbacks.remove(seen)
        gc.set_threshold(*threshold)


def test_no_collection_while_a_long_history_is_read(demo_cache: Cache,
                                                    eager_collector: list[str]) -> None:
    assert gc.isenabled()
    eager_collector.clear()  # (pytest's own collections until now)
    loaded = demo_cache.view_profile(demo.BIG_ID)  # 120 conversations, 10,000 entries
    assert loaded is not None and len(loaded[0].conversations) >= 100
    during = list(eager_collector)
    assert gc.isenabled()
    kept = [_Thing() for _ in range(50)]  # and it runs again after
    assert kept
    # At most the allocations around the pause (the context manager itself, the answer): the
    # profile's ~2,000 containers made none (55 with a collector run every 10, unpaused).
    assert len(during) <= 2 and len(eager_collector) > len(during)


def test_the_collector_is_left_as_found() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError("a damaged file")
    assert gc.isenabled()
    gc.disable()  # as the desk's start-up leaves it until the first frame
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
