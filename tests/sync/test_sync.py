"""The sync engine against the reference store, over real HTTP on 127.0.0.1.

Every test seeds a small store (20 customers, one with 600 timeline entries), serves it with
`ServerThread`, and syncs a fresh desk cache with `SyncEngine` + `RemoteClient`. Server-side
changes are made with the store's admin methods, desk-side ones with the cache's edit methods;
the digests of both ends are compared afterwards.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from agentdesk.model import demo
from agentdesk.model.demo_profile_data import EVERYTHING_ID
from agentdesk.model.demo_activity import ACTIVITY_ID
from agentdesk.cache.cache import Cache
from agentdesk.model.records import ContactKind, ContactPoint, Note, TimelineEntry
from agentdesk.cache.outbox import CONFLICT, PENDING, REJECTED
from agentdesk.model.protocol import MutationKind, RecordType
from agentdesk.sync.client import Offline, RemoteError
from agentdesk.cache.files import read_json
from agentdesk.sync.engine import RUNNING, Progress, SyncEngine, SyncState
from agentdesk.cache.timeline import CHUNK, INLINE
from agentdesk.server.run import ServerThread, open_store, seed_demo
from support.sync_world import (
    BIG,
    PAGE,
    SCOPED_AGENT,
    SCOPED_TOKEN,
    SEED,
    TOKEN,
    FaultProxy,
    World,
    assert_timeline_consistent,
    at,
    snapshot_digest,
)
from support.cache_reading import cache_digest, open_profile, timeline_of

CID = "cus_000004"  # 3 notes, 4 contacts, 22 entries


def note(note_id: str, text: str) -> dict[str, Any]:
    return Note(id=note_id, text=text, author="Server Sam", created=demo.EPOCH,
                updated=demo.EPOCH).model_dump(mode="json")


def customer_ids(world: World) -> set[str]:
    return {row.id for row in world.cache.index_rows()}


# --- initial and incremental -------------------------------------------------------------

def test_initial_sync_copies_the_store(world: World) -> None:
    report = world.sync()
    assert report.pages > 1 and not report.applied.skipped and not report.rebuilt
    world.assert_in_sync()
    expected = {p.customer.id for p, _ in demo.generate(**SEED)}
    assert customer_ids(world) == expected
    for customer_id in expected:
        loaded = open_profile(world.cache, customer_id)
        assert loaded is not None, customer_id
        profile, timeline = loaded
        assert profile.customer.id == customer_id
        server_entries = world.server_records(customer_id, RecordType.ENTRY)
        assert timeline.total == len(server_entries), customer_id
        assert_timeline_consistent(world.cache, customer_id)
    assert timeline_of(world.cache, BIG).total == 600
    state = world.engine().state
    assert state.epoch == world.store.epoch() and state.cursor and state.last_success
    again = world.sync()
    assert again.applied.changes == 0 and again.pushed == 0
    world.assert_in_sync()


def test_incremental_changes_arrive_and_timeline_stays_consistent(synced: World) -> None:
    w, store = synced, synced.store
    customer = w.server_records(CID, RecordType.CUSTOMER)[0]
    store.upsert(RecordType.CUSTOMER, {**customer, "name": "Renamed On Server"}, CID)
    store.upsert(RecordType.NOTE, note("note_from_server", "Added on the server"), CID)

    entries = sorted(w.server_records(BIG, RecordType.ENTRY),
                     key=lambda e: (e["at"], e["id"]))
    assert len(entries) == 600
    # One entry in the middle of the 600 (chunk 1), in a new conversation: its start moves
    # every later conversation's start by one.
    middle = entries[300]
    mid = TimelineEntry(id="ent_mid_new", conversation_id="conv_mid_new",
                        at=at(middle["at"], seconds=1), channel="chat", direction="inbound",
                        body="filed in the middle")
    store.upsert(RecordType.ENTRY, mid.model_dump(mode="json"), BIG)
    # 201 entries after the last one: the last chunk grows past 2 x 200 and must split.
    last = entries[-1]["at"]
    for n in range(201):
        tail = TimelineEntry(id=f"ent_tail_{n:03d}", conversation_id="conv_tail_new",
                             at=at(last, minutes=n + 1), channel="email", direction="outbound",
                             body=f"tail {n}")
        store.upsert(RecordType.ENTRY, tail.model_dump(mode="json"), BIG)
    # Delete the first entry of a conversation early in the timeline (a tombstone): its
    # conversation then starts one entry later.
    first_of = {}
    for position, entry in enumerate(entries):
        first_of.setdefault(entry["conversation_id"], (position, entry))
    conv, (pos, doomed) = sorted(first_of.items(), key=lambda kv: kv[1][0])[3]
    assert pos < 200
    store.delete(RecordType.ENTRY, doomed["id"])

    report = w.sync()
    assert not report.applied.skipped
    assert report.applied.customers[BIG] == 1 + 201 + 1
    w.assert_in_sync()
    assert w.local(CID)["customer"]["name"] == "Renamed On Server"
    assert {r.name for r in w.cache.index_rows() if r.id == CID} == {"Renamed On Server"}
    assert "note_from_server" in {n["id"] for n in w.local(CID)["notes"]}

    timeline = timeline_of(w.cache, BIG)
    sizes = timeline.summary.chunk_sizes
    assert sum(sizes) == 600 + 1 + 201 - 1
    assert max(sizes) <= 400, sizes  # the chunk that grew past 400 was split
    assert len(sizes) >= 4, sizes
    read_back = assert_timeline_consistent(w.cache, BIG)
    ids = [e["id"] for e in read_back]
    assert doomed["id"] not in ids
    assert ids.index("ent_mid_new") == 300  # after entries[0..300], one of which was deleted
    assert read_back[timeline.summary.starts["conv_mid_new"]]["id"] == "ent_mid_new"
    assert read_back[timeline.summary.starts["conv_tail_new"]]["id"] == "ent_tail_000"
    assert read_back[timeline.summary.starts[conv]]["id"] != doomed["id"]
    assert len(read_back) == len(w.server_records(BIG, RecordType.ENTRY))
    # No chunk file is left behind by the rewrites.
    files = {p.name for p in w.cache.timeline_dir(BIG).glob("entries-*.json")}
    assert files == set(timeline.summary.chunk_files)
    assert w.sync().applied.changes == 0


def test_a_growing_timeline_moves_out_of_the_profile_file_and_back(synced: World) -> None:
    """A timeline of one chunk lives in the profile file; past 2 x CHUNK it is split into
    chunk files in the customer's folder; shrunk to one chunk again, it moves back."""
    w, store = synced, synced.store
    assert timeline_of(w.cache, CID).summary.chunk_files == [INLINE]
    assert not w.cache.timeline_dir(CID).exists()
    before = len(assert_timeline_consistent(w.cache, CID))
    last = max(e["at"] for e in w.server_records(CID, RecordType.ENTRY))
    grown = [TimelineEntry(id=f"ent_grown_{n:03d}", conversation_id="conv_grown",
                           at=at(last, minutes=n + 1), channel="sms", direction="inbound",
                           body=f"grown {n}") for n in range(2 * CHUNK)]
    for entry in grown:
        store.upsert(RecordType.ENTRY, entry.model_dump(mode="json"), CID)
    w.sync()
    summary = timeline_of(w.cache, CID).summary
    assert len(summary.chunk_files) >= 2 and INLINE not in summary.chunk_files
    assert "entries" not in read_json(w.cache.profile_path(CID))
    assert {p.name for p in w.cache.timeline_dir(CID).glob("*")} == set(summary.chunk_files)
    assert len(assert_timeline_consistent(w.cache, CID)) == before + 2 * CHUNK
    w.assert_in_sync()

    for entry in grown:
        store.delete(RecordType.ENTRY, entry.id)
    w.sync()
    summary = timeline_of(w.cache, CID).summary
    assert summary.chunk_files == [INLINE] and summary.chunk_sizes == [before]
    assert len(read_json(w.cache.profile_path(CID))["entries"]) == before
    assert not list(w.cache.timeline_dir(CID).glob("entries-*.json"))  # obsolete chunks deleted
    assert len(assert_timeline_consistent(w.cache, CID)) == before
    w.assert_in_sync()


def test_a_sync_after_a_killed_one_sweeps_its_temporary_files(synced: World) -> None:
    w = synced
    profile = w.cache.profile_path(CID)
    leftovers = [profile.with_name(f".{profile.name}.4242-1.tmp"),
                 w.cache.timeline_dir(BIG) / ".entries-abc.json.4242-1.tmp",
                 w.cache.timeline_dir(BIG) / "bodies" / ".0123abcd.json.4242-1.tmp"]
    leftovers[-1].parent.mkdir()  # where long bodies are kept (cache.long_bodies)
    for path in leftovers:
        path.write_bytes(b'{"half": "writ')
    w.sync()  # finished runs leave no marker: nothing is swept (nothing should be left)
    assert all(path.exists() for path in leftovers)
    (w.cache.root / RUNNING).touch()  # what a killed sync leaves
    w.sync()
    assert not any(path.exists() for path in leftovers)
    assert not (w.cache.root / RUNNING).exists()
    w.assert_in_sync()


# --- offline edits -----------------------------------------------------------------------

def test_offline_edits_are_kept_and_arrive_exactly_once(synced: World) -> None:
    w = synced
    notes = w.local(CID)["notes"]
    w.stop_server()

    added = w.cache.add_note(CID, "Written while offline", author="Desk Dana")
    w.cache.edit_note(CID, notes[0]["id"], "Edited while offline")
    w.cache.delete_note(CID, notes[1]["id"])
    profile = w.cache.load_profile(CID)
    assert profile is not None
    contacts = [c.model_copy(update={"label": "desk label"}) if c.kind == ContactKind.PHONE else c
                for c in profile.contacts]
    contacts.append(ContactPoint(id="cp_offline", kind=ContactKind.EMAIL,
                                 value="offline@example.com", label="new"))
    w.cache.update_details(CID, name="Offline Rename", company=profile.customer.company,
                           contacts=contacts)
    queued = len(w.cache.outbox.pending())
    assert queued >= 5

    with pytest.raises(Offline) as caught:
        w.sync()
    message = str(caught.value)
    assert "cannot reach the server" in message and f"127.0.0.1:{w.port}" in message
    assert "refused" in message and TOKEN not in message
    assert "cannot reach" in w.engine().state.last_error
    # Everything is still queued and still visible at the desk.
    assert len(w.cache.outbox.pending()) == queued
    local = w.local(CID)
    texts = {n["id"]: n["text"] for n in local["notes"]}
    assert texts[added.id] == "Written while offline"
    assert texts[notes[0]["id"]] == "Edited while offline"
    assert notes[1]["id"] not in texts
    assert local["customer"]["name"] == "Offline Rename"
    assert "cp_offline" in {c["id"] for c in local["contacts"]}
    assert {s["status"] for s in w.cache.local_changes(CID)} == {PENDING}

    w.start_server()  # the same store, on the same port
    report = w.sync()
    assert report.pushed == queued and report.conflicts == 0 and report.rejected == 0
    assert w.cache.outbox.items() == []
    w.assert_in_sync()
    server_notes = w.server_records(CID, RecordType.NOTE)
    assert [n["text"] for n in server_notes].count("Written while offline") == 1
    assert {n["id"]: n["text"] for n in server_notes}[notes[0]["id"]] == "Edited while offline"
    assert notes[1]["id"] not in {n["id"] for n in server_notes}
    assert w.server_records(CID, RecordType.CUSTOMER)[0]["name"] == "Offline Rename"
    server_contacts = {c["id"]: c for c in w.server_records(CID, RecordType.CONTACT)}
    assert server_contacts["cp_offline"]["value"] == "offline@example.com"
    assert all(c["label"] == "desk label" for c in server_contacts.values() if c["kind"] == "phone")
    again = w.sync()
    assert again.pushed == 0
    assert [n["text"] for n in w.server_records(CID, RecordType.NOTE)].count(
        "Written while offline") == 1


# --- conflicts ---------------------------------------------------------------------------

def _rename_at_desk(w: World, customer_id: str, name: str) -> None:
    profile = w.cache.load_profile(customer_id)
    assert profile is not None
    w.cache.update_details(customer_id, name=name, company=profile.customer.company,
                           contacts=list(profile.contacts))


def test_same_field_edited_on_both_sides_the_store_wins(synced: World) -> None:
    w = synced
    customer = w.server_records(CID, RecordType.CUSTOMER)[0]
    _rename_at_desk(w, CID, "Desk Name")
    w.store.upsert(RecordType.CUSTOMER, {**customer, "name": "Server Name"}, CID)

    report = w.sync()
    assert report.conflicts == 1
    assert w.local(CID)["customer"]["name"] == "Server Name"
    [item] = w.cache.outbox.items()
    assert item.status == CONFLICT and item.conflicts == ["name"]
    assert item.mutation.kind == MutationKind.CUSTOMER_UPDATE
    assert item.mutation.data["set"]["name"] == "Desk Name"
    assert item.current is not None and item.current["name"] == "Server Name"
    w.assert_in_sync()
    # The conflict waits for the agent: it is not sent again.
    assert w.sync().pushed == 0
    assert w.cache.outbox.items()[0].status == CONFLICT
    assert w.server_records(CID, RecordType.CUSTOMER)[0]["name"] == "Server Name"


def test_different_fields_edited_on_both_sides_both_apply(synced: World) -> None:
    w = synced
    customer = w.server_records(CID, RecordType.CUSTOMER)[0]
    _rename_at_desk(w, CID, "Desk Name")
    w.store.upsert(RecordType.CUSTOMER, {**customer, "company": "Server Company"}, CID)

    report = w.sync()
    assert report.conflicts == 0 and report.pushed == 1
    assert w.cache.outbox.items() == []
    local = w.local(CID)["customer"]
    assert (local["name"], local["company"]) == ("Desk Name", "Server Company")
    server = w.server_records(CID, RecordType.CUSTOMER)[0]
    assert (server["name"], server["company"]) == ("Desk Name", "Server Company")
    w.sync()
    w.assert_in_sync()


def test_notes_added_on_both_sides_both_survive(synced: World) -> None:
    w = synced
    mine = w.cache.add_note(CID, "from the desk")
    w.store.upsert(RecordType.NOTE, note("note_theirs", "from the server"), CID)
    report = w.sync()
    assert report.conflicts == 0
    w.sync()  # the desk's note comes back through the feed
    w.assert_in_sync()
    for ids in ({n["id"] for n in w.local(CID)["notes"]},
                {n["id"] for n in w.server_records(CID, RecordType.NOTE)}):
        assert {mine.id, "note_theirs"} <= ids


def test_note_edited_on_both_sides_is_a_kept_conflict(synced: World) -> None:
    w = synced
    target = w.local(CID)["notes"][0]
    w.cache.edit_note(CID, target["id"], "desk text")
    w.store.upsert(RecordType.NOTE, {**target, "text": "server text"}, CID)

    report = w.sync()
    assert report.conflicts == 1
    [item] = w.cache.outbox.items()
    assert item.status == CONFLICT and item.conflicts == ["text"]
    assert item.mutation.data["set"] == {"text": "desk text"}
    texts = {n["id"]: n["text"] for n in w.local(CID)["notes"]}
    assert texts[target["id"]] == "server text"
    w.assert_in_sync()
    w.sync()
    assert w.cache.outbox.items()[0].status == CONFLICT


# --- rejected ----------------------------------------------------------------------------

def test_rejected_edit_is_reverted_kept_and_sent_once(synced: World) -> None:
    w = synced
    before = w.local(CID)["customer"]["name"]
    _rename_at_desk(w, CID, "   ")  # the desk's model allows it; the store refuses it
    assert w.local(CID)["customer"]["name"] == "   "
    [item] = w.cache.outbox.items()

    with FaultProxy(w.url) as p:
        client = w.client(p.url)
        report = w.sync(client)
        assert report.rejected == 1
        [kept] = w.cache.outbox.items()
        assert kept.status == REJECTED and "name" in kept.reason
        assert w.local(CID)["customer"]["name"] == before  # reverted
        assert {r.name for r in w.cache.index_rows() if r.id == CID} == {before}
        assert w.sync(client).pushed == 0
        assert p.forwarded_mutation_ids() == [item.mutation.id]  # seen by the store once
    assert w.cache.outbox.items()[0].status == REJECTED
    w.assert_in_sync()


def test_edit_of_a_customer_the_store_erased_is_rejected(synced: World) -> None:
    w = synced
    w.cache.add_note(CID, "too late")
    w.store.erase_customer(CID)
    report = w.sync()
    assert report.rejected == 1
    [item] = w.cache.outbox.items()
    assert item.status == REJECTED and "no longer exists" in item.reason
    assert open_profile(w.cache, CID) is None
    assert CID not in customer_ids(w)
    w.assert_in_sync()


# --- merge, erase, epoch -----------------------------------------------------------------

def test_merge_moves_history_and_a_pending_note_follows(synced: World) -> None:
    w = synced
    a, b = "cus_000008", "cus_000012"
    a_entries = timeline_of(w.cache, a).total
    b_entries = timeline_of(w.cache, b).total
    a_notes = {n["id"] for n in w.local(a)["notes"]}
    pending = w.cache.add_note(a, "written on A before the merge was known")
    w.store.merge_customers(a, b)

    report = w.sync()
    assert report.applied.merged == {a: b}
    assert not w.cache.timeline_dir(a).exists()
    assert a not in customer_ids(w)
    assert open_profile(w.cache, a) is None
    assert timeline_of(w.cache, b).total == a_entries + b_entries
    assert_timeline_consistent(w.cache, b)
    local_b_notes = {n["id"] for n in w.local(b)["notes"]}
    assert a_notes | {pending.id} <= local_b_notes
    server_b_notes = [n["id"] for n in w.server_records(b, RecordType.NOTE)]
    assert server_b_notes.count(pending.id) == 1
    assert w.cache.outbox.items() == []
    w.assert_in_sync()
    with pytest.raises(RemoteError, match="merged into"):
        w.client().profile(a)


def test_erased_customer_leaves_the_cache_and_the_index(synced: World) -> None:
    w = synced
    w.store.erase_customer(CID)
    report = w.sync()
    assert CID in report.applied.removed
    assert not w.cache.timeline_dir(CID).exists()
    assert CID not in customer_ids(w)
    w.assert_in_sync()
    # Relationships pointing at the erased customer are gone everywhere.
    for row in w.cache.index_rows():
        assert CID not in {r["customer_id"] for r in w.local(row.id)["relationships"]}


def test_epoch_change_rebuilds_and_keeps_pending_edits(synced: World, first_sync_way: str) -> None:
    w = synced
    w.store.reset_epoch()
    made: list[str] = []
    filed: list[set[str]] = []  # the customer's notes once the rebuilt cache is filed

    def edit_during_pull(progress: Progress) -> None:
        # An edit made while the sync pulls: it is queued when the store turns out replaced.
        if progress.phase == "pulling" and not made:
            made.append(w.cache.add_note(CID, "made during the rebuild").id)
        if progress.phase == "saving" and progress.saved == progress.to_save:
            filed.append({n["id"] for n in w.local(CID)["notes"]})

    report = w.engine(on_progress=edit_during_pull).run()
    assert report.rebuilt
    # Filed with the pending note on it, before the push: never shown without it.
    assert filed and made[0] in filed[-1]
    assert made and w.cache.outbox.items() == []
    assert [n["id"] for n in w.server_records(CID, RecordType.NOTE)].count(made[0]) == 1
    assert made[0] in {n["id"] for n in w.local(CID)["notes"]}
    assert w.engine().state.epoch == w.store.epoch()
    w.assert_in_sync()


def test_a_new_store_on_the_same_address_rebuilds_the_cache(synced: World) -> None:
    w = synced
    pending = w.cache.add_note(CID, "queued for the old store")
    assert len(w.cache.outbox.pending()) == 1
    old_epoch = w.engine().state.epoch
    w.stop_server()
    fresh = open_store(w.tmp / "srv2")
    try:
        fresh.add_token(TOKEN, "agent")
        seed_demo(fresh, customers=10, big_entries=0)  # fewer customers than before
        with ServerThread(fresh, port=w.port):
            report = w.sync()
            assert report.rebuilt
            assert w.engine().state.epoch == fresh.epoch() != old_epoch
            assert customer_ids(w) == {f"cus_{n:06d}" for n in range(10)} | {
                demo.HOSTILE_ID, EVERYTHING_ID, ACTIVITY_ID}
            assert not w.cache.timeline_dir(BIG).exists()
            ids = [c.data["id"] for c in w.client().profile(CID).changes if c.type == "note"]
            assert ids.count(pending.id) == 1
            assert w.cache.outbox.items() == []
            w.assert_in_sync()
    finally:
        fresh.close()


# --- scope -------------------------------------------------------------------------------

def test_scope_includes_evicts_and_keeps_unconfirmed_edits(world: World, first_sync_way: str) -> None:
    w, store = world, world.store
    c1, c2, c3, c4 = "cus_000001", "cus_000002", "cus_000003", "cus_000004"
    store.set_scope(SCOPED_AGENT, [c1, c2, c3])
    client = w.client(token=SCOPED_TOKEN)

    def in_scope(ids: list[str]) -> None:
        assert customer_ids(w) == set(ids)
        snaps = [w.server_profile(c) for c in ids]
        assert w.cache_digest() == snapshot_digest(snaps)

    w.sync(client)
    in_scope([c1, c2, c3])

    store.set_scope(SCOPED_AGENT, [c1, c2, c4])
    report = w.sync(client)
    assert report.evicted == [c3]
    in_scope([c1, c2, c4])

    # c2 leaves the scope while the desk has a pending note on it: the note is pushed first,
    # then c2 is evicted in the same run.
    pending = w.cache.add_note(c2, "sent before eviction")
    store.set_scope(SCOPED_AGENT, [c1, c4])
    report = w.sync(client)
    assert c2 in report.evicted and report.pushed == 1
    assert [n["id"] for n in w.server_records(c2, RecordType.NOTE)].count(pending.id) == 1
    in_scope([c1, c4])

    # c1 leaves with an edit in conflict (it stays in the outbox): c1 is kept until the agent
    # settles it, then evicted on the next run.
    target = w.local(c1)["notes"][0]
    w.cache.edit_note(c1, target["id"], "desk text")
    store.upsert(RecordType.NOTE, {**target, "text": "server text"}, c1)
    store.set_scope(SCOPED_AGENT, [c4])
    report = w.sync(client)
    assert report.conflicts == 1 and c1 not in report.evicted
    assert open_profile(w.cache, c1) is not None
    assert w.engine(client).state.evict_later == [c1]
    [item] = w.cache.outbox.items()
    assert item.status == CONFLICT
    assert w.sync(client).evicted == []  # still kept: nothing of the agent's is lost
    w.cache.outbox.discard(item.mutation.id)
    report = w.sync(client)
    assert report.evicted == [c1]
    assert w.engine(client).state.evict_later == []
    in_scope([c4])


# --- bad records, cursor, fetch ----------------------------------------------------------

def test_a_record_that_fails_validation_is_skipped_and_the_rest_applies(synced: World) -> None:
    w, store = synced, synced.store
    customer = w.server_records(CID, RecordType.CUSTOMER)[0]
    store.upsert(RecordType.CUSTOMER, {**customer, "name": "Still Applied"}, CID)
    # A record written behind the store's validation (as a buggy or newer store might).
    with store._write() as tx:
        tx.put(RecordType.NOTE, "note_broken", CID, json.dumps({"id": "note_broken"}))
    store.upsert(RecordType.NOTE, note("note_after", "after the broken one"), CID)

    report = w.sync()
    [reason] = report.applied.skipped
    assert "note note_broken" in reason and CID in reason and "text" in reason
    assert "1 bad records skipped" in report.summary()
    local = w.local(CID)
    assert local["customer"]["name"] == "Still Applied"
    assert "note_after" in {n["id"] for n in local["notes"]}
    assert "note_broken" not in {n["id"] for n in local["notes"]}
    # Once the store holds the record in a valid form again, it arrives.
    store.upsert(RecordType.NOTE, note("note_broken", "fixed"), CID)
    assert not w.sync().applied.skipped
    w.assert_in_sync()


def test_the_cursor_is_saved_after_each_page_and_a_cut_sync_resumes(world: World) -> None:
    w = world
    saved: list[str | None] = []

    def after_page(progress: Progress) -> None:
        if progress.phase == "pulling" and progress.changes:
            saved.append(w.cache.sync_state()["cursor"])

    with FaultProxy(w.url) as p:
        w.engine(w.client(p.url), on_progress=after_page, batch=1).run()
        answers = [json.loads(s.answer) for s in p.requests("/v1/changes")]
    assert len(saved) == len(answers) > 1
    assert saved == [a["next_cursor"] for a in answers]  # each page's cursor, once it applied

    # Far behind, pages are applied a few at a time: the cursor moves once per batch, to the
    # last page of the batch, and only after the batch applied.
    saved.clear()
    w.cache.close()
    w.cache = Cache.open(w.tmp / "batched")
    with FaultProxy(w.url) as p:
        w.engine(w.client(p.url), on_progress=after_page, batch=3 * PAGE).run()
        answers = [json.loads(s.answer) for s in p.requests("/v1/changes")]
    cursors = [a["next_cursor"] for a in answers]
    assert 1 < len(saved) < len(answers)
    assert saved == [c for i, c in enumerate(cursors) if (i + 1) % 3 == 0 or i == len(cursors) - 1]
    w.assert_in_sync()

    # A sync cut after its first page (every later request fails) keeps every page that
    # arrived (the feed is read a page ahead) and resumes after the last of them.
    w2_root = w.tmp / "cache2"
    with Cache.open(w2_root) as cache2, FaultProxy(w.url) as p:
        engine = SyncEngine(cache2, w.client(p.url), page_size=PAGE, batch=1)

        def cut(progress: Progress) -> None:
            if progress.phase == "pulling" and progress.changes and not p.rules:
                p.add("drop_before", "/v1/changes", times=None)  # the network goes away

        engine.on_progress = cut
        with pytest.raises(Offline):
            engine.run()
        assert not [t for t in threading.enumerate() if t.name == "agentdesk-feed"]  # stopped
        after_one = SyncState.load(w2_root).cursor
        arrived = [json.loads(r.answer)["next_cursor"] for r in p.requests("/v1/changes") if r.answer]
        assert after_one == arrived[-1] and len(arrived) < len(answers)
        p.clear()
        before = len(p.requests("/v1/changes"))
        engine.on_progress = lambda progress: None
        engine.run()
        resumed = p.requests("/v1/changes")[before]
        assert resumed.params["cursor"] == [after_one]
        assert cache_digest(cache2) == w.server_digest()


def test_search_and_fetch_a_customer_not_cached_yet(world: World) -> None:
    w = world
    client = w.client()
    hits = client.search("Beatrix").hits
    assert [h.id for h in hits] == [BIG]
    engine = w.engine(client)
    assert open_profile(w.cache, BIG) is None
    applied = engine.fetch(BIG)
    assert applied.changes > 600 and not applied.skipped
    loaded = open_profile(w.cache, BIG)
    assert loaded is not None
    profile, timeline = loaded
    assert profile.customer.name == "Beatrix Longhistory" and timeline.total == 600
    assert_timeline_consistent(w.cache, BIG)
    assert {r.id for r in w.cache.index_rows()} == {BIG}
    with pytest.raises(RemoteError, match="404"):
        engine.fetch("cus_nobody")
    # A later full sync takes it from there.
    w.sync(client)
    w.assert_in_sync()
