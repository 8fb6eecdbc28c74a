"""In-memory customer search: every keystroke answered from two flat byte strings.

Rows live in one UTF-8 buffer (one line per customer: id, name, e-mail, phone, company, the
other contact points, the relationships) and a folded copy (case and accents: see
`model.fold`) of what is searched, with the phones' digits added; `find` walks the copy at C
speed. The relationships are only in the first buffer: a `find` there lists who is related
to a customer, for that customer's profile. The buffers
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
from agentdesk.model.fold import find_span, fold

SEP = "\x1f"  # between the fields of a line
_ITEM = "\x1e"  # between the other contact points
_PAIR = "\x1d"  # between a contact point's kind and value, a relationship's id and label
_REL = "\x1c"  # before each relationship (so a find of "\x1c<id>\x1d" names the customers
# related to <id>, and nothing else)
_SAME = "\x1a"  # a shown value that is its folded self (most e-mails, phones, handles): read
# from the folded buffer, not kept twice
_SEP = SEP.encode()
_NL = b"\n"
_CONTROLS = str.maketrans({c: " " for c in "\n\x1a\x1c\x1d\x1e\x1f"})
_PHONE = re.compile(r"\+?[\d\s().-]+")
SCAN_LIMIT = 1000  # matches ranked per keystroke; beyond that the count shows as "1000+"
LISTED = 1000  # rows kept in name order for the empty query's listing
_KIND = {"email": "e", "phone": "p", "address": "a", "social": "s"}  # stored as one letter
_KIND_OF = {code: kind for kind, code in _KIND.items()}


_NOT_DIGITS = re.compile(r"\D+")


def _digits(text: str) -> str:
    return _NOT_DIGITS.sub("", text) if text else ""


def _field(value: str) -> str:
    """A value as stored in the buffers: only the separators are replaced (every one of them
    is unprintable: the test is a fast way to skip the common case)."""
    return value if value.isprintable() else value.translate(_CONTROLS)


def _shown(value: str) -> str:
    if value.isascii():  # the common case, without a call
        return _SAME if value and value.lower() == value else value
    return _SAME if value and fold(value) == value else value


def clean_row(row: IndexRow) -> IndexRow:
    """The row with the buffers' separators replaced in every value: itself, nearly always
    (one test for the whole row: this runs for every customer when the index loads)."""
    text = (f"{row.id}{row.name}{row.email}{row.phone}{row.company}"
            f"{''.join(k + v for k, v in row.others) if row.others else ''}"
            f"{''.join(c + lb for c, lb in row.related) if row.related else ''}")
    if text.isprintable():
        return row
    return IndexRow(_field(row.id), _field(row.name), _field(row.email), _field(row.phone),
                    _field(row.company), [[_field(k), _field(v)] for k, v in row.others],
                    [[_field(c), _field(lb)] for c, lb in row.related])


def _line(row: IndexRow) -> str:
    """A `clean_row` row as shown (less what `_shown` leaves to the folded line) and its
    relationships."""
    others = related = ""
    if row.others:
        others = _ITEM.join(f"{_KIND.get(kind, kind)}{_PAIR}{_shown(value)}" for kind, value in row.others)
    if row.related:
        related = "".join(f"{_REL}{cid}{_PAIR}{label}" for cid, label in row.related)
    return (f"{row.id}{SEP}{row.name}{SEP}{_shown(row.email)}{SEP}{_shown(row.phone)}{SEP}"
            f"{row.company}{SEP}{others}{SEP}{related}")


def hay_line(row: IndexRow) -> str:
    """What a query is matched against in a `clean_row` row, folded: the searched fields, and
    every phone's digits (a phone is found however it was typed)."""
    digits = _digits(row.phone)
    others = ""
    if row.others:
        phones = [digits, *(_digits(value) for kind, value in row.others if kind == "phone")]
        digits = " ".join(phones)
        others = _ITEM.join(value for _, value in row.others)
    return fold(f"{row.id}{SEP}{row.name}{SEP}{row.email}{SEP}{row.phone}{SEP}{row.company}{SEP}"
                f"{others}{SEP}{digits}")


def _parse(line: str, hay: str) -> IndexRow:
    """The row of a shown line; `hay` (its folded line) is read only when a value was left to it."""
    cid, name, email, phone, company, others, related = line.split(SEP)
    folded = hay.split(SEP) if _SAME in line else []
    points = [item.split(_PAIR, 1) for item in others.split(_ITEM)] if others else []
    if folded:
        email = folded[2] if email == _SAME else email
        phone = folded[3] if phone == _SAME else phone
        values = folded[5].split(_ITEM)
        points = [[kind, values[n] if value == _SAME else value]
                  for n, (kind, value) in enumerate(points)]
    return IndexRow(
        cid, name, email, phone, company,
        [[_KIND_OF.get(kind, kind), value] for kind, value in points],
        [item.split(_PAIR, 1) for item in related.split(_REL)[1:]],
    )


def query_words(query: str) -> list[str]:
    """The folded words a query is matched by: each must be in a row. A phone number typed
    as written ("+1 (555) 123-4567") is one word of its digits."""
    if _PHONE.fullmatch(query.strip()) and sum(c.isdigit() for c in query) >= 3:
        return [_digits(query)]
    return fold(query).split()


@dataclass
class SearchResult:
    rows: list[IndexRow]
    total: int  # rows that match, counted up to SCAN_LIMIT
    more: bool  # True when there are more than `total`
    words: list[str]  # what the rows matched (`query_words`): for showing where


class CustomerIndex:
    def __init__(self, rows: Iterable[IndexRow]) -> None:
        display, hay = bytearray(_NL), bytearray(_NL)  # every line follows a newline
        for row in rows:
            row = clean_row(row)
            display += f"{_line(row)}\n".encode()
            hay += f"{hay_line(row)}\n".encode()
        self._display, self._hay = display, hay  # never changed after this
        self._display_starts = line_starts(self._display)
        self._hay_starts = line_starts(self._hay)
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
        line = self._display[start:end].decode()
        hay = ""
        if _SAME in line:
            hay = self._hay[self._hay_starts[i] : self._hay_starts[i + 1] - 1].decode()
        return _parse(line, hay)

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
        """Rows matching every word of `query` (name, any contact point, company, id), case
        and accents ignored.

        Ranked: recently viewed, then names starting with the query, then by name.
        """
        words = query_words(query)
        if not words:
            return self._listing(limit)
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
            if all(w in hay_line(clean_row(row)) for w in words):
                found[key] = (fold(_field(row.name)).encode(), row)
        ranked = sorted(
            found.items(),
            key=lambda item: (
                recent_rank.get(item[0], len(recent_rank)),
                not item[1][0].startswith(phrase),
                item[1][0],
            ),
        )
        rows = [r if isinstance(r, IndexRow) else self.row(r) for _, (_, r) in ranked[:limit]]
        return SearchResult(rows, len(ranked), more, words)

    def _first_by_name(self, count: int) -> list[int]:
        """Lines of the first `count` customers by name (ties by id)."""
        keys = ((self._name(i), self._row_id(i), i) for i in range(self._count))
        return [i for _, _, i in heapq.nsmallest(count, keys)]

    def _listing(self, limit: int) -> SearchResult:
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
        rest.sort(key=lambda r: (fold(_field(r.name)), r.id))
        return SearchResult((recent + rest)[:limit], len(self), False, [])

    def related_to(self, customer_id: str) -> list[tuple[IndexRow, str]]:
        """The customers who list `customer_id` as related, each with the label they gave
        (the link seen from the other side: "assistant" on Ada's profile is "assistant of"
        on Farah's)."""
        found: list[tuple[IndexRow, str]] = []
        for row in self._changed.values():
            found += [(row, label) for cid, label in row.related if cid == customer_id]
        needle = f"{_REL}{_field(customer_id)}{_PAIR}".encode()
        pos = self._display.find(needle)
        while pos >= 0:
            i = bisect_right(self._display_starts, pos) - 1
            row = self.row(i)
            if row.id not in self._changed:
                found += [(row, label) for cid, label in row.related if cid == customer_id]
            pos = self._display.find(needle, self._display_starts[i + 1])
        return found


def span_of(value: str, word: str) -> tuple[int, int] | None:
    """Where a folded query word matches `value` ((start, end) in `value`), or None. A word of
    digits also matches a phone's digits across its spaces and dashes."""
    span = find_span(value, word)
    if span is None and word.isdigit():
        where = [i for i, ch in enumerate(value) if ch.isdigit()]
        at = "".join(value[i] for i in where).find(word)
        if at >= 0:
            span = where[at], where[at + len(word) - 1] + 1
    return span


def matched_field(row: IndexRow, words: list[str]) -> tuple[str, str] | None:
    """The field to show beside a result's name, as (what it is, value): of the fields that
    hold query words the name does not, the one holding most of them, the first such (so an
    agent who typed part of an address sees that address); None when the name explains the
    hit."""
    rest = [w for w in words if not span_of(row.name, w)]
    if not rest:
        return None
    fields = [("email", row.email), ("phone", row.phone), ("company", row.company),
              ("id", row.id), *((kind, value) for kind, value in row.others)]
    best, most = None, 0
    for label, value in fields:
        held = sum(1 for w in rest if value and span_of(value, w))
        if held > most:
            best, most = (label, value), held
    return best


def line_starts(text: bytearray) -> array:
    """Where each line begins, and one past the end (the buffer starts with a newline)."""
    starts = array("I")
    pos = text.find(_NL)
    while pos >= 0:
        starts.append(pos + 1)
        pos = text.find(_NL, pos + 1)
    return starts
