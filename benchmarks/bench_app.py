"""In-process benchmarks, run by run.py in a fresh process of their own:

* open: one running desk (App.run_test, headless) opens profiles of 10, 10,000 and 100,000
  entries, interleaved; each time from `app.open_customer(id)` to the first frame of the new
  ProfileScreen (its profile loaded), then the screen is popped;
* search: on the SearchScreen of that desk, realistic queries typed a character at a time:
  `CustomerIndex.search`, `SearchScreen.run_search` (search + result list + count), and a
  real key event through the app until the frame showing its results;
* notes: `Cache.add_note` (durable: fsync of the file and its folder), the profile file
  restored afterwards so the data set is unchanged;
* timeline: find and filter on the 100,000-entry customer, and profiles with 1 MB bodies
  (bench_timeline.py);
* queue: the queue screen, next in queue, and sending a reply (bench_queue.py).
* customers: the customers screen's paint vs a profile open, sorts and filters
  (bench_customers.py).

    python bench_app.py '{"cache": DIR, "out": PATH, "size": [W, H], "rounds": 15, ...}'

Writes raw timings (seconds) to `out` as JSON.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

from agentdesk.ui.startup import pause_gc

# As the `agentdesk` command does before its imports: collection pauses, and the app resumes
# it after its first frame, freezing what start-up made (agentdesk/ui/startup.py), so the desk
# measured here collects as the real one does. (The figures did not move: 29-30 ms and
# x1.15-1.17 for the opens, as in the runs before.)
pause_gc()

import bench_customers  # noqa: E402
import bench_queue  # noqa: E402
import bench_timeline  # noqa: E402
from bench_data import ENTRIES, ID_10, ID_10K, ID_100K, START_ID, TYPICAL_ID  # noqa: E402

from agentdesk.config import Config
from agentdesk.cache.cache import Cache
from agentdesk.cache.files import atomic_write_bytes
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.search import SearchScreen

perf = time.perf_counter


class BenchDesk(AgentDesk):
    """The desk, telling listeners about every frame it hands to the driver."""


    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paint_listeners: list[Any] = []

    def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
        batched = self._batch_count
        super()._display(screen, renderable)
        if renderable is not None and not batched:
            now = perf()
            for listener in list(self.paint_listeners):
                listener(screen, now)


def paint_waiter(app: BenchDesk, accept) -> asyncio.Future[float]:  # type: ignore[no-untyped-def]
    """A future for the time of the first frame from now for which `accept(screen)` is true."""
    future: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def listener(screen, now: float) -> None:  # type: ignore[no-untyped-def]
        if not future.done() and accept(screen):
            future.set_result(now)

    app.paint_listeners.append(listener)
    future.add_done_callback(lambda _: app.paint_listeners.remove(listener))
    return future


async def next_paint(app: BenchDesk, accept, timeout: float = 60.0) -> float:  # type: ignore[no-untyped-def]
    return await asyncio.wait_for(paint_waiter(app, accept), timeout)


# Stamp the end of ProfileScreen.reload (cache reads + filling the widgets), for a breakdown.
_reload = ProfileScreen.reload


def _stamped_reload(self: ProfileScreen) -> None:
    _reload(self)
    self._bench_reloaded = perf()  # type: ignore[attr-defined]


ProfileScreen.reload = _stamped_reload  # type: ignore[method-assign]


async def bench_open(app: BenchDesk, rounds: int, warmup: int) -> dict[str, Any]:
    ids = [ID_10, ID_10K, ID_100K]
    out: dict[str, dict[str, list[float]]] = {cid: {"paint": [], "reload": [], "call": []} for cid in ids}
    for r in range(warmup + rounds):
        order = ids[r % 3 :] + ids[: r % 3]  # rotate who goes first
        for cid in order:
            gc.collect()
            await asyncio.sleep(0.02)
            before = app.screen
            painted = paint_waiter(app, bench_queue.opened(cid, before))
            t0 = perf()
            app.open_customer(cid)
            t_call = perf()
            t_paint = await asyncio.wait_for(painted, 60)
            screen = app.screen
            assert isinstance(screen, ProfileScreen) and screen.customer_id == cid
            if r >= warmup:
                out[cid]["call"].append(t_call - t0)
                out[cid]["reload"].append(screen._bench_reloaded - t0)  # type: ignore[attr-defined]
                out[cid]["paint"].append(t_paint - t0)
            back = app.screen_stack[-2]
            await app.pop_screen()
            try:
                await next_paint(app, lambda s, back=back: s is back, timeout=2)
            except TimeoutError:
                pass
    return {"entries": ENTRIES, "runs": out}


def search_queries(app: BenchDesk) -> list[str]:
    """What an agent types: names, an e-mail, phone digits, a company, a name + company."""
    index = app.index
    assert index is not None
    rows = [index.get(f"cus_{n:06d}") for n in (4217, 31337, 77, 58008, 90210)]
    rows = [r for r in rows if r is not None] or [index.row(0)]
    a, b, c, d, e = (rows * 5)[:5]
    digits = "".join(ch for ch in c.phone if ch.isdigit())
    return [
        a.name.casefold(),  # "elena novak"
        b.email,  # "kofi.mensah31337@example.com"
        digits[-7:],  # "5551234": phone digits as read out on a call
        c.phone,  # "+1 555 123 4567" as written
        d.company or "Quarry Labs",
        f"{e.name.split()[0]} {e.company.split()[0] if e.company else ''}".strip().casefold(),
        d.name.split()[-1].casefold(),  # a surname alone: many matches
    ]


async def bench_search(app: BenchDesk, pilot, repeats: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    index = app.index
    assert index is not None
    queries = search_queries(app)
    app.action_search()
    await next_paint(app, lambda s: isinstance(s, SearchScreen))
    screen = app.screen
    assert isinstance(screen, SearchScreen)
    core: list[float] = []
    ui: list[float] = []
    slowest: list[tuple[float, str]] = []  # (CustomerIndex.search time, query)
    for _ in range(repeats):
        for query in queries:
            for k in range(1, len(query) + 1):
                q = query[:k]
                t0 = perf()
                index.search(q)
                t1 = perf()
                screen.run_search(q)
                t2 = perf()
                core.append(t1 - t0)
                ui.append(t2 - t1)
                slowest.append((t1 - t0, q))
            await pilot.pause()

    # A real key event: driver -> Input -> Input.Changed -> run_search -> frame on screen.
    from textual.widgets import Input

    searched: dict[str, float] = {}
    run_search = screen.run_search

    def stamped(query: str):  # type: ignore[no-untyped-def]
        result = run_search(query)
        searched[query] = perf()
        return result

    screen.run_search = stamped  # type: ignore[method-assign]
    typed: list[float] = []
    slowest_typed: list[tuple[float, str]] = []
    field = screen.query_one(Input)
    for query in queries:
        field.value = ""
        await pilot.pause()
        await pilot.pause(0.02)
        for k, ch in enumerate(query, 1):
            q = query[:k]
            key = "space" if ch == " " else ch
            waiter = paint_waiter(app, lambda s, q=q: s is screen and q in searched)
            t0 = perf()
            await pilot.press(key)
            try:
                t1 = await asyncio.wait_for(waiter, 10)
            except TimeoutError:
                continue
            typed.append(t1 - t0)
            slowest_typed.append((t1 - t0, q))
            searched.clear()
    screen.run_search = run_search  # type: ignore[method-assign]
    worst: dict[str, float] = {}
    for seconds, q in slowest:
        worst[q] = max(seconds, worst.get(q, 0.0))
    slowest = sorted(((s, q) for q, s in worst.items()), reverse=True)
    slowest_typed.sort(reverse=True)
    return {
        "queries": queries,
        "index_rows": len(index),
        "core": core,
        "ui": ui,
        "typed": typed,
        "slowest_core": slowest[:10],
        "slowest_typed": slowest_typed[:10],
    }


def bench_notes(cache: Cache, count: int) -> dict[str, Any]:
    """Each note is also queued in the outbox (for a sync): the outbox is restored too, or
    the next run's desk would start with pending edits to load and show."""
    out: dict[str, Any] = {}
    outbox = cache.root / "outbox.json"
    outbox_before = outbox.read_bytes() if outbox.exists() else None
    try:
        for label, cid in (("typical", TYPICAL_ID), ("100k", ID_100K)):
            path = cache.profile_path(cid)
            original = path.read_bytes()
            times: list[float] = []
            try:
                for i in range(count):
                    t0 = perf()
                    cache.add_note(cid, f"Benchmark note {i}: prefers a call back after 4 pm.", author="bench")
                    times.append(perf() - t0)
            finally:
                atomic_write_bytes(path, original)
            out[label] = {"customer": cid, "profile_bytes": len(original), "times": times}
    finally:
        if outbox_before is None:
            outbox.unlink(missing_ok=True)
        else:
            atomic_write_bytes(outbox, outbox_before)
        cache.outbox.reload()
    return out


async def run_app(cache: Cache, spec: dict[str, Any]) -> dict[str, Any]:
    config = Config(path=Path(spec["cache"]) / "no-config.toml", author="bench", keymap={})
    app = BenchDesk(cache, config, customer_id=START_ID)
    results: dict[str, Any] = {}
    async with app.run_test(headless=True, size=tuple(spec["size"])) as pilot:
        t0 = perf()
        while app.index is None:  # steady state: the background index load is done
            await pilot.pause(0.05)
            if perf() - t0 > 120:
                raise SystemExit("the customer index did not load in 120 s")
        await pilot.pause(0.2)
        if "open" in spec["only"] or "timeline" in spec["only"]:  # (the 100k open vs 10)
            results["open"] = await bench_open(app, spec["rounds"], spec.get("warmup", 1))
        if "search" in spec["only"]:
            results["search"] = await bench_search(app, pilot, spec["search_repeats"])
        if "timeline" in spec["only"]:
            results["timeline"] = await bench_timeline.bench_find_filter(app, pilot, paint_waiter,
                                                                         spec.get("presses", 60))
        if "queue" in spec["only"]:
            results["queue"] = await bench_queue.bench_queue(app, paint_waiter, spec["rounds"],
                                                             spec.get("warmup", 1), TYPICAL_ID)
        if "customers" in spec["only"]:
            results["customers"] = await bench_customers.bench_customers(
                app, paint_waiter, spec["rounds"], spec.get("warmup", 1), TYPICAL_ID)
    return results


def main() -> None:
    spec = json.loads(sys.argv[1])
    cache = Cache.open(Path(spec["cache"]), create=False)
    if cache.read_only:
        raise SystemExit("bench_app: the benchmark cache is held by another agentdesk")
    try:
        results: dict[str, Any] = {}
        if {"open", "search", "timeline", "queue", "customers"} & set(spec["only"]):
            results.update(asyncio.run(run_app(cache, spec)))
        if "timeline" in spec["only"]:
            gc.collect()
            results["huge"] = asyncio.run(bench_timeline.bench_huge(
                BenchDesk, paint_waiter, Path(spec["out"]).parent, tuple(spec["size"]), spec["rounds"]))
        if "notes" in spec["only"]:
            gc.collect()
            results["notes"] = bench_notes(cache, spec["notes"])
        if "queue" in spec["only"]:
            gc.collect()
            results["reply"] = bench_queue.bench_reply(cache, TYPICAL_ID, spec["notes"])
    finally:
        cache.close()
    Path(spec["out"]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
