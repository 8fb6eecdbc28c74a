"""Text cut to the cells it has, with an ellipsis where it was cut: the panel's label/value
lines, the search results' columns and the timeline's conversation headers never wrap back
to the first column, and never end on a dangling separator.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

ELLIPSIS = "…"
LONGEST = 1000  # characters of one value ever drawn on a line: no line is wider, and a
# 1 MB value is measured by its first thousand characters only


def cut(text: str, width: int) -> str:
    """`text` in at most `width` cells, ending in "…" if it did not fit."""
    if width <= 0:
        return ""
    text = text[:LONGEST]
    if len(text) <= width and cell_len(text) <= width:  # len: a fast bound, as no char is 0 cells
        return text
    return _ended(text, width)


def _ended(text: str, width: int) -> str:
    """As much of `text` as fits `width` cells with the ellipsis after it."""
    return set_cell_size(text, width - 1).rstrip() + ELLIPSIS


def fit(spans: list[tuple[str, Style]], width: int, *, pad: Style | None = None) -> list[Segment]:
    """Styled spans in at most `width` cells: cut with "…" in the style of the span that was
    cut; padded with spaces in `pad`'s style, if given, to exactly `width`."""
    out: list[Segment] = []
    used = 0
    for n, (text, style) in enumerate(spans):
        text = text[:LONGEST]
        size = cell_len(text)
        if used + size > width or (used + size == width and _more(spans, n)):
            if width > used:
                out.append(Segment(_ended(text, width - used), style))
            used = width
            break
        out.append(Segment(text, style))
        used += size
    if pad is not None and used < width:
        out.append(Segment(" " * (width - used), pad))
    return out


def _more(spans: list[tuple[str, Style]], n: int) -> bool:
    """Whether anything visible follows span `n`."""
    return any(text for text, _ in spans[n + 1:])


def columns(cells: list[tuple[list[tuple[str, Style]], int]], width: int,
            base: Style) -> list[Segment]:
    """Cells of given widths side by side (the last one takes what is left), each cut to its
    width less one (a space between columns, also after a cut one) and the whole line to
    `width`."""
    out: list[Segment] = []
    left = width
    for n, (spans, size) in enumerate(cells):
        if left <= 0:
            break
        last = n == len(cells) - 1 or size >= left
        size = left if last else size
        out += fit(spans, size if last else size - 1, pad=base)
        if not last:
            out.append(Segment(" ", base))
        left -= size
    return out


def fit_parts(parts: list[tuple[str, int]], width: int, sep: str = " · ") -> str:
    """Parts joined by `sep` in at most `width` cells, keeping the important ones: the least
    important (highest rank) parts are dropped whole until the rest fits, and the most
    important is cut with "…" if even it alone does not. Never ends on a dangling `sep`."""
    kept = [(text[:LONGEST], rank) for text, rank in parts if text]
    while kept:
        line = sep.join(text for text, _ in kept)
        if cell_len(line) <= width or len(kept) == 1:
            return cut(line, width)
        kept.remove(max(kept, key=lambda part: part[1]))
    return ""
