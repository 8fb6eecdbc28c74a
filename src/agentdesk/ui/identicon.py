"""A deterministic identicon drawn with block characters: the customer's avatar when the store
has no image of them. The same id always draws the same picture, in any terminal."""

from __future__ import annotations

import hashlib

from rich.text import Text

SIZE = 5  # cells a side; the left half is mirrored, as identicons are
COLOURS = ("#e06c75", "#98c379", "#e5c07b", "#61afef", "#c678dd", "#56b6c2", "#d19a66")
# Two rows of cells per line: (top filled, bottom filled) -> character.
HALVES = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def grid(seed: str) -> list[list[bool]]:
    """SIZE x SIZE cells, symmetric left to right, from the seed's hash."""
    digest = hashlib.sha256(seed.encode()).digest()
    half = (SIZE + 1) // 2
    rows = []
    for y in range(SIZE):
        left = [bool(digest[y * half + x] & 1) for x in range(half)]
        rows.append(left + left[: SIZE - half][::-1])
    return rows


def colour(seed: str) -> str:
    return COLOURS[hashlib.sha256(seed.encode()).digest()[-1] % len(COLOURS)]


def identicon(seed: str) -> list[Text]:
    """The picture as lines (SIZE * 2 cells wide, (SIZE + 1) // 2 lines tall)."""
    cells = grid(seed)
    cells.append([False] * SIZE)  # an odd last row pairs with nothing
    style = colour(seed)
    lines = []
    for y in range(0, SIZE, 2):
        line = "".join(HALVES[(cells[y][x], cells[y + 1][x])] * 2 for x in range(SIZE))
        lines.append(Text(line, style=style))
    return lines
