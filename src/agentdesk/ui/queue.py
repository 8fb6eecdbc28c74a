"""My queue (`i`): the conversations waiting for the agent, then unassigned ones, oldest
waiting first; Enter opens the customer at that conversation's start.

Drawn like the search results: a ScrollView whose `render_line` draws one row, so 20,000
open conversations cost a sort, not 20,000 widgets. The first line is the columns' heading
and stays on top. Filters (who, status, channel, topic) live in the app's `WorkQueue`, so
`N` on a profile follows the queue as the agent last saw it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Input, Static

from agentdesk.model.kinds import Channel
from agentdesk.model.sanitize import clean_line
from agentdesk.ui import clock
from agentdesk.ui.component_styles import StylesOnDemand
from agentdesk.ui.cursor_rows import CursorRows
from agentdesk.ui.first_showing import StyledOnceWhenShown
from agentdesk.ui.fit import columns
from agentdesk.ui.keybar import KeyBar
from agentdesk.ui.queue_order import STATUSES, QueueFilter, value, waited, when

if TYPE_CHECKING:
    from agentdesk.ui.app import AgentDesk

PRIORITY_MARK = {"urgent": "‼", "high": "!", "low": "↓"}
CHANNELS = ("", *(c.value for c in Channel if c not in (Channel.NOTE, Channel.WEB)))  # conversations' channels
# The columns at a width (the last takes what is left): a narrow screen keeps who, what,
# the status and how long it has waited, and drops the channel and the assignee first.
LAYOUTS = (
    (110, (("", 2), ("customer", 22), ("topic", 24), ("channel", 8), ("status", 9),
           ("waiting", 8), ("assignee", 14), ("last line", 0))),
    (80, (("", 2), ("customer", 20), ("topic", 18), ("status", 9), ("waiting", 8),
          ("assignee", 12), ("last line", 0))),
    (0, (("", 2), ("customer", 15), ("topic", 13), ("status", 8), ("waiting", 8),
         ("last line", 0))),
)


def layout(width: int) -> tuple[tuple[str, int], ...]:
    return next(columns for least, columns in LAYOUTS if width >= least)


class QueueList(StylesOnDemand, CursorRows, can_focus=True):
    """The queue's rows, a line each, under a heading line that stays on top."""

    HELP_GROUP = "Queue"
    COMPONENT_CLASSES = {"queue--cursor", "queue--heading", "queue--dim", "queue--mine",
                         "queue--urgent"}
    BINDINGS = [
        Binding("down,j", "move(1)", "Down", show=False, id="queue.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="queue.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="queue.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="queue.page_up"),
        Binding("home,g", "edge(0)", "First", show=False, id="queue.first"),
        Binding("end,G", "edge(1)", "Last", show=False, id="queue.last"),
        Binding("enter", "open", "Open", id="queue.open",
                tooltip="Open the customer at this conversation's start"),
    ]

    class Opened(Message):
        def __init__(self, row: Any) -> None:
            self.row = row
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Any] = []
        self.cursor = 0
        self.me = ""

    def set_rows(self, rows: list[Any], me: str, keep: str | None = None) -> None:
        """Show `rows`; the cursor on conversation `keep` if it is among them, else the first."""
        self.rows, self.me = rows, me
        self.cursor = next((i for i, r in enumerate(rows) if r.conversation_id == keep), 0)
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        self.scroll_to(y=0, animate=False, immediate=True)
        self._show_cursor()
        self.refresh()

    @property
    def current(self) -> Any | None:
        return self.rows[self.cursor] if self.rows else None

    def row_count(self) -> int:
        return len(self.rows) if self.rows else 0

    def action_open(self) -> None:
        if self.rows:
            self.post_message(self.Opened(self.rows[self.cursor]))

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        index = event.y - 1 + self.scroll_offset.y
        if event.y >= 1 and 0 <= index < len(self.rows):
            self.cursor = index
            self.action_open()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        shown = layout(width)
        if y == 0:
            style = base + self.get_component_rich_style("queue--heading", partial=True)
            cells = [([(title, style)], size) for title, size in shown]
            return Strip(columns(cells, width, style)).adjust_cell_length(width, style)
        index = y - 1 + self.scroll_offset.y
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        if index == self.cursor:
            base = base + self.get_component_rich_style("queue--cursor")
        dim = base + self.get_component_rich_style("queue--dim", partial=True)
        priority = value(row.priority)
        status = value(row.status)
        now = clock.now()
        if status == "snoozed" and (until := when(row.snoozed_until)) is not None:
            status = f"snoozed {waited(now, until)}" if until > now else "snoozed, over"
        mine = bool(self.me) and row.assignee == self.me
        values = {
            "": (PRIORITY_MARK.get(priority, " "), base + self.get_component_rich_style(
                "queue--urgent", partial=True) if priority in ("urgent", "high") else dim),
            "customer": (clean_line(row.customer or row.customer_id), base + Style(bold=True)),
            "topic": (clean_line(row.topic), base),
            "channel": (value(row.channel), dim),
            "status": (status, base),
            "waiting": (waited(when(row.waiting_since), now), base),
            "assignee": (clean_line(row.assignee) if row.assignee else "unassigned",
                         base + self.get_component_rich_style("queue--mine", partial=True)
                         if mine else dim),
            "last line": (clean_line(row.last_line), dim),
        }
        cells = [([values[name]], size) for name, size in shown]
        return Strip(columns(cells, width, base)).adjust_cell_length(width, base)


class QueueScreen(StyledOnceWhenShown, Screen):
    """The queue: filters on top, the rows, the keys."""

    HELP_GROUP = "Queue"
    BINDINGS = [
        Binding("escape", "back", "Back", id="queue.back"),
        # The filters' keys are named on the title line; the key bar keeps to the others.
        Binding("m", "who('mine')", "Mine", show=False, id="queue.mine",
                tooltip="Mine, then unassigned"),
        Binding("u", "who('unassigned')", "Unassigned", show=False, id="queue.unassigned",
                tooltip="Unassigned conversations only"),
        Binding("a", "who('all')", "All", show=False, id="queue.all",
                tooltip="Everyone's conversations"),
        Binding("s", "cycle_status", "Status", id="queue.status",
                tooltip="Filter by status: any, new, open, pending, snoozed"),
        Binding("c", "cycle_channel", "Channel", id="queue.channel",
                tooltip="Filter by channel: any, e-mail, chat, SMS, voice, social"),
        Binding("t", "topic", "Topic", id="queue.topic",
                tooltip="Filter by words in the topic"),
    ]

    @property
    def desk(self) -> AgentDesk:
        return cast("AgentDesk", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="queue-title")
        yield Input(placeholder="topic contains… (t)", id="queue-topic", compact=True)
        yield QueueList(id="queue-rows")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#queue-topic", Input).value = self.desk.work.filter.topic
        self.desk.queue_loaded.subscribe(self, self._loaded)
        self.query_one(QueueList).focus()
        self.show_rows(keep=self.desk.work.current)
        # Waiting times move on, and a snooze ends: the rows again each minute.
        self.set_interval(60, lambda: self.show_rows(keep=self._cursor_id()))

    def on_unmount(self) -> None:
        self.desk.queue_loaded.unsubscribe(self)  # see SyncBar.on_unmount

    def on_screen_resume(self) -> None:
        self.show_rows(keep=self._cursor_id())

    def _loaded(self, _rows: object) -> None:
        self.show_rows(keep=self._cursor_id())

    def _cursor_id(self) -> str | None:
        row = self.query_one(QueueList).current
        return row.conversation_id if row is not None else self.desk.work.current

    def show_rows(self, keep: str | None = None) -> None:
        work = self.desk.work
        title = Text()
        title.append(" Queue ", style="bold reverse")
        title.append(" ")
        if work.rows is None:
            title.append("loading the queue…", style="italic")
            self.query_one("#queue-title", Static).update(title)
            return
        rows = work.ordered(clock.now())
        title.append(f"{len(rows):,} conversation{'s' if len(rows) != 1 else ''}", style="bold")
        title.append(" · ")
        title.append(work.filter.describe())  # the topic in it is cleaned, not markup
        title.append("   m mine · u unassigned · a all · s status · c channel · t topic",
                     style="dim")
        self.query_one("#queue-title", Static).update(title)
        self.query_one(QueueList).set_rows(rows, work.me, keep)

    def _refilter(self, f: QueueFilter) -> None:
        self.desk.work.filter = f
        self.show_rows(keep=self._cursor_id())

    def action_who(self, who: str) -> None:
        self._refilter(self.desk.work.filter.with_who(who))

    def action_cycle_status(self) -> None:
        f = self.desk.work.filter
        status = STATUSES[(STATUSES.index(f.status) + 1) % len(STATUSES)]
        self._refilter(QueueFilter(f.who, status, f.channel, f.topic))

    def action_cycle_channel(self) -> None:
        f = self.desk.work.filter
        channel = CHANNELS[(CHANNELS.index(f.channel) + 1) % len(CHANNELS)]
        self._refilter(QueueFilter(f.who, f.status, channel, f.topic))

    def action_topic(self) -> None:
        self.query_one("#queue-topic", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        f = self.desk.work.filter
        if event.value != f.topic:
            self._refilter(QueueFilter(f.who, f.status, f.channel, event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(QueueList).focus()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):  # out of the topic field first
            self.query_one(QueueList).focus()
            return
        self.app.pop_screen()

    def on_queue_list_opened(self, event: QueueList.Opened) -> None:
        row = event.row
        self.desk.work.working_on(row)
        self.app.pop_screen()
        self.desk.open_customer(row.customer_id, conversation_id=row.conversation_id,
                                from_queue=True)
