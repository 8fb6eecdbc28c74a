"""Reading what the timeline shows, for the ui tests: its rows as text and styles, and a
cache holding a customer with a long history or huge bodies."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style

from agentdesk.cache.cache import Cache
from agentdesk.model import demo
from agentdesk.model.records import Channel, Conversation, Customer, Direction, Profile, TimelineEntry
from agentdesk.ui.timeline import TimelineView

MB = 1 << 20


def rows(view: TimelineView) -> list[str]:
    """The text of every row of the timeline as drawn (row 0: the conversation heading)."""
    return ["".join(s.text for s in view.render_line(y)).rstrip()
            for y in range(view.scrollable_content_region.height)]


def row_styles(view: TimelineView, y: int) -> list[Style]:
    return [s.style for s in view.render_line(y) if s.style is not None and s.text.strip()]


def put_history(cache: Cache, customer_id: str, entries: int, *, conversations: int = 100,
                body=lambda i: f"message {i}", zone: str = "") -> None:  # type: ignore[no-untyped-def]
    """A customer with `entries` timeline entries over `conversations` conversations in turn,
    channels and directions taken in turn (chat/email/sms, inbound/outbound/internal)."""
    per = max(1, entries // conversations)
    convs = [Conversation(id=f"c{i}", topic=f"Topic {i}", started=demo.EPOCH) for i in range(conversations)]
    channels = [Channel.CHAT, Channel.EMAIL, Channel.SMS]
    directions = [Direction.INBOUND, Direction.OUTBOUND, Direction.INTERNAL]
    timeline = [
        TimelineEntry(id=f"e{i:06d}", conversation_id=f"c{min(i // per, conversations - 1)}",
                      at=demo.EPOCH.replace(year=2020 + i * 5 // max(1, entries)),
                      channel=Channel.NOTE if directions[i % 3] == Direction.INTERNAL else channels[(i // 3) % 3],
                      direction=directions[i % 3], author=f"Author {i % 7}", body=body(i))
        for i in range(entries)
    ]
    customer = Customer(id=customer_id, name="History", timezone=zone, created=demo.EPOCH,
                        updated=demo.EPOCH)
    cache.put_profile(Profile(customer=customer, conversations=convs), timeline, durable=False)


def put_huge(root: Path, customer_id: str = "huge") -> Cache:
    """A cache with one customer whose newest entry holds a 1 MB body of words."""
    cache = Cache.open(root)
    put_history(cache, customer_id, 6, conversations=2,
                body=lambda i: ("refund " * (MB // 7)) if i == 5 else f"message {i}")
    return cache
