"""Fixtures for the ui tests: a desk config, and the store and desk the sync screens talk to
(`world`, `synced`, shared with tests/sync/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk.config import Config
from support.sync_world import synced, world  # noqa: F401 (fixtures)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(path=tmp_path / "config.toml", author="Test Agent", keymap={})
