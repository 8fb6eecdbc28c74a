"""Round trips of the entry edits between a desk and a real store on 127.0.0.1: a feedback
item reassigned to another customer or unlinked, a survey response ignored and tagged; shown
at once on the desk, pushed, filed back from the feed, desk and store in sync; a rejected or
conflicting edit undone on the desk."""

from __future__ import annotations

from typing import Any

from support.sync_world import World, assert_timeline_consistent, read_all_entries

from agentdesk.cache.outbox import CONFLICT, REJECTED
from agentdesk.model.demo_activity import ACTIVITY_ID
from agentdesk.model.protocol import RecordType

OTHER = "cus_000003"


def position_of(w: World, customer_id: str, kind: str) -> tuple[int, dict[str, Any]]:
    entries = read_all_entries(w.cache, customer_id)
    position = next(p for p, e in enumerate(entries) if e["kind"] == kind)
    return position, w.cache.entry_doc(customer_id, position)


def ids(w: World, customer_id: str) -> set[str]:
    return {e["id"] for e in read_all_entries(w.cache, customer_id)}


def server_ids(w: World, customer_id: str) -> set[str]:
    return {e["id"] for e in w.server_records(customer_id, RecordType.ENTRY)}


def test_feedback_reassigned_on_the_desk_moves_on_the_store(synced: World) -> None:
    w = synced
    _, item = position_of(w, ACTIVITY_ID, "feedback")
    m = w.cache.reassign_feedback(ACTIVITY_ID, item, OTHER)
    new_id = m.data["new_id"]
    # At once on the desk: gone from the activity customer's timeline, in the other customer's.
    assert item["id"] not in ids(w, ACTIVITY_ID) and new_id in ids(w, OTHER)
    report = w.sync()
    assert report.pushed == 1 and report.rejected == 0
    assert item["id"] not in server_ids(w, ACTIVITY_ID) and new_id in server_ids(w, OTHER)
    # The desk's own edit coming back is no news for the activity customer (the other customer's is).
    assert report.applied.customers.get(ACTIVITY_ID, 0) == 0
    w.sync()
    w.assert_in_sync()
    assert not w.cache.outbox.items()
    moved = next(e for e in read_all_entries(w.cache, OTHER) if e["id"] == new_id)
    assert moved["body"] == item["body"] and moved["kind"] == "feedback"
    assert_timeline_consistent(w.cache, ACTIVITY_ID)
    assert_timeline_consistent(w.cache, OTHER)


def test_feedback_unlinked_leaves_both_timelines(synced: World) -> None:
    w = synced
    _, item = position_of(w, ACTIVITY_ID, "feedback")
    w.cache.unlink_feedback(ACTIVITY_ID, item)
    assert item["id"] not in ids(w, ACTIVITY_ID)
    w.sync()
    assert item["id"] not in server_ids(w, ACTIVITY_ID)
    w.sync()
    w.assert_in_sync()


def test_response_ignored_and_tagged_round_trip(synced: World) -> None:
    w = synced
    _, response = position_of(w, ACTIVITY_ID, "response")
    w.cache.update_response(ACTIVITY_ID, response, ignored=True)
    _, again = position_of(w, ACTIVITY_ID, "response")
    w.cache.update_response(ACTIVITY_ID, again, tags=[*again["details"]["tags"], "vip"])
    local = next(e for e in read_all_entries(w.cache, ACTIVITY_ID) if e["id"] == response["id"])
    assert local["details"]["ignored"] is True and "vip" in local["details"]["tags"]
    report = w.sync()
    assert report.pushed == 2 and report.conflicts == 0
    stored = next(e for e in w.server_records(ACTIVITY_ID, RecordType.ENTRY) if e["id"] == response["id"])
    assert stored["details"]["ignored"] is True and "vip" in stored["details"]["tags"]
    w.sync()
    w.assert_in_sync()


def test_a_reassign_the_store_rejects_is_undone_on_the_desk(synced: World) -> None:
    w = synced
    _, item = position_of(w, ACTIVITY_ID, "feedback")
    w.cache.reassign_feedback(ACTIVITY_ID, item, "cus_not_there")
    assert item["id"] not in ids(w, ACTIVITY_ID)
    report = w.sync()
    assert report.rejected == 1
    [queued] = w.cache.outbox.items()
    assert queued.status == REJECTED and "does not exist" in queued.reason
    assert item["id"] in ids(w, ACTIVITY_ID)  # back where it was
    w.cache.resolve(queued.mutation.id, keep=False)
    w.sync()
    w.assert_in_sync()


def test_tags_changed_on_the_store_meanwhile_are_a_conflict_the_store_wins(synced: World) -> None:
    w = synced
    _, response = position_of(w, ACTIVITY_ID, "response")
    w.cache.update_response(ACTIVITY_ID, response, tags=["desk"])
    stored = next(e for e in w.server_records(ACTIVITY_ID, RecordType.ENTRY) if e["id"] == response["id"])
    w.store.upsert(RecordType.ENTRY, {**stored, "details": {**stored["details"], "tags": ["store"]}},
                   ACTIVITY_ID)
    report = w.sync()
    assert report.conflicts == 1
    [queued] = w.cache.outbox.items()
    assert queued.status == CONFLICT and queued.conflicts == ["tags"]
    local = next(e for e in read_all_entries(w.cache, ACTIVITY_ID) if e["id"] == response["id"])
    assert local["details"]["tags"] == ["store"]
    w.cache.resolve(queued.mutation.id, keep=True)  # keep mine: sent again on the store's version
    local = next(e for e in read_all_entries(w.cache, ACTIVITY_ID) if e["id"] == response["id"])
    assert local["details"]["tags"] == ["desk"]
    w.sync()
    w.sync()
    stored = next(e for e in w.server_records(ACTIVITY_ID, RecordType.ENTRY) if e["id"] == response["id"])
    assert stored["details"]["tags"] == ["desk"]
    w.assert_in_sync()


def test_a_conversation_started_from_a_response_round_trip(synced: World) -> None:
    w = synced
    _, response = position_of(w, ACTIVITY_ID, "response")
    m = w.cache.start_conversation_from_response(ACTIVITY_ID, response, "Desk Dana")
    local = w.local(ACTIVITY_ID)
    assert m.target in {c["id"] for c in local["conversations"]}
    note = next(e for e in read_all_entries(w.cache, ACTIVITY_ID) if e["conversation_id"] == m.target)
    assert note["direction"] == "internal" and response["details"]["campaign"] in note["body"]
    report = w.sync()
    assert report.pushed == 1 and report.rejected == 0
    assert m.target in {c["id"] for c in w.server_records(ACTIVITY_ID, RecordType.CONVERSATION)}
    assert note["id"] in server_ids(w, ACTIVITY_ID)
    w.sync()
    w.assert_in_sync()
    assert_timeline_consistent(w.cache, ACTIVITY_ID)


def test_a_conversation_start_the_store_rejects_is_undone(synced: World) -> None:
    """A rejection (injected as the store's answer) takes the conversation and its note off
    the desk again; the edit waits, rejected, for the agent."""
    from agentdesk.model.protocol import MutationResult, MutationStatus
    from agentdesk.sync.replica import Replica

    w = synced
    _, response = position_of(w, ACTIVITY_ID, "response")
    m = w.cache.start_conversation_from_response(ACTIVITY_ID, response, "Desk Dana")
    note_ids = {e["id"] for e in read_all_entries(w.cache, ACTIVITY_ID) if e["conversation_id"] == m.target}
    assert note_ids
    [item] = w.cache.outbox.items()
    Replica(w.cache).record_result(item, MutationResult(id=m.id, status=MutationStatus.REJECTED,
                                                        reason="no"))
    assert m.target not in {c["id"] for c in w.local(ACTIVITY_ID)["conversations"]}
    assert not note_ids & ids(w, ACTIVITY_ID)
    [item] = w.cache.outbox.items()
    assert item.status == REJECTED
    w.cache.resolve(m.id, keep=False)
    w.sync()
    w.assert_in_sync()
