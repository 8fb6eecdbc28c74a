"""In-memory customer search: every keystroke answered from two flat strings.

Rows live in one string (one line per customer, sorted by name) and a lower-cased copy with
the phone's digits added; `str.find` walks the copy at C speed. That keeps 100,000 customers
in ~20 MB and a keystroke in a few milliseconds, where a list of row objects would cost
several times the memory.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from agentdesk.core.cache import IndexRow

SEP = "\x1f"
SCAN_LIMIT = 1000  # matches ranked per keystroke; beyond that the count shows as "1000+"


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _line(row: IndexRow) -> str:
    return SEP.join(" ".join(v.split()) for v in (row.id, row.name, row.email, row.phone, row.company))


def _haystack(row: IndexRow) -> str:
    return SEP.join((row.name, row.email, row.phone, _digits(row.phone), row.company, row.id)).casefold().replace("\n", " ")


@dataclass
class SearchResult:
    rows: list[IndexRow]
    total: int  # rows that match, counted up to SCAN_LIMIT
    more: bool  # True when there are more than `total`


class CustomerIndex:
    def __init__(self, rows: Iterable[IndexRow]) -> None:
        ordered = sorted(rows, key=lambda r: (r.name.casefold(), r.id))
        self._display = "\n".join(_line(r) for r in ordered) + "\n"
        self._hay = "\n".join(_haystack(r) for r in ordered) + "\n"
        self._display_starts = _line_starts(self._display)
        self._hay_starts = _line_starts(self._hay)
        self._ids = {self._row_id(i): i for i in range(len(ordered))}
        self._changed: dict[str, IndexRow] = {}  # rows edited since the strings were built
        self.recent: list[str] = []

    def __len__(self) -> int:
        return len(self._ids) + sum(1 for k in self._changed if k not in self._ids)

    def _row_id(self, i: int) -> str:
        start = self._display_starts[i]
        return self._display[start : self._display.index(SEP, start)]

    def row(self, i: int) -> IndexRow:
        start, end = self._display_starts[i], self._display_starts[i + 1] - 1
        return IndexRow(*self._display[start:end].split(SEP))

    def get(self, customer_id: str) -> IndexRow | None:
        if customer_id in self._changed:
            return self._changed[customer_id]
        i = self._ids.get(customer_id)
        return None if i is None else self.row(i)

    def update(self, row: IndexRow) -> None:
        """Reflect an edit at once, without rebuilding the strings."""
        self._changed[row.id] = row

    def search(self, query: str, limit: int = 200) -> SearchResult:
        """Rows matching every word of `query` (name, e-mail, phone, company, id).

        Ranked: recently viewed, then names starting with the query, then by name.
        """
        words = query.casefold().split()
        recent_rank = {cid: n for n, cid in enumerate(self.recent)}
        if not words:
            found = [r for cid in self.recent if (r := self.get(cid)) is not None][:limit]
            seen = {r.id for r in found}
            i = 0
            while len(found) < limit and i < len(self._ids):
                row = self.get(self._row_id(i)) or self.row(i)
                if row.id not in seen:
                    found.append(row)
                i += 1
            return SearchResult(found, len(self), False)
        # Walk the longest word (fewest hits), check the others on each hit's line.
        words.sort(key=len, reverse=True)
        first, others = words[0], words[1:]
        hay, starts = self._hay, self._hay_starts
        matches: list[tuple[int, str]] = []  # (row, its lower-cased name)
        pos, more = 0, False
        while True:
            hit = hay.find(first, pos)
            if hit < 0:
                break
            i = bisect_right(starts, hit) - 1
            line = hay[starts[i] : starts[i + 1]]
            if not others or all(w in line for w in others):
                if len(matches) >= SCAN_LIMIT:
                    more = True
                    break
                matches.append((i, line[: line.index(SEP)]))
            pos = starts[i + 1]
        if self._changed:  # edited rows may match now, or no longer
            changed = {self._ids.get(cid, -1) for cid in self._changed}
            matches = [m for m in matches if m[0] not in changed]
            extra = [r for r in self._changed.values() if all(w in _haystack(r) for w in words)]
        else:
            extra = []
        ranked = [(self._row_id(i), name, i) for i, name in matches]
        ranked += [(r.id, r.name.casefold(), r) for r in extra]
        ranked.sort(
            key=lambda m: (
                recent_rank.get(m[0], len(recent_rank)),
                not m[1].startswith(first),
                m[1],
            )
        )
        rows = [m[2] if isinstance(m[2], IndexRow) else self.row(m[2]) for m in ranked[:limit]]
        return SearchResult(rows, len(ranked), more)


def _line_starts(text: str) -> array:
    starts = array("q", [0])
    pos = text.find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts
