"""How one timeline entry, and a conversation's heading, are drawn: lines of styled segments.

Customer text is made inert (`clean_text`/`clean_line`) and placed in `Segment`s, never parsed.
An entry whose text would take more than `limit` lines is cut there, with a line saying how
much more there is: only that much of its text is cleaned and wrapped, so a 1 MB body costs
about what a screenful does until the agent asks for the rest.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast
from datetime import datetime, tzinfo

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from agentdesk.cache.long_bodies import ASIDE
from agentdesk.model.kinds import Direction, EntryKind
from agentdesk.model.sanitize import clean_line, clean_text
from agentdesk.model.views import Stored
from agentdesk.ui import clock, timeline_kinds
from agentdesk.ui.fit import fit, fit_parts
from agentdesk.ui.safe import when

ARROWS = {Direction.INBOUND: "←", Direction.OUTBOUND: "→", Direction.INTERNAL: "✎"}
MOST = 50_000  # lines of an entry shown in full: 1 MB at 80 columns is 15,000-25,000; a few
# columns wide it would be hundreds of thousands
INDENT = 2
STYLE_NAMES = ("header", "meta", "inbound", "outbound", "note", "note-body", "subject", "body",
               "match", "cut", "pending", *timeline_kinds.STYLE_NAMES)
ACTIVITY = "Activity: campaigns, events, orders, surveys, feedback"  # the heading of entries
# outside any conversation


def wrap(text: str, width: int, limit: int | None = None) -> list[str]:
    """Greedy word wrap by terminal cells (CJK and emoji are two cells wide); stops once it
    has more than `limit` lines, if given."""
    width = max(1, width)
    out: list[str] = []
    for paragraph in text.split("\n"):
        if limit is not None and len(out) > limit:
            break
        if cell_len(paragraph) <= width:
            out.append(paragraph)
            continue
        if paragraph.isascii():  # a cell a character: a line at a time, not a word at a time
            _wrap_ascii(paragraph, width, out, limit)
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
            if limit is not None and len(out) > limit:
                break
        out.append(current)
    return out


def _wrap_ascii(paragraph: str, width: int, out: list[str], limit: int | None) -> None:
    """`wrap` of one paragraph of ASCII (one cell a character): the same lines, found with
    `str.rfind` a line at a time (a 1 MB paragraph shown in full: 15,000 steps, not 150,000)."""
    start, end = 0, len(paragraph)
    while end - start > width:
        if limit is not None and len(out) > limit:
            return
        cut = paragraph.rfind(" ", start, start + width + 1)
        if cut <= start:  # no space to break at: cut inside the word
            out.append(paragraph[start:start + width])
            start += width
        else:
            out.append(paragraph[start:cut])
            start = cut + 1
    out.append(paragraph[start:])


class HeadTooShort(Exception):
    """The head of a long text (`wrap_head`'s `size`) does not fill the lines asked for."""


def wrap_head(text: str, width: int, limit: int, line: bool = False,
              size: int | None = None) -> tuple[list[str], int]:
    """The first `limit` wrapped lines of `text` (made inert; one line if `line`), and about
    how many lines more the whole text takes (0: it fits). Only a prefix of the text is
    cleaned and wrapped: enough for `limit` lines, and more only if that was not enough.

    `text` may be the head of a longer one, of `size` characters (a body kept in a file of
    its own: `cache.long_bodies`); HeadTooShort if it does not hold `limit` lines (a very wide
    screen, or a head the cleaning takes most of)."""
    clean = clean_line if line else clean_text
    size = len(text) if size is None else size
    budget = (limit + 2) * (max(1, width) + 1) * 2
    while True:
        head = text[:budget]
        whole = len(head) == size
        lines = wrap(clean(head), width, None if whole else limit + 1)
        # From a prefix, the last line may hold half a word: trust lines before it only.
        if whole or len(lines) > limit + 1:
            break
        if len(head) == len(text):
            raise HeadTooShort
        budget *= 4
    if len(lines) <= limit:
        return lines, 0
    return lines[:limit], max(1, _lines_about(text, width, line, size) - limit)


SAMPLE = 1 << 16  # characters of a long text measured for the estimate of its lines


def _lines_about(text: str, width: int, line: bool, size: int | None = None) -> int:
    """About how many lines `text` (or the text of `size` characters it is the head of)
    wraps to: its paragraphs' lines of `width`, counted in its first SAMPLE characters and
    scaled (counting a 1 MB body's all took a third of drawing it cut)."""
    width = max(1, width)
    size = len(text) if size is None else size
    if line:
        return size // width + 1
    sample = text[:SAMPLE]
    lines = sum(len(p) // width + 1 for p in sample.split("\n"))
    return lines if size <= len(sample) else lines * size // len(sample)


RUN = 64  # wrapped lines of one part from which they are made strips only when drawn


class TextRun(Sequence[Strip]):
    """Wrapped lines of one text, made into strips when drawn (the last few kept): an entry
    shown in full can be 20,000 lines, and a strip costs more to make than its line to wrap."""

    def __init__(self, parts: list[str], prefix: Segment, style: Style) -> None:
        self.parts, self.prefix, self.style = parts, prefix, style
        self._made: dict[int, Strip] = {}

    def __len__(self) -> int:
        return len(self.parts)

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.parts)))]
        strip = self._made.get(index)
        if strip is None:
            if len(self._made) > 256:
                self._made.clear()
            strip = self._made[index] = Strip([self.prefix, Segment(self.parts[index], self.style)])
        return strip


class Lines(Sequence[Strip]):
    """An entry's or a block's lines: strips, and runs of them made when drawn (`TextRun`)."""

    def __init__(self) -> None:
        self._runs: list[Sequence[Strip]] = []
        self._starts: list[int] = []
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        run = bisect_right(self._starts, index) - 1
        return self._runs[run][index - self._starts[run]]

    def append(self, strip: Strip) -> None:
        if not self._runs or not isinstance(self._runs[-1], list):
            self._runs.append([])
            self._starts.append(self._length)
        cast(list, self._runs[-1]).append(strip)
        self._length += 1

    def extend(self, lines: Sequence[Strip]) -> None:
        if isinstance(lines, Lines):
            for run in lines._runs:
                self.extend(run)
        elif isinstance(lines, TextRun):
            self._runs.append(lines)
            self._starts.append(self._length)
            self._length += len(lines)
        else:
            for strip in lines:
                self.append(strip)


@dataclass
class Drawing:
    """What an entry is drawn with: worked out once per layout pass, not per entry."""

    width: int
    styles: dict[str, Style]
    now: datetime
    zone: tzinfo | None  # the customer's, when known
    limit: int  # lines of text an entry shows before it is cut
    pending: frozenset[str] = frozenset()  # entries (replies) the store has not confirmed yet
    # An entry's whole body, where the timeline keeps only its head (`Timeline.body_of`).
    body_of: Callable[[Stored], str] = lambda item: str(item.body or "")


def header(conversation: Stored | None, conversation_id: str, channel: str, d: Drawing) -> Strip:
    """A conversation's heading: topic, status, channels, when it started, who has it."""
    style, width = d.styles["header"], d.width
    if not conversation_id:
        parts = [(ACTIVITY, 0)]
    elif conversation is None:
        parts = [(f"Conversation {clean_line(conversation_id)}", 0)]
    else:  # what is dropped first when the line is short: channels, agent, start
        channels = ", ".join(c.value for c in conversation.channels) or channel
        parts = [(clean_line(conversation.topic), 0), (conversation.status.value.upper(), 1),
                 (channels, 4), (f"started {when(conversation.started)}", 2),
                 (clean_line(conversation.assignee), 3)]
    text = f" ■ {fit_parts(parts, width - 4)} "
    return Strip([Segment(text, style)]).adjust_cell_length(width, style).crop(0, width)


def meta_segments(entry: Stored, d: Drawing) -> list[Segment]:
    """The entry's first line: direction, time (absolute and relative), channel, author, and
    what the customer's clock said. Where the line is short, the direction's word goes first
    (the arrow and the colour say it too), then the customer's time: the author stays."""
    styles = d.styles
    times = Segment(f"{when(entry.at)} · {clock.relative(entry.at, d.now)}  ", styles["meta"])
    if entry.kind != EntryKind.MESSAGE:
        return timeline_kinds.meta(entry, times, styles, d.width)
    internal = entry.direction == Direction.INTERNAL
    arrow_style = styles["note"] if internal else styles[entry.direction.value]
    author = [Segment(clean_line(entry.author) or "—", styles["meta"] + Style(bold=True))]
    arrow = Segment(f"{ARROWS[entry.direction]} ", arrow_style)
    label = "INTERNAL NOTE" if internal else entry.direction.value
    if entry.id in d.pending:  # said first, so a narrow line keeps it
        author = [Segment("⧗ sending  ", styles["pending"]), *author]
    segments = [arrow, times, Segment(f"{label} · {entry.channel.value}  ", arrow_style), *author]
    if Segment.get_line_length(segments) > d.width:
        segments = [arrow, times, Segment(f"{entry.channel.value}  ", arrow_style), *author]
    if not internal and d.zone is not None and clock.differs_from_desk(entry.at, d.zone):
        theirs = f"  {entry.at.astimezone(d.zone):%H:%M} their time"
        if Segment.get_line_length(segments) + len(theirs) <= d.width:
            segments.append(Segment(theirs, styles["meta"]))
    return segments


def entry(item: Stored, d: Drawing, expanded: bool = False) -> tuple[Lines, bool]:
    """The lines of one entry (ending with a blank line), and whether Enter acts on it: a
    long one is cut at `d.limit` lines of text unless `expanded`; one with details shows them
    only `expanded`. Enter shows it all, or folds it again."""
    styles, width = d.styles, d.width
    message = item.kind == EntryKind.MESSAGE
    internal = item.direction == Direction.INTERNAL
    arrow_style = (styles["note"] if internal else styles[item.direction.value]) if message \
        else styles[f"kind-{item.kind.value}"]
    body_style = styles["note-body"] if internal else styles["body"]
    prefix = Segment("▌ " if internal and message else " " * INDENT, arrow_style)
    lines = Lines()
    lines.append(Strip(fit([(s.text, s.style) for s in meta_segments(item, d)], width)))
    inner = width - INDENT
    limit = None if expanded else max(1, d.limit)
    more = 0
    parts: list[tuple[list[str], Style]] = []
    if item.subject:
        subject = "Subject: " + item.subject if message else item.subject
        if limit is None:
            shown = wrap(clean_line(subject), inner)
        else:
            shown, more = wrap_head(subject, inner, limit, line=True)
            limit = max(0, limit - len(shown))
        parts.append((shown, styles["subject"]))
    whole = True  # shown in full, if expanded
    aside = item.__dict__.get(ASIDE)  # only the body's head is here: its size is in `aside`
    size = aside["chars"] if aside else None
    if item.body and (limit is None or (limit > 0 and not more)):
        if limit is None:
            shown = wrap(clean_text(d.body_of(item) if aside else item.body), inner, MOST)
            whole = len(shown) <= MOST
            shown = shown[:MOST]
        else:
            try:
                shown, more = wrap_head(item.body, inner, limit, size=size)
            except HeadTooShort:
                shown, more = wrap_head(d.body_of(item), inner, limit)
        parts.append((shown, body_style))
    elif item.body and limit is not None:
        more += _lines_about(item.body, inner, False, size) + 1
    count = 0
    for shown, style in parts:
        if len(shown) > RUN:
            lines.extend(TextRun(shown, prefix, style))
        else:
            for part in shown:
                lines.append(Strip([prefix, Segment(part, style)]))
        count += len(shown)
    long = bool(more) or (expanded and count > max(1, d.limit))
    if expanded and item.details:
        lines.extend(timeline_kinds.detail_lines(item.details, styles, prefix, width))
    long = long or bool(item.details)
    if more:
        lines.append(Strip([prefix, Segment(f"… about {more:,} more line{'s' if more != 1 else ''}"
                                            " · enter shows all", styles["cut"])]).crop(0, width))
    elif long and (expanded or not item.details):
        note = "" if whole else f"the first {MOST:,} lines shown · "
        lines.append(Strip([prefix, Segment(f"▲ {note}enter shows less", styles["cut"])]).crop(0, width))
    lines.append(Strip.blank(width))
    return lines, long


def highlight(strip: Strip, pattern: re.Pattern[str], style: Style) -> Strip:
    """`strip` with what `pattern` matches in each segment in `style` too: done to the lines
    drawn, as they are drawn, so what find looks for can change without laying anything out
    again (a 1 MB entry shown in full is 20,000 lines)."""
    segments: list[Segment] = []
    found = False
    for text, seg_style, control in strip:
        at = 0
        if not control and text:
            for match in pattern.finditer(text):
                found = True
                if match.start() > at:
                    segments.append(Segment(text[at:match.start()], seg_style))
                segments.append(Segment(match.group(), (seg_style or Style()) + style))
                at = match.end()
        if at == 0:
            segments.append(Segment(text, seg_style, control))
        elif at < len(text):
            segments.append(Segment(text[at:], seg_style))
    return Strip(segments, strip.cell_length) if found else strip


def query_pattern(query: str) -> re.Pattern[str] | None:
    """What find highlights: the query's text, in any case."""
    return re.compile(re.escape(query), re.IGNORECASE) if query else None
