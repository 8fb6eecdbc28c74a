"""The queue's benchmarks (issue 15), run inside bench_app.py's desk:

* the queue screen (`i`) on the whole cache's queue (everyone's: every row sorted, the sort
  not reused), from `app.action_queue()` to the first frame showing its rows, vs opening an
  ordinary profile, interleaved in the same run;
* next in queue (`N`): from `app.action_next_in_queue()` to the first frame of the next
  customer's profile at that conversation's start, vs the same ordinary profile open;
* sending a reply (`Cache.add_reply`, durable), the customer's files, the queue shard and the
  outbox restored afterwards so the data set is unchanged.
"""

from __future__ import annotations

import asyncio
import gc
import shutil
import time
from pathlib import Path
from typing import Any

from agentdesk.cache.cache import Cache
from agentdesk.cache.files import atomic_write_bytes
from agentdesk.ui import clock
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.queue import QueueList, QueueScreen
from agentdesk.ui.queue_order import in_order
from agentdesk.ui.timeline import TimelineView

perf = time.perf_counter


def opened(customer_id: str, before: Any) -> Any:
    """What `paint_waiter` waits for when a customer is opened: a new profile screen (not
    `before`), of that customer, its profile loaded. The profile-open benchmarks share it."""
    return lambda s: (isinstance(s, ProfileScreen) and s is not before and s.profile is not None
                      and s.customer_id == customer_id)


def _at_start(screen: ProfileScreen, conversation_id: str) -> bool:
    view = screen.query_one(TimelineView)
    if screen.timeline is None or conversation_id not in screen.timeline.summary.starts:
        return False
    start = view.blocks.first_shown_of(conversation_id, screen.timeline.summary.starts[conversation_id])
    # Gone to and marked (at the top, unless the history ends before a screen's worth).
    return view.mark == start and (view.entry_y(start) <= view.scroll_offset.y + 1
                                   or view.scroll_offset.y >= view.max_scroll_y)


async def _back(app: Any, paint_waiter: Any) -> None:
    back = app.screen_stack[-2]
    await app.pop_screen()
    try:
        await asyncio.wait_for(paint_waiter(app, lambda s: s is back), 2)
    except TimeoutError:
        pass


async def bench_queue(app: Any, paint_waiter: Any, rounds: int, warmup: int,
                      profile_id: str) -> dict[str, Any]:
    t0 = perf()
    while app.work.rows is None:  # the background load, as after any start
        await asyncio.sleep(0.05)
        if perf() - t0 > 300:
            raise SystemExit("the queue did not load in 300 s")
    app.cache.queue.forget()  # reading every queue shard and sorting, as the background load
    t0 = perf()
    in_order(app.cache.queue_rows(), app.work.me)
    loaded = perf() - t0
    # Every row shown (everyone's conversations), each time filtered afresh: as after a sync or
    # an edit, which reload the rows (sorted in the loading thread; filtered once per minute
    # and filter on the UI thread).
    app.work.filter = app.work.filter.with_who("all")
    out: dict[str, list[float]] = {"queue": [], "next": [], "profile": []}
    for r in range(warmup + rounds):
        for what in (("queue", "next", "profile") if r % 2 else ("profile", "queue", "next")):
            gc.collect()
            await asyncio.sleep(0.02)
            before = app.screen
            app.work.set_rows(list(app.work.rows), app.work.me, in_queue_order=True)
            if what == "queue":
                painted = paint_waiter(app, lambda s: isinstance(s, QueueScreen)
                                       and bool(s.query_one(QueueList).rows))
                start = perf()
                app.action_queue()
            elif what == "next":
                row = app.work.next_row(clock.now())
                if row is None:  # at the end of the queue: from the start again
                    app.work.current = None
                    row = app.work.next_row(clock.now())
                painted = paint_waiter(app, lambda s, shown=opened(row.customer_id, before), row=row:
                                       shown(s) and _at_start(s, row.conversation_id))
                start = perf()
                app.action_next_in_queue()
            else:
                painted = paint_waiter(app, opened(profile_id, before))
                start = perf()
                app.open_customer(profile_id)
            took = await asyncio.wait_for(painted, 60) - start
            if r >= warmup:
                out[what].append(took)
            await _back(app, paint_waiter)
    return {"rows": len(app.work.rows), "shown": len(app.work.ordered(clock.now())),
            "load": loaded, **out}


def bench_reply(cache: Cache, customer_id: str, count: int) -> dict[str, Any]:
    """`Cache.add_reply` (durable: the profile, the queue shard and the outbox fsynced)."""
    profile = cache.load_profile(customer_id)
    assert profile is not None
    conversation = profile.conversations[-1].id
    saved: dict[Path, bytes] = {}
    for path in [cache.profile_path(customer_id), cache.root / "outbox.json",
                 *sorted((cache.root / "queue").glob("*.json"))]:
        if path.exists():
            saved[path] = path.read_bytes()
    timeline_dir = cache.timeline_dir(customer_id)
    timeline_copy = timeline_dir.with_name(timeline_dir.name + ".bench-copy")
    if timeline_dir.exists():
        shutil.copytree(timeline_dir, timeline_copy)
    times: list[float] = []
    try:
        for i in range(count):
            t0 = perf()
            cache.add_reply(customer_id, conversation, f"Benchmark reply {i}: the parcel left "
                            "the warehouse this morning.", "bench")
            times.append(perf() - t0)
    finally:
        for path, data in saved.items():
            atomic_write_bytes(path, data)
        for path in (cache.root / "outbox.json",):
            if path not in saved:
                path.unlink(missing_ok=True)
        if timeline_copy.exists():
            shutil.rmtree(timeline_dir, ignore_errors=True)
            timeline_copy.rename(timeline_dir)
        cache.outbox.reload()
        cache.queue.forget()
    return {"customer": customer_id, "times": times}
