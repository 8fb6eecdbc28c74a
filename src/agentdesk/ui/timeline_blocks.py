"""Where every line of a timeline is, without laying it all out: the timeline cut into blocks
of entries, which entries of each block are shown (all, or the filter's choice), where each
conversation gets a heading, and each block's height, estimated until it is laid out.

The newest files, where the desk opens, are cut into blocks of BLOCK entries, older files
into blocks of OLD_BLOCK: small enough that a jump anywhere (find, filter, `]`) lays out a
few milliseconds' worth, few enough that estimating them all on a filter toggle is one
comprehension over 4,000 blocks for 100,000 entries.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from operator import sub
from typing import TYPE_CHECKING, overload

from textual.strip import Strip

from agentdesk.cache.cache import Timeline
from agentdesk.model.views import Stored
from agentdesk.ui import timeline_draw as draw

if TYPE_CHECKING:
    from agentdesk.cache.timeline_scan import TimelineScan

BLOCK = 10  # entries laid out at a time in the newest files: opening lays out little more
# than a screen
OLD_BLOCK = 25  # in older files


@dataclass
class BlockLayout:
    """One block laid out: its lines, and what is where in them."""

    lines: draw.Lines = field(default_factory=draw.Lines)
    entry_lines: list[int] = field(default_factory=list)  # where each shown entry starts
    positions: list[int] = field(default_factory=list)  # each shown entry's place in the timeline
    conversations: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    header_lines: set[int] = field(default_factory=set)
    long: set[int] = field(default_factory=set)  # shown entries Enter shows in full or cuts

    def end_of(self, i: int) -> int:
        """The line after the shown entry `i` (its closing blank line included)."""
        return self.entry_lines[i + 1] if i + 1 < len(self.entry_lines) else len(self.lines)


class Spans(Sequence[tuple[int, int, int]]):
    """Per block, (file, start, end) in the file: three lists of numbers, a tuple made only
    for the block asked for."""

    def __init__(self, files: list[int], starts: list[int], ends: list[int]) -> None:
        self.files, self.starts, self.ends = files, starts, ends

    def __len__(self) -> int:
        return len(self.files)

    @overload
    def __getitem__(self, block: int) -> tuple[int, int, int]: ...

    @overload
    def __getitem__(self, block: slice) -> list[tuple[int, int, int]]: ...

    def __getitem__(self, block: int | slice) -> tuple[int, int, int] | list[tuple[int, int, int]]:
        if isinstance(block, slice):
            return list(zip(self.files[block], self.starts[block], self.ends[block], strict=True))
        return self.files[block], self.starts[block], self.ends[block]


class Blocks:
    """The blocks of one timeline at one width, and what the filter shows of them."""

    def __init__(self) -> None:
        self.timeline: Timeline | None = None
        self.starts: list[int] = []  # positions where a conversation starts, in order
        self.start_of: dict[int, str] = {}  # entry position -> conversation starting there
        self.spans = Spans([], [], [])  # per block: (file, start, end) in the file
        self.first: list[int] = [0]  # per block: position of its first entry, then the total
        self._sizes: list[int] = []  # per block: its entries
        self.heights: list[int] = []
        self.exact: list[bool] = []
        self.offsets: list[int] = [0]  # per block: its first line, then the number of lines
        self.masks: list[bytes] | None = None  # per file: 1 per entry shown, when filtered
        self.scan: TimelineScan | None = None  # what the masks were made from
        self._text: list[float] = []  # per block: lines of text per entry in its file
        self._heading_count: list[int] = []  # per block: conversations starting in it
        self._made_for: tuple[int, Timeline | None] = (0, None)
        self._shown: dict[int, list[int]] = {}  # per block: offsets shown, when filtered
        self._headings: dict[int, list[int]] = {}  # per block: positions with a heading
        self._outside_of: dict[int, list[bool]] = {}  # per file: entries outside a conversation

    def show(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._outside_of.clear()
        self.start_of = {pos: cid for cid, pos in timeline.summary.starts.items()}
        self.starts = sorted(self.start_of)

    def reset(self, width: int, limit: int) -> None:
        """Blocks (unless made for this timeline and width already) and estimated heights."""
        self._shown.clear()
        self._headings.clear()
        if (width, self.timeline) != self._made_for:
            self._cut(width)
        self.heights = self._estimates(limit)
        self.exact = [False] * len(self.spans)
        self.offsets = [0, *accumulate(self.heights)]

    def _cut(self, width: int) -> None:
        """Whole lists made per file, not a tuple or a loop step per block: opening 100,000
        entries cuts 4,000 blocks, a Python loop over them cost a tenth of the open, and a
        tuple per block was 4,000 more objects for the garbage collector to look at."""
        summary = self.timeline.summary if self.timeline else None
        sizes = summary.chunk_sizes if summary else []
        newest = len(sizes) - 2
        files: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        for chunk, size in enumerate(sizes):
            if size:
                step = BLOCK if chunk >= newest else OLD_BLOCK
                begun = range(0, size, step)
                files += [chunk] * len(begun)
                starts += begun
                ends += range(step, size, step)
                ends.append(size)
        self.spans = Spans(files, starts, ends)
        self._sizes = list(map(sub, ends, starts))
        self.first = [0, *accumulate(self._sizes)]
        body_width = max(1, width - draw.INDENT)
        texts = summary.chunk_text if summary else []
        per_entry = [((texts[c][0] + texts[c][1] // body_width) if c < len(texts) else size) / max(1, size)
                     for c, size in enumerate(sizes)]
        self._text = list(map(per_entry.__getitem__, files))
        counts = [0] * len(files)  # conversations starting in each block
        for block in map(bisect_right, repeat(self.first), self.starts):
            counts[block - 1] += 1
        self._heading_count = counts
        self._made_for = (width, self.timeline)

    def _estimates(self, limit: int) -> list[int]:
        """Each block's height as estimated: two lines per entry shown and its share of its
        file's text (a long entry counted as cut), two per heading."""
        cap = limit + 1
        if self.masks is None:
            shown = self._sizes
        else:
            # Filtered: each block's share of what its file shows (a count per file, not per
            # block: half the cost of a toggle on 100,000 entries), at least one entry in a file
            # that shows any, so no block that may show something is taken for empty.
            per_file = [m.count(1) for m in self.masks]
            sizes = [len(m) or 1 for m in self.masks]
            shown = [(max(1, per_file[c] * n // sizes[c]) if per_file[c] else 0)
                     for c, n in zip(self.spans.files, self._sizes, strict=True)]
        return [0 if not n else (h if h < n else n) * 2 + n * 2 + (int(t * n) if t < cap else n * cap)
                for n, h, t in zip(shown, self._heading_count, self._text, strict=True)]

    def set_height(self, block: int, height: int) -> int:
        """A block's real height, once laid out; returns by how much the estimate was off."""
        delta = height - self.heights[block]
        self.heights[block], self.exact[block] = height, True
        if delta:
            self.offsets = [0, *accumulate(self.heights)]
        return delta

    def lay_out(self, block: int, entries: Sequence[Stored], d: draw.Drawing, expanded: set[str],
                heading: Callable[[str, str, draw.Drawing], Strip],
                drawn: dict[tuple[str, int], tuple[draw.Lines, bool]]) -> BlockLayout:
        """The lines of a block's entries shown (`entries`: its file's), a blank line and a
        heading before each conversation. `drawn` keeps each entry's lines (drawn as `d`
        says) for the next layout: a filter toggle lays out again mostly entries drawn just
        before."""
        layout = BlockLayout()
        file, start, _ = self.spans[block]
        base = self.first[block] - start
        headings = set(self.headings(block))
        for offset in self.shown(block):
            entry, position = entries[offset], base + offset
            if position in headings and layout.lines:
                layout.lines.append(Strip.blank(d.width))
            layout.entry_lines.append(len(layout.lines))
            layout.positions.append(position)
            layout.conversations.append(entry.conversation_id)
            layout.ids.append(entry.id)
            if position in headings:
                layout.header_lines.add(len(layout.lines))
                layout.lines.append(heading(entry.conversation_id, entry.channel.value, d))
            full = entry.id in expanded
            key = (entry.id, -1 if full else d.limit)
            found = drawn.get(key)
            if found is None:
                found = drawn[key] = draw.entry(entry, d, expanded=full)
                if len(drawn) > 4000:
                    del drawn[next(iter(drawn))]
            lines, long = found
            if long:
                layout.long.add(len(layout.positions) - 1)
            layout.lines.extend(lines)
        return layout

    def end_top(self, height: int, layout_of: Callable[[int], BlockLayout]) -> int:
        """The top line that shows the newest entries whole, starting with a whole entry (the
        line under the heading row, or that heading itself)."""
        content = self.lines
        if content <= height:
            return 0
        best = None
        for block in range(len(self.spans) - 1, -1, -1):
            layout = layout_of(block)
            for i in range(len(layout.entry_lines) - 1, -1, -1):
                start = self.offsets[block] + layout.entry_lines[i]
                top = start if layout.entry_lines[i] in layout.header_lines else max(0, start - 1)
                if content - top > height:  # the newest shown in full is taller than the
                    return max(0, content - height) if best is None else best  # screen: its end
                best = top
        return best or 0

    @property
    def lines(self) -> int:
        return self.offsets[-1]

    def at_line(self, line: int) -> int:
        """The block holding a line of the timeline."""
        return min(len(self.heights) - 1, bisect_right(self.offsets, line) - 1)

    def of(self, position: int) -> int:
        """The block holding an entry."""
        return max(0, bisect_right(self.first, position) - 1)

    # -- the filter's choice ---------------------------------------------------------------

    def filter(self, masks: list[bytes] | None, scan: TimelineScan | None) -> None:
        self.masks, self.scan = masks, scan

    @property
    def shown_total(self) -> int:
        if self.masks is None:
            return self.timeline.total if self.timeline else 0
        return sum(m.count(1) for m in self.masks)

    def is_shown(self, position: int) -> bool:
        if self.masks is None:
            return True
        assert self.scan is not None
        chunk = bisect_right(self.scan.bases, position) - 1
        return bool(self.masks[chunk][position - self.scan.bases[chunk]])

    def shown(self, block: int) -> list[int]:
        """Offsets (in its file) of the entries of a block the filter shows."""
        file, start, end = self.spans[block]
        if self.masks is None:
            return list(range(start, end))
        shown = self._shown.get(block)
        if shown is None:
            mask = self.masks[file]
            shown = self._shown[block] = [i for i in range(start, end) if mask[i]]
        return shown

    def shown_near(self, position: int) -> int:
        """`position` if shown, else the next entry shown (or the last one before it)."""
        total = self.timeline.total if self.timeline else 0
        if self.masks is None or not self.spans:
            return max(0, min(position, total - 1))
        block = self.of(position)
        for b in range(block, len(self.spans)):
            base = self.first[b] - self.spans[b][1]
            for offset in self.shown(b):
                if base + offset >= position:
                    return base + offset
        for b in range(min(block, len(self.spans) - 1), -1, -1):
            shown = self.shown(b)
            if shown:
                return self.first[b] - self.spans[b][1] + shown[-1]
        return 0

    def first_shown_of(self, conversation: str, start: int) -> int | None:
        """The first entry shown of a conversation that starts at `start`, if any (its
        entries are together in the files that list it, read by the scan when filtered)."""
        if self.masks is None:
            return start
        assert self.scan is not None
        chunk = bisect_right(self.scan.bases, start) - 1
        offset = start - self.scan.bases[chunk]
        while chunk < len(self.masks):
            facts = self.scan.facts(chunk)
            if conversation not in facts.conversation_set:
                return None
            mask = self.masks[chunk]
            for i in range(offset, len(mask)):
                if mask[i] and facts.conversations[i] == conversation:
                    return self.scan.bases[chunk] + i
            chunk, offset = chunk + 1, 0
        return None

    def _conversation_before(self, block: int) -> str | None:
        """The conversation of the last entry shown before a block (filtered)."""
        assert self.masks is not None and self.scan is not None
        file, start, _ = self.spans[block]
        for chunk in range(file, -1, -1):
            mask = self.masks[chunk]
            found = mask.rfind(1, 0, start if chunk == file else len(mask))
            if found >= 0:
                return self.scan.facts(chunk).conversations[found]
        return None

    def headings(self, block: int) -> list[int]:
        """Positions in a block that get a conversation heading: where a conversation starts;
        filtered, where the entries shown pass to another conversation."""
        first = self.first[block]
        if self.masks is None:
            size = self._sizes[block]
            starts = self.starts[bisect_left(self.starts, first):bisect_left(self.starts, first + size)]
            return self._activity_edges(block, starts)
        headings = self._headings.get(block)
        if headings is None:
            assert self.scan is not None
            file, start, _ = self.spans[block]
            conversations = self.scan.facts(file).conversations
            previous, headings = self._conversation_before(block), []
            for offset in self.shown(block):
                if conversations[offset] != previous:
                    headings.append(first + offset - start)
                    previous = conversations[offset]
            self._headings[block] = headings
        return headings

    def _outside(self, file: int) -> list[bool]:
        """Per entry of a file: whether it is outside any conversation (a campaign message,
        an order, a survey...)."""
        found = self._outside_of.get(file)
        if found is None:
            assert self.timeline is not None
            ids = self.timeline.chunk(file).field("conversation_id")  # type: ignore[attr-defined]
            found = self._outside_of[file] = [not c for c in ids]
            if len(self._outside_of) > 64:
                del self._outside_of[next(iter(self._outside_of))]
        return found

    def _activity_edges(self, block: int, starts: list[int]) -> list[int]:
        """Unfiltered headings: where a conversation starts, and where the entries pass from
        a conversation to entries outside any (an "Activity" heading) or back (the
        conversation's heading again), so no entry sits under a heading not its own."""
        headings = self._headings.get(block)
        if headings is not None:
            return headings
        file, start, end = self.spans[block]
        outside = self._outside(file)
        if start:
            before = outside[start - 1]
        elif file:
            before = self._outside(file - 1)[-1]
        else:
            before = False  # the first entry of all: a heading if it is outside
        headings = starts
        if before or any(outside[start:end]):  # else conversations only: their starts
            found = set(starts)
            base = self.first[block] - start
            for offset in range(start, end):
                if outside[offset] != before:
                    found.add(base + offset)
                    before = outside[offset]
            headings = sorted(found)
        self._headings[block] = headings
        return headings

    def headings_from(self, position: int, step: int) -> list[int]:
        """Heading positions after `position` (step 1: the next) or up to it (step -1: the
        two nearest), nearest first."""
        if self.masks is None:
            if step > 0:
                return self.starts[bisect_right(self.starts, position):][:1]
            return self.starts[:bisect_right(self.starts, position)][::-1][:2]
        found: list[int] = []
        block = self.of(position)
        for b in range(block, len(self.spans)) if step > 0 else range(block, -1, -1):
            headings = self.headings(b)
            found += ([h for h in headings if h > position] if step > 0
                      else [h for h in reversed(headings) if h <= position])
            if len(found) >= (1 if step > 0 else 2):
                break
        return found[:1] if step > 0 else found[:2]
