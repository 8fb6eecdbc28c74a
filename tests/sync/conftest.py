"""Fixtures for the sync tests: the store and desk (`world`, `synced`, shared with tests/ui/),
a fault proxy between them, and a switch that runs a test's first syncs both ways."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentdesk.sync import helper as sync_helper
from support.sync_world import FaultProxy, World, synced, world  # noqa: F401 (fixtures)


@pytest.fixture
def proxy(request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    """A fault proxy in front of the test's world (`synced` if the test uses it, else `world`)."""
    w: World = request.getfixturevalue("synced" if "synced" in request.fixturenames else "world")
    with FaultProxy(w.url) as p:
        yield p


@pytest.fixture(params=["in-process", "helper process"])
def first_sync_way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test twice: its first syncs done in-process, and shared with the helper process
    (agentdesk/sync/helper.py) however small the store; the helper must then have been used, and
    not have failed (the engine would quietly have done its work)."""
    started: list[sync_helper.SyncHelper] = []
    if request.param == "helper process":
        real_init = sync_helper.SyncHelper.__init__

        def start(self: sync_helper.SyncHelper, *args: Any) -> None:
            real_init(self, *args)
            started.append(self)

        monkeypatch.setattr(sync_helper, "HELPER_MIN_CHANGES", 0)
        monkeypatch.setattr(sync_helper.SyncHelper, "__init__", start)
    yield request.param
    assert bool(started) == (request.param == "helper process")
    assert [helper.failure for helper in started if helper.failure] == []
