"""The conversation timeline: every entry of every conversation in one scrollable history.

Virtualized the way `toolong` draws logs: a `ScrollView` whose `render_line` draws one line.
Entries are read a file (~200) at a time and laid out a block at a time (`timeline_blocks`),
only where the screen is; other blocks' heights are estimated, and when one above the screen
is laid out the scroll position moves by the difference, so what the agent reads stays put.
The top row names the conversation of the lines below (covering the line under it, which is
that heading whenever a conversation starts there); the end shows the newest entry whole
(blank lines after the last entry make room). The filter (`timeline_filter`) changes which
entries are laid out; find (`timeline_find`) highlights text and marks the entry it went to,
as jumps do; an entry longer than a screen is cut, an entry of another kind than a message
keeps its details folded, and Enter expands either in place (`timeline_long`).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agentdesk.cache.cache import Timeline
from agentdesk.model.views import Stored, StoredRecords
from agentdesk.ui.component_styles import StylesOnDemand
from agentdesk.ui import clock, timeline_draw as draw
from agentdesk.ui.timeline_actions import ENTRY_BINDINGS, TimelineActions
from agentdesk.ui.timeline_blocks import BlockLayout, Blocks
from agentdesk.ui.timeline_styles import entry_styles
from agentdesk.ui.timeline_filtering import Filtering, Scanned, heading

if TYPE_CHECKING:
    from agentdesk.cache.timeline_scan import TimelineScan
    from agentdesk.ui.timeline_find import Finder


class TimelineView(StylesOnDemand, TimelineActions, ScrollView, can_focus=True):
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
        Binding("ctrl+f", "find", "Find", id="timeline.find"),
        Binding("f", "filter", "Filter", id="timeline.filter"),
        Binding("f3", "match(-1)", "Older match", show=False, id="timeline.older_match"),
        Binding("shift+f3", "match(1)", "Newer match", show=False, id="timeline.newer_match"),
        Binding("enter", "expand", "Details / long entry: all/less", show=False, id="timeline.expand"),
        *ENTRY_BINDINGS,
    ]
    COMPONENT_CLASSES = {"timeline--" + name for name in draw.STYLE_NAMES + ("mark",)}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._timeline: Timeline | None = None
        self._conversations: StoredRecords = StoredRecords("conversation", [])
        self._conversation_at: dict[str, int] = {}
        self.customer_zone = None  # the customer's time zone, when known
        self.customer_name = ""
        self.blocks = Blocks()
        self._tail = 0  # blank lines after the last entry: the end shows the newest whole
        self._layouts: OrderedDict[int, BlockLayout] = OrderedDict()
        # Each entry's lines as last drawn (by id, and by the lines it is cut at, -1 when shown
        # in full) until the width, the styles or the minute change.
        self._drawn: dict[tuple[str, int], tuple[draw.Lines, bool]] = {}
        self._width = 0
        self._limit = 0  # lines of text an entry shows before it is cut
        self._end_pending = False
        self._at_end = True
        self._styles: dict[str, Style] | None = None
        self._base_style: Style | None = None  # the widget's rich_style, for one drawing pass
        self._sticky: dict[str, Strip] = {}
        self.mark: int | None = None  # the entry a jump or a find went to
        self.expanded: set[str] = set()
        self.pending: frozenset[str] = frozenset()  # replies the store has not confirmed
        self.open_at: str | None = None  # the conversation the first layout shows (the queue's)
        self._pattern = None
        self.filtering = Filtering(self)
        self._finder: Finder | None = None  # made when find is first used (TimelineActions)

    # -- data ------------------------------------------------------------------------------

    def show(self, timeline: Timeline, conversations: StoredRecords, customer: Stored | None = None) -> None:
        """Show a timeline, scrolled to its newest entries."""
        previous = self.filtering.made_scan  # what it read is kept
        self._timeline = timeline
        self._conversations = conversations  # views made for the headers drawn, not all
        self._conversation_at = {cid: i for i, cid in enumerate(conversations.field("id"))}
        self.blocks.show(timeline)
        self._drawn.clear()  # a newer version may have changed an entry
        if customer is not None:
            self.customer_zone = clock.zone(getattr(customer, "timezone", "") or "")
            self.customer_name = str(getattr(customer, "name", "") or "")
        self._sticky.clear()
        self.mark = None
        self.filtering.new_timeline(timeline, previous)
        self._end_pending = True
        if self.size.width:
            self._relayout(self._content_width())
        else:  # not laid out yet: the first render lays out at the real width, once
            self._width = 0
        if self.finder_made is not None:
            self.finder_made.timeline_changed()
        self.update_title()
        self.refresh()

    def forget(self) -> None:
        """Show nothing: the timeline's files did not read back (ProfileScreen.show_damaged);
        `show` brings a rebuilt one."""
        self.workers.cancel_group(self, "timeline-scan")
        self._timeline = None
        self.blocks = Blocks()
        self._layouts.clear()
        self._drawn.clear()
        self._sticky.clear()
        self.mark = None
        self._update_size()
        self.update_title()
        self.refresh()

    def replace(self, timeline: Timeline, conversations: StoredRecords) -> None:
        """Show a newer version of the same timeline (a sync changed it) without moving the
        agent: the entry at the top stays at the top; at the bottom, stay at the bottom."""
        old = self._timeline
        top = self.top_entry() if old is not None and self.blocks.heights else None
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
        new_position = self.blocks.shown_near(timeline.position_of(entry.at, entry.id))
        self.scroll_to(y=self.entry_y(new_position, header) + delta, animate=False, immediate=True)

    @property
    def total(self) -> int:
        return self._timeline.total if self._timeline else 0

    @property
    def shown_total(self) -> int:
        """Entries the filter lets through (all of them when there is no filter)."""
        return self.blocks.shown_total

    def starts(self) -> dict[str, int]:
        """Where each conversation starts (entry positions), by id."""
        return self._timeline.summary.starts if self._timeline is not None else {}

    def conversation(self, conversation_id: str) -> Stored | None:
        at = self._conversation_at.get(conversation_id)
        return None if at is None else self._conversations[at]

    def update_title(self) -> None:
        """The timeline's heading (`timeline_filter.heading`)."""
        self.border_title = Text(heading(self, max(8, (self.size.width or 200) - 4)))

    def on_mount(self) -> None:
        self.set_interval(60, self._minute)

    def _minute(self) -> None:
        """Relative times ("5 min ago") and the customer's time move on."""
        self._layouts.clear()
        self._drawn.clear()
        self.update_title()
        self.refresh()

    def _content_width(self) -> int:
        return max(1, self.scrollable_content_region.width or self.size.width or 80)

    def content_height(self) -> int:
        return max(1, self.scrollable_content_region.height or self.size.height or 24)

    def _reset_layout(self, width: int) -> None:
        limit = max(3, self.content_height() - 5)
        if width != self._width:
            self._drawn.clear()
        self._width, self._limit = width, limit
        self._layouts.clear()
        self._sticky.clear()
        self._tail = 0
        self.blocks.reset(width, self._limit)
        self._update_size()

    def _update_size(self) -> None:
        size = Size(self._width, self.blocks.lines + self._tail)
        if size == self.virtual_size:
            return
        if (size.width == self.virtual_size.width and self.is_mounted and self.container_size
                and self.show_vertical_scrollbar):
            # Only the height: the scrollbar and the scroll limits follow, without the layout
            # of the whole screen the reactive asks for (and its repaint of every widget),
            # which a jump into blocks laid out for the first time paid several times over.
            self.set_reactive(TimelineView.virtual_size, size)
            self._scroll_update(size)
            self.vertical_scrollbar.position = self.scroll_offset.y
            self.refresh()
        else:
            self.virtual_size = size

    # -- find and filter -------------------------------------------------------------------

    @property
    def scan(self) -> TimelineScan | None:
        return self.filtering.scan

    def on_scanned(self, message: Scanned) -> None:
        self.filtering.scanned(message.scan)

    def show_filtered(self, masks: list[bytes] | None) -> None:
        """Lay out only the entries `masks` shows (None: all), keeping the agent's place: the
        entry at the top, or the newest entries if they were at the end."""
        at_end = self._at_end or not self.blocks.heights
        anchor = None if at_end else self.top_entry()
        self.blocks.filter(masks, self.scan)
        if self.mark is not None and not self.blocks.is_shown(self.mark):
            self.mark = None
        self._reset_layout(self._content_width())
        if at_end or anchor is None:
            self._scroll_to_end()
        else:
            self.scroll_to(y=self.top_for(self.blocks.shown_near(anchor[0])), animate=False,
                           immediate=True)
        if self.finder_made is not None:
            self.finder_made.filter_changed()
        self.update_title()
        self.refresh()

    def set_highlight(self, query: str) -> None:
        """Highlight `query` wherever it is drawn (as lines are drawn: nothing laid out again)."""
        self._pattern = draw.query_pattern(query)
        self.refresh()

    # -- layout ----------------------------------------------------------------------------

    def _line_styles(self) -> dict[str, Style]:
        """The component styles entries are drawn with, worked out once, not per block."""
        if self._styles is None:
            self._styles = entry_styles(self)
        return self._styles

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Sent for every change of focus or hover anywhere above: what is drawn is drawn
        # again only if the entries' styles changed (a theme), not for each of those (a 1 MB
        # entry shown in full is 20,000 lines to draw again).
        old, self._styles = self._styles, None
        if old is not None and self.is_mounted and self._styles_changed(old):
            self._drawn.clear()
            self._sticky.clear()
            self._layouts.clear()

    def _styles_changed(self, old: dict[str, Style]) -> bool:
        """Whether any of the styles drawn with so far is not what it was."""
        new = self._line_styles()
        return any(new[name] != style for name, style in old.items())

    def _drawing(self) -> draw.Drawing:
        return draw.Drawing(self._width, self._line_styles(), clock.now(), self.customer_zone,
                            self._limit, self.pending,
                            self._timeline.body_of if self._timeline is not None else
                            draw.Drawing.body_of)

    def set_pending(self, entry_ids: frozenset[str]) -> None:
        """Mark these entries as not confirmed by the store yet (and unmark the others)."""
        if entry_ids == self.pending:
            return
        changed = entry_ids ^ self.pending
        self.pending = entry_ids
        self._drawn = {key: lines for key, lines in self._drawn.items() if key[0] not in changed}
        self._layouts.clear()
        self.refresh()

    def _layout(self, block: int) -> BlockLayout:
        """Lay out one block at the current width, updating its height if it was estimated."""
        if block in self._layouts:
            self._layouts.move_to_end(block)
            return self._layouts[block]
        assert self._timeline is not None
        blocks = self.blocks
        layout = blocks.lay_out(block, self._timeline.chunk(blocks.spans[block][0]), self._drawing(),
                                self.expanded, self._header, self._drawn)
        self._layouts[block] = layout
        if len(self._layouts) > 64:
            self._layouts.popitem(last=False)
        if not blocks.exact[block] or len(layout.lines) != blocks.heights[block]:
            above = blocks.offsets[block + 1] <= self.scroll_offset.y
            delta = blocks.set_height(block, len(layout.lines))
            self._update_size()
            if delta and above:  # keep what is on screen where it is
                self.set_scroll(None, self.scroll_offset.y + delta)
        return layout

    def _header(self, conversation_id: str, channel: str, d: draw.Drawing) -> Strip:
        return draw.header(self.conversation(conversation_id), conversation_id, channel, d)

    def lay_out_again(self, block: int) -> None:
        """Lay out a block again (an entry in it was shown in full or cut)."""
        self._layouts.pop(block, None)
        self._layout(block)

    def entry_at(self, line: int) -> tuple[int, BlockLayout, int] | None:
        """(block, its layout, index of the shown entry) of a line of the timeline."""
        blocks = self.blocks
        if not blocks.heights or blocks.lines == 0:
            return None
        line = max(0, min(line, blocks.lines - 1))
        self._layout(blocks.at_line(line))
        block = blocks.at_line(line)  # laying it out may have corrected the heights
        layout = self._layout(block)
        if not layout.entry_lines:
            return None
        index = max(0, min(line - blocks.offsets[block], len(layout.lines) - 1))
        return block, layout, max(0, bisect_right(layout.entry_lines, index) - 1)

    # -- drawing ---------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self._content_width()
        if self._timeline is not None and (width != self._width or self._limit_changed()):
            self._relayout(width)
        blocks = self.blocks
        if blocks.heights:
            # Lay out what will be drawn before drawing (layout may correct heights/scroll).
            for _ in range(4):
                top = self.scroll_offset.y + crop.y
                needed = {blocks.at_line(y) for y in range(top, top + crop.height) if y < blocks.lines}
                if all(blocks.exact[c] and c in self._layouts for c in needed):
                    break
                for block in sorted(needed):
                    self._layout(block)
        self._at_end = self.scroll_offset.y >= self.max_scroll_y
        # Worked out once per pass: `rich_style` walks every ancestor's styles.
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def _limit_changed(self) -> bool:
        return bool(self._width) and max(3, self.content_height() - 5) != self._limit

    def _relayout(self, width: int) -> None:
        """New width or height: heights change; keep the line at the top of the screen."""
        if self._end_pending or not self.blocks.heights:
            self._end_pending = False
            self._reset_layout(width)
            self._scroll_to_end()
            if self.open_at is not None:  # first drawn there, not at the end and then there
                if self.scroll_to_conversation(self.open_at):
                    self._at_end = False
                self.open_at = None
            return
        at_bottom = self.scroll_offset.y >= self.max_scroll_y
        anchor = self.top_entry()
        offset = self.scroll_offset.y - self.entry_y(anchor[0]) if anchor else 0
        self._reset_layout(width)
        if at_bottom or anchor is None:
            self._scroll_to_end()
        else:
            self.scroll_to(y=self.entry_y(anchor[0]) + offset, animate=False, immediate=True)

    def _scroll_to_end(self) -> None:
        # The newest entries are shown first: make their height exact, as far as a screen.
        shown, block = 0, len(self.blocks.heights) - 1
        while block >= 0 and shown < self.size.height + 1:
            shown += len(self._layout(block).lines)
            block -= 1
        self._tail = 0
        top = self.blocks.end_top(self.content_height(), self._layout)
        self._tail = max(0, top + self.content_height() - self.blocks.lines)
        self._update_size()
        # Set directly too: during the first render the scrollbars do not know the new size yet.
        self.set_scroll(None, top)
        self.scroll_to(y=top, animate=False, immediate=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._base_style or self.rich_style
        line = self.scroll_offset.y + y
        if not self.blocks.heights or (line >= self.blocks.lines and y):
            return Strip.blank(width, base)
        found = self.entry_at(line)
        if found is None:
            return Strip.blank(width, base)
        block, layout, i = found
        if y == 0:  # the heading of the conversation the lines below belong to
            return self._sticky_line(layout.conversations[i], width, base)
        index = line - self.blocks.offsets[block]
        if index >= len(layout.lines):
            return Strip.blank(width, base)
        style = base
        if self.mark is not None and layout.positions[i] == self.mark and index < layout.end_of(i) - 1:
            style = base + self._line_styles()["mark"]  # (not its closing blank line)
        strip = layout.lines[index]
        if self._pattern is not None and index not in layout.header_lines:
            strip = draw.highlight(strip, self._pattern, self._line_styles()["match"])
        return strip.adjust_cell_length(width, style).apply_style(style)

    def _sticky_line(self, conversation_id: str, width: int, base: Style) -> Strip:
        strip = self._sticky.get(conversation_id)
        if strip is None:
            strip = self._sticky[conversation_id] = self._header(conversation_id, "", self._drawing())
        return strip.adjust_cell_length(width, base).apply_style(base)

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        # Textual moves a scrollbar's thumb when the view scrolls, not when the bar appears.
        if shown:
            self.vertical_scrollbar.position = self.scroll_offset.y

    def on_resize(self) -> None:
        # Reading the newest entries when the height changed: keep reading them.
        if self._at_end and self.blocks.heights:
            self.call_after_refresh(self._scroll_to_end)
        self.update_title()
        self.refresh()

    # -- navigation ------------------------------------------------------------------------

    def top_entry(self) -> tuple[int, bool] | None:
        """(position of the first entry under the heading row, whether the top line is that
        entry's own conversation heading)."""
        if self._timeline is None or not self.blocks.heights or self.blocks.lines == 0:
            return None
        self._layout(self.blocks.at_line(self.scroll_offset.y))  # may correct heights and scroll
        y = self.scroll_offset.y
        found = self.entry_at(y + 1)
        if found is None:
            return None
        block, layout, i = found
        start = self.blocks.offsets[block] + layout.entry_lines[i]
        return layout.positions[i], start == y and layout.entry_lines[i] in layout.header_lines

    def bottom_entry(self) -> int | None:
        """The position of the entry on the last line of the screen."""
        found = self.entry_at(self.scroll_offset.y + self.content_height() - 1)
        return None if found is None else found[1].positions[found[2]]

    def entry_y(self, position: int, header: bool = True) -> int:
        """The virtual line where the entry at `position` starts (its header, if `header`)."""
        if self._timeline is None or not self.blocks.spans:
            return 0
        position = self.blocks.shown_near(position)
        block = self.blocks.of(position)
        layout = self._layout(block)
        if not layout.positions:
            return self.blocks.offsets[block]
        i = max(0, min(bisect_left(layout.positions, position), len(layout.positions) - 1))
        line = layout.entry_lines[i]
        if not header and line in layout.header_lines:
            line += 1
        return self.blocks.offsets[block] + line

    def top_for(self, position: int) -> int:
        """The scroll position that shows an entry first under the heading row."""
        line = self.entry_y(position)
        block = self.blocks.at_line(line)
        heading = line - self.blocks.offsets[block] in self._layout(block).header_lines
        return line if heading else max(0, line - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y:
            timeline_long.toggle(self, line=self.scroll_offset.y + offset.y)
