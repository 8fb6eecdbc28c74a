"""Files that survive a crash at any instant, readable only by their owner.

Every write goes to a temporary file in the same folder, is fsynced, renamed over the old file
and the folder is fsynced: a reader sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dir(path: Path) -> None:
    """Create a folder (and parents we create) as 0700."""
    if os.path.isdir(path):  # the common case, on every write: one stat
        return
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` atomically; `durable=False` skips fsync (bulk imports only)."""
    folder, name = os.path.split(os.fspath(path))
    # One writer per file at a time (the cache lock across processes, locks within one), so a
    # name unique to this process and thread is enough: cheaper than mkstemp's random tries.
    tmp = os.path.join(folder, f".{name}.{os.getpid()}-{threading.get_ident()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC  # created 0600 (the umask can only narrow it)
    try:
        fd = os.open(tmp, flags, FILE_MODE)
    except FileNotFoundError:  # the folder is new (checked only then: one stat less a write)
        make_private_dir(Path(folder))
        fd = os.open(tmp, flags, FILE_MODE)
    try:
        try:  # raw writes: a buffered file object per write cost more than the write
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        _fsync_dir(Path(folder))


def create_bytes(path: Path, data: bytes) -> bool:
    """Write `path` only if it does not exist (False if it does), atomically, without fsync.

    For a process writing beside the desk without its locks (the first sync's filing helper):
    `link` fails where `rename` would have replaced a profile the desk wrote meanwhile.
    """
    folder, name = os.path.split(os.fspath(path))
    make_private_dir(Path(folder))
    tmp = os.path.join(folder, f".{name}.{os.getpid()}-{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


# orjson writes the same bytes as json.dumps(ensure_ascii=False, separators=(",", ":")) at a
# fraction of the cost, and reads faster: a first sync writes and reads all of the store.
# Dates and dataclasses go through `default=str` as they did with the standard library.
_DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dump_json(data: Any) -> bytes:
    return orjson.dumps(data, default=str, option=_DUMP_OPTIONS)


def atomic_write_json(path: Path, data: Any, *, durable: bool = True) -> None:
    atomic_write_bytes(path, dump_json(data), durable=durable)


MAPPED = 64 * 1024  # files from this size on are parsed from a mapping (read_json says why)


def read_json(path: Path) -> Any:
    """The parsed file, or None if it does not exist.

    A large file (the index and queue shards the desk reads by the hundred after its first
    frame) is parsed from a memory mapping, not from a copy read into a buffer: those buffers,
    150 kB each and freed at once, moved the C allocator's threshold for mapping memory
    above their size, and the heap they were then carved from stayed pinned by the index's
    rows (5 MB more resident memory for 100,000 customers; benchmarks/README.md).
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < MAPPED:
                return orjson.loads(handle.read())
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped, \
                    memoryview(mapped) as view:
                return orjson.loads(view)
    except FileNotFoundError:
        return None


class AtomicJSONStorage:
    """The TinyDB storage of every cache file: written whole, atomically, 0600, with orjson
    (TinyDB's own JSONStorage rewrites in place, so a crash could leave half a file).

    TinyDB's Storage interface (read, write, close) without its base class: reading the cache,
    the desk's way to its first frame, does not import TinyDB; writing does.
    """

    def __init__(self, path: str | Path, durable: bool = True) -> None:
        self.path = Path(path)
        self.durable = durable

    def read(self) -> dict[str, dict[str, Any]] | None:
        return read_json(self.path)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write_json(self.path, data, durable=self.durable)

    def close(self) -> None:
        pass


class CreateOnlyStorage(AtomicJSONStorage):
    """Writes a file only if it does not exist yet (`create_bytes`): for the first sync's
    helper process, which writes beside the desk without its locks. FileExistsError if the
    desk wrote the file meanwhile."""

    def read(self) -> dict[str, dict[str, Any]] | None:
        return None  # a new file: there is nothing to read

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if not create_bytes(self.path, dump_json(data)):
            raise FileExistsError(self.path)


class CacheError(Exception):
    """A cache problem explained for the person at the keyboard."""


class ReadOnlyCacheError(CacheError):
    pass


class CacheLock:
    """An exclusive advisory lock on the cache: one writer at a time.

    `acquire()` returns False when another process holds it; the caller then opens read-only.
    The kernel drops the lock when the process dies, so a crash never leaves it stuck.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        make_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EACCES):
                return False
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    @property
    def fd(self) -> int | None:
        """The locked descriptor: a helper process that inherits it holds the lock too."""
        return self._fd

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@lru_cache(maxsize=1)
def _syncfs() -> Callable[[int], int] | None:
    """libc's syncfs, looked up on first use (ctypes is not worth importing at start-up)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        return libc.syncfs  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def flush_to_disk(root: Path) -> None:
    """Make every file written so far durable: one syncfs instead of an fsync per file."""
    if (syncfs := _syncfs()) is not None:
        fd = os.open(root, os.O_RDONLY)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    os.sync()
