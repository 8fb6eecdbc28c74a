"""Fixtures every test folder may use: a real cache on disk, demo data, a fixed clock-free
environment, and snapshot SVGs kept in the top-level `snapshots/` folder.

Fixtures one folder needs are in that folder's conftest.py."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_textual_snapshot
from pytest_textual_snapshot import SVGImageExtension

from agentdesk.model import demo
from agentdesk.cache.cache import Cache

ROOT = Path(__file__).resolve().parent.parent

# Deterministic rendering: every test sees times in UTC.
os.environ["TZ"] = "UTC"
time.tzset()

# The desk keeps its parsed styles in the user's cache folder (ui/kept_css.py): the tests'
# own, never the real one.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="agentdesk-test-cache-")


# What the desk takes for "now" in every test: relative times ("2 h ago") drawn the same in
# every run. The moment the demo data is written for, the day after its epoch (a live demo
# is moved so that this moment is its today: `demo.as_of`).
FIXED_NOW = demo.WRITTEN_FOR
assert FIXED_NOW == datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[datetime]:
    from agentdesk.ui import clock

    previous = clock.use(lambda: FIXED_NOW)
    yield FIXED_NOW
    clock.use(previous)


class TopLevelSnapshots(SVGImageExtension):
    """Keep snapshot SVGs in the top-level `snapshots/` folder, as the project layout says."""

    @classmethod
    def dirname(cls, *, test_location) -> str:  # type: ignore[no-untyped-def, override]
        return str(ROOT / "snapshots")


pytest_textual_snapshot.SVGImageExtension = TopLevelSnapshots


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data set, generated once per test session."""
    root = tmp_path_factory.mktemp("demo-template") / "cache"
    with Cache.open(root) as cache:
        cache.import_profiles(demo.dataset())
    return root


@pytest.fixture
def demo_cache(demo_template: Path, tmp_path: Path) -> Iterator[Cache]:
    """A private, writable copy of the demo cache for one test."""
    import shutil

    root = tmp_path / "cache"
    shutil.copytree(demo_template, root)
    (root / "lock").unlink(missing_ok=True)
    with Cache.open(root) as cache:
        yield cache


@pytest.fixture
def empty_cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "empty") as cache:
        yield cache


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that would let group/other read: files must still come out 0600."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)
