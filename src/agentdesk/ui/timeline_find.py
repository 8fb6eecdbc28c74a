"""Find in the timeline (`ctrl+f`): text, older/newer match, every match highlighted.

The timeline's scan (`cache.timeline_scan`) reads its files in a worker, newest first; each
file read is searched as it arrives and its matches are kept per file, so the first matches
show while older files are still being read, and once all are read a new query is a search
of strings in memory. Going to the next match is a bisection in the sorted positions.
Matches are counted from the newest, where the timeline opens: the first is the newest one
not below the screen, and Enter goes on to older ones.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from agentdesk.cache.timeline_scan import fold
from agentdesk.ui.timeline_filter import Status

if TYPE_CHECKING:
    from agentdesk.ui.timeline import TimelineView


class Finder:
    """The matches of one query in one timeline view, and the one the agent is on."""

    def __init__(self, view: TimelineView) -> None:
        self.view = view
        self.query = ""
        self.positions: list[int] = []  # of the entries shown that match, oldest first
        self.current: int | None = None
        self._per_chunk: dict[int, list[int]] = {}  # offsets of matching entries, per file read
        self.bar: FindBar | None = None

    # -- searching -------------------------------------------------------------------------

    def search(self, query: str) -> None:
        """Look for `query` (as typed, in any case) and go to its newest match on screen or
        above it."""
        self.query = query if fold(query).strip() else ""
        self._per_chunk.clear()
        self.positions, self.current = [], None
        self.view.set_highlight(self.query)
        if self.query:
            self._collect()
            self.view.filtering.ensure_scan()  # calls `scanned` at once if all are read
            if self.current is None:
                self._first()
        self._status()

    def _collect(self) -> None:
        """Search the files read since the last look, then list the matches shown."""
        scan = self.view.scan
        if scan is None or not self.query:
            return
        new = [c for c in range(scan.chunks) if c not in self._per_chunk and scan.known(c) is not None]
        if new:
            for chunk in new:
                self._per_chunk[chunk] = []
            self._per_chunk.update(scan.matches(self.query, new))
        self._list()

    def _list(self) -> None:
        scan, masks = self.view.scan, self.view.blocks.masks
        if scan is None:
            return
        positions: list[int] = []
        for chunk in sorted(self._per_chunk):
            base, offsets = scan.bases[chunk], self._per_chunk[chunk]
            if masks is None:
                positions.extend(base + o for o in offsets)
            else:
                mask = masks[chunk]
                positions.extend(base + o for o in offsets if mask[o])
        self.positions = positions

    def _first(self) -> None:
        if not self.positions:
            return
        bottom = self.view.bottom_entry()
        i = bisect_right(self.positions, bottom if bottom is not None else self.view.total) - 1
        self._go(self.positions[max(0, i)])

    def scanned(self) -> None:
        """More files were read: their matches count, and the first one is gone to."""
        if not self.query:
            return
        self._collect()
        if self.current is None:
            self._first()
        self._status()

    def filter_changed(self) -> None:
        """Hidden entries are no matches: list them again (the files are not searched again)."""
        if not self.query:
            return
        self._list()
        i = bisect_left(self.positions, self.current) if self.current is not None else 0
        if self.current is not None and (i == len(self.positions) or self.positions[i] != self.current):
            self.current = None  # now hidden
        self._status()

    def timeline_changed(self) -> None:
        """A new version of the timeline (a sync): positions move; search it again."""
        self._per_chunk.clear()
        self.positions, self.current = [], None
        if self.query:
            self._collect()
            self._status()

    # -- moving ----------------------------------------------------------------------------

    def step(self, direction: int) -> None:
        """Go to the next older (-1) or newer (1) match, round the ends."""
        if not self.query:
            self.open_bar()
            return
        if not self.positions:
            self._status()
            return
        here = self.current if self.current is not None else self.view.bottom_entry() or 0
        wrapped = False
        if direction < 0:
            i = bisect_left(self.positions, here) - 1
            if i < 0:
                i, wrapped = len(self.positions) - 1, True
        else:
            i = bisect_right(self.positions, here)
            if i >= len(self.positions):
                i, wrapped = 0, True
        self._go(self.positions[i])
        self._status("wrapped round to the newest" if wrapped and direction < 0
                     else "wrapped round to the oldest" if wrapped else "")

    def _go(self, position: int) -> None:
        self.current = position
        self.view.go_to(position, if_hidden=True)

    # -- the bar ---------------------------------------------------------------------------

    def open_bar(self) -> None:
        screen = self.view.screen
        bars = screen.query(FindBar)
        if bars:
            bars.first().open(self)
            return
        # Made when first asked for, above the status line: not on the way to the first frame.
        bar = FindBar()
        screen.mount(bar, before=screen.query_one("SyncBar"))
        screen.call_after_refresh(bar.open, self)

    def _status(self, note: str = "") -> None:
        if self.bar is None:
            return
        scan = self.view.scan
        reading = scan is not None and not scan.complete
        total = len(self.positions)
        if not self.query:
            text = ""
        elif not total:
            text = "reading…" if reading else "no match"
        else:
            number = total - bisect_left(self.positions, self.current) if self.current is not None else 0
            text = f"{number:,} of {total:,}{'+' if reading else ''}" if number else f"{total:,} matches"
        if reading and self.query:
            text += f" · reading {scan.chunks - len(scan.missing()):,}/{scan.chunks:,} files"
        if note:
            text += f" · {note}"
        self.bar.show_status(text)


class FindInput(Input):
    """The query. Its keys are its own: Input's up/down (scrolling) would hide the bar's."""

    HELP_GROUP = "Find in the timeline"
    BINDINGS = [
        Binding("escape", "close", "Close find", id="find.close"),
        Binding("up", "step(-1)", "Older match", id="find.older"),
        Binding("down", "step(1)", "Newer match", id="find.newer"),
    ]

    def action_close(self) -> None:
        cast(FindBar, self.parent).action_close()

    def action_step(self, direction: int) -> None:
        cast(FindBar, self.parent).action_step(direction)


class FindBar(Horizontal):
    """One line under the timeline: what to find, where the agent is among the matches."""

    def __init__(self) -> None:
        super().__init__(id="find-bar")
        self.finder: Finder | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Find", style="bold"), id="find-label")
        yield FindInput(placeholder="text in this timeline · enter/↑ older · ↓ newer · esc close",
                        id="find-input")
        yield Status(id="find-status")

    def open(self, finder: Finder) -> None:
        self.finder = finder
        finder.bar = self
        self.add_class("-open")
        field = self.query_one(Input)
        field.focus()
        field.select_all()
        if field.value and not finder.query:
            finder.search(field.value)

    def show_status(self, text: str) -> None:
        self.query_one(Status).show(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.finder is not None and self.has_class("-open"):
            self.finder.search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_step(-1)

    def action_step(self, direction: int) -> None:
        if self.finder is not None:
            self.finder.step(direction)

    def action_close(self) -> None:
        """Close the bar: highlights go, the entry gone to stays marked, the query is kept
        for `ctrl+f`."""
        self.remove_class("-open")
        if self.finder is not None:
            self.finder.search("")
            self.finder.view.focus()
