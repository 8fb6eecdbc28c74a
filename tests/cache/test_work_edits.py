"""Working conversations in the cache: each edit checked first, queued, applied through the
one door; the queue's rows kept up to date; canned replies and agents kept; schema 5."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentdesk.cache.cache import Cache
from agentdesk.cache.edits import revert
from agentdesk.cache.files import CacheError, read_json
from agentdesk.cache.queue_index import queue_order
from agentdesk.cache.schema import SCHEMA
from agentdesk.model import demo
from agentdesk.model.kinds import ConversationStatus, Priority
from agentdesk.model.protocol import MutationKind
from agentdesk.model.records import AgentInfo, CannedReply, ContactPoint, Relationship
from support.cache_reading import timeline_of

CUSTOMER = "cus_000003"


def _conv(cache: Cache, customer_id: str, conversation_id: str) -> dict:
    profile = cache.load_profile(customer_id)
    assert profile is not None
    return next(c.model_dump(mode="json") for c in profile.conversations if c.id == conversation_id)


def _open_conversation(cache: Cache, customer_id: str = CUSTOMER) -> str:
    profile = cache.load_profile(customer_id)
    assert profile is not None
    return profile.conversations[-1].id


def _rows(cache: Cache, conversation_id: str) -> list:
    return [r for r in cache.queue_rows() if r.conversation_id == conversation_id]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "lock"}


def _future(hours: int = 5) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


# -- conversation.update ---------------------------------------------------------------------


def test_status_and_assignee_change_queue_and_profile_at_once(demo_cache: Cache) -> None:
    conv_id = _open_conversation(demo_cache)
    before = _conv(demo_cache, CUSTOMER, conv_id)
    demo_cache.update_conversation(CUSTOMER, conv_id, status=ConversationStatus.OPEN,
                                   assignee="Jo Park", priority=Priority.URGENT)
    after = _conv(demo_cache, CUSTOMER, conv_id)
    assert (after["status"], after["assignee"], after["priority"]) == ("open", "Jo Park", "urgent")
    [item] = demo_cache.outbox.pending(CUSTOMER)
    m = item.mutation
    assert m.kind == MutationKind.CONVERSATION_UPDATE and m.target == conv_id
    changed = {k for k in ("status", "assignee", "priority") if before[k] != after[k]}
    assert set(m.data["set"]) == changed
    assert m.data["base"] == {k: before[k] for k in changed}
    [row] = _rows(demo_cache, conv_id)
    assert (row.status, row.assignee, row.priority) == (ConversationStatus.OPEN, "Jo Park",
                                                        Priority.URGENT)
    # Closing takes it out of the queue, on disk too.
    demo_cache.update_conversation(CUSTOMER, conv_id, status="closed")
    assert _conv(demo_cache, CUSTOMER, conv_id)["ended"] is not None
    assert not _rows(demo_cache, conv_id)
    with Cache.open(demo_cache.root) as again:  # read-only (we hold the lock): from disk
        assert not [r for r in again.queue_rows() if r.conversation_id == conv_id]


def test_snooze_needs_a_future_time_and_leaving_it_clears_the_time(demo_cache: Cache) -> None:
    conv_id = _open_conversation(demo_cache)
    files = _files(demo_cache.root)
    for bad in ({"status": "snoozed"}, {"status": "snoozed", "snoozed_until": _future(-1)},
                {"snoozed_until": _future()}, {"status": "sleeping"}, {"colour": "red"},
                {"topic": "   "}):
        with pytest.raises(CacheError):
            demo_cache.update_conversation(CUSTOMER, conv_id, **bad)
    assert _files(demo_cache.root) == files  # nothing written
    until = _future()
    demo_cache.update_conversation(CUSTOMER, conv_id, status="snoozed", snoozed_until=until)
    [row] = _rows(demo_cache, conv_id)
    assert row.status == ConversationStatus.SNOOZED and row.snoozed_until == until.replace(
        microsecond=until.microsecond)
    demo_cache.update_conversation(CUSTOMER, conv_id, status="open")
    assert _conv(demo_cache, CUSTOMER, conv_id)["snoozed_until"] is None


def test_an_assignee_the_store_does_not_list_is_refused(demo_cache: Cache) -> None:
    conv_id = _open_conversation(demo_cache)
    demo_cache.save_agents([AgentInfo(name="Jo Park"), AgentInfo(name="Sam Rivera")], "Sam Rivera")
    with pytest.raises(CacheError, match="No agent"):
        demo_cache.update_conversation(CUSTOMER, conv_id, assignee="Nobody")
    assert not demo_cache.outbox.items()
    demo_cache.update_conversation(CUSTOMER, conv_id, assignee="")  # unassigned is fine
    assert _conv(demo_cache, CUSTOMER, conv_id)["assignee"] == ""


def test_an_unchanged_value_queues_nothing(demo_cache: Cache) -> None:
    conv_id = _open_conversation(demo_cache)
    current = _conv(demo_cache, CUSTOMER, conv_id)
    demo_cache.update_conversation(CUSTOMER, conv_id, topic=current["topic"])
    assert not demo_cache.outbox.items()


def test_a_rejected_update_is_undone(demo_cache: Cache) -> None:
    conv_id = _open_conversation(demo_cache)
    before = _conv(demo_cache, CUSTOMER, conv_id)
    demo_cache.update_conversation(CUSTOMER, conv_id, status="closed", tags=["vip", " ", "vip"])
    assert _conv(demo_cache, CUSTOMER, conv_id)["tags"] == ["vip"]
    [item] = demo_cache.outbox.items()
    with demo_cache.change_profile(CUSTOMER) as profile:
        revert(profile, item.mutation)
    after = _conv(demo_cache, CUSTOMER, conv_id)
    assert {k: after[k] for k in ("status", "tags", "ended")} == \
        {k: before[k] for k in ("status", "tags", "ended")}
    assert _rows(demo_cache, conv_id) or before["status"] == "closed"


# -- reply.add -----------------------------------------------------------------------------


def test_a_reply_is_in_the_timeline_at_once_and_pending(demo_cache: Cache) -> None:
    conv_id = _open_conversation(demo_cache)
    total = timeline_of(demo_cache, CUSTOMER).total
    entry_id = demo_cache.add_reply(CUSTOMER, conv_id, "Hello [bold]Ada[/]\nsecond line",
                                    "Sam Rivera")
    timeline = timeline_of(demo_cache, CUSTOMER)
    assert timeline.total == total + 1
    last = timeline.chunk(len(timeline.summary.chunk_sizes) - 1)[-1]
    assert (last.id, last.direction.value, last.body) == (entry_id, "outbound",
                                                          "Hello [bold]Ada[/]\nsecond line")
    conv = _conv(demo_cache, CUSTOMER, conv_id)
    assert last.channel.value == conv["channels"][0]
    assert conv["last_line"] == "Hello [bold]Ada[/]" and conv["waiting_since"] is None
    assert entry_id in {i.mutation.target for i in demo_cache.outbox.pending(CUSTOMER)}
    assert entry_id in demo_cache.pending_targets(CUSTOMER)
    [row] = _rows(demo_cache, conv_id)
    assert row.last_line == "Hello [bold]Ada[/]" and row.waiting_since is None
    # Undone when the store rejects it.
    [item] = demo_cache.outbox.items()
    with demo_cache.change_profile(CUSTOMER) as profile:
        revert(profile, item.mutation)
    assert timeline_of(demo_cache, CUSTOMER).total == total


def test_an_internal_note_is_in_the_timeline_at_once_pending_and_undone(demo_cache: Cache) -> None:
    conv_id = _open_conversation(demo_cache)
    before = _conv(demo_cache, CUSTOMER, conv_id)
    total = timeline_of(demo_cache, CUSTOMER).total
    entry_id = demo_cache.add_reply(CUSTOMER, conv_id, "Called [bold]her[/]\nno answer",
                                    "Sam Rivera", note=True)
    timeline = timeline_of(demo_cache, CUSTOMER)
    last = timeline.chunk(len(timeline.summary.chunk_sizes) - 1)[-1]
    assert (last.id, last.channel.value, last.direction.value, last.body, last.subject) == \
        (entry_id, "note", "internal", "Called [bold]her[/]\nno answer", "")
    conv = _conv(demo_cache, CUSTOMER, conv_id)
    assert conv["last_line"] == "Called [bold]her[/]"
    assert {k: conv[k] for k in ("status", "waiting_since")} == \
        {k: before[k] for k in ("status", "waiting_since")}  # the customer still waits
    [item] = demo_cache.outbox.items()
    assert (item.mutation.kind, item.mutation.target, item.status) == \
        ("reply.add", entry_id, "pending")
    [row] = _rows(demo_cache, conv_id)
    assert row.last_line == "Called [bold]her[/]"
    with demo_cache.change_profile(CUSTOMER) as profile:
        revert(profile, item.mutation)
    assert timeline_of(demo_cache, CUSTOMER).total == total


def test_a_reply_to_a_long_timeline_rewrites_one_chunk(demo_cache: Cache) -> None:
    conv_id = _open_conversation(demo_cache, demo.BIG_ID)
    folder = demo_cache.timeline_dir(demo.BIG_ID)
    files_before = {p.name for p in folder.iterdir()}
    total = timeline_of(demo_cache, demo.BIG_ID).total
    demo_cache.add_reply(demo.BIG_ID, conv_id, "On it.", "Sam Rivera")
    files_after = {p.name for p in folder.iterdir()}
    assert len(files_before - files_after) == 1  # the replaced chunk is gone, no stray left
    assert len(files_after) == len(files_before)
    assert timeline_of(demo_cache, demo.BIG_ID).total == total + 1


def test_an_empty_reply_or_unknown_conversation_is_refused(demo_cache: Cache) -> None:
    conv_id = _open_conversation(demo_cache)
    files = _files(demo_cache.root)
    with pytest.raises(CacheError, match="needs text"):
        demo_cache.add_reply(CUSTOMER, conv_id, " \n ", "Sam Rivera")
    with pytest.raises(CacheError, match="not in this customer"):
        demo_cache.add_reply(CUSTOMER, "conv_nope", "hi", "Sam Rivera")
    assert _files(demo_cache.root) == files


def test_a_reply_reopens_a_closed_conversation_as_pending(demo_cache: Cache) -> None:
    profile = demo_cache.load_profile(demo.BIG_ID)
    closed = next(c for c in profile.conversations if c.status == ConversationStatus.CLOSED)
    demo_cache.add_reply(demo.BIG_ID, closed.id, "One more thing.", "Sam Rivera")
    conv = _conv(demo_cache, demo.BIG_ID, closed.id)
    assert conv["status"] == "pending" and conv["ended"] is None
    assert _rows(demo_cache, closed.id)


# -- conversation.start, customer.create ------------------------------------------------------


def test_start_a_conversation(demo_cache: Cache) -> None:
    demo_cache.save_agents([AgentInfo(name="Sam Rivera")], "Sam Rivera")
    conv_id = demo_cache.start_conversation(CUSTOMER, "Refund", "sms", "Your refund is on its way",
                                            "Sam Rivera")
    conv = _conv(demo_cache, CUSTOMER, conv_id)
    assert (conv["topic"], conv["channels"], conv["status"], conv["assignee"]) == \
        ("Refund", ["sms"], "pending", "Sam Rivera")
    assert conv["last_line"] == "Your refund is on its way"
    timeline = timeline_of(demo_cache, CUSTOMER)
    assert conv_id in timeline.summary.starts
    [row] = _rows(demo_cache, conv_id)
    assert row.assignee == "Sam Rivera"
    for topic, channel, body in (("", "sms", "x"), ("T", "pigeon", "x"), ("T", "sms", "")):
        with pytest.raises(CacheError):
            demo_cache.start_conversation(CUSTOMER, topic, channel, body, "Sam Rivera")
    assert len(demo_cache.outbox.items()) == 1


def test_create_a_customer(demo_cache: Cache) -> None:
    files = _files(demo_cache.root)
    with pytest.raises(CacheError, match="at least one contact"):
        demo_cache.create_customer("Ada Lovelace", "", [])
    with pytest.raises(CacheError, match="name"):
        demo_cache.create_customer("  ", "", [ContactPoint(kind="email", value="a@example.com")])
    assert _files(demo_cache.root) == files
    customer_id = demo_cache.create_customer(
        "Ada Lovelace", "Analytical", [ContactPoint(kind="email", value="ada@example.com")])
    profile = demo_cache.load_profile(customer_id)
    assert profile.customer.name == "Ada Lovelace" and profile.contacts[0].value == "ada@example.com"
    assert any(r.id == customer_id for r in demo_cache.index_rows())
    [item] = demo_cache.outbox.pending(customer_id)
    assert item.mutation.kind == MutationKind.CUSTOMER_CREATE


# -- relationships ------------------------------------------------------------------------------


def test_relationships_add_change_remove(demo_cache: Cache) -> None:
    rel = Relationship(customer_id="cus_000004", label="spouse", name="Someone")
    demo_cache.put_relationship(CUSTOMER, rel)
    assert any(r.id == rel.id for r in demo_cache.load_profile(CUSTOMER).relationships)
    row = next(r for r in demo_cache.index_rows() if r.id == CUSTOMER)
    assert ["cus_000004", "spouse"] in row.related
    demo_cache.put_relationship(CUSTOMER, rel.model_copy(update={"label": "partner"}))
    assert next(r for r in demo_cache.load_profile(CUSTOMER).relationships
                if r.id == rel.id).label == "partner"
    with pytest.raises(CacheError, match="themselves"):
        demo_cache.put_relationship(CUSTOMER, Relationship(customer_id=CUSTOMER, label="self"))
    demo_cache.delete_relationship(CUSTOMER, rel.id)
    assert all(r.id != rel.id for r in demo_cache.load_profile(CUSTOMER).relationships)
    with pytest.raises(CacheError, match="no longer exists"):
        demo_cache.delete_relationship(CUSTOMER, rel.id)
    kinds = [i.mutation.kind for i in demo_cache.outbox.items()]
    assert kinds == [MutationKind.RELATIONSHIP_UPSERT] * 2 + [MutationKind.RELATIONSHIP_DELETE]


# -- customer.erase ---------------------------------------------------------------------------


def test_erase_needs_the_name_then_leaves_nothing(demo_cache: Cache) -> None:
    customer_id = demo.BIG_ID
    name = demo_cache.load_profile(customer_id).customer.name
    assert _rows(demo_cache, _open_conversation(demo_cache, customer_id)) or True
    demo_cache.mark_viewed(customer_id)
    with pytest.raises(CacheError, match="not the customer's name"):
        demo_cache.erase_customer(customer_id, "Someone Else")
    assert demo_cache.load_profile(customer_id) is not None
    demo_cache.erase_customer(customer_id, f"  {name} ")
    assert demo_cache.load_profile(customer_id) is None
    assert not demo_cache.profile_path(customer_id).exists()
    assert not demo_cache.timeline_dir(customer_id).exists()
    assert all(r.id != customer_id for r in demo_cache.index_rows())
    assert all(r.customer_id != customer_id for r in demo_cache.queue_rows())
    assert customer_id not in demo_cache.recent()
    [item] = demo_cache.outbox.pending(customer_id)
    assert item.mutation.kind == MutationKind.CUSTOMER_ERASE


def test_a_hostile_name_is_confirmed_as_shown(demo_cache: Cache) -> None:
    from agentdesk.model.sanitize import clean_line

    name = demo_cache.load_profile(demo.HOSTILE_ID).customer.name
    demo_cache.erase_customer(demo.HOSTILE_ID, clean_line(name))
    assert demo_cache.load_profile(demo.HOSTILE_ID) is None


# -- the queue ----------------------------------------------------------------------------------


def test_queue_rows_mine_first_then_unassigned_oldest_waiting_first(demo_cache: Cache) -> None:
    rows = queue_order(demo_cache.queue_rows(), "Sam Rivera")
    assert rows and all(r.status != ConversationStatus.CLOSED for r in rows)
    groups = [0 if r.assignee == "Sam Rivera" else 1 if not r.assignee else 2 for r in rows]
    assert groups == sorted(groups) and 0 in groups and 1 in groups
    mine = [r for r in rows if r.assignee == "Sam Rivera"]
    waiting = [r.waiting_since for r in mine if r.waiting_since is not None]
    assert waiting == sorted(waiting) and len(waiting) < len(mine)
    assert mine[:len(waiting)] == [r for r in mine if r.waiting_since is not None]


def test_the_queue_matches_the_profiles_after_many_edits(demo_cache: Cache) -> None:
    for customer_id in ("cus_000001", "cus_000002", CUSTOMER):
        conv_id = _open_conversation(demo_cache, customer_id)
        demo_cache.add_reply(customer_id, conv_id, "Hi", "Sam Rivera")
        demo_cache.update_conversation(customer_id, conv_id, assignee="Alex Kim")
    expected = sorted(
        (r["customer_id"], r["conversation_id"], r["assignee"], r["last_line"])
        for row in demo_cache.index_rows()
        for r in __import__("agentdesk.cache.queue_index", fromlist=["x"]).rows_of_tables(
            read_json(demo_cache.profile_path(row.id)) or {}))
    got = sorted((r.customer_id, r.conversation_id, r.assignee, r.last_line)
                 for r in demo_cache.queue_rows())
    assert got == expected
    with Cache.open(demo_cache.root) as again:  # read from disk
        assert sorted((r.customer_id, r.conversation_id, r.assignee, r.last_line)
                      for r in again.queue_rows()) == expected


# -- canned replies and agents --------------------------------------------------------------------


def test_canned_replies_and_agents_are_kept(empty_cache: Cache) -> None:
    assert empty_cache.canned_replies() == [] and empty_cache.agents() == []
    assert empty_cache.me() == ""
    replies = [CannedReply(id="c2", title="Refund", body="Hi {customer.first_name}"),
               CannedReply(id="c1", title="apology", body="Sorry, {agent.name} here")]
    empty_cache.save_canned_replies(replies)
    empty_cache.save_agents([AgentInfo(name="jo", display_name="Jo Park")], "jo")
    with Cache.open(empty_cache.root) as again:
        assert [r.id for r in again.canned_replies()] == ["c1", "c2"]
        assert again.agents() == [AgentInfo(name="jo", display_name="Jo Park")]
        assert again.me() == "jo"
    assert oct((empty_cache.root / "canned.json").stat().st_mode & 0o777) == "0o600"


# -- schema 5 -----------------------------------------------------------------------------------


def test_a_schema_4_cache_gets_its_queue_and_waiting_reads_as_pending(
        demo_template: Path, tmp_path: Path) -> None:
    root = tmp_path / "old"
    shutil.copytree(demo_template, root)
    (root / "lock").unlink(missing_ok=True)
    with Cache.open(root) as cache:
        expected = sorted((r.customer_id, r.conversation_id) for r in cache.queue_rows())
        conv_id = _open_conversation(cache)
    # As schema 4 left it: no queue, and a conversation stored as "waiting".
    shutil.rmtree(root / "queue")
    path = next(root.glob("customers/*/" + CUSTOMER + ".json"))
    data = json.loads(path.read_bytes())
    for doc in data["conversations"].values():
        if doc["id"] == conv_id:
            doc["status"] = "waiting"
    path.write_text(json.dumps(data))
    (root / "meta.json").write_text(json.dumps({"meta": {"1": {"schema": 4}}}))
    with Cache.open(root) as cache:
        assert read_json(root / "meta.json")["meta"]["1"]["schema"] == SCHEMA >= 6
        rows = {(r.customer_id, r.conversation_id): r for r in cache.queue_rows()}
        assert sorted(set(rows) | {(CUSTOMER, conv_id)}) == sorted(
            set(expected) | {(CUSTOMER, conv_id)})
        assert rows[(CUSTOMER, conv_id)].status == ConversationStatus.PENDING
        view, _ = cache.view_profile(CUSTOMER)
        assert next(c for c in view.conversations if c.id == conv_id).status == \
            ConversationStatus.PENDING
        assert _conv(cache, CUSTOMER, conv_id)["status"] == "pending"
        # And it can be worked on.
        cache.update_conversation(CUSTOMER, conv_id, status="open")
        assert _conv(cache, CUSTOMER, conv_id)["status"] == "open"
