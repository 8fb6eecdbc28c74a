"""Customers over time over the 100,000-customer benchmark cache (issue 18's figure: the chart
within 500 ms):

    python benchmarks/chart_bench.py [--quick] [--customers N] [--runs N] [--data-dir DIR]

* cache to series: in a fresh process, open the cache, read every search row into the facts
  the counts need (`customer_stats.facts_of`) and count the last 365 days (`series`): what
  `agentdesk stats` and the chart's worker do; then a recount on the facts already read (a
  channel or period switched on the open screen), for information;
* first frame: in a desk (headless, 120x35, started on an ordinary customer, its start's
  background loads of the search index and the queue over), from
  `app.action_customer_chart()` (the `H` key) to the first frame showing the counted chart,
  the screen closed and opened again each round (each opening reads the rows again).

The data set is `bench_data`'s (built on first use, and again after a cache schema bump).
Each part's runs are fresh processes or fresh openings; medians. `--quick` is one run of
each after no warm-up (a smoke run: the figures need a quiet machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from report import Row, markdown, median, ms, print_rows, say

HERE = Path(__file__).resolve().parent
TARGET = 0.5  # seconds

SERIES = """
import gc, json, sys, time
from datetime import date
from pathlib import Path
t0 = time.perf_counter()
from agentdesk.cache.cache import Cache
from agentdesk.model.customer_stats import facts_of, period_of, series
gc.disable()  # as `agentdesk stats` does
t1 = time.perf_counter()
with Cache.open(Path(sys.argv[1]), create=False) as cache:
    facts = facts_of(cache.search_index.docs())
t2 = time.perf_counter()
period = period_of(date(2026, 1, 5), days=365)
found = series(facts, period)
t3 = time.perf_counter()
series(facts, period, "email")
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "read": t2 - t1, "count": t3 - t2, "total": t3 - t1,
                  "recount": t4 - t3, "customers": len(facts), "last": found.current.total}))
"""


def series_once(cache: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", SERIES, str(cache)], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


async def first_frames(cache: Path, rounds: int, warmup: int) -> dict[str, list[float]]:
    sys.path.insert(0, str(HERE))
    from bench_app import BenchDesk, next_paint, paint_waiter
    from bench_data import START_ID

    from agentdesk.cache.cache import Cache
    from agentdesk.config import Config
    from agentdesk.ui.customer_chart_screen import CustomerChartScreen

    out: dict[str, list[float]] = {"frame": []}
    with Cache.open(cache) as opened:
        app = BenchDesk(opened, Config(path=cache.parent / "none.toml", author="bench",
                                       keymap={}), customer_id=START_ID)
        async with app.run_test(size=(120, 35)) as pilot:
            t0 = time.perf_counter()
            while app.index is None or app.work.rows is None:  # the start's background loads
                await pilot.pause(0.05)
                if time.perf_counter() - t0 > 300:
                    raise SystemExit("the desk's background loads did not end in 300 s")
            for r in range(warmup + rounds):
                painted = paint_waiter(app, lambda s: isinstance(s, CustomerChartScreen)
                                       and s.series is not None)
                t0 = time.perf_counter()
                app.action_customer_chart()
                t1 = await asyncio.wait_for(painted, 120)
                if r >= warmup:
                    out["frame"].append(t1 - t0)
                say(f"  first frame: {(t1 - t0) * 1000:,.0f} ms")
                back = app.screen_stack[-2]
                await app.pop_screen()
                try:
                    await next_paint(app, lambda s, back=back: s is back, timeout=2)
                except TimeoutError:
                    pass
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="one run of each, no warm-up")
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--data-dir", type=Path, default=HERE.parent / "bench-data")
    args = p.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import bench_data

    data = bench_data.ensure(args.data_dir.resolve(), args.customers, log=say)
    say(f"data set {data.root} ({'reused' if data.reused else 'built'})")
    runs, warmup = (1, 0) if args.quick else (args.runs, 1)
    series_runs: list[dict[str, float]] = []
    for _ in range(runs):
        series_runs.append(series_once(data.cache))
        say("  cache to series: " + ", ".join(f"{k} {v * 1000:,.0f} ms" for k, v in
                                            series_runs[-1].items()
                                            if k not in ("customers", "last")))
    frames = asyncio.run(first_frames(data.cache, runs, warmup))["frame"]
    total = median([r["total"] for r in series_runs])
    frame = median(frames)
    customers = int(series_runs[-1]["customers"])
    rows = [
        Row(f"Chart: cache to series, {customers:,} customers, 365 days", ms(total),
            f"≤ {TARGET * 1000:.0f} ms", total <= TARGET),
        Row("  of which reading the rows / counting",
            f"{ms(median([r['read'] for r in series_runs]))} / "
            f"{ms(median([r['count'] for r in series_runs]))}", "", None),
        Row("  recount (channel or period switched)",
            ms(median([r["recount"] for r in series_runs])), "", None),
        Row("Chart screen: H to the first frame of the chart", ms(frame),
            f"≤ {TARGET * 1000:.0f} ms", frame <= TARGET),
    ]
    say()
    print_rows(rows)
    say()
    say(markdown(rows))
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
