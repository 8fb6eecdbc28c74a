"""Checking that what the cache holds reads back (`agentdesk sync --repair`).

Every record was checked before it was filed, so a file that does not read back was damaged
on disk (or written by an older version that checked less). Each customer is read the way
the desk reads it, every record checked against its model again, every timeline file read;
the ones that fail are named for a rebuild from the store (`Cache.request_repair`). No UI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from agentdesk.cache.cache import READ_ERRORS, Cache
from agentdesk.cache.database import single
from agentdesk.cache.files import CacheError, read_json
from agentdesk.cache.layout import PROFILE_SUFFIX, file_name
from agentdesk.cache.profile_file import TABLE_OF, docs
from agentdesk.cache import long_bodies
from agentdesk.cache.timeline import TimelineSummary, chunk_docs, inline_docs
from agentdesk.model.changes import BadRecord, Rec, validate


def problem(cache: Cache, customer_id: str) -> str | None:
    """Why a cached customer does not read back, or None (also when it is not cached)."""
    path = cache.profile_path(customer_id)
    try:
        tables = read_json(path)
        if tables is None:
            return None
        if not isinstance(tables, dict):
            return "the profile file is not a set of tables"
        customer = single(tables, "customer")
        if customer is None:
            return None  # records waiting for their customer: not shown, nothing to read
        _check("customer", customer, customer_id)
        for kind, table in TABLE_OF.items():
            if table != "customer":
                for doc in docs(tables, table):
                    _check(kind, doc, customer_id)
        summary = TimelineSummary.from_json(single(tables, "timeline") or {})
        folder, inline = cache.timeline_dir(customer_id), inline_docs(tables)
        for index, size in enumerate(summary.chunk_sizes):
            entries = chunk_docs(folder, summary.file(index), inline)
            if len(entries) != size:
                return f"timeline chunk {index} holds {len(entries)} entries, not {size}"
            entries = long_bodies.whole(folder, entries)  # and the long bodies' files
            for doc in entries:
                _check("entry", doc, customer_id)
        cache.view_profile(customer_id)  # and the way the desk opens it
    except BadRecord as error:
        return str(error)
    except CacheError as error:
        return str(error)
    except READ_ERRORS as error:
        return f"{type(error).__name__}: {error}"
    return None


def _check(kind: str, doc: dict[str, object], customer_id: str) -> None:
    record_id = doc.get("id") if isinstance(doc, dict) else None
    validate(Rec(1, "upsert", kind, record_id, customer_id, 0, doc)._asdict()
             if isinstance(record_id, str) else doc)


def known_customers(cache: Cache) -> Iterator[str]:
    """Every customer the cache may hold: those of the search index, and those whose file
    names are their ids (a damaged file of another name cannot say whose it is)."""
    seen: set[str] = set()
    try:
        rows = [row.id for row in cache.index_rows()]
    except READ_ERRORS:  # a damaged index: the file names still tell most customers
        rows = []
    for customer_id in rows:
        seen.add(customer_id)
        yield customer_id
    for path in sorted((cache.root / "customers").glob(f"*/*{PROFILE_SUFFIX}")):
        customer_id = path.name[: -len(PROFILE_SUFFIX)]
        if customer_id not in seen and file_name(customer_id) == customer_id:
            seen.add(customer_id)
            yield customer_id


def unknown_files(cache: Cache, known: set[str]) -> list[Path]:
    """Profile files no known customer names that do not read back (whose id is lost)."""
    names = {file_name(c) + PROFILE_SUFFIX for c in known}
    lost = []
    for path in (cache.root / "customers").glob(f"*/*{PROFILE_SUFFIX}"):
        if path.name in names:
            continue
        try:
            if isinstance(read_json(path), dict):
                continue
        except READ_ERRORS:
            pass
        lost.append(path)
    return lost


def find_damaged(cache: Cache) -> tuple[dict[str, str], list[Path]]:
    """Customers that do not read back (id -> why), and profile files nobody's."""
    damaged: dict[str, str] = {}
    known: set[str] = set()
    for customer_id in known_customers(cache):
        known.add(customer_id)
        why = problem(cache, customer_id)
        if why is not None:
            damaged[customer_id] = why
    return damaged, unknown_files(cache, known)
