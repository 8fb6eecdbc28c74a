"""The command line: --help, --version, where caches live, and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentdesk import __version__
from agentdesk.cli import open_cache, parser
from agentdesk.config import load_config
from agentdesk.core import demo


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentdesk", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_version_and_help() -> None:
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"agentdesk {__version__}"
    help_ = run("--help")
    assert help_.returncode == 0
    for option in ("--demo", "--cache", "--customer", "AGENTDESK_CACHE"):
        assert option in help_.stdout


def test_demo_uses_its_own_folder_never_the_real_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    real = tmp_path / "real-cache"
    monkeypatch.setenv("AGENTDESK_CACHE", str(real))
    cache = open_cache(parser().parse_args(["--demo"]))
    try:
        assert cache.root == tmp_path / "data" / "agentdesk" / "demo"
        assert cache.load_profile(demo.BIG_ID) is not None
        assert cache.timeline(demo.BIG_ID).total == 10_000
        assert not real.exists()
    finally:
        cache.close()
    # Deterministic: a second demo folder holds the same data.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data2"))
    again = open_cache(parser().parse_args(["--demo"]))
    try:
        a = (tmp_path / "data/agentdesk/demo" / "index").glob("*.json")
        for path in a:
            twin = tmp_path / "data2/agentdesk/demo/index" / path.name
            assert json.loads(path.read_text()) == json.loads(twin.read_text())
    finally:
        again.close()


def test_cache_location_from_env_and_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDESK_CACHE", str(tmp_path / "from-env"))
    cache = open_cache(parser().parse_args([]))
    assert cache.root == tmp_path / "from-env"
    cache.close()
    cache = open_cache(parser().parse_args(["--cache", str(tmp_path / "from-flag")]))
    assert cache.root == tmp_path / "from-flag"
    cache.close()


def test_unreadable_cache_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    root = tmp_path / "newer"
    root.mkdir()
    (root / "meta.json").write_text('{"schema": 99}')
    result = run("--cache", str(root))
    assert result.returncode != 0
    assert "newer agentdesk" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_config_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[keymap]\nprofile.new_note = 3\n")
    with pytest.raises(SystemExit, match="keymap"):
        load_config(path)
    path.write_text('author = "Sam"\n[keymap]\n"profile.new_note" = "a"\n')
    config = load_config(path)
    assert config.author == "Sam" and config.keymap == {"profile.new_note": "a"}
