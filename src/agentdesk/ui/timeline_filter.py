"""Filtering the timeline by kind (keys 1-6), channel, direction and conversation (`f`).

The panel, loaded when first opened (`timeline_filtering` keeps the filter's state). A filter
changes which entries of each block the timeline lays out; what each entry is comes
from the timeline's scan (`cache.timeline_scan`), read once, so a change of filter costs a
`bytes.translate` per file and the layout of what is on screen, not a read of 100,000 entries.
The panel applies each change at once: the timeline beside it shows the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from agentdesk.cache.timeline_scan import CHANNELS, DIRECTIONS, TimelineScan
from agentdesk.model.kinds import GROUP_OF
from agentdesk.model.sanitize import clean_line
from agentdesk.ui.fit import cut
from agentdesk.ui.row import Row
from agentdesk.ui.row_list import Option, RowList
from agentdesk.ui.safe import day
from agentdesk.ui.timeline_filtering import GROUP_LABELS, GROUPS, TimelineFilter

if TYPE_CHECKING:
    from agentdesk.ui.timeline import TimelineView


# As the timeline marks them. Every row fits the panel (36 cells): a row folding as the list's
# scrollbar comes and goes would change the list's height, and so the bar, again and again.
DIRECTION_LABELS = {"inbound": "← inbound", "outbound": "→ outbound", "internal": "✎ internal note"}
LABEL = 20  # cells of a choice's name


def open_panel(view: TimelineView) -> None:
    """Show the filter's panel (or go back to it) over the profile."""
    panels = view.screen.query(FilterPanel)
    if panels:
        panels.first().query_one(FilterList).focus()
    else:
        view.screen.mount(FilterPanel(view))


def _group_counts(scan: TimelineScan | None) -> dict[str, int] | None:
    """Entries per group of kinds, once the whole timeline has been read."""
    if scan is None or not scan.complete:
        return None
    counts = {g.value: 0 for g in GROUPS}
    for kind, count in scan.kind_counts().items():
        counts[GROUP_OF[kind].value] += count  # type: ignore[index]  (a kind's value)
    return counts


def _counts(scan: TimelineScan | None) -> tuple[dict[str, int], dict[str, int]] | None:
    """Entries per channel and per direction, once the whole timeline has been read."""
    if scan is None or not scan.complete:
        return None
    channels = {c.value: 0 for c in CHANNELS}
    directions = {d.value: 0 for d in DIRECTIONS}
    for value, count in scan.code_counts().items():
        channels[CHANNELS[value // 4].value] += count
        directions[DIRECTIONS[value % 4].value] += count
    return channels, directions


class FilterList(RowList):
    HELP_GROUP = "Filter"

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # The rows laid out at the width they are drawn at (less the scrollbar's column): at
        # the width Textual asks about, each layout set another virtual size, which asked for
        # another layout, frame after frame, once the list had to scroll.
        return self._lines_at(self.scrollable_content_region.width or width)[-1]

    def set_rows(self, options: list[Option]) -> None:
        """New rows of the same heights in place: repainted, with no layout of the screen
        (a toggle changes a mark and the counts, not the rows' sizes)."""
        if len(options) != self.option_count:
            highlighted = self.highlighted
            self.clear_options()
            self.add_options(options)
            self.highlighted = highlighted
            return
        self._options = options
        self._strips.clear()
        self.refresh()


class Status(Widget):
    """One line of text, repainted without a layout of the screen when it changes."""

    DEFAULT_CSS = "Status { height: 1; }"

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.text = ""

    def show(self, text: str) -> None:
        if text != self.text:
            self.text = text
            self.refresh()

    def render(self) -> Text:
        return Text(self.text, no_wrap=True, overflow="ellipsis")


class FilterPanel(Vertical):
    """The filter's choices, each applied as soon as it is made. A panel laid over the
    profile (over the details), not a screen: the timeline stays in sight, and drawing a
    frame does not mean tinting the whole screen under a dialog, which took several times
    longer than the filter itself."""

    HELP_GROUP = "Filter"
    BINDINGS = [
        Binding("escape,f", "close", "Close", id="filter.close"),
        Binding("space", "toggle", "Toggle", id="filter.toggle"),
        Binding("a", "show_all", "Show all", id="filter.show_all"),
    ]

    def __init__(self, view: TimelineView) -> None:
        super().__init__(id="filter-box", classes="form")
        self.view = view
        # "This conversation": the one filtered on, else the one the agent is looking at.
        self.filtering = view.filtering
        self.conversation = self.filtering.wanted.conversation or self._conversation_in_view()

    def _conversation_in_view(self) -> str | None:
        """The conversation the agent is looking at: the marked entry's, else the top one's."""
        view = self.view
        position = view.mark if view.mark is not None else (view.top_entry() or (None,))[0]
        if position is None:
            return None
        found = view.entry_at(view.entry_y(position, header=False))
        return None if found is None else found[1].conversations[found[2]]

    def compose(self) -> ComposeResult:
        yield Static(Text("Filter the timeline", style="bold"), classes="form-title")
        yield Status(id="filter-status")
        yield FilterList(id="filter-options")
        yield Static(Text("space: show/hide · a: all · esc", style="dim"))

    def on_resize(self) -> None:
        # The list scrolls when the terminal is too short for all of it (not the panel,
        # which would carry the highlighted row out of sight).
        self.query_one(FilterList).styles.max_height = max(3, self.app.size.height - 9)

    def on_mount(self) -> None:
        self.filtering.changed.subscribe(self, lambda _scan: self._show())
        self.filtering.ensure_scan()
        self._show()
        options = self.query_one(FilterList)
        options.focus()
        options.action_first()

    def on_unmount(self) -> None:
        self.filtering.changed.unsubscribe(self)

    def _options(self) -> list[Option]:
        wanted = self.filtering.wanted
        counts = _counts(self.filtering.scan)

        def choice(option_id: str, label: str, on: bool, count: int | None) -> Option:
            row = Row().text("[x] " if on else "[ ] ", "bold").text(label.ljust(LABEL))
            if count is not None:
                row.text(f"{count:>9,}", "dim")
            return Option(row, option_id)

        groups = _group_counts(self.filtering.scan)
        options = [Option(Row().text("Kind (keys 1-6 on the timeline)", "bold"), disabled=True)]
        for number, group in enumerate(GROUPS, 1):
            options.append(choice(f"group:{group.value}", f"{number} {GROUP_LABELS[group]}",
                                  group.value not in wanted.hidden_groups,
                                  groups[group.value] if groups else None))
        options.append(Option(Row().text("Channel", "bold"), disabled=True))
        for channel in CHANNELS:
            options.append(choice(f"channel:{channel.value}", channel.value,
                                  channel.value not in wanted.hidden_channels,
                                  counts[0][channel.value] if counts else None))
        options.append(Option(Row().text("Direction", "bold"), disabled=True))
        for direction in DIRECTIONS:
            options.append(choice(f"direction:{direction.value}", DIRECTION_LABELS[direction.value],
                                  direction.value not in wanted.hidden_directions,
                                  counts[1][direction.value] if counts else None))
        options.append(Option(Row().text("Conversation", "bold"), disabled=True))
        conv = self.view.conversation(self.conversation) if self.conversation else None
        if self.conversation is None:
            options.append(Option(Row().text("(no conversation on screen)", "dim"), disabled=True))
        else:
            label = Row().text("[x] " if wanted.conversation else "[ ] ", "bold").text("only ")
            if conv is not None:
                label.text(cut(clean_line(conv.topic), 14)).text(f" · {day(conv.started)}", "dim")
            else:
                label.text(cut(clean_line(self.conversation), 27))
            options.append(Option(label, "conversation"))
        return options

    def _show(self) -> None:
        view, scan = self.view, self.filtering.scan
        if scan is not None and not scan.complete:
            read = scan.chunks - len(scan.missing())
            status = f"Reading the timeline: {read:,} of {scan.chunks:,} files…"
        else:
            status = f"Showing {view.shown_total:,} of {view.total:,} entries"
        self.query_one(Status).show(status)
        self.query_one(FilterList).set_rows(self._options())

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        if event.option.id:
            self._toggle(event.option.id)

    def action_toggle(self) -> None:
        options = self.query_one(FilterList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if option.id and not option.disabled:
                self._toggle(option.id)

    def _toggle(self, option_id: str) -> None:
        self.filtering.set(self.filtering.wanted.toggled(option_id, self.conversation))
        self._show()

    def action_show_all(self) -> None:
        self.filtering.set(TimelineFilter())
        self._show()

    def action_close(self) -> None:
        self.view.focus()
        self.remove()
