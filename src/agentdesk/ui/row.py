"""A list row drawn straight from styled spans, for the Customer Details lists.

Turning a row into Textual `Content` and wrapping it, only to learn its height, was a
measurable part of each profile open. A row knows its
width in cells up front, so its height is a comparison, and drawing it is one `Strip` a
line. Rows too long for the panel wrap at spaces (inside a word only when the word is
longer than a line), so nothing is cut off; a newline in the desk's own text (or in a note,
through `block`) starts a new line. A row made with `cut=True` (a label/value line) never
wraps: each of its lines ends in "…" where the panel is too narrow.

A value from the data is drawn from its first LONGEST characters (`data`) or BLOCK_LONGEST
(`block`): a 1 MB address or note is never measured or wrapped whole.
"""

from __future__ import annotations

from functools import lru_cache

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from agentdesk.model.sanitize import clean_line, clean_text
from agentdesk.ui.fit import ELLIPSIS, LONGEST, fit

Line = list[tuple[str, RichStyle]]
BLOCK_LONGEST = 2000  # characters of a note shown in the panel (the form shows it all)


def _head(value: object, longest: int) -> str:
    text = str(value)
    return text if len(text) <= longest else text[:longest] + ELLIPSIS


@lru_cache(maxsize=64)
def _style(spec: str) -> RichStyle:
    return RichStyle.parse(spec) if spec else RichStyle.null()


class Row(Visual):
    """Spans of text, each with a Rich style. Customer text goes in through `data` (one line)
    or `block` (newlines kept), which make it inert first."""

    def __init__(self, *, cut: bool = False) -> None:
        self._cut = cut
        self._optional = -1  # spans from here on are drawn only if all of them fit (cut rows)
        self._spans: Line = []
        self._cells = 0  # of the whole text, when it has no newline
        self._newlines = False
        self._folded: tuple[int, list[Line]] | None = None

    def text(self, value: str, style: str = "") -> Row:
        """Append the desk's own text (labels, dates, enum values)."""
        if value:
            self._spans.append((value, _style(style)))
            self._cells += cell_len(value)
            self._newlines = self._newlines or "\n" in value
            self._folded = None
        return self

    def data(self, value: object, style: str = "") -> Row:
        """Append text from the data, made inert: one line, no control characters."""
        return self.text(clean_line(_head(value, LONGEST)), style)

    def optional(self) -> Row:
        """What is appended next (a contact point's label) is left out whole, in a cut row,
        when the line is too narrow for it: better than "(mob…" or a lone "…"."""
        self._optional = len(self._spans)
        return self

    def block(self, value: object, style: str = "") -> Row:
        """Append multi-line text from the data, made inert (its newlines kept)."""
        return self.text(clean_text(_head(value, BLOCK_LONGEST)), style)

    def __str__(self) -> str:
        return "".join(text for text, _ in self._spans)

    def __repr__(self) -> str:
        return f"Row({str(self)!r})"

    def height(self, width: int) -> int:
        if self._cut:
            return len(self._lines())
        return 1 if self._fits(width) else len(self._fold(width))

    def strips(self, width: int, base: RichStyle) -> list[Strip]:
        """The row's lines at `width`, each span's style laid over `base`."""
        if self._cut:
            lines = self._lines()
            if self._optional >= 0 and not self._newlines and self._cells > width:
                lines = [self._spans[:self._optional]]
            return [Strip(fit([(text, base + span_style) for text, span_style in line], width))
                    for line in lines]
        lines = [self._spans] if self._fits(width) else self._fold(width)
        return [Strip([Segment(text, base + span_style) for text, span_style in line])
                for line in lines]

    def _lines(self) -> list[Line]:
        """The spans split at newlines (a cut row's lines)."""
        if not self._newlines:
            return [self._spans]
        lines: list[Line] = [[]]
        for text, style in self._spans:
            first, *rest = text.split("\n")
            lines[-1].append((first, style))
            lines += [[(part, style)] for part in rest]
        return lines

    def _fits(self, width: int) -> bool:
        return not self._newlines and self._cells <= width

    # -- the Visual protocol (for a `Static`) ------------------------------------------------

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        if self._cut:
            return min(container_width, max(self._line_cells(line) for line in self._lines()))
        if not self._newlines:
            return self._cells
        return max(cell_len(line) for line in str(self).split("\n"))

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self.height(width)

    def render_strips(self, width: int, height: int | None, style: Style,
                      options: RenderOptions) -> list[Strip]:
        return self.strips(width, style.rich_style)

    @staticmethod
    def _line_cells(line: Line) -> int:
        return sum(cell_len(text) for text, _ in line)

    def _fold(self, width: int) -> list[Line]:
        """The spans cut into lines of at most `width` cells (cached for the last width)."""
        width = max(1, width)
        if self._folded is not None and self._folded[0] == width:
            return self._folded[1]
        if not self._spans:
            return [[]]
        lines: list[Line] = []
        spans, at = self._spans, 0  # the span holding character `span_start` of the text
        span_start = 0
        for start, end in _line_ranges(str(self), width):
            while at < len(spans) - 1 and span_start + len(spans[at][0]) <= start:
                span_start += len(spans[at][0])
                at += 1
            line: Line = []
            i, offset = at, span_start
            while i < len(spans) and offset < end:
                text, span_style = spans[i]
                piece = text[max(0, start - offset) : end - offset]
                if piece:
                    line.append((piece, span_style))
                offset += len(text)
                i += 1
            lines.append(line)
        self._folded = (width, lines)
        return lines


def _line_ranges(text: str, width: int) -> list[tuple[int, int]]:
    """Greedy word wrap by terminal cells, as (start, end) offsets into `text`: lines break at
    a newline or a space (either is dropped) or, for a word longer than a line, inside it."""
    ranges: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while start < n:
        end, used, space = start, 0, -1
        while end < n and text[end] != "\n":
            size = get_character_cell_size(text[end])
            if used + size > width:
                break
            if text[end] == " ":
                space = end
            used += size
            end += 1
        if end == n:
            ranges.append((start, n))
            break
        if text[end] == "\n":
            ranges.append((start, end))
            start = end + 1
            if start == n:  # a trailing newline ends with an empty line
                ranges.append((n, n))
        elif end == start:  # a character wider than the line gets a line of its own
            ranges.append((start, start + 1))
            start += 1
        elif text[end] == " ":
            ranges.append((start, end))
            start = end + 1
        elif space > start:
            ranges.append((start, space))
            start = space + 1
        else:
            ranges.append((start, end))
            start = end
    return ranges or [(0, 0)]
