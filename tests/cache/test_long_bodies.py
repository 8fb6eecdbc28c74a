"""Bodies longer than 64k characters are kept in files of their own beside the timeline, the
entry holding their head: an open reads the head, finding and editing read the whole text,
a missing file is damage (the customer fetched again), never a crash or a silent cut."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from support.cache_reading import cache_digest
from support.timeline_screen import put_history

from agentdesk.cache import long_bodies
from agentdesk.cache.cache import Cache
from agentdesk.cache.files import read_json
from agentdesk.cache.health import problem
from agentdesk.cache.long_bodies import ASIDE, FOLDER, HEAD
from agentdesk.cache.schema import long_bodies_aside
from agentdesk.cache.timeline import CHUNK

# A log with lines, a paragraph of wide characters, and one just over the head: each kept aside.
LOG = "\n".join(f"09:{i % 60:02d} worker {i} done" for i in range(60_000))
WIDE = "返金をお願いします 🙂 " * 20_000
OVER = "x" * (HEAD + 1)
BODIES = {2: LOG, 4: WIDE, 5: OVER, 3: "y" * HEAD}  # the entry's number -> its body; 3 stays


def body(i: int) -> str:
    return BODIES.get(i, f"message {i}")


def body_files(cache: Cache, customer_id: str) -> set[str]:
    folder = cache.timeline_dir(customer_id) / FOLDER
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


@pytest.mark.parametrize("entries", [6, 3 * CHUNK], ids=["in the profile file", "in chunk files"])
def test_a_long_body_is_kept_beside_its_entry_and_read_back_whole(tmp_path: Path, entries: int) -> None:
    with Cache.open(tmp_path / "cache") as cache:
        put_history(cache, "cus_long", entries, conversations=2, body=body)
        assert len(body_files(cache, "cus_long")) == 3  # LOG, WIDE, OVER; not the one of HEAD
        folder = cache.timeline_dir("cus_long") / FOLDER
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
        if entries == 6:  # what an open reads: the heads, not 2 MB
            assert cache.profile_path("cus_long").stat().st_size < 4 * HEAD * 3

        view, timeline = cache.view_profile("cus_long")
        shown = timeline.chunk(0)
        whole = timeline.chunk_docs(0)
        for i in range(6):
            stored = shown[i]
            assert stored.body == body(i)[:HEAD]
            assert timeline.body_of(stored) == body(i)
            assert whole[i]["body"] == body(i) and ASIDE not in whole[i]
        # The summary counts the whole texts (the view estimates unread chunks from it).
        assert timeline.summary.chunk_text[0] == (
            sum(body(i).count("\n") + 1 for i in range(len(whole))),
            sum(len(body(i)) for i in range(len(whole))))
        assert problem(cache, "cus_long") is None


def test_an_import_again_keeps_only_the_files_its_entries_name(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "cache") as cache:
        put_history(cache, "cus_long", 6, conversations=2, body=body)
        before = body_files(cache, "cus_long")
        put_history(cache, "cus_long", 6, conversations=2,
                    body=lambda i: LOG + "!" if i == 2 else f"message {i}")
        after = body_files(cache, "cus_long")
        assert len(after) == 1 and not after & before
        _, timeline = cache.view_profile("cus_long")
        assert timeline.chunk_docs(0)[2]["body"] == LOG + "!"


def test_a_missing_body_file_is_damage_named_and_repaired_not_a_crash(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "cache") as cache:
        put_history(cache, "cus_long", 6, conversations=2, body=body)
        name = long_bodies.name_of("e000002", LOG)
        (cache.timeline_dir("cus_long") / FOLDER / name).unlink()
        assert "missing" in (problem(cache, "cus_long") or "")

        _, timeline = cache.view_profile("cus_long")
        shown = timeline.chunk(0)  # the open draws from the heads: nothing to read yet
        assert shown[2].body == LOG[:HEAD] and timeline.damage is None
        text = timeline.body_of(shown[2])  # Enter on it: the head, and why the rest is not there
        assert text.startswith(LOG[:HEAD]) and "not readable from the cache" in text
        assert timeline.damage is not None and "cus_long" in cache.repair_requests()
        assert timeline.body_of(shown[4]) == WIDE  # the others still read


def test_a_body_file_holding_another_text_is_not_shown_as_this_one(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "cache") as cache:
        put_history(cache, "cus_long", 6, conversations=2, body=body)
        bodies = cache.timeline_dir("cus_long") / FOLDER
        ours, theirs = (bodies / long_bodies.name_of(f"e{i:06d}", body(i)) for i in (2, 5))
        ours.write_bytes(theirs.read_bytes())  # another entry's file under this one's name
        _, timeline = cache.view_profile("cus_long")
        assert "not readable from the cache" in timeline.body_of(timeline.chunk(0)[2])
        assert "is not its text" in (problem(cache, "cus_long") or "")


def test_an_aside_field_that_came_with_an_entry_is_dropped() -> None:
    """The store knows nothing of it: one naming another entry's file (or ../) is not ours."""
    arriving = [{"id": "e1", "body": "short", ASIDE: {"file": "../../meta.json", "chars": 9, "lines": 1}}]
    kept = long_bodies.put_aside(Path("/nonexistent"), arriving, durable=False)
    assert kept == [{"id": "e1", "body": "short"}]
    with pytest.raises(ValueError, match="badly"):
        long_bodies.read_body(Path("/tmp"), arriving[0])


def _as_schema_10(root: Path, customer_id: str, cache: Cache) -> None:
    """Put the long bodies back into the profile file or chunk files, as schema 10 kept them."""
    folder = cache.timeline_dir(customer_id)
    for path in [cache.profile_path(customer_id), *folder.glob("entries-*.json")]:
        tables: dict[str, Any] = read_json(path)
        for doc in (tables.get("entries") or {}).values():
            if ASIDE in doc:
                doc["body"] = long_bodies.read_body(folder, doc)
                del doc[ASIDE]
        path.write_text(json.dumps(tables))
    for p in (folder / FOLDER).iterdir():
        p.unlink()
    meta = read_json(root / "meta.json")
    meta["meta"]["1"]["schema"] = 10
    (root / "meta.json").write_text(json.dumps(meta))


def test_a_schema_10_cache_has_the_long_bodies_of_its_profile_files_moved_aside_on_open(
        tmp_path: Path) -> None:
    root = tmp_path / "cache"
    with Cache.open(root) as cache:
        put_history(cache, "cus_long", 6, conversations=2, body=body)
        put_history(cache, "cus_short", 6, conversations=2)
        digest = cache_digest(cache)
    _as_schema_10(root, "cus_long", cache)
    short = cache.profile_path("cus_short").read_bytes()
    assert cache.profile_path("cus_long").stat().st_size > 2 * len(LOG)
    with Cache.open(root) as cache:
        assert read_json(root / "meta.json")["meta"]["1"]["schema"] == 11
        assert cache_digest(cache) == digest  # the same records, nothing misread
        assert len(body_files(cache, "cus_long")) == 3
        assert cache.profile_path("cus_long").stat().st_size < 4 * HEAD * 3
        _, timeline = cache.view_profile("cus_long")
        assert timeline.chunk(0)[2].body == LOG[:HEAD]
        assert timeline.chunk_docs(0)[2]["body"] == LOG
        assert cache.profile_path("cus_short").read_bytes() == short  # not rewritten
        assert problem(cache, "cus_long") is None
        done = cache.profile_path("cus_long").read_bytes()
    long_bodies_aside(root)  # run again (a crash before the version moved): nothing to do
    assert cache.profile_path("cus_long").read_bytes() == done


def test_long_bodies_in_chunk_files_of_schema_10_move_aside_when_their_file_is_next_written(
        tmp_path: Path) -> None:
    root = tmp_path / "cache"
    with Cache.open(root) as cache:
        put_history(cache, "cus_long", 3 * CHUNK, conversations=2, body=body)
        digest = cache_digest(cache)
    _as_schema_10(root, "cus_long", cache)
    with Cache.open(root) as cache:
        assert cache_digest(cache) == digest
        _, timeline = cache.view_profile("cus_long")
        assert timeline.chunk(0)[2].body == LOG  # whole, where schema 10 kept it
        assert not body_files(cache, "cus_long")

        newer = dict(timeline.chunk_docs(0)[5], id="e000005a", body="a reply")
        with cache.change_profile("cus_long") as profile:  # as a sync files an entry
            profile.file_entries([newer], [])
        assert len(body_files(cache, "cus_long")) == 3
        _, timeline = cache.view_profile("cus_long")
        assert timeline.chunk(0)[2].body == LOG[:HEAD]
        assert timeline.chunk_docs(0)[2]["body"] == LOG
        assert problem(cache, "cus_long") is None


@pytest.mark.parametrize("aside", [None, "x", {"file": 3, "chars": 9, "lines": 1},
                                   {"file": "a" * 32 + ".json", "chars": "9", "lines": 1},
                                   {"file": "a" * 32 + ".json", "chars": 2, "lines": 1}])
def test_a_chunk_saying_badly_where_a_body_is_reads_as_damaged_not_mid_draw(
        tmp_path: Path, aside: Any) -> None:
    with Cache.open(tmp_path / "cache") as cache:
        put_history(cache, "cus_long", 6, conversations=2, body=body)
        path = cache.profile_path("cus_long")
        tables = read_json(path)
        tables["entries"]["3"][ASIDE] = aside  # the entry of LOG
        path.write_text(json.dumps(tables))
        _, timeline = cache.view_profile("cus_long")
        shown = timeline.chunk(0)
        assert all("Not readable from the cache" in e.body for e in shown)
        assert timeline.damage is not None and "cus_long" in cache.repair_requests()
