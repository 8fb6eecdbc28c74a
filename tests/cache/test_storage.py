"""Atomic private files and the cache lock, checked with real files and real processes."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agentdesk.cache.files import (
    CacheLock,
    atomic_write_bytes,
    atomic_write_json,
    read_json,
)
from agentdesk.cache.database import changing


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


# -- atomic_write_json ----------------------------------------------------------------------


def test_atomic_write_json_creates_private_file_and_dirs(tmp_path: Path, permissive_umask: None) -> None:
    target = tmp_path / "a" / "b" / "c" / "data.json"
    atomic_write_json(target, {"name": "Ada", "n": [1, 2]})
    assert json.loads(target.read_text()) == {"name": "Ada", "n": [1, 2]}
    assert _mode(target) == 0o600
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert _mode(folder) == 0o700, folder
    # Only the target is left: no temporary file.
    assert [p.name for p in target.parent.iterdir()] == ["data.json"]


def test_atomic_write_replaces_a_world_readable_file_with_a_private_one(
    tmp_path: Path, permissive_umask: None
) -> None:
    target = tmp_path / "old.json"
    target.write_text('{"v": 0}')
    os.chmod(target, 0o644)
    atomic_write_json(target, {"v": 1})
    assert read_json(target) == {"v": 1}
    assert _mode(target) == 0o600


def test_atomic_write_keeps_existing_folder_mode(tmp_path: Path, permissive_umask: None) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    atomic_write_json(folder / "x.json", [1], durable=False)
    assert _mode(folder) == 0o755  # existing folders are left alone
    assert _mode(folder / "x.json") == 0o600


def test_json_is_utf8_and_not_ascii_escaped(tmp_path: Path) -> None:
    target = tmp_path / "u.json"
    atomic_write_json(target, {"name": "Zoë 你好 👍"})
    raw = target.read_bytes()
    assert "Zoë 你好 👍".encode() in raw
    assert read_json(target) == {"name": "Zoë 你好 👍"}


def test_read_json_of_missing_file_is_none(tmp_path: Path) -> None:
    assert read_json(tmp_path / "nope.json") is None


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "t.json"
    atomic_write_json(target, {"v": 1})
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert read_json(target) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_a_change_through_tinydb_is_one_private_write_or_none(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    with changing(path) as db:
        db.insert({"a": 1})
        db.table("other").insert({"b": 2})
        assert not path.exists()  # written once, when the change is complete
    assert _mode(path) == 0o600
    assert read_json(path) == {"_default": {"1": {"a": 1}}, "other": {"1": {"b": 2}}}
    before = path.read_bytes()
    with pytest.raises(RuntimeError), changing(path) as db:
        db.insert({"a": 3})
        raise RuntimeError("the change fails half way")
    assert path.read_bytes() == before  # nothing of it was written


# -- crash safety: SIGKILL a writer at random moments ---------------------------------------

WRITER = """
    import sys
    from pathlib import Path
    from agentdesk.cache.files import atomic_write_json

    path, run, size = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    print("ready", flush=True)
    k = 0
    while True:
        k += 1
        atomic_write_json(path, {"run": run, "k": k, "payload": f"{run}.{k}|" * size})
"""
SIZE = 60_000  # ~0.6 MB per version: each write takes long enough to be hit mid-way


def _version(run: int, k: int) -> dict:
    return {"run": run, "k": k, "payload": f"{run}.{k}|" * SIZE}


def test_sigkill_mid_write_leaves_a_whole_readable_file(tmp_path: Path) -> None:
    rng = random.Random(1234)
    target = tmp_path / "target.json"
    atomic_write_json(target, _version(0, 0))
    temp_name = re.compile(r"^\.target\.json\..+\.tmp$")
    last = (0, 0)
    killed_mid_write = completed_writes = 0
    leftovers: set[str] = set()
    kills = 36
    for run in range(1, kills + 1):
        child = _python(WRITER, str(target), str(run), str(SIZE))
        assert child.stdout is not None and child.stderr is not None
        try:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
            time.sleep(rng.uniform(0.0, 0.06))
            os.kill(child.pid, signal.SIGKILL)
            assert child.wait(timeout=10) == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=10)
            child.stdout.close()
            child.stderr.close()

        # The target always parses and is exactly one of the versions written, never older
        # than one seen before.
        data = json.loads(target.read_bytes())
        assert read_json(target) == data
        assert set(data) == {"run", "k", "payload"}
        assert data == _version(data["run"], data["k"]), "a mix of two versions"
        assert data["run"] in (run, last[0]), data["run"]
        assert (data["run"], data["k"]) >= last
        last = (data["run"], data["k"])

        # Anything else in the folder is a leftover temporary file, never the target's name.
        names = {p.name for p in tmp_path.iterdir()}
        others = names - {"target.json"}
        assert all(temp_name.match(n) for n in others), others
        killed_mid_write += len(others - leftovers)
        leftovers |= others
        completed_writes += data["run"] == run

    print(f"{killed_mid_write} of {kills} kills mid-write, {completed_writes} after a write")
    # The kills really did land in the middle of writes (leaving temporaries behind) ...
    assert killed_mid_write >= 1
    assert completed_writes >= 1  # ... and some after at least one whole write
    # ... and the leftovers break neither reading nor the next write.
    atomic_write_json(target, _version(99, 1))
    assert read_json(target) == _version(99, 1)
    assert all(_mode(p) == 0o600 for p in tmp_path.iterdir())


# -- CacheLock across processes -------------------------------------------------------------

TRY_LOCK = """
    import sys
    from pathlib import Path
    from agentdesk.cache.files import CacheLock

    lock = CacheLock(Path(sys.argv[1]))
    print(lock.acquire(), lock.holder(), flush=True)
"""

HOLD_LOCK = """
    import sys, time
    from pathlib import Path
    from agentdesk.cache.files import CacheLock

    lock = CacheLock(Path(sys.argv[1]))
    print(lock.acquire(), flush=True)
    time.sleep(60)
"""


def _try_lock(path: Path) -> tuple[bool, str]:
    child = _python(TRY_LOCK, str(path))
    out, err = child.communicate(timeout=20)
    assert child.returncode == 0, err
    acquired, holder = out.split()
    return acquired == "True", holder


def test_second_process_cannot_lock_until_release(tmp_path: Path, permissive_umask: None) -> None:
    path = tmp_path / "cache" / "lock"
    lock = CacheLock(path)
    assert lock.acquire()
    try:
        assert _mode(path) == 0o600
        assert _mode(path.parent) == 0o700
        assert lock.holder() == str(os.getpid())
        acquired, holder = _try_lock(path)
        assert not acquired
        assert holder == str(os.getpid())  # the loser can tell the agent who holds it
    finally:
        lock.release()
    acquired, _ = _try_lock(path)
    assert acquired
    # Release is idempotent, and the lock can be taken again here.
    lock.release()
    assert lock.acquire()
    lock.release()


def test_flock_conflicts_within_one_process_too(tmp_path: Path) -> None:
    """flock belongs to the open file description: a second open() in the same process loses."""
    first, second = CacheLock(tmp_path / "lock"), CacheLock(tmp_path / "lock")
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_lock_freed_when_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    holder = _python(HOLD_LOCK, str(path))
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "True"
        acquired, who = _try_lock(path)
        assert not acquired
        assert who == str(holder.pid)
        assert not CacheLock(path).acquire()  # nor from this process
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        for stream in (holder.stdout, holder.stderr):
            if stream is not None:
                stream.close()
    acquired, who = _try_lock(path)
    assert acquired  # the kernel dropped the dead holder's lock: nothing is stuck
    assert who != str(holder.pid)
