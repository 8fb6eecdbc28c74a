"""The real `agentdesk` command when something goes wrong (issue 21): an unexpected error is
one line and a private log, never a traceback and never status 0; Ctrl+C is quiet; skipped
changes are shown; `sync --repair` rebuilds what does not read back."""

from __future__ import annotations

import os
import pty
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdesk.model.protocol import RecordType
from support.sync_world import TOKEN, FaultProxy, World, synced  # noqa: F401 (fixture)

CID = "cus_000003"


@pytest.fixture
def env(synced: World, tmp_path: Path) -> Iterator[dict[str, str]]:  # noqa: F811
    yield {**os.environ, "AGENTDESK_TOKEN": TOKEN, "AGENTDESK_CONFIG": str(tmp_path / "none.toml"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "TZ": "UTC"}


def sync_command(world: World, *extra: str, url: str | None = None) -> list[str]:
    return [sys.executable, "-m", "agentdesk", "sync", "--cache", str(world.cache.root),
            "--remote", url or world.url, *extra]


def released(world: World) -> None:
    """Let the command take the cache: the test's own Cache object lets go of the lock."""
    world.cache.close()


def test_ctrl_c_during_a_sync_exits_quietly(synced: World, env: dict[str, str]) -> None:  # noqa: F811
    w = synced
    released(w)
    with FaultProxy(w.url) as proxy:
        proxy.add("delay", "/v1/changes", seconds=20)
        proc = subprocess.Popen(sync_command(w, url=proxy.url), env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not proxy.requests("/v1/changes"):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_an_unexpected_error_is_one_line_a_private_log_and_never_status_0(
        synced: World, env: dict[str, str]) -> None:  # noqa: F811
    w = synced
    released(w)
    (w.cache.root / "sync.json").unlink()
    (w.cache.root / "sync.json").mkdir()  # a fault no code expects: its state cannot be saved
    done = subprocess.run(sync_command(w), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 70
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("agentdesk: stopped by an unexpected error (IsADirectoryError); "
                           "details in ")
    log = Path(last.split("details in ", 1)[1])
    assert log.parent == w.cache.root / "logs"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert "Traceback" in text and "IsADirectoryError" in text and TOKEN not in text


CRASHING_DESK = """
import sys
from agentdesk.ui import app
def on_mount(self):
    raise RuntimeError("a bug in the desk")
app.AgentDesk.on_mount = on_mount
from agentdesk.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_desk_that_crashes_exits_non_zero_with_one_line(synced: World, tmp_path: Path,  # noqa: F811
                                                          env: dict[str, str]) -> None:
    """It drew a full traceback after restoring the screen, then exited 0."""
    w = synced
    released(w)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_DESK, "--cache", str(w.cache.root)],
                            stdin=slave, stdout=slave, stderr=slave, env={**env, "TERM": "xterm"},
                            start_new_session=True)
    os.close(slave)
    out = bytearray()
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                out.extend(os.read(master, 65536))
            except OSError:
                time.sleep(0.05)
        proc.wait(timeout=10)
        try:
            while chunk := os.read(master, 65536):
                out.extend(chunk)
        except OSError:
            pass
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(master)
    assert proc.returncode == 70
    text = out.decode(errors="replace")
    assert "Traceback" not in text
    assert "agentdesk: stopped by an unexpected error (RuntimeError); details in " in text
    [log] = (w.cache.root / "logs").glob("crash-*.log")
    assert "a bug in the desk" in log.read_text()


def test_sync_shows_what_it_skipped_and_where_the_list_is(synced: World,  # noqa: F811
                                                          env: dict[str, str]) -> None:
    w, store = synced, synced.store
    with store._write() as tx:  # behind the store's validation, as a buggy store might
        tx.put(RecordType.NOTE, "note_naive", CID,
               '{"id": "note_naive", "text": "t", "author": "", '
               '"created": "2024-06-01T10:00:00", "updated": "2024-06-01T10:00:00Z"}')
    released(w)
    done = subprocess.run(sync_command(w), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 bad records skipped" in done.stdout
    assert "skipped: note note_naive of customer cus_000003: created: a date and time needs its " \
           "time zone" in done.stdout
    assert f"every skipped change is listed in {w.cache.root / 'logs' / 'skipped.log'}" in done.stdout


def test_sync_repair_rebuilds_what_does_not_read_back(synced: World,  # noqa: F811
                                                      env: dict[str, str]) -> None:
    from agentdesk.cache.cache import Cache
    from support.cache_reading import cache_digest

    w = synced
    profile = w.cache.profile_path(CID)
    released(w)
    # A note whose time an older desk kept without its zone: opening it crashed every desk.
    profile.write_text(profile.read_text().replace('Z"', '"', 1))
    done = subprocess.run(sync_command(w, "--repair"), env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"does not read back: customer {CID}" in done.stderr
    assert "1 customers to rebuild from the store" in done.stderr
    assert "1 customers rebuilt" in done.stdout
    with Cache.open(w.cache.root) as cache:
        assert cache.view_profile(CID) is not None
        assert cache_digest(cache) == w.server_digest()
