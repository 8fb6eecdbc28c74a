"""The local cache on real disk: schema checks, locking, demo round trip, edits, file modes."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

import agentdesk.cache.cache as cache_module
import agentdesk.cache.search_index as search_index
from agentdesk.model import demo
from agentdesk.cache.cache import RECENT_MAX, Cache, IndexRow
from agentdesk.cache.schema import SCHEMA
from agentdesk.cache.timeline import CHUNK
from agentdesk.model.records import (
    ContactKind, ContactPoint, Customer, Profile, TimelineEntry, from_stored,
)
from agentdesk.cache.search import CustomerIndex
from agentdesk.cache.files import CacheError, CacheLock, ReadOnlyCacheError, read_json
from agentdesk.cache.timeline import INLINE
from support.cache_reading import timeline_of

BIG = demo.BIG_ID
NORMAL = "cus_000003"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _entries(customer_id: str, count: int) -> list[TimelineEntry]:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return [TimelineEntry(id=f"ent_{customer_id[:20]}_{n}", conversation_id="conv_1",
                          at=start + timedelta(minutes=n), channel="email",
                          direction="inbound", body=f"entry {n}") for n in range(count)]


def _reopen(cache: Cache) -> Cache:
    cache.close()
    return Cache.open(cache.root)


@pytest.fixture(scope="module")
def generated() -> dict[str, tuple[Profile, list]]:
    """The demo data as the generator makes it (with relationship names as `fill` sets them)."""
    items = list(demo.generate())
    names = {p.customer.id: p.customer.name for p, _ in items}
    for profile, _ in items:
        for rel in profile.relationships:
            rel.name = names.get(rel.customer_id, "")
    return {p.customer.id: (p, entries) for p, entries in items}


# -- opening: meta.json and schema ----------------------------------------------------------


def test_open_creates_meta_with_the_current_schema(tmp_path: Path, permissive_umask: None) -> None:
    root = tmp_path / "new" / "cache"
    with Cache.open(root) as cache:
        assert not cache.read_only
        meta = json.loads((root / "meta.json").read_text())["meta"]["1"]
        assert meta["schema"] == SCHEMA == 11
        assert "created" in meta
        assert _mode(root / "meta.json") == 0o600
        assert _mode(root) == 0o700
        assert _mode(root / "lock") == 0o600
    # Re-opening reads the same meta and does not rewrite it.
    before = (root / "meta.json").read_bytes()
    with Cache.open(root) as cache:
        assert not cache.read_only
    assert (root / "meta.json").read_bytes() == before


def test_open_without_create_refuses_missing_cache(tmp_path: Path) -> None:
    with pytest.raises(CacheError, match="No cache at"):
        Cache.open(tmp_path / "nothing", create=False)
    assert not (tmp_path / "nothing").exists()


def test_open_refuses_a_file(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(CacheError, match="not a folder"):
        Cache.open(path)


def _assert_lock_free(root: Path) -> None:
    lock = CacheLock(root / "lock")
    assert lock.acquire(), "a refused open must not keep the lock"
    lock.release()


def test_newer_schema_refused(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    (root / "meta.json").write_text(json.dumps({"schema": 999}))
    (root / "recent.json").write_text("[]")
    before = _snapshot(root)
    with pytest.raises(CacheError, match="newer") as caught:
        Cache.open(root)
    assert "999" in str(caught.value)
    assert _snapshot(root).items() >= before.items()  # nothing rewritten
    assert json.loads((root / "meta.json").read_text()) == {"schema": 999}
    _assert_lock_free(root)


def test_older_schema_without_migration_refused(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    (root / "meta.json").write_text(json.dumps({"schema": 0}))
    with pytest.raises(CacheError, match="cannot read or migrate"):
        Cache.open(root)
    assert json.loads((root / "meta.json").read_text()) == {"schema": 0}


def test_folder_with_files_but_no_meta_refused(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    (root / "holiday.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(CacheError, match="holds files but no meta.json") as caught:
        Cache.open(root)
    assert "not an agentdesk cache" in str(caught.value)
    assert sorted(p.name for p in root.iterdir() if p.name != "lock") == ["holiday.jpg"]
    assert not (root / "meta.json").exists()
    _assert_lock_free(root)


@pytest.mark.parametrize(
    "content",
    [b"{", b"", b"{\"schema\": 1", b"\xff\xfe\xfa\x00garbage", b'{"schema": "1"}', b"[1]",
     b'{"schema": null}', b'{"version": 1}', b"null", b"1"],
    ids=["truncated", "empty", "half", "binary", "string-schema", "list", "null-schema",
         "no-schema", "null", "number"],
)
def test_corrupt_meta_refused_not_misread(tmp_path: Path, content: bytes) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    (root / "meta.json").write_bytes(content)
    with pytest.raises(CacheError):
        Cache.open(root)
    assert (root / "meta.json").read_bytes() == content  # not "repaired" by overwriting
    _assert_lock_free(root)


def test_crash_while_creating_meta_does_not_brick_the_folder(tmp_path: Path) -> None:
    # What a SIGKILL between mkstemp and os.replace in the first Cache.open leaves behind:
    # the lock file and atomic_write_bytes' temporary file, but no meta.json.
    root = tmp_path / "cache"
    root.mkdir(mode=0o700)
    (root / "lock").write_text("12345\n")
    (root / ".meta.json.k2j4h1x9.tmp").write_text('{"schema":1,"cre')
    with Cache.open(root) as cache:
        assert not cache.read_only
    assert read_json(root / "meta.json")["meta"]["1"]["schema"] == SCHEMA


# -- one writer: the second opener is read-only ---------------------------------------------


def test_second_open_in_same_process_is_read_only(demo_cache: Cache) -> None:
    """flock locks belong to open file descriptions: a second open() conflicts even here."""
    second = Cache.open(demo_cache.root)
    try:
        assert second.read_only
        assert second.load_profile(NORMAL) is not None  # reading still works
        before = _snapshot(demo_cache.root)
        with pytest.raises(ReadOnlyCacheError, match="read-only"):
            second.add_note(NORMAL, "nope")
        second.mark_viewed(NORMAL)  # silently not remembered
        assert _snapshot(demo_cache.root) == before
    finally:
        second.close()
    # The first one still holds the lock after the read-only one is closed.
    assert not demo_cache.read_only
    demo_cache.add_note(NORMAL, "still writable")


OPEN_SECOND = """
    import json, sys
    from pathlib import Path
    from agentdesk.cache.cache import Cache

    cache = Cache.open(Path(sys.argv[1]))
    result = {"read_only": cache.read_only, "name": cache.load_profile(sys.argv[2]).customer.name}
    attempts = {
        "add_note": lambda: cache.add_note(sys.argv[2], "x"),
        "edit_note": lambda: cache.edit_note(sys.argv[2], "n", "x"),
        "delete_note": lambda: cache.delete_note(sys.argv[2], "n"),
        "update_details": lambda: cache.update_details(sys.argv[2], name="x", company="", contacts=[]),
        "put_profile": lambda: cache.put_profile(cache.load_profile(sys.argv[2])),
        "import_profiles": lambda: cache.import_profiles([]),
    }
    for name, attempt in attempts.items():
        try:
            attempt()
            result[name] = "written"
        except Exception as error:
            result[name] = f"{type(error).__name__}: {error}"
    cache.mark_viewed(sys.argv[2])
    cache.close()
    print(json.dumps(result))
"""


def _open_in_subprocess(root: Path, customer_id: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(OPEN_SECOND), str(root), customer_id],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    return json.loads(out)


def test_second_open_from_another_process_is_read_only(demo_cache: Cache) -> None:
    before = _snapshot(demo_cache.root)
    result = _open_in_subprocess(demo_cache.root, NORMAL)
    assert result.pop("read_only") is True
    assert result.pop("name") == demo_cache.load_profile(NORMAL).customer.name
    for name, outcome in result.items():
        assert outcome.startswith("ReadOnlyCacheError: "), (name, outcome)
        assert "another agentdesk" in outcome
    assert _snapshot(demo_cache.root) == before  # not one byte changed
    assert demo_cache.recent() == []

    demo_cache.close()  # now the other process gets to write
    result = _open_in_subprocess(demo_cache.root, NORMAL)
    assert result["read_only"] is False
    assert result["add_note"] == "written"
    assert result["edit_note"] == "CacheError: That note no longer exists."
    assert result["put_profile"] == "written"
    reopened = Cache.open(demo_cache.root)
    try:
        assert reopened.recent() == [NORMAL]
        assert reopened.load_profile(NORMAL).customer.name == "x"
        kinds = [c["kind"] for c in reopened.local_changes(NORMAL)]
        # The name change, then one deletion per contact point removed by `contacts=[]`.
        assert kinds[:2] == ["note.add", "customer.update"]
        assert set(kinds[2:]) == {"contact.delete"}
    finally:
        reopened.close()


# -- demo data round trip -------------------------------------------------------------------


def test_demo_profiles_round_trip(demo_cache: Cache, generated: dict) -> None:
    rows = {row.id: row for row in demo_cache.index_rows()}
    assert set(rows) == set(generated)
    assert len(generated) == 54  # 50 ordinary, the big one, the one with everything, the one of every kind, the hostile one
    for customer_id, (profile, entries) in generated.items():
        loaded = demo_cache.load_profile(customer_id)
        assert loaded == profile, customer_id
        last = rows[customer_id].last_contact  # the newest entry's time, from the timeline
        assert rows[customer_id] == IndexRow.of(profile, last_contact=last,
                                                active=rows[customer_id].active)
        assert (datetime.fromisoformat(last) if last else None) == max(
            (e.at for e in entries), default=None)
    hostile = demo_cache.load_profile(demo.HOSTILE_ID)
    assert hostile.customer.name == "[bold red]Mallory[/] \x1b[2J\x1b[31mEvil"  # stored as received
    assert demo_cache.load_profile("cus_missing") is None


def test_big_timeline_in_sorted_chunks(demo_cache: Cache, generated: dict) -> None:
    profile, made = generated[BIG]
    timeline = timeline_of(demo_cache, BIG)
    assert timeline.total == 10_000
    assert timeline.summary.chunk_sizes == [CHUNK] * (10_000 // CHUNK)
    folder = demo_cache.timeline_dir(BIG)
    assert sorted(p.name for p in folder.glob("entries-*.json")) == [
        f"entries-{n:05d}.json" for n in range(10_000 // CHUNK)
    ]
    entries = [e for n in range(10_000 // CHUNK) for e in timeline.chunk(n)]
    assert len(entries) == 10_000
    assert len({e.id for e in entries}) == 10_000
    assert all(a.at <= b.at for a, b in zip(entries, entries[1:])), "entries not in time order"
    expected = sorted(made, key=lambda e: (e.at, e.id))
    assert [e.model_dump() for e in entries] == [e.model_dump() for e in expected]

    # Per chunk (lines, characters) of the bodies, for height estimates.
    for n, (lines, chars) in enumerate(timeline.summary.chunk_text):
        chunk = entries[n * CHUNK : (n + 1) * CHUNK]
        assert lines == sum(e.body.count("\n") + 1 for e in chunk)
        assert chars == sum(len(e.body) for e in chunk)

    # starts: every conversation -> the index of its first entry.
    starts = timeline.summary.starts
    assert set(starts) == {c.id for c in profile.conversations}
    assert len(starts) == 120
    first_seen: dict[str, int] = {}
    for position, entry in enumerate(entries):
        if entry.conversation_id:  # entries outside a conversation start none
            first_seen.setdefault(entry.conversation_id, position)
    assert starts == first_seen
    for conversation_id, position in starts.items():
        chunk, offset = timeline.locate(position)
        assert timeline.chunk(chunk)[offset].conversation_id == conversation_id
    assert timeline.locate(0) == (0, 0)
    assert timeline.locate(CHUNK + 1) == (1, 1)
    assert timeline.locate(9_999) == (10_000 // CHUNK - 1, CHUNK - 1)
    with pytest.raises(IndexError):
        timeline.locate(10_000)


def test_small_timeline_round_trip(demo_cache: Cache, generated: dict) -> None:
    profile, made = generated[NORMAL]
    timeline = timeline_of(demo_cache, NORMAL)
    assert timeline.total == len(made) < CHUNK
    assert [e.model_dump() for e in timeline.chunk(0)] == [
        e.model_dump() for e in sorted(made, key=lambda e: (e.at, e.id))
    ]
    assert timeline_of(demo_cache, "cus_missing").total == 0
    # One chunk: kept in the profile file, so the customer is one file and no folder.
    assert timeline.summary.chunk_files == [INLINE]
    assert not demo_cache.timeline_dir(NORMAL).exists()
    stored = read_json(demo_cache.profile_path(NORMAL))
    assert len(stored["entries"]) == len(made)


def test_a_timeline_moves_between_the_profile_file_and_chunk_files(empty_cache: Cache) -> None:
    profile = Profile(customer=Customer(id="cus_grows", name="Grows"))
    entries = _entries("cus_grows", 3 * CHUNK)
    empty_cache.put_profile(profile, entries=entries[:CHUNK])
    assert timeline_of(empty_cache, "cus_grows").summary.chunk_files == [INLINE]
    empty_cache.put_profile(profile, entries=entries)
    timeline = timeline_of(empty_cache, "cus_grows")
    assert len(timeline.summary.chunk_files) == 3 and INLINE not in timeline.summary.chunk_files
    assert "entries" not in read_json(empty_cache.profile_path("cus_grows"))
    assert [e for n in range(3) for e in timeline.chunk(n)] == entries
    empty_cache.put_profile(profile, entries=entries[:5])
    assert timeline_of(empty_cache, "cus_grows").chunk(0) == entries[:5]
    assert not empty_cache.timeline_dir("cus_grows").exists()  # its old chunks went with it


# -- migrating schema 1 (a folder per customer) ---------------------------------------------


def _schema(root: Path) -> object:
    data = read_json(root / "meta.json")
    return (data["meta"]["1"] if "meta" in data else data)["schema"]


def _as_schema_3(root: Path) -> None:
    """Rewrite a cache's search rows as schema 3 had them: five fields, no other contact
    points, no relationships."""
    old = ("id", "name", "email", "phone", "company")
    for path in (root / "index").glob("*.json"):
        data = read_json(path)
        for table in data.values():
            for doc in table.values():
                row = doc["row"] if "row" in doc else doc
                if row is not None:
                    for key in set(row) - set(old):
                        del row[key]
        path.write_text(json.dumps(data))
    (root / "meta.json").write_text(json.dumps({"meta": {"1": {"schema": 3, "created": "2026-01-01"}}}))


def _as_schema_2(root: Path) -> None:
    """Rewrite a cache's small files as schema 2 had them: plain JSON, not TinyDB tables."""
    _as_schema_3(root)

    def rewrite(name: str, convert) -> None:  # type: ignore[no-untyped-def]
        path = root / name
        if path.exists():
            path.write_text(json.dumps(convert(read_json(path))))

    rewrite("recent.json", lambda data: data["recent"]["1"]["ids"])
    rewrite("sync.json", lambda data: data["sync"]["1"])
    rewrite("outbox.json", lambda data: {
        "next": data["counter"]["1"]["next"],
        "items": [data["outbox"][k] for k in sorted(data["outbox"], key=int)]})
    rewrite("index/journal.json", lambda data: {
        "rows": {doc["id"]: doc["row"] for doc in data["rows"].values()}})
    (root / "meta.json").write_text(json.dumps({"schema": 2, "created": "2026-01-01T00:00:00"}))


def _as_schema_1(root: Path) -> None:
    """Rewrite a cache in schema 1's layout: <shard>/<id>/profile.json plus every chunk."""
    _as_schema_2(root)
    for profile in sorted((root / "customers").glob("*/*.json")):
        folder = profile.with_name(profile.name.removesuffix(".json"))
        chunks = profile.with_name(folder.name + ".entries")
        if chunks.exists():
            chunks.rename(folder)
        else:
            folder.mkdir()
        tables = read_json(profile)
        summary = tables["timeline"]["1"]
        if summary["chunk_files"] == [INLINE]:
            (folder / "entries-00000.json").write_text(json.dumps({"entries": tables.pop("entries")}))
            summary["chunk_files"] = ["entries-00000.json"]
        (folder / "profile.json").write_text(json.dumps(tables))
        profile.unlink()
    (root / "meta.json").write_text(json.dumps({"schema": 1, "created": "2026-01-01T00:00:00"}))


def _contents(cache: Cache) -> dict[str, tuple[Profile, list]]:
    out = {}
    for row in cache.index_rows():
        timeline = timeline_of(cache, row.id)
        out[row.id] = (cache.load_profile(row.id),
                       [e for n in range(len(timeline.summary.chunk_sizes)) for e in timeline.chunk(n)])
    return out


def test_a_schema_1_cache_is_migrated(demo_template: Path, tmp_path: Path) -> None:
    root = tmp_path / "old"
    shutil.copytree(demo_template, root)
    with Cache.open(root) as cache:
        # Ids may end like a chunk folder: "x.entries" must not pass for one of "x".
        for odd in ("x", "x.entries"):
            cache.put_profile(Profile(customer=Customer(id=odd, name=odd)),
                              entries=_entries(odd, CHUNK + 5))
        expected = _contents(cache)
    _as_schema_1(root)
    assert list((root / "customers").glob("*/*/profile.json"))
    with Cache.open(root) as cache:
        assert not cache.read_only
        assert _schema(root) == SCHEMA
        assert _contents(cache) == expected
        cache.add_note(BIG, "after the upgrade")
        assert cache.load_profile(BIG).notes[-1].text == "after the upgrade"
    folders = [p for p in (root / "customers").glob("*/*") if p.is_dir()]
    assert folders and all(p.name.endswith(".entries") for p in folders)
    assert not list((root / "customers").glob("*/*/profile.json"))


def test_a_migration_cut_short_is_finished_by_the_next_open(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "old"
    shutil.copytree(demo_template, root)
    with Cache.open(root) as cache:
        expected = _contents(cache)
    _as_schema_1(root)
    real_rename, renames = Path.rename, [0]

    def crashing_rename(self: Path, target: Path) -> Path:
        renames[0] += 1
        if renames[0] > 25:
            raise KeyboardInterrupt("killed mid-migration")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", crashing_rename)
    with pytest.raises(KeyboardInterrupt):
        Cache.open(root)
    monkeypatch.setattr(Path, "rename", real_rename)
    assert _schema(root) == 1  # not claimed before it is done
    assert list((root / "customers.new").glob("*/*.json"))  # some moved
    assert list((root / "customers").glob("*/*/profile.json"))  # some not
    with Cache.open(root) as cache:
        assert _schema(root) == SCHEMA
        assert _contents(cache) == expected


def test_a_schema_3_cache_gets_search_rows_of_every_contact_point(demo_cache: Cache) -> None:
    """Schema 4's search rows hold every contact point and the relationships: the index is
    made again from the profile files, edits made before the upgrade included."""
    root = demo_cache.root
    demo_cache.update_details("cus_000002", name="Renamed Before", company="",
                              contacts=demo_cache.load_profile("cus_000002").contacts)
    rows = {r.id: r for r in demo_cache.index_rows()}
    demo_cache.close()
    _as_schema_3(root)
    old = {r.id: r for r in search_index.SearchIndexFiles(root / "index", read_only=True).rows()}
    assert all(not r.others and not r.related for r in old.values())  # the old rows, truly
    with Cache.open(root) as cache:
        assert _schema(root) == SCHEMA
        migrated = {r.id: r for r in cache.index_rows()}
        assert migrated == rows
        assert migrated["cus_000002"].name == "Renamed Before"
        assert any(kind == "address" for r in migrated.values() for kind, _ in r.others)
        assert migrated["cus_000000"].related
        secondary = next(r for r in migrated.values() if any(k == "email" for k, _ in r.others))
        found = CustomerIndex(cache.index_rows()).search(secondary.others[0][1]).rows
        assert secondary.id in [r.id for r in found]


def test_a_schema_2_cache_is_migrated(demo_cache: Cache) -> None:
    """Schema 3 made the small files TinyDB databases: recently viewed, sync state, outbox
    and search journal all read back after the upgrade, and the edits still go out."""
    root = demo_cache.root
    demo_cache.mark_viewed("cus_000002")
    demo_cache.mark_viewed(NORMAL)
    demo_cache.add_note(NORMAL, "queued before the upgrade")
    demo_cache.update_details("cus_000002", name="Renamed Before", company="",
                              contacts=demo_cache.load_profile("cus_000002").contacts)
    demo_cache.save_sync_state({"epoch": "e1", "cursor": "c42"})
    recent, state = demo_cache.recent(), demo_cache.sync_state()
    outbox = [(i.seq, i.mutation.id) for i in demo_cache.outbox.items()]
    expected = _contents(demo_cache)
    demo_cache.close()
    _as_schema_2(root)
    assert isinstance(read_json(root / "recent.json"), list)
    with Cache.open(root) as cache:
        assert _schema(root) == SCHEMA
        # Schema 6 forgets the cursor (the feed is read again: see test_profile_data_cache).
        kept = {k: v for k, v in state.items() if k not in ("cursor", "epoch")}
        assert cache.recent() == recent and cache.sync_state() == kept
        assert [(i.seq, i.mutation.id) for i in cache.outbox.items()] == outbox
        assert _contents(cache) == expected
        assert [r.name for r in cache.index_rows() if r.id == "cus_000002"] == ["Renamed Before"]
        cache.add_note(NORMAL, "after the upgrade")
        assert [i.seq for i in cache.outbox.items()][-1] == outbox[-1][0] + 1


def test_stock_tinydb_reads_every_file_of_the_cache(demo_cache: Cache) -> None:
    """The cache is TinyDB: every .json file the desk writes opens with TinyDB's own default
    storage, and every table reads back what the desk wrote."""
    from tinydb import TinyDB

    demo_cache.mark_viewed(NORMAL)
    demo_cache.add_note(NORMAL, "a note")
    demo_cache.save_sync_state({"epoch": "e1", "cursor": "c1"})
    demo_cache.put_profile(Profile(customer=Customer(id="long", name="Long")),
                           entries=_entries("long", 3 * CHUNK))
    files = sorted(demo_cache.root.rglob("*.json"))
    names = {p.name for p in files}
    assert {"meta.json", "recent.json", "sync.json", "outbox.json", "journal.json"} <= names
    assert any(p.parent.name.endswith(".entries") for p in files)  # timeline files too
    tables_read = 0
    for path in files:
        with TinyDB(path) as db:  # the default JSONStorage
            for name in db.tables():
                docs = db.table(name).all()
                assert docs == [dict(d) for d in read_json(path)[name].values()], (path, name)
                tables_read += 1
    assert tables_read > len(files)
    with TinyDB(demo_cache.profile_path(NORMAL)) as db:
        from tinydb import Query

        assert db.table("notes").search(Query().text == "a note")
        assert db.table("customer").get(doc_id=1)["id"] == NORMAL


# -- notes ----------------------------------------------------------------------------------


def test_notes_persist_and_record_local_changes(demo_cache: Cache) -> None:
    root = demo_cache.root
    before_notes = [n.id for n in demo_cache.load_profile(NORMAL).notes]
    assert demo_cache.local_changes(NORMAL) == []

    note = demo_cache.add_note(NORMAL, "Prefers calls after 5 pm.", author="Test Agent")
    cache = _reopen(demo_cache)
    try:
        notes = cache.load_profile(NORMAL).notes
        assert [n.id for n in notes] == [*before_notes, note.id]
        assert notes[-1].text == "Prefers calls after 5 pm."
        assert notes[-1].author == "Test Agent"
        changes = cache.local_changes(NORMAL)
        assert [c["kind"] for c in changes] == ["note.add"]
        assert changes[0]["target"] == note.id
        assert changes[0]["customer_id"] == NORMAL
        assert changes[0]["data"]["text"] == "Prefers calls after 5 pm."

        edited = cache.edit_note(NORMAL, note.id, "Prefers calls after 6 pm.")
        assert edited.id == note.id and edited.updated >= note.updated
        cache = _reopen(cache)
        notes = cache.load_profile(NORMAL).notes
        assert [n.text for n in notes if n.id == note.id] == ["Prefers calls after 6 pm."]
        assert [n.id for n in notes] == [*before_notes, note.id]
        changes = cache.local_changes(NORMAL)
        assert [c["kind"] for c in changes] == ["note.add", "note.edit"]
        assert changes[1]["target"] == note.id
        assert changes[1]["data"] == {
            "set": {"text": "Prefers calls after 6 pm."},
            "base": {"text": "Prefers calls after 5 pm."},  # what the edit was made on
        }

        cache.delete_note(NORMAL, note.id)
        cache = _reopen(cache)
        assert [n.id for n in cache.load_profile(NORMAL).notes] == before_notes
        changes = cache.local_changes(NORMAL)
        assert [c["kind"] for c in changes] == ["note.add", "note.edit", "note.delete"]
        assert changes[2]["target"] == note.id
        ids = [c["id"] for c in changes]
        assert all(isinstance(i, str) and i.startswith("mut_") for i in ids)  # idempotency ids
        assert len(set(ids)) == 3
        assert all(c["made_at"] and c["status"] == "pending" for c in changes)
        # Other customers are untouched.
        assert cache.local_changes("cus_000004") == []
    finally:
        cache.close()
    assert (root / "customers").exists()


def test_editing_a_missing_note_fails_without_writing(demo_cache: Cache) -> None:
    path = demo_cache.profile_path(NORMAL)
    before = path.read_bytes()
    with pytest.raises(CacheError, match="no longer exists"):
        demo_cache.edit_note(NORMAL, "note_gone", "x")
    with pytest.raises(CacheError, match="no longer exists"):
        demo_cache.delete_note(NORMAL, "note_gone")
    with pytest.raises(CacheError, match="not in the cache"):
        demo_cache.add_note("cus_missing", "x")
    assert path.read_bytes() == before
    assert not demo_cache.profile_path("cus_missing").exists()
    assert not demo_cache.timeline_dir("cus_missing").exists()


# -- update_details -------------------------------------------------------------------------


def _unchecked(kind: ContactKind, value: str) -> ContactPoint:
    """A contact point as a buggy caller could build it, skipping validation."""
    return from_stored(ContactPoint, {"id": "cp_bad", "kind": kind, "value": value, "primary": True})


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [(ContactKind.EMAIL, "not an email", "e-mail"), (ContactKind.PHONE, "12", "phone")],
)
def test_update_details_with_invalid_contact_changes_nothing(
    demo_cache: Cache, kind: ContactKind, value: str, message: str
) -> None:
    root = demo_cache.root
    before = _snapshot(root)
    profile = demo_cache.load_profile(NORMAL)
    with pytest.raises(ValidationError, match=message):
        demo_cache.update_details(
            NORMAL, name="New Name", company="New Co", contacts=[*profile.contacts, _unchecked(kind, value)]
        )
    after = _snapshot(root)
    assert after == before  # profile file byte-identical, index untouched, no temp files left
    assert demo_cache.load_profile(NORMAL) == profile
    assert demo_cache.local_changes(NORMAL) == []


def test_update_details_saves_and_updates_the_index(demo_cache: Cache) -> None:
    old = demo_cache.load_profile(NORMAL)
    old_name = old.customer.name
    old_row = next(r for r in demo_cache.index_rows() if r.id == NORMAL)
    contacts = [
        ContactPoint(id="cp_new_mail", kind="email", value="zanzi@EXAMPLE.ORG", primary=True),
        ContactPoint(id="cp_new_phone", kind="phone", value="+1 555 987 6543", primary=True),
    ]
    updated = demo_cache.update_details(NORMAL, name="Zanzibar Quixote", company="Quarry Labs",
                                        contacts=contacts)
    assert updated.customer.name == "Zanzibar Quixote"

    cache = _reopen(demo_cache)
    try:
        loaded = cache.load_profile(NORMAL)
        assert loaded.customer.name == "Zanzibar Quixote"
        assert loaded.customer.company == "Quarry Labs"
        assert [c.value for c in loaded.contacts] == ["zanzi@example.org", "+1 555 987 6543"]
        assert loaded.notes == old.notes  # the rest of the profile is kept
        assert loaded.conversations == old.conversations
        changes = cache.local_changes(NORMAL)
        assert changes[0]["kind"] == "customer.update"
        assert changes[0]["data"]["set"] == {"name": "Zanzibar Quixote", "company": "Quarry Labs"}
        assert changes[0]["data"]["base"] == {"name": old_name, "company": old.customer.company}
        upserts = [c["target"] for c in changes if c["kind"] == "contact.upsert"]
        deletes = [c["target"] for c in changes if c["kind"] == "contact.delete"]
        assert upserts == ["cp_new_mail", "cp_new_phone"]
        assert sorted(deletes) == sorted(c.id for c in old.contacts)

        rows = {r.id: r for r in cache.index_rows()}
        assert rows[NORMAL] == IndexRow(NORMAL, "Zanzibar Quixote", "zanzi@example.org",
                                        "+1 555 987 6543", "Quarry Labs", others=[],
                                        related=[[r.customer_id, r.label] for r in old.relationships],
                                        status=old_row.status, tags=old_row.tags,
                                        segments=old_row.segments, channels=old_row.channels,
                                        last_contact=old_row.last_contact, since=old_row.since,
                                        reachable=old_row.reachable,
                                        open_conversations=old_row.open_conversations,
                                        active=old_row.active)
        assert old_row.status and old_row.last_contact  # the filters' facts are kept
        assert old_row.since and old_row.active  # and the chart's
        assert len(rows) == len(demo.dataset())  # updated in place, not added

        index = CustomerIndex(cache.index_rows())
        assert [r.id for r in index.search("zanzibar").rows] == [NORMAL]
        assert NORMAL in [r.id for r in index.search("5559876543").rows]
        assert NORMAL not in [r.id for r in index.search(old_name).rows]
    finally:
        cache.close()


# -- recently viewed ------------------------------------------------------------------------


def test_mark_viewed_recent_and_start_customer(demo_cache: Cache) -> None:
    assert demo_cache.recent() == []
    first = demo_cache.search_index.first_customer_id()
    assert first is not None and demo_cache.load_profile(first) is not None
    assert demo_cache.start_customer_id() == first

    demo_cache.mark_viewed("cus_000001")
    demo_cache.mark_viewed("cus_000002")
    demo_cache.mark_viewed("cus_000001")
    assert demo_cache.recent() == ["cus_000001", "cus_000002"]
    assert demo_cache.start_customer_id() == "cus_000001"
    assert _mode(demo_cache.root / "recent.json") == 0o600

    # A viewed customer who is gone since is skipped.
    demo_cache.mark_viewed("cus_deleted_since")
    assert demo_cache.start_customer_id() == "cus_000001"

    cache = _reopen(demo_cache)
    try:
        assert cache.recent() == ["cus_deleted_since", "cus_000001", "cus_000002"]
        for n in range(RECENT_MAX + 20):
            cache.mark_viewed(f"cus_{n:06d}")
        recent = cache.recent()
        assert len(recent) == RECENT_MAX
        assert recent[0] == f"cus_{RECENT_MAX + 19:06d}"
    finally:
        cache.close()


def test_start_customer_of_empty_cache_is_none(empty_cache: Cache) -> None:
    assert empty_cache.recent() == []
    assert empty_cache.search_index.first_customer_id() is None
    assert empty_cache.start_customer_id() is None
    assert list(empty_cache.index_rows()) == []


def test_recent_ignores_wrong_shapes(demo_cache: Cache) -> None:
    (demo_cache.root / "recent.json").write_text('{"not": "a list"}')
    assert demo_cache.recent() == []
    (demo_cache.root / "recent.json").write_text('{"recent": {"1": {"ids": "cus_000002"}}}')
    assert demo_cache.recent() == []
    (demo_cache.root / "recent.json").write_text(
        '{"recent": {"1": {"ids": ["cus_000002", 7, null]}}}')
    assert demo_cache.recent() == ["cus_000002"]


def test_unreadable_recent_counts_as_empty(demo_cache: Cache) -> None:
    (demo_cache.root / "recent.json").write_bytes(b"")  # e.g. after a power cut
    assert demo_cache.recent() == []
    assert demo_cache.start_customer_id() == demo_cache.search_index.first_customer_id()


# -- odd ids --------------------------------------------------------------------------------

ODD_IDS = ["a/b", "../x", "..", ".", "../../../../etc/passwd", "/abs", "a\\b", "~user", " lead",
           "x" * 128, "y" * 101, "y" * 100, "ü-id", "a\nb", "con", ".hidden", "a..b", "-rf"]


def test_odd_ids_map_to_safe_folders(empty_cache: Cache, tmp_path: Path) -> None:
    root = empty_cache.root.resolve()
    paths = set()
    for number, customer_id in enumerate(ODD_IDS):
        profile = Profile(customer=Customer(id=customer_id, name=f"Name {number}"))
        entries = _entries(customer_id, CHUNK + 1) if number % 3 == 0 else []  # some in chunks
        empty_cache.put_profile(profile, entries=entries)
        for path in (empty_cache.profile_path(customer_id), empty_cache.timeline_dir(customer_id)):
            assert path.parent.parent == empty_cache.root / "customers", customer_id
            name = path.name
            assert name not in (".", "..") and "/" not in name and "\\" not in name and "\n" not in name
            assert not name.startswith(".")
            assert len(name) <= 110
            assert path.resolve().parent.parent == root / "customers"
            paths.add(path)
        assert empty_cache.profile_path(customer_id).is_file()
        assert empty_cache.timeline_dir(customer_id).is_dir() == bool(entries)
        assert empty_cache.load_profile(customer_id).customer.id == customer_id
        assert timeline_of(empty_cache, customer_id).total == len(entries)
    assert len(paths) == 2 * len(ODD_IDS)  # no two ids share a file or a folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]  # nothing written outside
    rows = {r.id: r for r in empty_cache.index_rows()}
    assert set(rows) == set(ODD_IDS)
    # Plain ids keep their readable name; an id ending like a folder does not meet one.
    assert empty_cache.profile_path("cus_000001").name == "cus_000001.json"
    assert empty_cache.timeline_dir("cus_000001").name == "cus_000001.entries"
    assert empty_cache.profile_path("a.entries") != empty_cache.timeline_dir("a")
    assert empty_cache.timeline_dir("a.json") != empty_cache.profile_path("a")


# -- modes ----------------------------------------------------------------------------------


def _assert_private(root: Path) -> None:
    assert _mode(root) == 0o700
    for path in root.rglob("*"):
        if path.is_dir():
            assert _mode(path) == 0o700, path
        else:
            assert _mode(path) == 0o600, path


def test_all_files_private_after_demo_fill_and_edits(tmp_path: Path, permissive_umask: None) -> None:
    root = tmp_path / "cache"
    with Cache.open(root) as cache:
        assert cache.import_profiles(demo.dataset(customers=6, big_entries=1_200)) == 10
        note = cache.add_note("cus_000001", "note")
        cache.edit_note("cus_000001", note.id, "edited")
        cache.add_note("cus_000002", "another")
        cache.delete_note("cus_000002", cache.load_profile("cus_000002").notes[-1].id)
        cache.update_details("cus_000003", name="Renamed", company="",
                             contacts=[ContactPoint(kind="email", value="r@example.com")])
        cache.mark_viewed("cus_000001")
        profile = cache.load_profile(BIG)
        cache.put_profile(profile, entries=[])
        cache.put_profile(Profile(customer=Customer(id="a/b", name="Odd")))
        assert timeline_of(cache, BIG).total == 0
        assert not list(cache.timeline_dir(BIG).glob("entries-*.json"))
    _assert_private(root)
    assert len(list(root.rglob("*.json"))) > 10


def test_demo_cache_private_after_edits(demo_cache: Cache) -> None:
    demo_cache.add_note(BIG, "x")
    demo_cache.mark_viewed(BIG)
    _assert_private(demo_cache.root)


# -- reading one profile reads only that customer's files -----------------------------------


@pytest.mark.parametrize("customer_id", [BIG, NORMAL, demo.HOSTILE_ID])
def test_opening_a_profile_reads_only_its_own_files(
    demo_cache: Cache, monkeypatch: pytest.MonkeyPatch, customer_id: str
) -> None:
    read: list[Path] = []
    real = cache_module.read_json

    def recording(path: Path):
        read.append(Path(path))
        return real(path)

    monkeypatch.setattr(cache_module, "read_json", recording)
    profile = demo_cache.load_profile(customer_id)
    timeline = timeline_of(demo_cache, customer_id)
    first = timeline.chunk(0)
    last = timeline.chunk(len(timeline.summary.chunk_sizes) - 1)
    demo_cache.local_changes(customer_id)
    assert profile.customer.id == customer_id and first and last

    own = {demo_cache.profile_path(customer_id), demo_cache.timeline_dir(customer_id)}
    assert read, "nothing was read through read_json"
    assert all(p in own or p.parent in own for p in read), read
    assert not any("index" in p.parts for p in read)
    chunks_read = {p.name for p in read if p.name.startswith("entries-")}
    assert chunks_read <= {"entries-00000.json", f"entries-{len(timeline.summary.chunk_sizes) - 1:05d}.json"}

    read.clear()
    demo_cache.mark_viewed(customer_id)  # only the recent list besides
    assert read == [demo_cache.root / "recent.json"]


# -- leftovers of crashed writes ------------------------------------------------------------


def test_stray_temp_files_do_not_break_reading(demo_cache: Cache) -> None:
    profile = demo_cache.profile_path(NORMAL)
    chunks = demo_cache.timeline_dir(BIG)
    shard = next((demo_cache.root / "index").glob("*.json"))
    expected_rows = sorted(demo_cache.index_rows(), key=lambda r: r.id)
    expected_profile = demo_cache.load_profile(NORMAL)
    expected_entries = timeline_of(demo_cache, NORMAL).chunk(0)
    for stray in (profile.parent / f".{profile.name}.abc123.tmp", chunks / ".entries-00000.json.x1.tmp",
                  shard.parent / f".{shard.name}.zz9.tmp", demo_cache.root / ".recent.json.q.tmp"):
        stray.write_bytes(b'{"half": "writ')
    assert sorted(demo_cache.index_rows(), key=lambda r: r.id) == expected_rows
    assert demo_cache.load_profile(NORMAL) == expected_profile
    assert timeline_of(demo_cache, NORMAL).chunk(0) == expected_entries
    assert demo_cache.recent() == []
    demo_cache.add_note(NORMAL, "after a crash")
    cache = _reopen(demo_cache)
    try:
        assert cache.load_profile(NORMAL).notes[-1].text == "after a crash"
    finally:
        cache.close()


def test_copy_of_cache_opens_writable(demo_template: Path, tmp_path: Path) -> None:
    """A lock file left in a copied cache holds no lock: only a live flock counts."""
    root = tmp_path / "copy"
    shutil.copytree(demo_template, root)
    (root / "lock").write_text("999999\n")
    with Cache.open(root) as cache:
        assert not cache.read_only
        assert CacheLock(root / "lock").holder() == str(os.getpid())


# -- unknown fields through the cache -------------------------------------------------------

_EXTRAS = {
    "customer": {"id": "cus_new", "name": "Ada", "loyalty": {"tier": "gold"}},
    "contacts": [{"id": "cp_1", "kind": "email", "value": "ada@example.com", "verified": True}],
    "notes": [{"id": "n1", "text": "hi", "pinned": True}],
    "conversations": [{"id": "c1", "topic": "Billing", "started": "2026-01-05T09:00:00Z",
                       "sla": {"hours": 4}}],
}


def test_unknown_fields_of_records_survive_the_cache(empty_cache: Cache) -> None:
    profile = Profile.model_validate(_EXTRAS)
    empty_cache.put_profile(profile)
    loaded = _reopen(empty_cache)
    try:
        got = loaded.load_profile("cus_new")
        assert got == profile
        assert got.customer.loyalty == {"tier": "gold"}
        assert got.contacts[0].verified is True
        assert got.notes[0].pinned is True
        assert got.conversations[0].sla == {"hours": 4}
    finally:
        loaded.close()


def test_unknown_profile_level_fields_survive_the_cache(empty_cache: Cache) -> None:
    profile = Profile.model_validate({**_EXTRAS, "surveys": [{"score": 9}]})
    empty_cache.put_profile(profile)
    assert empty_cache.load_profile("cus_new").model_extra == {"surveys": [{"score": 9}]}


def test_search_row_journal_is_folded_a_few_shards_at_a_time(
    empty_cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past JOURNAL_SOFT rows each write folds its fullest shards, so the journal stays small
    without a write that rewrites every shard; the rows read back the same, also after
    reopening the cache."""
    monkeypatch.setattr(search_index, "JOURNAL_SOFT", 100)
    monkeypatch.setattr(search_index, "JOURNAL_MAX", 10_000)
    journal = empty_cache.root / "index" / "journal.json"
    expected: dict[str, IndexRow] = {}
    sizes = []
    for batch in range(30):
        rows: dict[str, IndexRow | None] = {
            f"cus_{batch:02d}_{n:02d}": IndexRow(f"cus_{batch:02d}_{n:02d}", f"Name {batch} {n}")
            for n in range(40)
        }
        if batch:  # and remove one row of the previous batch
            rows[f"cus_{batch - 1:02d}_00"] = None
        empty_cache.write_index_rows(rows, durable=False)
        expected.update({k: v for k, v in rows.items() if v is not None})
        for k, v in rows.items():
            if v is None:
                expected.pop(k)
        sizes.append(len(read_json(journal)["rows"]))
    assert max(sizes) <= 100 + 41  # never past the soft limit by more than a write: no full fold
    assert len(list((empty_cache.root / "index").glob("??.json"))) > 8  # shards were written
    assert {r.id: r for r in empty_cache.index_rows()} == expected
    empty_cache.close()
    with Cache.open(empty_cache.root) as again:
        assert {r.id: r for r in again.index_rows()} == expected
