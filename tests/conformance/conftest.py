"""Every remote the desk syncs with, behind one fixture: each conformance test runs once per
remote (`reference`, `rt`). The RT run needs Request Tracker 5 (see support.rt_world)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdesk.cache.cache import Cache
from support.rt_world import rt_server, stop_rt_server
from conformance.backends import RT, Reference


@pytest.fixture(scope="session", autouse=True)
def _rt_stopped_at_the_end() -> Iterator[None]:
    yield
    stop_rt_server()


@pytest.fixture(params=["reference", "rt"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Reference | RT]:
    made = Reference(tmp_path) if request.param == "reference" else RT(rt_server())
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    opened = Cache.open(tmp_path / "cache")
    try:
        yield opened
    finally:
        opened.close()
