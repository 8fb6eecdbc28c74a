"""The query language in `/`: `ada tag:vip last-contact:<30d` narrows the results by filters.

The in-memory search index (`CustomerIndex`) holds what is searched as text, not the facts the
filters read (status, tags, segments, channels, last contact): those are in the customers
screen's table (`cache.customer_table`). A query with a filter is run there, the free text
matched as `/` matches it; the table is read in a worker the first time a filter is typed
("filtering…" meanwhile) and kept, as the customers screen keeps it. A query without a
filter never comes here: plain search stays as fast as it was. A bad filter is named on the
count line and the plain search of what was typed stands (a colon in an address is text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from agentdesk.cache.customer_table import CustomerTable
from agentdesk.cache.search import query_words
from agentdesk.cache.search_index import IndexRow
from agentdesk.model.customer_query import QueryError, parse
from agentdesk.model.sanitize import clean_line
from agentdesk.ui import clock

if TYPE_CHECKING:
    from agentdesk.ui.search import SearchScreen

LIMIT = 200  # rows listed, as the plain search lists
RECENT = 10  # recently viewed customers put first


def run_filtered(screen: SearchScreen, typed: str) -> bool:
    """Show the results of `typed` if it is a query with filters (True), else leave it to the
    plain search (False; after naming a bad filter on the count line)."""
    from agentdesk.ui.search import ResultList

    if ":" not in typed:
        return False
    count = screen.query_one("#search-count", Static)
    try:
        query = parse(typed)
    except QueryError as error:
        screen.call_after_refresh(count.update, Text(f" {clean_line(str(error))}", style="bold"))
        return False
    if not query.filters:
        return False
    table = screen.desk.customer_table
    if table is None:
        count.update(Text(" filtering… (reading every customer's tags, status, segments, "
                          "channels once)", style="italic"))
        screen.query_one(ResultList).set_rows([], set())
        read_table(screen)
        return True
    mask = table.matching(query, clock.now())
    assert mask is not None  # a query with filters
    view = table.view(query, clock.now(), table.by_name)
    recent = screen.index.recent if screen.index is not None else []
    # Recently viewed first, as in the plain search (the first few: each is looked up).
    first = [cid for cid in recent[:RECENT] if (i := table.index_of(cid)) is not None and mask[i]]
    listed = [*first, *(table.values["id"][i] for i in view[: LIMIT + len(first)]
                        if table.values["id"][i] not in first)][:LIMIT]
    rows = [_row(table, cid) for cid in listed]
    screen.query_one(ResultList).set_rows(rows, set(recent),
                                          words=query_words(query.text) if query.text else [])
    shown = f" (showing {len(rows)})" if len(rows) < len(view) else ""
    noun = "customer" if len(view) == 1 else "customers"
    count.update(Text(f" {len(view):,} {noun}{shown} · filtered: "
                      f"{len(query.filters)} filter{'s' if len(query.filters) != 1 else ''}",
                      style="dim"))
    return True


def _row(table: CustomerTable, customer_id: str) -> IndexRow:
    i = table.index_of(customer_id)
    assert i is not None
    values = table.values
    return IndexRow(customer_id, str(values["name"][i]), str(values["email"][i]),
                    str(values["phone"][i]), str(values["company"][i]))


def read_table(screen: SearchScreen) -> None:
    """The customers' table read in a worker, kept on the app; the query typed meanwhile is
    run again once it is there."""
    desk = screen.desk
    index = desk.index

    def read() -> None:
        table = CustomerTable.load(desk.cache.index_rows())
        desk.call_from_thread(done, table)

    def done(table: CustomerTable) -> None:
        if desk.customer_table is None:
            desk.customer_table, desk.customer_table_index = table, index
        if screen.is_attached:
            from textual.widgets import Input

            screen.run_search(screen.query_one(Input).value)

    screen.run_worker(read, thread=True, exclusive=True, group="search-table")
