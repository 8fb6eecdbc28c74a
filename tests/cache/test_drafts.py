"""Drafts in the cache: one TinyDB file, 0600, kept until saved or discarded."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from tinydb import TinyDB

from agentdesk.cache.cache import Cache
from agentdesk.cache.drafts import details_key, note_key
from agentdesk.cache.files import ReadOnlyCacheError


def test_a_draft_is_kept_replaced_and_dropped(tmp_path: Path, permissive_umask: None) -> None:
    with Cache.open(tmp_path / "cache") as cache:
        drafts = cache.drafts
        assert drafts.get(note_key("cus_1")) is None
        drafts.put(note_key("cus_1"), {"text": "first"})
        drafts.put(note_key("cus_1"), {"text": "second"}, durable=True)
        drafts.put(details_key("cus_1"), {"name": "Ada", "rows": {}})
        assert drafts.get(note_key("cus_1"))["fields"] == {"text": "second"}
        assert sorted(drafts.keys()) == [details_key("cus_1"), note_key("cus_1")]
        path = cache.root / "drafts.json"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with TinyDB(path) as db:  # a stock TinyDB reads it, as every cache file
            assert len(db.table("drafts")) == 2
        drafts.drop(note_key("cus_1"))
        drafts.drop(note_key("cus_1"))  # gone already: nothing to do
        assert drafts.keys() == [details_key("cus_1")]


def test_drafts_outlive_the_desk_and_a_rebuilt_cache(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "cache") as cache:
        cache.drafts.put(note_key("cus_1", "note_7"), {"text": "edited"})
        cache.wipe()  # the store was rebuilt: records go, the agent's typing stays
    with Cache.open(tmp_path / "cache") as cache:
        assert cache.drafts.get(note_key("cus_1", "note_7"))["fields"] == {"text": "edited"}


def test_a_read_only_cache_reads_drafts_and_writes_none(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "cache") as cache:
        cache.drafts.put(note_key("cus_1"), {"text": "mine"})
        with Cache.open(tmp_path / "cache") as second:
            assert second.read_only
            assert second.drafts.get(note_key("cus_1"))["fields"] == {"text": "mine"}
            with pytest.raises(ReadOnlyCacheError):
                second.drafts.put(note_key("cus_1"), {"text": "theirs"})
            second.drafts.drop(note_key("cus_1"))  # refused quietly
        assert cache.drafts.get(note_key("cus_1")) is not None


def test_an_unreadable_drafts_file_reads_as_none(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "cache") as cache:
        (cache.root / "drafts.json").write_text("{not json")
        assert cache.drafts.get(note_key("cus_1")) is None
        cache.drafts.put(note_key("cus_1"), {"text": "fresh"})  # replaces it
        assert cache.drafts.get(note_key("cus_1"))["fields"] == {"text": "fresh"}
