"""A helper process that files part of a first sync's spool on the machine's second CPU.

Filing the spool (reading each spool file, building each customer's profile and timeline,
writing them) is a third of a first sync, all of it Python holding one interpreter's lock. A
helper process takes spool files one at a time over a pipe while the sync files others, so
the two share the work.

The helper only writes customers the cache does not hold, and never replaces a file: each
profile is created with `link`, which fails if the desk wrote that customer meanwhile (a
profile fetched, an edit). Such customers, those with edits in the outbox and those with
anything but upserts come back as "deferred" and the sync files them itself, under its locks.
It inherits the cache's lock descriptor, so while it writes no other agentdesk can take the
cache; if the sync dies, the helper stops after the file it is on. What it wrote before a
crash is what the sync would have written: the spool is filed again from the start, and
filing twice changes nothing.

Run as `python -m agentdesk.core.filer CACHE_DIR PARENT_PID`: one JSON line per spool file in
(`{"file": path, "skip": [customer ids]}`), one answer line out. No UI here.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from agentdesk.core import tables as t
from agentdesk.core.cache import IndexRow, customer_files
from agentdesk.core.replica import Rec, file_timeline, fresh_tables
from agentdesk.core.spool import Spool
from agentdesk.core.storage import create_bytes, dump_json
from agentdesk.core.timeline_files import INLINE, TimelineSummary

log = logging.getLogger("agentdesk.sync")

# Below this much spool, starting a process (~0.2 s of imports) saves nothing: the sync files
# it all before the helper is ready.
HELPER_MIN_BYTES = 4 << 20
IN_FLIGHT = 2  # files sent ahead, so the helper never waits for the sync to hand it one


def file_fresh(root: Path, path: Path, skip: set[str]) -> dict[str, Any]:
    """File the new customers of one spool file; the answer the helper sends back."""
    groups: dict[str, list[Rec]] = {}
    for change in Spool.read(path):
        groups.setdefault(change.customer_id, []).append(change)
    counted: dict[str, int] = {}
    rows: dict[str, dict[str, str]] = {}
    deferred: list[str] = []
    for customer_id, changes in groups.items():
        profile, folder = customer_files(root, customer_id)
        held = customer_id in skip or profile.exists() or folder.exists()
        built = None if held else fresh_tables(changes)
        if built is None:
            deferred.append(customer_id)
            continue
        tables, upserts, count = built
        if upserts:  # obsolete files: none of ours (the folder did not exist), so none to delete
            file_timeline(folder, tables, upserts, [], durable=False)
        if not create_bytes(profile, dump_json(tables)):  # the desk wrote it meanwhile
            summary = TimelineSummary.from_json(tables["timeline"]["1"]) if upserts else None
            for name in summary.chunk_files if summary else []:
                if name != INLINE:
                    (folder / name).unlink(missing_ok=True)
            deferred.append(customer_id)
            continue
        counted[customer_id] = count
        if t.customer(tables):
            rows[customer_id] = IndexRow.of_tables(tables).__dict__
    return {"file": str(path), "customers": counted, "rows": rows, "deferred": deferred}


def _die_with(parent: int) -> None:
    """Have Linux kill this process the moment the sync's thread ends (killed, say): the
    next sync files everything again, and until this process is gone it holds the lock."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pipe's end stops it after a file
        pass
    if os.getppid() != parent:  # the sync died before we asked
        sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    root, parent = (argv or sys.argv[1:])[:2]
    _die_with(int(parent))
    answers = sys.stdout.buffer
    for line in sys.stdin.buffer:
        job = orjson.loads(line)
        try:
            answer = file_fresh(Path(root), Path(job["file"]), set(job["skip"]))
        except Exception as error:  # noqa: BLE001 (the sync files it and reports what fails)
            answer = {"file": job["file"], "error": f"{type(error).__name__}: {error}"}
        answers.write(orjson.dumps(answer) + b"\n")
        answers.flush()
        if "error" in answer:
            return 1
    return 0


class FilingHelper:
    """The sync's end of the pipe: spool files sent, answers read, in order."""

    def __init__(self, root: Path, lock_fd: int | None) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "agentdesk.core.filer", str(root), str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            pass_fds=() if lock_fd is None else (lock_fd,),
        )
        self.in_flight: list[Path] = []
        self.failure = ""
        self._pending = b""

    def wants(self) -> bool:
        return not self.failure and len(self.in_flight) < IN_FLIGHT

    def send(self, path: Path, skip: set[str]) -> None:
        assert self._process.stdin is not None
        self.in_flight.append(path)  # until answered: taken back if the helper fails
        try:
            self._process.stdin.write(orjson.dumps({"file": str(path), "skip": sorted(skip)}) + b"\n")
            self._process.stdin.flush()
        except OSError as error:
            self._fail(f"it stopped reading ({error})")

    def answers(self, *, wait: bool) -> list[tuple[Path, dict[str, Any]]]:
        """The answers that have come (waiting for one if `wait`), with their files."""
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        done: list[tuple[Path, dict[str, Any]]] = []
        while self.in_flight and not self.failure:
            if b"\n" not in self._pending:
                if not select.select([fd], [], [], None if wait and not done else 0)[0]:
                    break
                data = os.read(fd, 1 << 20)
                if not data:
                    self._fail(f"it ended (exit code {self._process.wait()})")
                    break
                self._pending += data
                continue
            line, self._pending = self._pending.split(b"\n", 1)
            try:
                answer = orjson.loads(line)
            except orjson.JSONDecodeError:
                self._fail("it answered what is not JSON")
                break
            if "error" in answer:
                self._fail(str(answer["error"]))
                break
            done.append((self.in_flight.pop(0), answer))
        return done

    def take_back(self) -> list[Path]:
        """The files sent and not filed (after a failure): the sync files them itself."""
        back, self.in_flight = self.in_flight, []
        return back

    def _fail(self, why: str) -> None:
        self.failure = why
        log.warning("the filing helper failed, the sync files its part itself: %s", why)

    def close(self) -> None:
        """Stop the helper and wait until it can write nothing more."""
        process = self._process
        for stream in (process.stdin, process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
