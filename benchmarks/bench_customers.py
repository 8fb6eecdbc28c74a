"""The customers screen's benchmarks (issue 18), run inside bench_app.py's desk:

* the screen opened cold (`app.action_customers()`, the table not read yet, as on its first
  open after a start): to the first frame showing rows (the first page, read ahead of the
  rest) and to the frame showing the whole table, vs opening an ordinary profile,
  interleaved in the same run;
* a sort or filter change on the whole table: from the change (a sort asked for; a query
  typed, a character at a time, through the query line's `Input.Changed`) to the frame
  showing it; every column sorted both ways and realistic queries;
* what the table holds in memory (its lists, their distinct values, the text buffer, the
  sort ranks), counted object by object.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from typing import Any

from agentdesk.cache.customer_columns import COLUMNS
from agentdesk.cache.customer_table import CustomerTable
from agentdesk.cache.packed import PackedStrings
from agentdesk.ui.customers import CustomersScreen
from agentdesk.ui.customers_grid import CustomerGrid
from bench_queue import opened

perf = time.perf_counter
QUERIES = ("tag:vip", "status:churned", "channel:sms last-contact:<30d", "ada",
           "-tag:vip status:active", 'segment:"High value"', "last-contact:>365d")


async def _back(app: Any, paint_waiter: Any) -> None:
    back = app.screen_stack[-2]
    await app.pop_screen()
    try:
        await asyncio.wait_for(paint_waiter(app, lambda s: s is back), 2)
    except TimeoutError:
        pass


def _rows_shown(screen: Any) -> bool:
    return isinstance(screen, CustomersScreen) and bool(screen.query_one(CustomerGrid).view)


def _whole(app: Any) -> Any:
    return lambda s: (isinstance(s, CustomersScreen) and not s.reading
                      and s.table is not None and s.table is app.customer_table)


async def bench_customers(app: Any, paint_waiter: Any, rounds: int, warmup: int,
                          profile_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"first": [], "whole": [], "profile": []}
    for r in range(warmup + rounds):
        for what in (("table", "profile") if r % 2 else ("profile", "table")):
            gc.collect()
            await asyncio.sleep(0.05)
            before = app.screen
            if what == "table":
                app.customer_table = None  # read again, as on the screen's first open
                first = paint_waiter(app, _rows_shown)
                whole = paint_waiter(app, _whole(app))
                start = perf()
                app.action_customers()
                took_first = await asyncio.wait_for(first, 120) - start
                took_whole = await asyncio.wait_for(whole, 600) - start
                # The table's sort orders are still being worked out in its worker: let it end
                # rather than slow the next round's opens (the profile's and the table's alike).
                while any(w.group == "customers-table" and w.is_running for w in app.workers):
                    await asyncio.sleep(0.01)
                if r >= warmup:
                    out["first"].append(took_first)
                    out["whole"].append(took_whole)
            else:
                painted = paint_waiter(app, opened(profile_id, before))
                start = perf()
                app.open_customer(profile_id)
                took = await asyncio.wait_for(painted, 60) - start
                if r >= warmup:
                    out["profile"].append(took)
            await _back(app, paint_waiter)
    out.update(await _changes(app, paint_waiter))
    return out


async def _changes(app: Any, paint_waiter: Any) -> dict[str, Any]:
    """Sorts and filters on the whole table, each to its frame."""
    whole = paint_waiter(app, _whole(app))
    app.action_customers()
    await asyncio.wait_for(whole, 600)
    screen = app.screen
    table: CustomerTable = screen.table
    t0 = perf()
    while len(table._ranks) < len(COLUMNS) or table._times is None:  # noqa: SLF001 (the warm-up)
        await asyncio.sleep(0.05)
        if perf() - t0 > 300:
            raise SystemExit("the table's sort orders were not ready in 300 s")
    grid = screen.query_one(CustomerGrid)
    sorts: list[float] = []
    for column in [c.id for c in COLUMNS] * 2:
        for reverse in (False, True):
            gc.collect()
            await asyncio.sleep(0.02)
            wanted = (column, reverse)
            painted = paint_waiter(app, lambda s, w=wanted: s is screen and grid.sort == w)
            start = perf()
            screen.sort = wanted
            screen.refilter()
            sorts.append(await asyncio.wait_for(painted, 30) - start)
    screen.sort = ("name", False)
    field = screen.query_one("#customers-query")
    filters: list[float] = []
    for query in QUERIES:
        for n in range(1, len(query) + 1):  # typed a character at a time
            typed = query[:n]
            painted = paint_waiter(app, lambda s, q=typed: s is screen and (
                screen.query_text == q or screen.query_one("#customers-error").display))
            start = perf()
            field.value = typed
            filters.append(await asyncio.wait_for(painted, 30) - start)
        field.value = ""
        await asyncio.sleep(0.05)
    shown = len(table)
    megabytes = table_bytes(table) / 1e6
    await _back(app, paint_waiter)
    return {"rows": shown, "sorts": sorts, "filters": filters, "table_mb": megabytes}


def table_bytes(table: CustomerTable) -> int:
    """The table's own memory: its lists, each distinct value once, the text buffer, the
    ranks and the orders (what `sys.getsizeof` counts, object by object)."""
    seen: set[int] = set()
    total = 0

    def add(obj: object) -> None:
        nonlocal total
        if id(obj) not in seen:
            seen.add(id(obj))
            total += sys.getsizeof(obj)
            if isinstance(obj, tuple):
                for item in obj:
                    add(item)

    for values in table.values.values():
        if isinstance(values, PackedStrings):
            total += values.nbytes()
            continue
        add(values)
        for value in values:
            add(value)
    for extra in (table._hay, table._starts, table.by_name, *table._ranks.values()):  # noqa: SLF001
        add(extra)
    if table._times is not None:  # noqa: SLF001
        times, rows, undated = table._times  # noqa: SLF001
        add(times), add(rows), add(undated)
    return total
