"""The queue's order, filters and "next" (ui/queue_order.py), and reply placeholders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agentdesk.ui import placeholders
from agentdesk.ui.queue_order import QueueFilter, after, ordered, sort_key, waited

NOW = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


@dataclass
class R:
    conversation_id: str
    assignee: str = ""
    waiting_since: datetime | None = None
    started: datetime | None = NOW - timedelta(days=3)
    status: str = "open"
    channel: str = "email"
    topic: str = "Billing"
    snoozed_until: datetime | None = None
    customer_id: str = "cus"


def ids(rows: list) -> list[str]:  # type: ignore[type-arg]
    return [r.conversation_id for r in rows]


def test_mine_first_then_unassigned_oldest_waiting_first() -> None:
    rows = [
        R("other", assignee="Bo", waiting_since=NOW - timedelta(days=9)),
        R("free-new", waiting_since=NOW - timedelta(hours=1)),
        R("mine-answered", assignee="Me", started=NOW - timedelta(days=30)),
        R("mine-new", assignee="Me", waiting_since=NOW - timedelta(hours=2)),
        R("mine-old", assignee="Me", waiting_since=NOW - timedelta(days=2)),
        R("free-old", waiting_since=NOW - timedelta(days=1)),
    ]
    assert ids(ordered(rows, "Me", QueueFilter(), NOW)) == [
        "mine-old", "mine-new", "mine-answered", "free-old", "free-new"]
    assert ids(ordered(rows, "Me", QueueFilter(who="unassigned"), NOW)) == ["free-old", "free-new"]
    assert ids(ordered(rows, "Me", QueueFilter(who="all"), NOW))[-1] == "other"


def test_filters_status_channel_topic_and_snoozed_until_its_time() -> None:
    rows = [
        R("chat", channel="chat"), R("pending", status="pending"),
        R("refund", topic="Refund for order 12"),
        R("sleeping", status="snoozed", snoozed_until=NOW + timedelta(hours=1)),
        R("woken", status="snoozed", snoozed_until=NOW - timedelta(minutes=1)),
        R("closed", status="closed"),
    ]
    assert set(ids(ordered(rows, "", QueueFilter(), NOW))) == {"chat", "pending", "refund", "woken"}
    assert ids(ordered(rows, "", QueueFilter(channel="chat"), NOW)) == ["chat"]
    assert ids(ordered(rows, "", QueueFilter(status="pending"), NOW)) == ["pending"]
    assert ids(ordered(rows, "", QueueFilter(topic="REFUND"), NOW)) == ["refund"]
    assert set(ids(ordered(rows, "", QueueFilter(status="snoozed"), NOW))) == {"sleeping", "woken"}


def test_next_after_the_current_one_even_when_it_left_the_queue() -> None:
    rows = [R(f"c{i}", waiting_since=NOW - timedelta(hours=10 - i)) for i in range(4)]
    queue = ordered(rows, "", QueueFilter(), NOW)
    assert after(queue, "", None, None).conversation_id == "c0"
    assert after(queue, "", "c1", sort_key(queue[1], "")).conversation_id == "c2"
    assert after(queue, "", "c3", sort_key(queue[3], "")) is None
    # c1 answered meanwhile (gone from the queue): the one that sorted after it comes next.
    key = sort_key(queue[1], "")
    assert after([r for r in queue if r.conversation_id != "c1"], "", "c1", key).conversation_id == "c2"


def test_waited() -> None:
    assert waited(None, NOW) == "—"
    assert waited(NOW - timedelta(minutes=45), NOW) == "45 min"
    assert waited(NOW - timedelta(hours=2, minutes=5), NOW) == "2 h"
    assert waited(NOW - timedelta(days=3), NOW) == "3 d"


def test_placeholders_filled_and_unknown_ones_found() -> None:
    known = placeholders.values("Ada Lovelace", "Sam Agent", "Refund")
    text = "Hi {customer.first_name}, {agent.name} here about {conversation.topic}. {customer.nick}"
    filled = placeholders.fill(text, known)
    assert filled.startswith("Hi Ada, Sam Agent here about Refund.")
    assert [name for _s, _e, name in placeholders.unresolved(filled, known)] == ["customer.nick"]
    # A known placeholder with no value is not sent empty either.
    empty = placeholders.values("Ada", "", "x")
    assert placeholders.fill("{agent.name}", empty) == "{agent.name}"
    assert placeholders.unresolved("{agent.name}", empty) == [(0, 12, "agent.name")]
