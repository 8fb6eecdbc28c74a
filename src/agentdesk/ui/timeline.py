"""The conversation timeline: every entry of every conversation in one scrollable history.

Virtualized the way `toolong` draws logs: a `ScrollView` whose `render_line` draws one line.
Entries are read a file (~200 entries) at a time and laid out a file at a time (the newest
files, where the desk opens, in blocks of BLOCK entries), only for the blocks on screen;
the height of blocks not laid out yet is estimated from the cache's per-file text summary. When a block above the top of the screen is laid out and its real
height differs, the scroll position moves by the difference, so what the agent is reading
stays put.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agentdesk.cache.cache import Timeline
from agentdesk.model.kinds import Direction
from agentdesk.model.views import Stored, StoredRecords
from agentdesk.model.sanitize import clean_line, clean_text
from agentdesk.ui.fit import fit_parts
from agentdesk.ui.safe import when

ARROWS = {Direction.INBOUND: "←", Direction.OUTBOUND: "→", Direction.INTERNAL: "✎"}
BLOCK = 10  # entries laid out at a time in the newest files: opening lays out little more
# than a screen
INDENT = 2


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap by terminal cells (CJK and emoji are two cells wide)."""
    width = max(1, width)
    out: list[str] = []
    for paragraph in text.split("\n"):
        if cell_len(paragraph) <= width:
            out.append(paragraph)
            continue
        current, current_len = "", 0
        for word in paragraph.split(" "):
            word_len = cell_len(word)
            gap = 1 if current else 0
            if current_len + gap + word_len <= width:
                current, current_len = current + (" " if gap else "") + word, current_len + gap + word_len
                continue
            if current:
                out.append(current)
            if word_len > width:
                pieces = chop_cells(word, width)
                out.extend(pieces[:-1])
                current, current_len = pieces[-1], cell_len(pieces[-1])
            else:
                current, current_len = word, word_len
        out.append(current)
    return out


@dataclass
class ChunkLayout:
    lines: list[Strip]
    entry_lines: list[int]  # line where each entry starts (its conversation header, if any)
    header_lines: set[int] = field(default_factory=set)


class TimelineView(ScrollView, can_focus=True):
    """Draws a `Timeline` one line at a time."""

    HELP_GROUP = "Timeline"

    BINDINGS = [
        Binding("j,down", "scroll_lines(1)", "Down", show=False, id="timeline.down"),
        Binding("k,up", "scroll_lines(-1)", "Up", show=False, id="timeline.up"),
        Binding("g,home", "top", "Top", show=False, id="timeline.top"),
        Binding("G,end", "bottom", "Bottom", show=False, id="timeline.bottom"),
        Binding("ctrl+d,pagedown", "half_page(1)", "Page down", show=False, id="timeline.page_down"),
        Binding("ctrl+u,pageup", "half_page(-1)", "Page up", show=False, id="timeline.page_up"),
        Binding("right_square_bracket", "conversation(1)", "Next conv", id="timeline.next_conversation"),
        Binding("left_square_bracket", "conversation(-1)", "Prev conv", id="timeline.previous_conversation"),
    ]
    COMPONENT_CLASSES = {
        "timeline--header",
        "timeline--meta",
        "timeline--inbound",
        "timeline--outbound",
        "timeline--note",
        "timeline--note-body",
        "timeline--subject",
        "timeline--body",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._timeline: Timeline | None = None
        self._conversations: StoredRecords = StoredRecords("conversation", [])
        self._conversation_at: dict[str, int] = {}
        self._start_of: dict[int, str] = {}  # entry position -> conversation starting there
        self._starts: list[int] = []
        self._heights: list[int] = []
        self._exact: list[bool] = []
        self._offsets: list[int] = [0]
        self._layouts: OrderedDict[int, ChunkLayout] = OrderedDict()
        self._width = 0
        self._end_pending = False
        self._at_end = True
        self._chunk_first: list[int] = [0]  # per block: position of its first entry
        self._blocks: list[tuple[int, int, int]] = []  # per block: (file chunk, start, end)
        self._styles: dict[str, Style] | None = None
        self._base_style: Style | None = None  # the widget's rich_style, for one drawing pass
        self._theme = ""  # the theme the laid-out blocks were drawn in

    # -- data ------------------------------------------------------------------------------

    def show(self, timeline: Timeline, conversations: StoredRecords) -> None:
        """Show a timeline, scrolled to its newest entries."""
        self._timeline = timeline
        self._conversations = conversations  # views made for the headers drawn, not all
        self._conversation_at = {cid: i for i, cid in enumerate(conversations.field("id"))}
        self._start_of = {pos: cid for cid, pos in timeline.summary.starts.items()}
        self._starts = sorted(self._start_of)
        self._end_pending = True
        if self.size.width:
            self._relayout(self._content_width())
        else:  # not laid out yet: the first render lays out at the real width, once
            self._width = 0
        self.refresh()

    def replace(self, timeline: Timeline, conversations: StoredRecords) -> None:
        """Show a newer version of the same timeline (a sync changed it) without moving the
        agent: the entry at the top stays at the top; at the bottom, stay at the bottom."""
        old = self._timeline
        top = self.top_entry() if old is not None and self._heights else None
        if top is None or self.scroll_offset.y >= self.max_scroll_y:
            self.show(timeline, conversations)
            return
        position, header = top
        chunk, offset = old.locate(position)
        entry = old.chunk(chunk)[offset]
        delta = self.scroll_offset.y - self.entry_y(position, header)
        self.show(timeline, conversations)
        self._end_pending = False
        self._reset_layout(self._content_width())
        new_position = timeline.position_of(entry.at, entry.id)
        self.scroll_to(y=self.entry_y(new_position, header) + delta, animate=False,
                       immediate=True)

    @property
    def total(self) -> int:
        return self._timeline.total if self._timeline else 0

    def _content_width(self) -> int:
        return max(1, self.scrollable_content_region.width or self.size.width or 80)

    def _reset_layout(self, width: int) -> None:
        self._width = width
        self._layouts.clear()
        sizes = self._timeline.summary.chunk_sizes if self._timeline else []
        self._chunk_first = [0]
        self._blocks = []
        for chunk, size in enumerate(sizes):
            # The newest files, shown first, are laid out a few entries at a time; older files
            # are one block each (fewer blocks to estimate for a 100,000-entry history).
            step = BLOCK if chunk >= len(sizes) - 2 else max(1, size)
            for start in range(0, size, step):
                end = min(size, start + step)
                self._blocks.append((chunk, start, end))
                self._chunk_first.append(self._chunk_first[-1] + end - start)
        self._heights = [self._estimate(i) for i in range(len(self._blocks))]
        self._exact = [False] * len(self._blocks)
        self._update_offsets()

    def _estimate(self, chunk: int) -> int:
        assert self._timeline is not None
        summary = self._timeline.summary
        file, start, end = self._blocks[chunk]
        size, entries = summary.chunk_sizes[file], end - start
        lines, chars = summary.chunk_text[file] if file < len(summary.chunk_text) else (size, 0)
        lines, chars = lines * entries // size, chars * entries // size  # this block's share
        first = self._chunk_first[chunk]
        headers = bisect_left(self._starts, first + entries) - bisect_left(self._starts, first)
        body_width = max(1, self._width - INDENT)
        return headers * 2 + entries * 2 + lines + chars // body_width

    def _update_offsets(self) -> None:
        offsets = [0]
        for height in self._heights:
            offsets.append(offsets[-1] + height)
        self._offsets = offsets
        self.virtual_size = Size(self._width, offsets[-1])

    # -- layout ----------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        # Partial (no background: the line's comes from the widget), but with the colour
        # resolved against the real background: partial alone turns an `auto` colour such as
        # $text-muted white, unreadable on a light theme.
        # A component with a background of its own (the headers) takes it blended, too.
        resolved = self.get_component_rich_style(name, partial=False)
        own = self.get_component_styles(name).has_rule("background")
        return self.get_component_rich_style(name, partial=True) + Style(
            color=resolved.color, bgcolor=resolved.bgcolor if own else None)

    def _line_styles(self) -> dict[str, Style]:
        """The component styles entries are drawn with, worked out once, not per block
        (eight lookups through the CSS were a large part of each block's layout)."""
        if self._styles is None:
            self._styles = {n: self._style(f"timeline--{n}") for n in
                            ("header", "meta", "inbound", "outbound", "note", "note-body", "subject", "body")}
        return self._styles

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None  # a new theme or focus: blocks laid out from now on use it
        if self.app.theme != self._theme:  # a new theme: blocks laid out before are redrawn
            self._theme = self.app.theme
            self._layouts.clear()

    def _layout(self, chunk: int) -> ChunkLayout:
        """Lay out one block at the current width, updating its height if it was estimated."""
        if chunk in self._layouts:
            self._layouts.move_to_end(chunk)
            return self._layouts[chunk]
        assert self._timeline is not None
        first = self._chunk_first[chunk]
        layout = ChunkLayout([], [])
        width = self._width
        styles = self._line_styles()
        file, start, end = self._blocks[chunk]
        for offset, entry in enumerate(self._timeline.chunk(file)[start:end]):
            conversation_id = self._start_of.get(first + offset)
            if conversation_id is not None and layout.lines:
                layout.lines.append(Strip.blank(width))  # space before a new conversation
            layout.entry_lines.append(len(layout.lines))
            if conversation_id is not None:
                layout.header_lines.add(len(layout.lines))
                layout.lines.append(self._header(conversation_id, entry, width, styles["header"]))
            layout.lines.extend(self._entry(entry, width, styles))
        self._layouts[chunk] = layout
        if len(self._layouts) > 64:
            self._layouts.popitem(last=False)
        height = len(layout.lines)
        if height != self._heights[chunk] or not self._exact[chunk]:
            delta = height - self._heights[chunk]
            above = self._offsets[chunk + 1] <= self.scroll_offset.y
            self._heights[chunk], self._exact[chunk] = height, True
            self._update_offsets()
            if delta and above:  # keep what is on screen where it is
                self.set_scroll(None, self.scroll_offset.y + delta)
        return layout

    def _header(self, conversation_id: str, entry: Stored, width: int, style: Style) -> Strip:
        at = self._conversation_at.get(conversation_id)
        conv = None if at is None else self._conversations[at]
        if conv is None:
            parts = [(f"Conversation {clean_line(conversation_id)}", 0)]
        else:  # what is dropped first when the line is short: channels, agent, start
            channels = ", ".join(c.value for c in conv.channels) or entry.channel.value
            parts = [(clean_line(conv.topic), 0), (conv.status.value.upper(), 1), (channels, 4),
                     (f"started {when(conv.started)}", 2), (clean_line(conv.assignee), 3)]
        text = f" ■ {fit_parts(parts, width - 4)} "
        return Strip([Segment(text, style)]).adjust_cell_length(width, style).crop(0, width)

    def _entry(self, entry: Stored, width: int, styles: dict[str, Style]) -> list[Strip]:
        internal = entry.direction == Direction.INTERNAL
        arrow_style = styles["note"] if internal else styles[entry.direction.value]
        label = "INTERNAL NOTE" if internal else entry.direction.value
        meta = [
            Segment(f"{ARROWS[entry.direction]} ", arrow_style),
            Segment(f"{when(entry.at)}  ", styles["meta"]),
            Segment(f"{label} · {entry.channel.value}  ", arrow_style),
            Segment(clean_line(entry.author) or "—", styles["meta"] + Style(bold=True)),
        ]
        lines = [Strip(meta).crop(0, width)]
        body_style = styles["note-body"] if internal else styles["body"]
        prefix = "▌ " if internal else " " * INDENT
        if entry.subject:
            for part in wrap("Subject: " + clean_line(entry.subject), width - INDENT):
                lines.append(Strip([Segment(prefix, arrow_style), Segment(part, styles["subject"])]))
        body = clean_text(entry.body)
        if body:
            for part in wrap(body, width - INDENT):
                lines.append(Strip([Segment(prefix, arrow_style), Segment(part, body_style)]))
        lines.append(Strip.blank(width))
        return lines

    # -- drawing ---------------------------------------------------------------------------

    def _chunk_at(self, y: int) -> int:
        return min(len(self._heights) - 1, bisect_right(self._offsets, y) - 1)

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self._content_width()
        if self._timeline is not None and width != self._width:
            self._relayout(width)
        if self._heights:
            # Lay out what will be drawn before drawing (layout may correct heights/scroll).
            for _ in range(4):
                top = self.scroll_offset.y + crop.y
                needed = {self._chunk_at(y) for y in range(top, top + crop.height)
                          if y < self._offsets[-1]}
                if all(self._exact[c] and c in self._layouts for c in needed):
                    break
                for chunk in sorted(needed):
                    self._layout(chunk)
        self._at_end = self.scroll_offset.y >= self.max_scroll_y
        # Worked out once per pass: `rich_style` walks every ancestor's styles, and per line
        # it was a tenth of drawing a screen of entries.
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def _relayout(self, width: int) -> None:
        """New width: all heights change; keep the line at the top of the screen in place."""
        if self._end_pending or not self._heights:
            self._end_pending = False
            self._reset_layout(width)
            self._scroll_to_end()
            return
        at_bottom = self.scroll_offset.y >= self.max_scroll_y
        anchor = self.top_entry()
        offset = self.scroll_offset.y - self.entry_y(anchor[0]) if anchor else 0
        self._reset_layout(width)
        if at_bottom or anchor is None:
            self._scroll_to_end()
        else:
            y = self.entry_y(anchor[0]) + offset
            self.scroll_to(y=y, animate=False, immediate=True)

    def _scroll_to_end(self) -> None:
        # The newest entries are shown first: make their height exact, as far as a screen.
        shown, chunk = 0, len(self._heights) - 1
        while chunk >= 0 and shown < self.size.height + 1:
            shown += len(self._layout(chunk).lines)
            chunk -= 1
        # Set directly too: during the first render the scrollbars do not know the new size yet.
        self.set_scroll(None, max(0, self._offsets[-1] - self.scrollable_content_region.height))
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def render_line(self, y: int) -> Strip:
        scroll_y = self.scroll_offset.y
        line = scroll_y + y
        width = self.scrollable_content_region.width
        base = self._base_style or self.rich_style
        if not self._heights or line >= self._offsets[-1]:
            return Strip.blank(width, base)
        chunk = self._chunk_at(line)
        layout = self._layout(chunk)
        index = line - self._offsets[chunk]
        if index >= len(layout.lines):
            return Strip.blank(width, base)
        return layout.lines[index].adjust_cell_length(width, base).apply_style(base)

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        # Textual moves a scrollbar's thumb when the view scrolls, not when the bar appears:
        # a view scrolled to its end before its bar showed would show the thumb at the top.
        if shown:
            self.vertical_scrollbar.position = self.scroll_offset.y

    def on_resize(self) -> None:
        # Reading the newest entries when the height changed (a terminal resize, a line added
        # below): keep reading them, rather than end a line or two short of the bottom.
        if self._at_end and self._heights:
            self.call_after_refresh(self.scroll_to, y=self.max_scroll_y, animate=False,
                                    immediate=True)
        self.refresh()

    # -- navigation ------------------------------------------------------------------------

    def top_entry(self) -> tuple[int, bool] | None:
        """(position of the entry at the top of the screen, whether that line is its header)."""
        if not self._heights or self._timeline is None:
            return None
        self._layout(self._chunk_at(self.scroll_offset.y))  # may correct heights and scroll
        y = min(self.scroll_offset.y, max(0, self._offsets[-1] - 1))
        chunk = self._chunk_at(y)
        layout = self._layout(chunk)
        index = max(0, min(y - self._offsets[chunk], len(layout.lines) - 1))
        offset = max(0, bisect_right(layout.entry_lines, index) - 1)
        first = self._chunk_first[chunk]
        return first + offset, index in layout.header_lines

    def entry_y(self, position: int, header: bool = True) -> int:
        """The virtual line where the entry at `position` starts (its header, if `header`)."""
        assert self._timeline is not None
        chunk = bisect_right(self._chunk_first, position) - 1
        offset = position - self._chunk_first[chunk]
        layout = self._layout(chunk)
        line = layout.entry_lines[offset]
        if not header and line in layout.header_lines:
            line += 1
        return self._offsets[chunk] + line

    def scroll_to_entry(self, position: int, *, header: bool = True, animate: bool = False) -> None:
        if not self.total:
            return
        position = max(0, min(position, self.total - 1))
        y = self.entry_y(position, header)
        self.scroll_to(y=y, animate=animate, immediate=True)

    def scroll_to_conversation(self, conversation_id: str) -> bool:
        """Scroll so the conversation's header and first entry are at the top."""
        if self._timeline is None or conversation_id not in self._timeline.summary.starts:
            return False
        position = self._timeline.summary.starts[conversation_id]
        self.scroll_to_entry(position)
        return True

    def action_conversation(self, step: int) -> None:
        top = self.top_entry()
        if top is None or not self._starts:
            return
        position, on_header = top
        i = bisect_right(self._starts, position) - 1  # conversation containing the top entry
        if step > 0:
            target = i + 1
        else:
            at_its_header = on_header and i >= 0 and self._starts[i] == position
            target = i - 1 if at_its_header else i
        if 0 <= target < len(self._starts):
            self.scroll_to_conversation(self._start_of[self._starts[target]])

    def action_scroll_lines(self, step: int) -> None:
        self.scroll_to(y=self.scroll_offset.y + step, animate=False, immediate=True)

    def action_half_page(self, direction: int) -> None:
        step = max(1, self.scrollable_content_region.height // 2)
        self.scroll_to(y=self.scroll_offset.y + direction * step, animate=False, immediate=True)

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False, immediate=True)

    def action_bottom(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
