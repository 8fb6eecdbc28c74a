"""Fixtures for the ui tests: a desk config, and the store and desk the sync screens talk to
(`world`, `synced`, shared with tests/sync/)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdesk.config import Config
from support.sync_world import synced, world  # noqa: F401 (fixtures)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(path=tmp_path / "config.toml", author="Test Agent", keymap={})


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each desk serves screen-pop on a socket in $XDG_RUNTIME_DIR: a private folder per test,
    never the agent's own, and short (a socket's path has to fit in 108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="ad-run-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
