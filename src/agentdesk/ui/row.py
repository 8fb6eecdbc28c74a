"""A list row drawn straight from styled spans, for the Customer Details lists.

`OptionList` turns every option into Textual `Content` and wraps it, for its height, before it
draws a line: for a 40-option conversation list that was ~3 ms of each profile open, more than
the rest of the panel. A row knows its width in cells up front, so its height is a division
and drawing it is one `Strip`. Rows too long for the panel wrap at spaces (inside a word only
when the word is longer than a line), so nothing is cut off.
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

from agentdesk.core.sanitize import clean_line


@lru_cache(maxsize=64)
def _style(spec: str) -> RichStyle:
    return RichStyle.parse(spec) if spec else RichStyle.null()


class Row(Visual):
    """Spans of text, each with a Rich style; `data` cleans customer-supplied text first."""

    def __init__(self) -> None:
        self._spans: list[tuple[str, RichStyle]] = []
        self._cells = 0
        self._folded: tuple[int, list[list[tuple[str, RichStyle]]]] | None = None

    def text(self, value: str, style: str = "") -> Row:
        """Append the desk's own text (labels, dates, enum values)."""
        if value:
            self._spans.append((value, _style(style)))
            self._cells += cell_len(value)
        return self

    def data(self, value: object, style: str = "") -> Row:
        """Append text from the data, made inert: one line, no control characters."""
        return self.text(clean_line(str(value)), style)

    def __str__(self) -> str:
        return "".join(text for text, _ in self._spans)

    def __repr__(self) -> str:
        return f"Row({str(self)!r})"

    # -- the Visual protocol ---------------------------------------------------------------

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self._cells

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1 if self._cells <= width else len(self._fold(width))

    def render_strips(self, width: int, height: int | None, style: Style,
                      options: RenderOptions) -> list[Strip]:
        base = style.rich_style
        if self._cells <= width:
            lines = [self._spans]
        else:
            lines = self._fold(width)
        return [Strip([Segment(text, base + span_style) for text, span_style in line])
                for line in lines]

    def _fold(self, width: int) -> list[list[tuple[str, RichStyle]]]:
        """The spans cut into lines of at most `width` cells, at spaces where a line has one
        (cached for the last width)."""
        width = max(1, width)
        if self._folded is not None and self._folded[0] == width:
            return self._folded[1]
        if not self._spans:
            return [[]]
        lines: list[list[tuple[str, RichStyle]]] = []
        spans, at = self._spans, 0  # the span holding character `at` of the plain text
        span_start = 0
        for start, end in _line_ranges(str(self), width):
            while span_start + len(spans[at][0]) <= start:  # skip spans before this line
                span_start += len(spans[at][0])
                at += 1
            line, i, offset = [], at, span_start
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
    a space (which is dropped) or, for a word longer than a line, inside the word."""
    ranges: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while start < n:
        end, used, space = start, 0, -1
        while end < n:
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
        if end == start:  # a character wider than the line gets a line of its own
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
