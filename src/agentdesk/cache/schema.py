"""The cache's schema version and the migrations from older ones.

A cache is never misread: its `meta.json` says which schema wrote it; an older one is migrated
on open (each step finished before the version moves on, so a migration cut short is finished
by the next open), a newer or unknown one is refused with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentdesk.cache.files import (
    CacheError,
    atomic_write_json,
    flush_to_disk,
    make_private_dir,
    read_json,
)
from agentdesk.cache.layout import CHUNKS_SUFFIX, PROFILE_SUFFIX, is_temp

SCHEMA = 11


def meta_of(data: Any) -> dict[str, Any]:
    """The meta document: a TinyDB table since schema 3, the whole file before."""
    if isinstance(data, dict) and isinstance(data.get("meta"), dict):
        found = next(iter(data["meta"].values()), None)
        return found if isinstance(found, dict) else {}
    return data if isinstance(data, dict) else {}


def new_meta() -> dict[str, Any]:
    return {"meta": {"1": {"schema": SCHEMA, "created": datetime.now(UTC).isoformat()}}}


def _write_meta(root: Path, meta: dict[str, Any], version: int) -> None:
    atomic_write_json(root / "meta.json", {"meta": {"1": {**meta, "schema": version}}})


def _migrate_1_to_2(root: Path) -> None:
    """Schema 1 -> 2: `<shard>/<id>/profile.json` becomes `<shard>/<id>.json`, the folder (if
    it holds chunks) `<shard>/<id>.entries`. Everything moves by rename into `customers.new/`,
    which then replaces `customers/`: whatever is still in `customers/` is schema 1, so a
    migration cut short is finished by the next run (an id may itself end in ".entries")."""
    old, new = root / "customers", root / "customers.new"
    for shard in sorted(old.glob("[0-9a-f][0-9a-f]")):
        make_private_dir(new / shard.name)
        for folder in list(shard.iterdir()):
            if not folder.is_dir():
                if is_temp(folder):  # of a write a crash cut short
                    folder.unlink()
                else:  # not ours to judge: it moves with the rest
                    folder.rename(new / shard.name / folder.name)
                continue
            profile = folder / "profile.json"
            if profile.exists():
                profile.rename(new / shard.name / (folder.name + PROFILE_SUFFIX))
            for leftover in folder.glob(".*.tmp"):
                leftover.unlink()
            if any(folder.iterdir()):
                folder.rename(new / shard.name / (folder.name + CHUNKS_SUFFIX))
            else:
                folder.rmdir()
        shard.rmdir()
    if old.exists():
        old.rmdir()
    if new.exists():
        new.rename(old)


def _as_tables(path: Path, convert: Callable[[Any], dict[str, Any]]) -> None:
    """Rewrite one file in TinyDB's layout (a file already in it is left alone)."""
    data = read_json(path)
    if data is not None and not _is_tinydb(data):
        atomic_write_json(path, convert(data))


def _is_tinydb(data: Any) -> bool:
    return isinstance(data, dict) and all(
        isinstance(table, dict) and all(k.isdigit() and isinstance(d, dict) for k, d in table.items())
        for table in data.values())


def _migrate_2_to_3(root: Path) -> None:
    """Schema 2 -> 3: the small files become TinyDB databases like the profile files already
    were (recent, sync state, outbox, search journal); meta.json follows from the caller."""
    _as_tables(root / "recent.json", lambda ids: {"recent": {"1": {"ids": list(ids)}}})
    _as_tables(root / "sync.json", lambda state: {"sync": {"1": dict(state)}})
    _as_tables(root / "outbox.json", lambda box: {
        "outbox": {str(item["seq"]): item for item in box.get("items", [])},
        "counter": {"1": {"next": int(box.get("next", 1))}},
    })
    _as_tables(root / "index" / "journal.json", lambda journal: {
        "rows": {str(n): {"id": cid, "row": row}
                 for n, (cid, row) in enumerate(journal.get("rows", {}).items(), 1)},
    })


def _migrate_3_to_4(root: Path) -> None:
    """Schema 3 -> 4: search rows carry every contact point and the customer's relationships."""
    _rebuild_search_index(root)


def index_customer_facets(root: Path) -> None:
    """Schema 7 -> 8: search rows carry what the customer query filters read (status, tags,
    segments, channels, last contact), so a query or an export reads the index, not every
    profile file. The index is made again from the profile files, as in 3 -> 4."""
    _rebuild_search_index(root)


def index_customer_chart_facts(root: Path) -> None:
    """Schema 8 -> 9: search rows carry what the customers-over-time chart counts (since when
    a customer exists, whether they are reachable, open conversations, days of activity), so
    `agentdesk stats` and the chart read the index, not every profile file. The index is made
    again from the profile files, as in 7 -> 8."""
    _rebuild_search_index(root)


def index_customer_fields(root: Path) -> None:
    """Schema 9 -> 10: search rows carry the winning value of each of the customer's fields,
    so the customers table shows any field as a column and `agentdesk export` writes it from
    the index, not every profile file. The index is made again from the profile files, as
    in 8 -> 9."""
    _rebuild_search_index(root)


def _rebuild_search_index(root: Path) -> None:
    """The index made again from the profile files, a shard at a time (index and customer
    shards are the same): it only ever held what those files say. Run again after a crash, it
    starts over, which is harmless."""
    from agentdesk.cache.search_index import IndexRow, SearchIndexFiles

    index = root / "index"
    for path in [*index.glob("*.json"), *index.glob(".*.tmp")]:
        path.unlink()
    files = SearchIndexFiles(index, read_only=False)
    for shard in sorted((root / "customers").glob("[0-9a-f][0-9a-f]")):
        rows: dict[str, IndexRow | None] = {}
        for path in shard.glob("*" + PROFILE_SUFFIX):
            try:
                row = IndexRow.of_tables(read_json(path) or {})
            except (ValueError, OSError):
                continue  # unreadable: the next sync of that customer writes it again
            if row is not None:
                rows[row.id] = row
        if rows:
            files.write(rows, durable=False, fold=True)
    flush_to_disk(index)


def build_queue_index(root: Path) -> None:
    """Schema 4 -> 5: the queue's rows (`queue_index`), made from the profile files, a shard
    at a time. Run again after a crash, it starts over, which is harmless. Conversations
    stored as "waiting" are read as pending (`model.kinds.OLD_STATUSES`): nothing to rewrite."""
    from agentdesk.cache.queue_index import QueueFiles, rows_of_tables

    rows: dict[str, list[dict[str, Any]]] = {}
    for shard in sorted((root / "customers").glob("[0-9a-f][0-9a-f]")):
        for path in shard.glob("*" + PROFILE_SUFFIX):
            try:
                found = rows_of_tables(read_json(path) or {})
            except (ValueError, OSError, TypeError, AttributeError):
                continue  # unreadable: the next change of that customer writes its rows
            if found:
                rows[found[0]["customer_id"]] = found
    QueueFiles(root / "queue", read_only=False).rebuild(rows)


def reread_feed_for_profile_data(root: Path) -> None:
    """Schema 5 -> 6: profiles hold fields, identifiers, subscriptions and segments (tables
    an older profile file lacks, read as none). A desk of an older schema skipped those
    records as of an unknown type while its cursor moved past them, so the cursor is
    forgotten: the next sync reads the store's feed again over the cache (records it holds
    already change nothing; the outbox is kept), and every customer gains what it missed."""
    path = root / "sync.json"
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("sync"), dict):
        return  # never synced: the first sync reads everything anyway
    state = dict(next(iter(data["sync"].values()), None) or {})
    if "cursor" in state or "epoch" in state:
        state.pop("cursor", None)
        state.pop("epoch", None)
        atomic_write_json(path, {"sync": {"1": state}})


def count_entry_kinds(root: Path) -> None:
    """Schema 6 -> 7: timeline entries have a kind (a message, a survey, an order...); each
    long timeline's summary counts the kinds in each of its files, so the desk reads only
    the files holding surveys or feedback. Entries written before have no kind and read as
    messages (`model.views.DEFAULTS`): no entry is rewritten, only the summaries, a profile
    file at a time; run again after a crash, it skips the summaries already done."""
    from agentdesk.cache.timeline import TimelineSummary, completed, inline_docs
    from agentdesk.cache.layout import timeline_dir

    for shard in sorted((root / "customers").glob("[0-9a-f][0-9a-f]")):
        for path in shard.glob("*" + PROFILE_SUFFIX):
            try:
                tables = read_json(path) or {}
                found = next(iter((tables.get("timeline") or {}).values()), None)
                if not isinstance(found, dict):
                    continue
                summary = TimelineSummary.from_json(found)
                if summary.complete:
                    continue
                customer = next(iter((tables.get("customer") or {}).values()), {}).get("id")
                if not isinstance(customer, str):
                    continue  # records waiting for their customer: filed when it comes
                full = completed(timeline_dir(root, customer), summary, inline_docs(tables))
            except (ValueError, TypeError, KeyError, AttributeError, OSError):
                continue  # unreadable: the desk names it damaged and the sync fetches it again
            tables["timeline"] = {"1": full.to_json()}
            atomic_write_json(path, tables)


def long_bodies_aside(root: Path) -> None:
    """Schema 10 -> 11: a body longer than 64k characters is written to a file of its own
    and the entry keeps its head (`cache.long_bodies`). The version moves so that an older
    desk, which would draw a head as the whole text, refuses this cache instead of misreading
    it.

    Profile files holding a long body (a timeline kept in the profile file: most customers')
    are rewritten with it aside; a long body makes its file larger than HEAD bytes, so the
    others cost a stat, not a read. Bodies in chunk files move when those are next written
    (an open reads the newest one only; reading every chunk of a large cache here would be
    the agent's wait). Run again after a crash, it finishes the files it had not rewritten:
    body files are written before the profile naming them, and one done holds no long body."""
    import os

    from agentdesk.cache import long_bodies
    from agentdesk.cache.database import single
    from agentdesk.cache.layout import timeline_dir
    from agentdesk.cache.timeline import entries_table, inline_docs

    for shard in sorted((root / "customers").glob("[0-9a-f][0-9a-f]")):
        with os.scandir(shard) as found:
            candidates = [Path(e.path) for e in found
                          if e.name.endswith(PROFILE_SUFFIX) and not e.name.startswith(".")
                          and e.is_file() and e.stat().st_size > long_bodies.HEAD]
        for path in candidates:
            try:
                tables = read_json(path) or {}
                inline = inline_docs(tables)
                customer = (single(tables, "customer") or {}).get("id")
                if not isinstance(customer, str):
                    continue  # records waiting for their customer: filed when it comes
                kept = long_bodies.put_aside(timeline_dir(root, customer), inline, durable=True,
                                             stored=True)
                if kept == inline:
                    continue  # no long body held whole
            except (ValueError, TypeError, KeyError, AttributeError, OSError):
                continue  # unreadable: the desk names it damaged and the sync fetches it again
            tables["entries"] = entries_table(kept)
            atomic_write_json(path, tables)


# {old version: the step to the next}; add an entry when the layout changes.
MIGRATIONS: dict[int, Callable[[Path], None]] = {1: _migrate_1_to_2, 2: _migrate_2_to_3,
                                                 3: _migrate_3_to_4, 4: build_queue_index,
                                                 5: reread_feed_for_profile_data,
                                                 6: count_entry_kinds,
                                                 7: index_customer_facets,
                                                 8: index_customer_chart_facts,
                                                 9: index_customer_fields,
                                                 10: long_bodies_aside}


def upgrade(root: Path, data: Any, *, read_only: bool) -> None:
    """Check the schema of the cache whose meta.json holds `data`; migrate an older one.
    Raises CacheError for a cache this version must not read."""
    meta = meta_of(data)
    version = meta.get("schema")
    if type(version) is not int:  # not True, not 1.0: those are not schema 1
        version = None if version is None else repr(version)
    if version == SCHEMA:
        return
    if isinstance(version, int) and version < SCHEMA and all(
        v in MIGRATIONS for v in range(version, SCHEMA)
    ):
        if read_only:
            raise CacheError(
                f"The cache at {root} needs upgrading from schema {version} to {SCHEMA}, "
                "but another agentdesk holds it; close that one first."
            )
        for step in range(version, SCHEMA):
            MIGRATIONS[step](root)
            _write_meta(root, meta, step + 1)
        return
    if isinstance(version, int) and version > SCHEMA:
        raise CacheError(
            f"The cache at {root} was written by a newer agentdesk (schema {version}; this "
            f"version reads schema {SCHEMA}). Upgrade agentdesk or choose another --cache."
        )
    raise CacheError(
        f"The cache at {root} has schema {version!r}, which this agentdesk cannot read or "
        f"migrate (it reads schema {SCHEMA}). Move it aside and sync again, or choose "
        "another --cache."
    )
