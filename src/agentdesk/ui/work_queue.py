"""What the desk knows of the agent's queue between screens: its rows (loaded in the
background), the filters chosen on the queue screen, and the conversation being worked on,
so that `N` on any profile opens the one after it."""

from __future__ import annotations

from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentdesk.ui.queue_order import QueueFilter


def _order() -> ModuleType:
    """The queue's order and filters (`queue_order`), loaded with the queue, not at start-up."""
    from agentdesk.ui import queue_order

    return queue_order


class WorkQueue:
    def __init__(self, me: str = "") -> None:
        self.me = me  # the agent's name as the store knows it ("" until known)
        self.my_name = ""  # and as customers read it ({agent.name} in a reply)
        self.rows: list[Any] | None = None  # None until loaded
        self._filter: QueueFilter | None = None
        self.current: str | None = None  # the conversation worked on
        self._current_key: tuple | None = None
        self._ordered: tuple[tuple[int, QueueFilter, str, int], list[Any]] | None = None

    @property
    def filter(self) -> QueueFilter:
        """The filters chosen on the queue screen."""
        if self._filter is None:
            self._filter = _order().QueueFilter()
        return self._filter

    @filter.setter
    def filter(self, chosen: QueueFilter) -> None:
        self._filter = chosen

    def set_rows(self, rows: list[Any], me: str | None = None, my_name: str = "", *,
                 in_queue_order: bool = False) -> None:
        """The queue's rows, sorted here unless they come `in_queue_order` for this `me`
        (the desk sorts them in the thread that loads them)."""
        if me is not None:
            self.me = me
        self.rows = rows if in_queue_order else _order().in_order(rows, self.me)
        self.my_name = my_name or self.my_name
        self._ordered = None

    def ordered(self, now: datetime) -> list[Any]:
        """The rows the filter shows, in queue order (filtered once per change of rows, filter
        or minute: the screen and `N` ask for it often)."""
        if self.rows is None:
            return []
        key = (id(self.rows), self.filter, self.me, int(now.timestamp() // 60))
        if self._ordered is None or self._ordered[0] != key:
            self._ordered = (key, _order().visible(self.rows, self.me, self.filter, now))
        return self._ordered[1]

    def working_on(self, row: Any) -> None:
        self.current = row.conversation_id
        self._current_key = _order().sort_key(row, self.me)

    def next_row(self, now: datetime) -> Any | None:
        return _order().after(self.ordered(now), self.me, self.current, self._current_key)
