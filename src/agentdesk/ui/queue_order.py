"""The queue's order and filters, apart from drawing: which conversations the agent sees, in
which order, and which one comes after the one being worked on (`N`).

Order (issue 15): the agent's own conversations first, then unassigned ones, then (with the
"all" filter) other agents'; in each group the one waiting longest first, then the ones not
waiting for an answer, oldest started first. A snoozed conversation stays out of the queue
until its time comes (the status filter "snoozed" lists them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from agentdesk.model.sanitize import clean_line

WHO = ("mine", "unassigned", "all")
STATUSES = ("", "new", "open", "pending", "snoozed")  # "": every status the queue holds
FAR = datetime(9999, 12, 30, tzinfo=UTC)


class QueueRowLike(Protocol):
    customer_id: str
    conversation_id: str
    topic: str
    channel: Any
    status: Any
    assignee: str
    waiting_since: Any
    snoozed_until: Any
    started: Any


@dataclass(frozen=True)
class QueueFilter:
    who: str = "mine"
    status: str = ""
    channel: str = ""  # "": any channel
    topic: str = ""  # words the topic must contain (case ignored)

    def describe(self) -> str:
        parts = [{"mine": "mine and unassigned", "unassigned": "unassigned",
                  "all": "everyone's"}[self.who]]
        if self.status:
            parts.append(self.status)
        if self.channel:
            parts.append(self.channel)
        if self.topic:
            parts.append(f"topic “{clean_line(self.topic)}”")
        return " · ".join(parts)

    def with_who(self, who: str) -> QueueFilter:
        return replace(self, who=who)


def value(field: Any) -> str:
    """An enum member or a string, as its stored string."""
    return str(getattr(field, "value", field) or "")


def when(field: Any) -> datetime | None:
    """A time as the row holds it (a datetime, or ISO text), or None."""
    if field is None or field == "":
        return None
    if isinstance(field, datetime):
        return field
    try:
        parsed = datetime.fromisoformat(str(field))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def sort_key(row: QueueRowLike, me: str) -> tuple[int, bool, datetime, datetime, str]:
    """The agent's own (0), unassigned (1), another agent's (2); then the longest waiting."""
    assignee = row.assignee or ""
    group = 0 if me and assignee == me else 1 if not assignee else 2
    waiting = when(row.waiting_since)
    started = when(row.started) or FAR
    return (group, waiting is None, waiting or started, started, row.conversation_id)


def in_order(rows: Iterable[QueueRowLike], me: str) -> list[QueueRowLike]:
    """Every row in queue order (done once per load of the rows, off the UI thread)."""
    return sorted(rows, key=lambda r: sort_key(r, me))


def visible(rows: Sequence[QueueRowLike], me: str, f: QueueFilter,
            now: datetime) -> list[QueueRowLike]:
    """The rows the filter lets through, in the order given: one plain pass (20,000 rows on
    the way to the queue's first frame), the rarer checks only where they apply."""
    who, status, channel = f.who, f.status, f.channel
    topic = f.topic.casefold()
    out = []
    for row in rows:
        assignee = row.assignee
        if who == "mine" and assignee and assignee != me or who == "unassigned" and assignee:
            continue
        if status:
            if row.status != status:
                continue
        elif row.status == "snoozed":
            until = when(row.snoozed_until)
            if until is not None and until > now:
                continue
        elif row.status not in STATUSES:  # closed: not the queue's (the index holds none)
            continue
        if channel and row.channel != channel:
            continue
        if topic and topic not in (row.topic or "").casefold():
            continue
        out.append(row)
    return out


def ordered(rows: Iterable[QueueRowLike], me: str, f: QueueFilter,
            now: datetime) -> list[QueueRowLike]:
    return visible(in_order(rows, me), me, f, now)


def after(rows: Sequence[QueueRowLike], me: str, current: str | None,
          current_key: tuple | None) -> QueueRowLike | None:
    """The conversation to work on after `current` (a conversation id) in `rows` (in queue
    order): the next one; if `current` left the queue meanwhile (answered, closed), the first
    one that sorted after it; with no current one, the first."""
    if not rows:
        return None
    if current is None:
        return rows[0]
    for i, row in enumerate(rows):
        if row.conversation_id == current:
            return rows[i + 1] if i + 1 < len(rows) else None
    if current_key is None:
        return rows[0]
    return next((r for r in rows if sort_key(r, me) > current_key), None)


def waited(since: datetime | None, now: datetime) -> str:
    """How long a conversation has waited, as the queue shows it: "45 min", "2 h", "3 d"."""
    if since is None:
        return "—"
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 86400 * 2:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
