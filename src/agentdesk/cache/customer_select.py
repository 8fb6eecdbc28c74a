"""The customers a query selects, read from the search index (no profile file is opened).

The index rows hold what the query reads: the searched text (name, contact points, company,
id) and the filters' facts (status, tags, segments, channels, last contact). Reading them is
reading the 256 index shards (a JSON parse each) and the journal, so a query over 100,000
customers costs about what loading the `/` search costs; each row is then tested with the
filters first (attribute compares) and the free text last (a fold of one line).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from agentdesk.cache.search import clean_row, hay_line, query_words
from agentdesk.cache.search_index import IndexRow
from agentdesk.model.customer_query import Query
from agentdesk.model.fold import fold


def select(rows: Iterable[IndexRow], query: Query, now: datetime) -> Iterator[IndexRow]:
    """The rows the query selects, in the order given."""
    words = query_words(query.text) if query.text.strip() else []
    filtered = bool(query.filters)
    for row in rows:
        if filtered and not query.holds(row, now):
            continue
        if words:
            hay = hay_line(clean_row(row))
            if not all(w in hay for w in words):
                continue
        yield row


def by_name(rows: Iterable[IndexRow]) -> list[IndexRow]:
    """Rows in the order the desk lists customers: by name (case and accents folded), then id."""
    return sorted(rows, key=lambda r: (fold(r.name), r.id))
