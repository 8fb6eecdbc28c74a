"""TinyDB over the cache's atomic files: how every cache file is read and changed.

A file is opened as a TinyDB whose storage is `AtomicJSONStorage` (whole file, atomic, 0600,
orjson) behind TinyDB's `CachingMiddleware`, which keeps a change's many table operations in
memory; `flush` then writes the file once, or nothing if nothing changed. The desk's first
frame reads files through the same storage without building a TinyDB (TinyDB and its tables
load when something is written).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.cache.files import AtomicJSONStorage

if TYPE_CHECKING:
    from tinydb import TinyDB


def open_db(path: Path, *, durable: bool = True,
            storage: type[AtomicJSONStorage] = AtomicJSONStorage) -> TinyDB:
    """The file as a TinyDB that writes only when flushed (`flush`)."""
    from tinydb import TinyDB
    from tinydb.middlewares import CachingMiddleware

    caching = CachingMiddleware(storage)
    caching.WRITE_CACHE_SIZE = 1 << 30  # never mid-change: only `flush` writes
    return TinyDB(path, storage=caching, durable=durable)


def flush(db: TinyDB) -> None:
    """Write the file once, atomically, if anything changed since it was opened or flushed."""
    db.storage.flush()


@contextmanager
def changing(path: Path, *, durable: bool = True) -> Iterator[TinyDB]:
    """The file as a TinyDB; what the block changes is written once, at its end (nothing is
    written if the block raises)."""
    db = open_db(path, durable=durable)
    yield db
    flush(db)


def single(tables: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The document of a one-document table (meta, sync state, a profile's customer...) from
    a file's raw content, for readers that do not build a TinyDB."""
    table = (tables or {}).get(name) or {}
    return next(iter(table.values()), None) if isinstance(table, dict) else None


def put_single(db: TinyDB, name: str, doc: dict[str, Any]) -> None:
    """Make `doc` the one document of table `name` (document id 1)."""
    from tinydb.table import Document

    table = db.table(name)
    table.truncate()
    table.insert(Document(doc, doc_id=1))


def get_single(db: TinyDB, name: str) -> dict[str, Any] | None:
    found = db.table(name).get(doc_id=1)
    return dict(found) if found is not None else None
