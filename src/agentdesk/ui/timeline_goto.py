"""Jumps in the timeline: to a date (`D`: the first entry on or after it, as the desk's clock
reads dates) and to an event picked from a list (`E`: every entry outside a conversation,
newest first, narrowed by typing). Both mark the entry gone to; a picked event is expanded.

The list is read from the timeline files holding such entries (the summary counts kinds per
file), in a worker, and holds at most LISTED rows: typing narrows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from agentdesk.cache.timeline import Timeline
from agentdesk.model.kinds import EntryKind
from agentdesk.model.sanitize import clean_line
from agentdesk.model.views import StoredRecords
from agentdesk.ui.row import Row
from agentdesk.ui.row_list import Option, RowList
from agentdesk.ui.safe import when
from agentdesk.ui.timeline_kinds import LABELS, MARKS

if TYPE_CHECKING:
    from agentdesk.ui.timeline import TimelineView

LISTED = 500  # rows of the event list at a time
EVENT_KINDS = {k.value for k in EntryKind if k != EntryKind.MESSAGE}


def parse_day(text: str) -> date:
    """A date as the agent types it: YYYY-MM-DD (ValueError with a readable message)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("Type a date as YYYY-MM-DD, e.g. 2025-06-30.") from None


def jump_to_day(view: TimelineView, day: date) -> int | None:
    """Go to the first entry shown on or after `day` (local midnight), marked; the newest
    if there is none after it. Returns the position gone to."""
    timeline = view._timeline  # noqa: SLF001
    if timeline is None or not timeline.total:
        return None
    at = datetime.combine(day, time()).astimezone()
    position = timeline.position_of(at, "")
    if view.entry(position).at < at:  # all of it is older: the newest
        position = timeline.total - 1
    view.go_to(view.blocks.shown_near(position))
    view.focus()
    return view.mark


class DatePrompt(ModalScreen[date | None]):
    """The date to jump to."""

    HELP_GROUP = "Jump to a date"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="jump_date.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(Text("Jump to a date", style="bold"))
            yield Input(placeholder="YYYY-MM-DD", max_length=10, id="jump-date")
            yield Static(id="jump-date-error")
            yield Static(Text("enter: go · esc: cancel", style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(parse_day(event.value))
        except ValueError as error:
            self.query_one("#jump-date-error", Static).update(Text(str(error), style="bold red"))

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class Event:
    position: int
    entry_id: str
    kind: EntryKind
    at: datetime
    title: str  # one line, inert
    text: str  # what typing narrows by, folded


def read_events(timeline: Timeline, cancelled: Callable[[], bool] = lambda: False) -> list[Event] | None:
    """Every entry outside a conversation, newest first (file reads only: safe in a worker)."""
    bases = [0]
    for size in timeline.summary.chunk_sizes:
        bases.append(bases[-1] + size)
    out: list[Event] = []
    for chunk in reversed(timeline.summary.chunks_with(EVENT_KINDS)):
        if cancelled():
            return None
        entries = StoredRecords("entry", timeline.chunk_docs(chunk))
        for offset in range(len(entries) - 1, -1, -1):
            entry = entries[offset]
            if entry.kind != EntryKind.MESSAGE:
                title = clean_line(str(entry.subject))[:200]
                text = f"{LABELS[entry.kind]} {entry.status.value} {title} {entry.author}"
                out.append(Event(bases[chunk] + offset, entry.id, entry.kind, entry.at, title,
                                 text.casefold()))
    return out


def _row(event: Event) -> Row:
    return (Row(cut=True).text(f"{MARKS[event.kind]} ", "bold").text(when(event.at), "dim")
            .text(f"  {LABELS[event.kind]:<16}", "bold").data(event.title))


class EventPicker(ModalScreen[Event | None]):
    """Events of the timeline to jump to, newest first; typing narrows the list."""

    HELP_GROUP = "Jump to an event"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="events.cancel"),
                Binding("down", "move(1)", "Down", show=False, id="events.down"),
                Binding("up", "move(-1)", "Up", show=False, id="events.up")]

    def __init__(self, timeline: Timeline) -> None:
        super().__init__()
        self.timeline = timeline
        self.events: list[Event] | None = None
        self.shown: list[Event] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="form", id="events-box"):
            yield Static(Text("Jump to an event", style="bold"))
            yield Input(placeholder="type to narrow: kind, status, title", id="events-input")
            yield Static(id="events-count")
            yield RowList(id="events-list")

    def on_mount(self) -> None:
        self.query_one("#events-count", Static).update(Text("Reading the timeline…", style="dim"))
        self._read()

    @work(thread=True, exclusive=True, group="events")
    def _read(self) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        events = read_events(self.timeline, lambda: worker.is_cancelled)
        if events is not None and not worker.is_cancelled:
            self.app.call_from_thread(self._loaded, events)

    def _loaded(self, events: list[Event]) -> None:
        self.events = events
        self._show(self.query_one(Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show(event.value)

    def _show(self, query: str) -> None:
        if self.events is None:
            return
        needle = query.strip().casefold()
        matching = [e for e in self.events if needle in e.text] if needle else self.events
        self.shown = matching[:LISTED]
        more = f" (the newest {LISTED:,}: type to narrow)" if len(matching) > LISTED else ""
        self.query_one("#events-count", Static).update(
            Text(f"{len(matching):,} of {len(self.events):,} events{more} · enter: go", style="dim"))
        listed = self.query_one(RowList)
        listed.clear_options()
        listed.add_options([Option(_row(e), str(n)) for n, e in enumerate(self.shown)])
        if self.shown:
            listed.highlighted = 0

    def action_move(self, step: int) -> None:
        listed = self.query_one(RowList)
        if listed.option_count:
            current = listed.highlighted or 0
            listed.highlighted = max(0, min(listed.option_count - 1, current + step))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        listed = self.query_one(RowList)
        if listed.highlighted is not None and self.shown:
            self.dismiss(self.shown[listed.highlighted])

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        if event.option.id is not None:
            self.dismiss(self.shown[int(event.option.id)])

    def action_cancel(self) -> None:
        self.dismiss(None)


def pick_event(view: TimelineView) -> None:
    timeline = view._timeline  # noqa: SLF001
    if timeline is None:
        return

    def chosen(event: Any) -> None:
        if event is not None:
            view.show_entry(event.position, event.entry_id)

    view.app.push_screen(EventPicker(timeline), chosen)


def jump_to_date(view: TimelineView) -> None:
    def chosen(day: date | None) -> None:
        if day is not None:
            jump_to_day(view, day)

    view.app.push_screen(DatePrompt(), chosen)
