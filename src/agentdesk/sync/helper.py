"""A helper process that does half of a large first sync on the machine's second CPU.

A first sync is Python work in one interpreter: checking each of the feed's changes and
appending it to the spool while the next page downloads, then filing the spool. Checking in
the engine's thread starved the thread reading the feed of the interpreter's lock (the
download took much longer than with nothing to do), and filing was a third of the run. So
the engine hands each page, as the server sent it, to this helper, which checks and spools
it; at the end of each batch the engine asks for an acknowledgement (the count, the skipped
records' reasons and the scope changes) before it flushes the disk and moves its cursor. Then
the helper files spool files one at a time while the engine files others.

The helper files only customers the cache does not hold, and never replaces a file: each
profile is created with `link`, which fails if the desk wrote that customer meanwhile (a
profile fetched, an edit). Such customers, those with edits in the outbox (read from its
file for each spool file: an edit made later needs a profile, which `link` then finds), and
those with anything but upserts come back as "deferred" and the engine files them itself,
under its locks. The helper inherits the cache's lock descriptor, so while it writes no
other agentdesk takes the cache, and Linux kills it when the engine's thread dies (asked for
before the helper's program even starts: see `_dying_with`). If it
fails, the engine does its part itself: a batch not acknowledged is spooled again (a change
spooled twice files once), a spool file not answered is filed by the engine.

Run as `python -m agentdesk.sync.helper CACHE_DIR PARENT_PID`. In: frames of a kind byte,
an 8-byte length and a payload (PAGE: a feed page's body; ACK: the batch is complete; FILE:
a spool file's path). Out: one JSON line per ACK and per FILE.
No UI here.
"""

from __future__ import annotations

import gc
import logging
import os
import select
import signal
import struct
import subprocess
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Any, BinaryIO

import orjson

from agentdesk.cache.collector import EASED
from agentdesk.cache.database import flush, open_db
from agentdesk.cache.files import CreateOnlyStorage
from agentdesk.cache.layout import customer_files
from agentdesk.cache.outbox import Outbox
from agentdesk.cache.profile_file import ProfileFile
from agentdesk.cache.queue_index import rows_of_tables
from agentdesk.cache.search_index import IndexRow
from agentdesk.cache.timeline import INLINE, TimelineSummary
from agentdesk.model.changes import Rec
from agentdesk.sync.client import _loads
from agentdesk.sync.replica import Applied, Replica, file_fresh, fresh
from agentdesk.sync.spool import Spool

log = logging.getLogger("agentdesk.sync")

# A first sync of a store with fewer changes runs in-process: starting the helper (its imports
# on the other CPU) would not pay for itself.
HELPER_MIN_CHANGES = 20_000
IN_FLIGHT = 2  # spool files sent ahead, so the helper never waits for the engine
PATIENCE = 120.0  # seconds to wait for an answer before doing the work in the engine
PAGE, ACK, FILE = b"P", b"A", b"F"
_HEADER = struct.Struct(">cQ")


# -- the helper's side ------------------------------------------------------------------------


def spool_page(spool: Spool, body: bytes, done: Applied) -> int:
    """Check a feed page's changes and append the valid ones to the spool; how many."""
    records, applied = Replica.check(_loads(body)["changes"])
    done.add(applied)
    return spool.add(records)


def file_new_customers(root: Path, path: Path, skip: set[str]) -> dict[str, Any]:
    """File the new customers of one spool file; the answer the helper sends back."""
    groups: dict[str, list[Rec]] = {}
    for change in Spool.read(path):
        groups.setdefault(change.customer_id, []).append(change)
    counted: dict[str, int] = {}
    rows: dict[str, dict[str, str]] = {}
    queue: dict[str, list[dict[str, Any]]] = {}  # the queue rows of customers filed
    deferred: list[str] = []
    for customer_id, changes in groups.items():
        profile_path, timeline_dir = customer_files(root, customer_id)
        held = customer_id in skip or profile_path.exists() or timeline_dir.exists()
        new = None if held else fresh(changes)
        if new is None:
            deferred.append(customer_id)
            continue
        profile = ProfileFile(open_db(profile_path, durable=False, storage=CreateOnlyStorage))
        file_fresh(profile, new, timeline_dir, durable=False)
        try:
            flush(profile.db)
        except FileExistsError:  # the desk wrote it meanwhile: its timeline files are ours
            summary = TimelineSummary.from_json(profile.timeline_summary())
            for name in summary.chunk_files:
                if name != INLINE:
                    (timeline_dir / name).unlink(missing_ok=True)
            deferred.append(customer_id)
            continue
        counted[customer_id] = new.counted
        if (row := IndexRow.of_tables(profile.raw())) is not None:
            rows[customer_id] = row.__dict__
        if queued := rows_of_tables(profile.raw()):
            queue[customer_id] = queued
    return {"customers": counted, "rows": rows, "deferred": deferred, "queue": queue}


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up in the engine's process before it forks (Linux only)."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not Linux: the pipe's end stops it after a frame
        return None


def _dying_with(parent: int) -> Callable[[], None]:
    """What the helper runs between fork and exec: have Linux kill it the moment the engine's
    thread ends (killed at any instant, say), and end at once if that happened already. Done
    after the imports, as it was, a helper whose engine died during them lived on for up to
    half a second holding the cache's lock, and a sync started then found the cache taken.
    PR_SET_PDEATHSIG survives exec."""
    prctl = _prctl()

    def setup() -> None:
        if prctl is not None:
            prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the engine died before we asked
            os._exit(1)

    return setup


def _die_with(parent: int) -> None:
    """Checked again once running: the engine died between fork and exec."""
    if os.getppid() != parent:
        sys.exit(1)


def _frames(stream: BinaryIO) -> Any:
    while header := stream.read(_HEADER.size):
        if len(header) < _HEADER.size:
            return
        kind, size = _HEADER.unpack(header)
        payload = stream.read(size)
        if len(payload) < size:
            return
        yield kind, payload


def main(argv: list[str] | None = None) -> int:
    root_arg, parent = (argv or sys.argv[1:])[:2]
    _die_with(int(parent))
    gc.freeze()  # as the engine does (cache.collector.collector_eased): records die by reference count
    gc.set_threshold(*EASED)
    root = Path(root_arg)
    spool = Spool(root)
    batch, spooled = Applied(), 0
    out = sys.stdout.buffer
    for kind, payload in _frames(sys.stdin.buffer):
        try:
            if kind == PAGE:
                spooled += spool_page(spool, payload, batch)
                continue
            if kind == ACK:
                answer: dict[str, Any] = {"spooled": spooled, "skipped": batch.skipped,
                                          "scope": batch.scope}
                batch, spooled = Applied(), 0
            else:
                edited = Outbox(root / "outbox.json", read_only=True).customers()
                answer = file_new_customers(root, Path(payload.decode()), edited)
        except Exception as error:  # noqa: BLE001 (the engine does it and reports what fails)
            answer = {"error": f"{type(error).__name__}: {error}"}
        out.write(orjson.dumps(answer) + b"\n")
        out.flush()
        if "error" in answer:
            return 1
    spool.close()
    return 0


# -- the engine's side ------------------------------------------------------------------------


class SyncHelper:
    """The engine's end of the pipes. Once it fails it stays failed (`failure` says why) and
    the engine does everything itself."""

    def __init__(self, root: Path, lock_fd: int | None) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "agentdesk.sync.helper", str(root), str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            pass_fds=() if lock_fd is None else (lock_fd,),
            preexec_fn=_dying_with(os.getpid()),  # noqa: PLW1509 (async-signal-safe enough: a syscall)
        )
        self.in_flight: list[Path] = []  # spool files sent, not answered yet
        self.failure = ""
        self._pending = b""

    # -- spooling ------------------------------------------------------------------------

    def spool(self, body: bytes) -> None:
        """Hand a page over (no answer: the batch's ACK answers for it)."""
        self._send(PAGE, body)

    def acknowledge(self) -> dict[str, Any] | None:
        """The batch's pages checked and spooled (written, not yet flushed): the count, the
        skipped records' reasons, the scope changes. None if the helper failed: the engine
        spools the batch itself."""
        self._send(ACK, b"")
        return self._answer(wait=True)

    # -- filing --------------------------------------------------------------------------

    def wants(self) -> bool:
        return not self.failure and len(self.in_flight) < IN_FLIGHT

    def file(self, path: Path) -> None:
        self.in_flight.append(path)  # until answered: taken back if the helper fails
        self._send(FILE, str(path).encode())

    def filed(self, *, wait: bool) -> list[tuple[Path, dict[str, Any]]]:
        """The answers that have come (waiting for one if `wait`), with their files."""
        done: list[tuple[Path, dict[str, Any]]] = []
        while self.in_flight and not self.failure:
            answer = self._answer(wait=wait and not done)
            if answer is None:
                break
            done.append((self.in_flight.pop(0), answer))
        return done

    def take_back(self) -> list[Path]:
        """The files sent and not filed (after a failure): the engine files them itself."""
        back, self.in_flight = self.in_flight, []
        return back

    # -- the pipes -----------------------------------------------------------------------

    def _send(self, kind: bytes, payload: bytes) -> None:
        if self.failure:
            return
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(_HEADER.pack(kind, len(payload)) + payload)
            self._process.stdin.flush()
        except OSError as error:
            self._fail(f"it stopped reading ({error})")

    def _answer(self, *, wait: bool) -> dict[str, Any] | None:
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        while b"\n" not in self._pending:
            if self.failure:
                return None
            if not select.select([fd], [], [], PATIENCE if wait else 0)[0]:
                if wait:
                    self._fail(f"it did not answer in {PATIENCE:.0f} s")
                return None
            data = os.read(fd, 1 << 20)
            if not data:
                self._fail(f"it ended (exit code {self._process.wait()})")
                return None
            self._pending += data
        line, self._pending = self._pending.split(b"\n", 1)
        try:
            answer = orjson.loads(line)
        except orjson.JSONDecodeError:
            self._fail("it answered what is not JSON")
            return None
        if not isinstance(answer, dict) or "error" in answer:
            self._fail(str(answer.get("error") if isinstance(answer, dict) else answer))
            return None
        return answer

    def _fail(self, why: str) -> None:
        self.failure = why
        log.warning("the sync's helper process failed; the sync does its part itself: %s", why)
        self._process.kill()  # before the engine writes what the helper was writing
        self._process.wait()

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
    code = main()
    sys.stdout.flush()
    os._exit(code)  # not sys.exit: freeing a first sync's objects one by one is wasted time
