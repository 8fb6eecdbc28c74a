"""A first sync's changes, set aside until the feed is read to its end, then filed at once.

A first sync meets a customer's records all over the feed: a relationship arrives with the
other customer, which may come thousands of pages later. Filed as they arrived, batch by batch,
customers were written about one and a half times each, each rewrite reading, re-encoding and
replacing a whole profile file (and on ext4 every replaced file's inode is skipped by the
allocator for a minute, which made later file creations slow). Instead the checked changes are
appended to SHARDS spool files, a customer's always to the same one; once the last page is
in, each spool file is read and every customer in it written once.

The spool is part of the replica: the engine moves its cursor past a page once the page's
changes are in the spool and on disk, and `sync.json` says a spool is waiting (`spooling`), so
a sync cut short goes on spooling where it stopped and files everything at its end. Filing
what was filed already changes nothing (records are keyed by id), so a crash while filing
only means filing again. No UI here.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from agentdesk.cache.layout import shard_of
from agentdesk.model.changes import Rec
from agentdesk.cache.files import FILE_MODE, make_private_dir

log = logging.getLogger("agentdesk.sync")

SHARDS = 64  # files; filing reads one at a time (a 64th of the feed in memory)


class SpoolDamaged(ValueError):
    """A spool line that cannot be read: the first sync has to start again."""


def _shard(customer_id: str) -> int:
    return int(shard_of(customer_id), 16) % SHARDS  # the cache's shard, so a stable one


class Spool:
    """The spool folder of one cache: append while spooling, then read file by file."""

    def __init__(self, root: Path) -> None:
        self.folder = root / "spool"
        self._fds: dict[int, int] = {}
        self._shards: dict[str, int] = {}  # customer id -> spool file

    def exists(self) -> bool:
        return self.folder.exists()

    def add(self, records: Iterable[Rec]) -> int:
        """Append checked changes (not durable: the engine flushes the disk once per batch)."""
        by_shard: dict[int, list[tuple[object, ...]]] = {}
        shards = self._shards
        count = 0
        for r in records:
            shard = shards.get(r.customer_id)
            if shard is None:
                shard = shards[r.customer_id] = _shard(r.customer_id)
            by_shard.setdefault(shard, []).append(tuple(r))  # plain: orjson writes no subclass
            count += 1
        for shard, rows in by_shard.items():
            data = orjson.dumps(rows) + b"\n"
            fd = self._fd(shard)
            while data:  # one line per shard and batch; a short write goes on where it stopped
                data = data[os.write(fd, data):]
        return count

    def _fd(self, shard: int) -> int:
        fd = self._fds.get(shard)
        if fd is None:
            make_private_dir(self.folder)
            path = self.folder / f"{shard:02d}.jsonl"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
            _trim_torn_tail(fd, path)
            self._fds[shard] = fd
        return fd

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.jsonl")) if self.exists() else []

    @staticmethod
    def read(path: Path) -> Iterator[Rec]:
        """One spool file's changes, in the order they arrived."""
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.endswith(b"\n"):
                    return  # the torn end of a write a killed sync did not finish
                try:
                    records = list(map(Rec._make, orjson.loads(line)))
                except (orjson.JSONDecodeError, TypeError) as error:
                    raise SpoolDamaged(f"{path.name} line {number}: {error}") from None
                yield from records

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _trim_torn_tail(fd: int, path: Path) -> None:
    """Cut a line a killed sync left half-written, so the next line starts on its own. The
    page it belonged to was not acknowledged (the cursor did not move past it): it comes
    again."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    keep = 0
    step = 1 << 16
    end = size
    while end > 0:  # the last newline, read backwards a block at a time
        start = max(0, end - step)
        at = os.pread(fd, end - start, start).rfind(b"\n")
        if at >= 0:
            keep = start + at + 1
            break
        end = start
    log.info("trimmed the torn end of %s (%d bytes)", path.name, size - keep)
    os.ftruncate(fd, keep)
