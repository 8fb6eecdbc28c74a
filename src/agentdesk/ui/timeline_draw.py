"""How one timeline entry, and a conversation's heading, are drawn: lines of styled segments.

Customer text is made inert (`clean_text`/`clean_line`) and placed in `Segment`s, never parsed.
An entry whose text would take more than `limit` lines is cut there, with a line saying how
much more there is: only that much of its text is cleaned and wrapped, so a 1 MB body costs
about what a screenful does until the agent asks for the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from agentdesk.model.kinds import Direction
from agentdesk.model.sanitize import clean_line, clean_text
from agentdesk.model.views import Stored
from agentdesk.ui import clock
from agentdesk.ui.fit import fit, fit_parts
from agentdesk.ui.safe import when

ARROWS = {Direction.INBOUND: "←", Direction.OUTBOUND: "→", Direction.INTERNAL: "✎"}
INDENT = 2
STYLE_NAMES = ("header", "meta", "inbound", "outbound", "note", "note-body", "subject", "body",
               "match", "cut")


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


def wrap_head(text: str, width: int, limit: int, line: bool = False) -> tuple[list[str], int]:
    """The first `limit` wrapped lines of `text` (made inert; one line if `line`), and about
    how many lines more the whole text takes (0: it fits). Only a prefix of the text is
    cleaned and wrapped: enough for `limit` lines, and more only if that was not enough."""
    clean = clean_line if line else clean_text
    budget = (limit + 2) * (max(1, width) + 1) * 2
    while True:
        head = text[:budget]
        whole = len(head) == len(text)
        lines = wrap(clean(head), width, None if whole else limit + 1)
        # From a prefix, the last line may hold half a word: trust lines before it only.
        if whole or len(lines) > limit + 1:
            break
        budget *= 4
    if len(lines) <= limit:
        return lines, 0
    return lines[:limit], max(1, _lines_about(text, width, line) - limit)


SAMPLE = 1 << 16  # characters of a long text whose newlines are counted, for the estimate


def _lines_about(text: str, width: int, line: bool) -> int:
    """About how many lines `text` wraps to: its length in lines of `width`, and its
    newlines, counted in its first SAMPLE characters and scaled (counting a 1 MB body's all
    took a third of drawing it)."""
    lines = len(text) // max(1, width)
    if line:
        return lines
    newlines = text.count("\n", 0, SAMPLE)
    return lines + (newlines if len(text) <= SAMPLE else newlines * len(text) // SAMPLE)


@dataclass
class Drawing:
    """What an entry is drawn with: worked out once per layout pass, not per entry."""

    width: int
    styles: dict[str, Style]
    now: datetime
    zone: tzinfo | None  # the customer's, when known
    pattern: re.Pattern[str] | None  # what find highlights
    limit: int  # lines of text an entry shows before it is cut

    def spans(self, text: str, style: Style) -> list[Segment]:
        """`text` in `style`, with what find looks for highlighted."""
        if self.pattern is None or not text:
            return [Segment(text, style)]
        out: list[Segment] = []
        at = 0
        for match in self.pattern.finditer(text):
            if match.start() > at:
                out.append(Segment(text[at:match.start()], style))
            out.append(Segment(match.group(), style + self.styles["match"]))
            at = match.end()
        if at < len(text):
            out.append(Segment(text[at:], style))
        return out or [Segment(text, style)]


def header(conversation: Stored | None, conversation_id: str, channel: str, d: Drawing) -> Strip:
    """A conversation's heading: topic, status, channels, when it started, who has it."""
    style, width = d.styles["header"], d.width
    if conversation is None:
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
    internal = entry.direction == Direction.INTERNAL
    arrow_style = styles["note"] if internal else styles[entry.direction.value]
    author = d.spans(clean_line(entry.author) or "—", styles["meta"] + Style(bold=True))
    times = Segment(f"{when(entry.at)} · {clock.relative(entry.at, d.now)}  ", styles["meta"])
    arrow = Segment(f"{ARROWS[entry.direction]} ", arrow_style)
    label = "INTERNAL NOTE" if internal else entry.direction.value
    segments = [arrow, times, Segment(f"{label} · {entry.channel.value}  ", arrow_style), *author]
    if Segment.get_line_length(segments) > d.width:
        segments = [arrow, times, Segment(f"{entry.channel.value}  ", arrow_style), *author]
    if not internal and d.zone is not None and clock.differs_from_desk(entry.at, d.zone):
        theirs = f"  {entry.at.astimezone(d.zone):%H:%M} their time"
        if Segment.get_line_length(segments) + len(theirs) <= d.width:
            segments.append(Segment(theirs, styles["meta"]))
    return segments


def entry(item: Stored, d: Drawing, expanded: bool = False) -> tuple[list[Strip], bool]:
    """The lines of one entry (ending with a blank line), and whether it is long: cut at
    `d.limit` lines of text unless `expanded`, and Enter shows it all or cuts it again."""
    styles, width = d.styles, d.width
    internal = item.direction == Direction.INTERNAL
    arrow_style = styles["note"] if internal else styles[item.direction.value]
    body_style = styles["note-body"] if internal else styles["body"]
    prefix = Segment("▌ " if internal else " " * INDENT, arrow_style)
    lines = [Strip(fit([(s.text, s.style) for s in meta_segments(item, d)], width))]
    inner = width - INDENT
    limit = None if expanded else max(1, d.limit)
    more = 0
    parts: list[tuple[list[str], Style]] = []
    if item.subject:
        subject = "Subject: " + item.subject
        if limit is None:
            shown = wrap(clean_line(subject), inner)
        else:
            shown, more = wrap_head(subject, inner, limit, line=True)
            limit = max(0, limit - len(shown))
        parts.append((shown, styles["subject"]))
    if item.body and (limit is None or (limit > 0 and not more)):
        if limit is None:
            shown = wrap(clean_text(item.body), inner)
        else:
            shown, more = wrap_head(item.body, inner, limit)
        parts.append((shown, body_style))
    elif item.body and limit is not None:
        more += _lines_about(item.body, inner, False) + 1
    count = 0
    for shown, style in parts:
        for part in shown:
            lines.append(Strip([prefix, *d.spans(part, style)]))
            count += 1
    long = bool(more) or (expanded and count > max(1, d.limit))
    if more:
        lines.append(Strip([prefix, Segment(f"… about {more:,} more line{'s' if more != 1 else ''}"
                                            " · enter shows all", styles["cut"])]).crop(0, width))
    elif long:
        lines.append(Strip([prefix, Segment("▲ enter shows less", styles["cut"])]).crop(0, width))
    lines.append(Strip.blank(width))
    return lines, long


def query_pattern(query: str) -> re.Pattern[str] | None:
    """What find highlights: the query's text, in any case."""
    return re.compile(re.escape(query), re.IGNORECASE) if query else None
