"""Long bodies through the sync, against the reference store over real HTTP: an entry with a
1 MB body arrives and is kept aside, changes and replaces its file, goes and takes its file
with it; the cache stays in sync with the store (digests over whole texts) at each step."""

from __future__ import annotations

import pytest

from support.cache_reading import timeline_of
from support.sync_world import BIG, World, assert_timeline_consistent, at

from agentdesk.cache import long_bodies
from agentdesk.cache.long_bodies import ASIDE, FOLDER, HEAD
from agentdesk.cache.timeline import INLINE
from agentdesk.model.protocol import RecordType
from agentdesk.model.records import TimelineEntry

CID = "cus_000004"  # 22 entries, kept in its profile file
LOG = "\n".join(f"2026-01-05T09:00:{i % 60:02d}Z worker-{i % 8} request {i} done" for i in range(25_000))


def files(w: World, customer_id: str) -> set[str]:
    folder = w.cache.timeline_dir(customer_id) / FOLDER
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def whole_entry(w: World, customer_id: str, entry_id: str) -> dict:
    return next(e for e in assert_timeline_consistent(w.cache, customer_id) if e["id"] == entry_id)


@pytest.mark.parametrize("customer_id", [CID, BIG], ids=["profile file", "chunk files"])
def test_a_long_body_arrives_changes_and_goes_with_its_file(synced: World, customer_id: str) -> None:
    w, store = synced, synced.store
    last = max(e["at"] for e in w.server_records(customer_id, RecordType.ENTRY))
    entry = TimelineEntry(id="ent_log", conversation_id="conv_log", at=at(last, minutes=1),
                          channel="email", direction="inbound", subject="The log", body=LOG)
    store.upsert(RecordType.ENTRY, entry.model_dump(mode="json"), customer_id)
    w.sync()
    w.assert_in_sync()
    assert files(w, customer_id) == {long_bodies.name_of("ent_log", LOG)}
    assert whole_entry(w, customer_id, "ent_log")["body"] == LOG
    timeline = timeline_of(w.cache, customer_id)
    assert (timeline.summary.chunk_files == [INLINE]) == (customer_id == CID)
    stored = timeline.stored_docs(len(timeline.summary.chunk_sizes) - 1)[-1]
    assert stored["body"] == LOG[:HEAD] and stored[ASIDE]["chars"] == len(LOG)

    changed = LOG + "\nand one line more"
    store.upsert(RecordType.ENTRY, {**entry.model_dump(mode="json"), "body": changed}, customer_id)
    w.sync()
    w.assert_in_sync()
    assert files(w, customer_id) == {long_bodies.name_of("ent_log", changed)}  # the old one went

    store.delete(RecordType.ENTRY, "ent_log")
    w.sync()
    w.assert_in_sync()
    assert files(w, customer_id) == set()


def test_an_entry_the_store_sends_naming_a_body_file_shows_its_own_text(synced: World) -> None:
    """The store cannot point an entry at another's text (or outside the cache)."""
    w, store = synced, synced.store
    last = max(e["at"] for e in w.server_records(CID, RecordType.ENTRY))
    long = TimelineEntry(id="ent_long", conversation_id="conv_x", at=at(last, minutes=1),
                         channel="chat", direction="inbound", body=LOG)
    store.upsert(RecordType.ENTRY, long.model_dump(mode="json"), CID)
    sneaky = TimelineEntry(id="ent_sneaky", conversation_id="conv_x", at=at(last, minutes=2),
                           channel="chat", direction="inbound", body="short").model_dump(mode="json")
    for file in (long_bodies.name_of("ent_long", LOG), "../../../meta.json"):
        sneaky[ASIDE] = {"file": file, "chars": len(LOG), "lines": 1}
        store.upsert(RecordType.ENTRY, sneaky, CID)
        sent = [e for e in w.server_records(CID, RecordType.ENTRY) if e["id"] == "ent_sneaky"]
        assert sent[0][ASIDE]["file"] == file  # the store keeps fields it does not know
        w.sync()
        timeline = timeline_of(w.cache, CID)
        shown = timeline.chunk(0)  # models: what the desk reads back
        view = w.cache.view_profile(CID)[1]
        newest = view.chunk(0)[-1]
        assert newest.id == "ent_sneaky" and newest.body == "short"
        assert view.body_of(newest) == "short" and view.damage is None
        assert shown[-1].body == "short"


def test_a_first_sync_keeps_long_bodies_aside_either_way(world: World, first_sync_way: str) -> None:
    """The first sync files new customers in-process or in the helper process: both put a
    long body in its file, and the desk reads it back whole."""
    w, store = world, world.store
    last = max(e["at"] for e in w.server_records(CID, RecordType.ENTRY))
    entry = TimelineEntry(id="ent_log", conversation_id="conv_log", at=at(last, minutes=1),
                          channel="email", direction="inbound", body=LOG)
    store.upsert(RecordType.ENTRY, entry.model_dump(mode="json"), CID)
    w.sync()
    w.assert_in_sync()
    assert files(w, CID) == {long_bodies.name_of("ent_log", LOG)}
    view = w.cache.view_profile(CID)[1]
    newest = view.chunk(0)[-1]
    assert newest.id == "ent_log" and newest.body == LOG[:HEAD]
    assert view.body_of(newest) == LOG
