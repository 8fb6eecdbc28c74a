"""Text folded for matching: case and accents ignored, so `ádá` finds "Ada" and `ada` finds
"Adà". The search index folds what it stores and the query the same way; the UI folds a shown
value again, keeping where each folded character came from, to highlight what matched.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One character folded: its compatibility decomposition without combining marks,
    case-folded ("É" -> "e", "ß" -> "ss", "ﬁ" -> "fi")."""
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold(text: str) -> str:
    """`text` for matching. ASCII (most names, every e-mail) takes the fast path."""
    if text.isascii():
        return text.lower()
    return "".join(map(_fold_char, text))


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """`fold(text)`, and for each folded character the index of the character of `text` it
    came from (folding a character per character gives the same text as a whole: the
    decomposition of one character never depends on its neighbours once marks are dropped)."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    folded: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        piece = _fold_char(ch)
        folded.append(piece)
        origin.extend([i] * len(piece))
    return "".join(folded), origin


def find_span(text: str, folded_word: str) -> tuple[int, int] | None:
    """Where `folded_word` (already folded) matches `text` after folding: (start, end) in
    `text`, or None."""
    if not folded_word:
        return None
    folded, origin = fold_with_map(text)
    at = folded.find(folded_word)
    if at < 0:
        return None
    return origin[at], origin[at + len(folded_word) - 1] + 1
