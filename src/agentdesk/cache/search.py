"""In-memory customer search: every keystroke answered from two flat byte strings.

Rows live in one UTF-8 buffer (one line per customer: id, name, e-mail, phone, company) and a
case-folded copy with the phone's digits added; `find` walks the copy at C speed. The buffers
are filled a row at a time, so building the index never holds more than the index itself:
the same size kept and at the peak, where a list of row objects (or a `str`
that one non-Latin-1 name widens to 2 or 4 bytes a character) would cost several times that.
"""

from __future__ import annotations

import heapq
import re
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from agentdesk.cache.search_index import IndexRow

SEP = "\x1f"
_SEP = SEP.encode()
_NL = b"\n"
_PHONE = re.compile(r"\+?[\d\s().-]+")
SCAN_LIMIT = 1000  # matches ranked per keystroke; beyond that the count shows as "1000+"
LISTED = 1000  # rows kept in name order for the empty query's listing


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _field(value: str) -> str:
    """A value as stored in the buffers: only the two separators are replaced."""
    return value.replace("\n", " ").replace(SEP, " ")


def _line(row: IndexRow) -> str:
    return SEP.join(_field(v) for v in (row.id, row.name, row.email, row.phone, row.company))


def _hay_line(line: str, row: IndexRow) -> str:
    """What a query is matched against: the row case-folded, and the phone's digits."""
    return f"{line}{SEP}{_digits(row.phone)}".casefold()


@dataclass
class SearchResult:
    rows: list[IndexRow]
    total: int  # rows that match, counted up to SCAN_LIMIT
    more: bool  # True when there are more than `total`


class CustomerIndex:
    def __init__(self, rows: Iterable[IndexRow]) -> None:
        display, hay = bytearray(_NL), bytearray(_NL)  # every line follows a newline
        for row in rows:
            line = _line(row)
            display += f"{line}\n".encode()
            hay += f"{_hay_line(line, row)}\n".encode()
        self._display, self._hay = display, hay  # never changed after this
        self._display_starts = _line_starts(self._display)
        self._hay_starts = _line_starts(self._hay)
        self._count = len(self._display_starts) - 1
        self._at: dict[str, int | None] = {}  # line of an id looked up by `get` (a few)
        self._by_name = self._first_by_name(LISTED)
        self._changed: dict[str, IndexRow] = {}  # rows edited since the buffers were built
        self.recent: list[str] = []

    def __len__(self) -> int:
        return self._count + sum(1 for k in self._changed if self._line_of(k) is None)

    def _row_id(self, i: int) -> str:
        start = self._display_starts[i]
        return self._display[start : self._display.index(_SEP, start)].decode()

    def _name(self, i: int) -> str:
        """The case-folded name on line `i`."""
        start = self._hay.index(_SEP, self._hay_starts[i]) + 1
        return self._hay[start : self._hay.index(_SEP, start)].decode()

    def row(self, i: int) -> IndexRow:
        start, end = self._display_starts[i], self._display_starts[i + 1] - 1
        return IndexRow(*self._display[start:end].decode().split(SEP))

    def _line_of(self, customer_id: str) -> int | None:
        if customer_id not in self._at:
            hit = self._display.find(_NL + _field(customer_id).encode() + _SEP)
            self._at[customer_id] = None if hit < 0 else bisect_right(self._display_starts, hit)
        return self._at[customer_id]

    def get(self, customer_id: str) -> IndexRow | None:
        if customer_id in self._changed:
            return self._changed[customer_id]
        i = self._line_of(customer_id)
        return None if i is None else self.row(i)

    def update(self, row: IndexRow) -> None:
        """Reflect an edit at once, without rebuilding the buffers."""
        self._changed[row.id] = row

    def search(self, query: str, limit: int = 200) -> SearchResult:
        """Rows matching every word of `query` (name, e-mail, phone, company, id).

        Ranked: recently viewed, then names starting with the query, then by name.
        """
        words = query.casefold().split()
        if _PHONE.fullmatch(query.strip()) and sum(c.isdigit() for c in query) >= 3:
            words = [_digits(query)]  # a phone typed as written: match its digits in one go
        if not words:
            return self._listing(limit, {cid: n for n, cid in enumerate(self.recent)})
        # Index rows are keyed by their line, edited rows by their id; names compare as bytes
        # (UTF-8 orders as the code points do). Only the rows returned are decoded.
        edited_lines = {self._line_of(cid) for cid in self._changed}
        recent_rank: dict[int | str, int] = {}
        for n, cid in enumerate(self.recent):
            line = None if cid in self._changed else self._line_of(cid)
            recent_rank.setdefault(cid if line is None else line, n)
        phrase = " ".join(words).encode()
        # Walk the longest word (fewest hits), check the others on each hit's line.
        first, *others = sorted((w.encode() for w in words), key=len, reverse=True)
        hay, starts = self._hay, self._hay_starts
        found: dict[int | str, tuple[bytes, int | IndexRow]] = {}  # key -> (folded name, row)
        pos, more = 0, False
        while True:
            hit = hay.find(first, pos)
            if hit < 0:
                break
            i = bisect_right(starts, hit) - 1
            start, pos = starts[i], starts[i + 1]  # the line; the walk goes on after it
            for word in others:  # searched in place: a slice per hit would cost more
                if hay.find(word, start, pos) < 0:
                    break
            else:
                if len(found) >= SCAN_LIMIT:
                    more = True
                    break
                if i not in edited_lines:
                    name = hay.index(_SEP, start) + 1
                    found[i] = (bytes(hay[name : hay.index(_SEP, name)]), i)
        # Edited rows, and recently viewed ones (which may lie past the scan limit).
        extra: list[tuple[int | str, IndexRow]] = [(cid, r) for cid, r in self._changed.items()]
        extra += [(k, self.row(k)) for k in recent_rank if isinstance(k, int) and k not in found]
        for key, row in extra:
            if all(w in _hay_line(_line(row), row) for w in words):
                found[key] = (row.name.casefold().encode(), row)
        ranked = sorted(
            found.items(),
            key=lambda item: (
                recent_rank.get(item[0], len(recent_rank)),
                not item[1][0].startswith(phrase),
                item[1][0],
            ),
        )
        rows = [r if isinstance(r, IndexRow) else self.row(r) for _, (_, r) in ranked[:limit]]
        return SearchResult(rows, len(ranked), more)

    def _first_by_name(self, count: int) -> list[int]:
        """Lines of the first `count` customers by name (ties by id)."""
        keys = ((self._name(i), self._row_id(i), i) for i in range(self._count))
        return [i for _, _, i in heapq.nsmallest(count, keys)]

    def _listing(self, limit: int, recent_rank: dict[str, int]) -> SearchResult:
        """No query: recently viewed first, then everyone by name (edits included)."""
        recent = [r for cid in self.recent if (r := self.get(cid)) is not None][:limit]
        seen = {r.id for r in recent}
        wanted = limit + len(self._changed) + len(seen)
        order = self._by_name if wanted <= len(self._by_name) else self._first_by_name(wanted)
        rest: list[IndexRow] = [r for r in self._changed.values() if r.id not in seen]
        for i in order:
            if len(rest) >= limit + len(self._changed):
                break
            row_id = self._row_id(i)
            if row_id not in self._changed and row_id not in seen:
                rest.append(self.row(i))
        rest.sort(key=lambda r: (r.name.casefold(), r.id))
        return SearchResult((recent + rest)[:limit], len(self), False)


def _line_starts(text: bytearray) -> array:
    """Where each line begins, and one past the end (the buffer starts with a newline)."""
    starts = array("I")
    pos = text.find(_NL)
    while pos >= 0:
        starts.append(pos + 1)
        pos = text.find(_NL, pos + 1)
    return starts
