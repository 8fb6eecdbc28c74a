"""Every cached customer as the customers table holds them: a list of values per column.

100,000 customers are 100,000 index rows; keeping those (or a dict per row) would cost
several hundred bytes of object overhead a row. The table keeps one list per column of the
values themselves, equal values shared where columns repeat (statuses, companies, tags), the
folded text the query's free text is matched against in one byte buffer (as the `/` search
keeps it), and per column a rank per row (an `array` of ints, worked out once): a sort is
then a sort of ints and a filter one pass over the rows, and a view is an array of row
numbers, of which the screen draws only those on screen.

Of the customers' fields (any key, `IndexRow.fields`) the table holds only the columns asked
for when it is read (`load(fields=...)`: 100,000 customers times every key would not fit),
and counts every key (`field_counts`: the column picker lists them).

A query means here what it means to `agentdesk export` (`cache.customer_select`): the filters
are `model.customer_query`'s own checks, run once per distinct value of the column they read
(a status, a set of tags) rather than once per row.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from agentdesk.cache.customer_columns import COLUMNS, FIELD, Value, column_of
from agentdesk.cache.packed import PackedStrings
from agentdesk.cache.search import clean_row, hay_line, line_starts, query_words
from agentdesk.cache.search_index import IndexRow
from agentdesk.model.customer_query import Filter, Query

# The fact each filter of the query language reads (`customer_query.Facts`).
FACT_OF = {"tag": "tags", "status": "status", "segment": "segments", "channel": "channels",
           "last-contact": "last_contact"}
PROGRESS_EVERY = 10_000  # rows between two progress reports while loading


class CustomerTable:
    """Column values of every customer, their sort ranks, and their searchable text."""

    def __init__(self) -> None:
        # Columns of few distinct values: a list sharing them; the others packed (packed.py).
        self.values: dict[str, Any] = {c.id: [] if c.repeats else PackedStrings() for c in COLUMNS}
        self.field_counts: dict[str, int] = {}  # every field key: how many customers have it
        self._hay = bytearray(b"\n")  # a folded line per row (`search.hay_line`)
        self._starts = array("I")
        self._ranks: dict[str, array] = {}
        self._rank_lock = threading.Lock()
        self.by_name = array("i")  # row numbers by name (then id): the default order
        self._times: tuple[array, array, list[int]] | None = None

    @classmethod
    def load(cls, rows: Iterable[IndexRow], progress: Callable[[int], None] | None = None,
             fields: Iterable[str] = ()) -> CustomerTable:
        """The table of `rows`, with a column of each field key of `fields`;
        `progress(count)` every PROGRESS_EVERY rows."""
        table = cls()
        getters = [(table.values[c.id], c.get, {} if c.repeats else None) for c in COLUMNS]
        wanted = [(table.values.setdefault(FIELD + key, []), column.get, {})
                  for key in dict.fromkeys(fields) if (column := column_of(FIELD + key))]
        counts = table.field_counts
        hay = table._hay
        count = 0
        for row in rows:
            for values, get, shared in getters:
                value = get(row)
                if shared is not None:
                    value = shared.setdefault(value, value)
                values.append(value)
            if row.fields:
                for key in row.fields:
                    counts[key] = counts.get(key, 0) + 1
            for values, get, shared in wanted:
                value = get(row)
                # Shared by type too: 1, 1.0 and True are one dict key, not one value.
                values.append(value if value is None else
                              shared.setdefault((type(value), value), value))
            hay += hay_line(clean_row(row)).encode() + b"\n"
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)
        table._starts = line_starts(hay)
        names = table.rank("name")
        ids = table.values["id"]
        table.by_name = array("i", sorted(range(count), key=lambda i: (names[i], ids[i])))
        return table

    def __len__(self) -> int:
        return len(self.values["id"])

    def holds(self, column_id: str) -> bool:
        """Whether the table has the column's values (a field column: if it was asked for)."""
        return column_id in self.values

    def rank(self, column_id: str) -> array:
        """Each row's place in the column's sort order (equal values, equal ranks); worked
        out on first use and kept (400 KB a column at 100,000 rows)."""
        found = self._ranks.get(column_id)
        if found is not None:
            return found
        with self._rank_lock:
            if column_id not in self._ranks:
                column = column_of(column_id)
                assert column is not None, column_id
                values = self.values[column_id]
                keys: dict[Value, Any] = {}
                for value in values:
                    if value not in keys:
                        keys[value] = column.key(value)
                place = {value: n for n, value in enumerate(sorted(keys, key=keys.__getitem__))}
                # Distinct values with equal keys ("Ada" and "ada") share a place.
                for earlier, value in zip(list(place), list(place)[1:], strict=False):
                    if keys[earlier] == keys[value]:
                        place[value] = place[earlier]
                self._ranks[column_id] = array("i", (place[v] for v in values))
            return self._ranks[column_id]

    def order(self, column_id: str, reverse: bool = False) -> array:
        """Row numbers sorted by the column (ties by name, then id, either way)."""
        if (column_id == "name" and not reverse) or not self.holds(column_id):
            return self.by_name  # a field column not read (yet): by name until it is
        rank = self.rank(column_id)
        return array("i", sorted(self.by_name, key=rank.__getitem__, reverse=reverse))

    def view(self, query: Query, now: datetime, order: Sequence[int]) -> array:
        """The rows of `order` the query selects, in that order."""
        mask = self.matching(query, now)
        if mask is None:
            return order if isinstance(order, array) else array("i", order)
        return array("i", [i for i in order if mask[i]])

    def matching(self, query: Query, now: datetime) -> bytearray | None:
        """A byte per row, 1 where the query holds; None for a query that selects all."""
        masks = [self._filter_mask(f, now) for f in query.filters]
        words = query_words(query.text) if query.text.strip() else []
        if words:
            masks.append(self._text_mask(words))
        if not masks:
            return None
        size = len(self)
        combined = int.from_bytes(masks[0], "little")
        for mask in masks[1:]:
            combined &= int.from_bytes(mask, "little")
        return bytearray(combined.to_bytes(size, "little")) if size else bytearray()

    def _filter_mask(self, flt: Filter, now: datetime) -> bytearray:
        fact = FACT_OF.get(flt.name)
        if fact == "last_contact":
            return self._time_mask(flt, now)
        if fact is None:  # a filter this table does not know: every fact of every row
            return bytearray(flt.holds(self.facts(i), now) for i in range(len(self)))
        memo: dict[Value, int] = {}
        out = bytearray(len(self))
        for i, value in enumerate(self.values[fact]):
            hit = memo.get(value)
            if hit is None:
                facts = SimpleNamespace(**{fact: list(value) if isinstance(value, tuple) else value})
                hit = memo[value] = 1 if flt.holds(facts, now) else 0  # type: ignore[arg-type]
            if hit:
                out[i] = 1
        return out

    def _time_mask(self, flt: Filter, now: datetime) -> bytearray:
        """An age filter holds for every time after (or before) some point: that point is
        found by bisecting the rows in time order, asking the filter itself (a few dozen
        checks, not one per row); rows without a readable time are asked one value each."""
        times, rows, undated = self._by_time()
        values = self.values["last_contact"]
        out = bytearray(len(self))

        def holds(i: int) -> bool:
            return flt.holds(SimpleNamespace(last_contact=values[i]), now)  # type: ignore[arg-type]

        if rows:
            first = holds(rows[0])
            # The first position in time order where the answer differs from the oldest row's.
            lo, hi = 0, len(rows)
            while lo < hi:
                mid = (lo + hi) // 2
                if holds(rows[mid]) == first:
                    lo = mid + 1
                else:
                    hi = mid
            for i in (rows[:lo] if first else rows[lo:]):
                out[i] = 1
        memo: dict[Value, bool] = {}
        for i in undated:
            value = values[i]
            if value not in memo:
                memo[value] = holds(i)
            if memo[value]:
                out[i] = 1
        return out

    def _by_time(self) -> tuple[array, array, list[int]]:
        """(times, row numbers) of the rows with a readable last contact, oldest first, and
        the rows without one; worked out once."""
        if self._times is None:
            dated: list[tuple[float, int]] = []
            undated: list[int] = []
            for i, value in enumerate(self.values["last_contact"]):
                try:
                    dated.append((datetime.fromisoformat(str(value)).timestamp(), i))
                except ValueError:
                    undated.append(i)
            dated.sort()
            self._times = (array("d", (t for t, _ in dated)), array("i", (i for _, i in dated)),
                           undated)
        return self._times

    def _text_mask(self, words: list[str]) -> bytearray:
        """Rows whose folded line holds every word (as `/` and the export match text)."""
        out = bytearray(len(self))
        hay, starts = self._hay, self._starts
        first, *others = sorted((w.encode() for w in words), key=len, reverse=True)
        pos = 0
        while (hit := hay.find(first, pos)) >= 0:
            i = bisect_right(starts, hit) - 1
            start, pos = starts[i], starts[i + 1]
            if not others or all(hay.find(word, start, pos) >= 0 for word in others):
                out[i] = 1
        return out

    def facts(self, i: int) -> SimpleNamespace:
        """Row `i`'s values by column id (lists as lists): what a query or an export reads."""
        return SimpleNamespace(**{c: list(v[i]) if isinstance(v[i], tuple) else v[i]
                                  for c, v in self.values.items()})

    def index_of(self, customer_id: str) -> int | None:
        try:
            return self.values["id"].index(customer_id)
        except ValueError:
            return None
