"""Timeline benchmarks, run by bench_app.py in its fresh process (`run.py --only timeline`):

* find and filter on the 100,000-entry customer: the first pass over its 500 files (the
  scan, in a worker), then key presses in the find bar (older/newer match) and in the filter
  dialog (space on a choice), each timed from the key to the first frame drawn after the
  timeline has drawn the result;
* huge fields: in a desk on a small cache of its own, opening a profile whose 3 newest entries
  hold a 1 MB body each, and one whose newest alone does, vs the same profile with ordinary
  bodies (interleaved); Enter on a 1 MB entry (shown in full) and again (cut); and the read of
  the 3 MB profile file alone.

The desk class and the frame waiter are bench_app's, passed in (bench_app runs as __main__).
"""

from __future__ import annotations

import asyncio
import gc
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench_data import ID_100K, ID_FIELDS, ID_FIELDS_1MB, ID_FIELDS_1MB_ONE, build_huge_fields

from agentdesk.config import Config
from agentdesk.cache.cache import Cache
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.timeline import TimelineView
from agentdesk.ui.timeline_filter import FilterList, FilterPanel

perf = time.perf_counter
COMMON = "refund"  # in more than one entry in a hundred
# Rows of the filter dialog toggled (off, then on again): email, chat, inbound, internal,
# "only this conversation".
TOGGLES = [8, 9, 17, 19, 21]
# Kind keys pressed on the timeline (each twice: hidden, shown again): Campaign, E-commerce,
# Surveys, Conversations.
KIND_KEYS = ["2", "4", "5", "1"]


def rare_text(view: TimelineView) -> str:
    """An order number ("#12345") in about a dozen entries, spread over the history: each
    next match is far from the last (picked from the data, the same every run)."""
    counts: Counter[str] = Counter()
    for chunk in range(view.scan.chunks):
        counts.update(re.findall(r"#\d{4,}", view.scan.facts(chunk).text))
    return min(counts, key=lambda text: (abs(counts[text] - 12), text))


class Frames:
    """Stamps when the timeline last drew and when the action under test ran, and waits for
    the first frame after both."""

    def __init__(self, app: Any, view: TimelineView, paint_waiter: Any) -> None:
        self.app, self.view, self.paint_waiter = app, view, paint_waiter
        self.drawn = 0.0
        self.acted = 0.0
        render_lines = view.render_lines

        def stamped(crop):  # type: ignore[no-untyped-def]
            lines = render_lines(crop)
            self.drawn = perf()
            return lines

        view.render_lines = stamped  # type: ignore[method-assign]

    def acting(self, obj: Any, name: str) -> None:
        method = getattr(obj, name)

        def stamped(*args, **kwargs):  # type: ignore[no-untyped-def]
            result = method(*args, **kwargs)
            self.acted = perf()
            return result

        setattr(obj, name, stamped)

    async def press(self, pilot: Any, key: str) -> float | None:
        self.acted = 0.0
        waiter = self.paint_waiter(self.app, lambda s: self.acted and self.drawn >= self.acted)
        t0 = perf()
        await pilot.press(key)
        try:
            return await asyncio.wait_for(waiter, 10) - t0
        except TimeoutError:
            return None


async def bench_find_filter(app: Any, pilot: Any, paint_waiter: Any, presses: int) -> dict[str, Any]:
    app.open_customer(ID_100K)
    while not (isinstance(app.screen, ProfileScreen) and app.screen.customer_id == ID_100K):
        await pilot.pause(0.02)
    await pilot.pause(0.3)
    view = app.screen.query_one(TimelineView)
    frames = Frames(app, view, paint_waiter)
    frames.acting(view.finder, "step")
    frames.acting(view.filtering, "set")

    # The first pass: ctrl+f starts the scan; the newest files answer first.
    t0 = perf()
    await pilot.press("ctrl+f")
    await pilot.press(*COMMON)
    while not view.scan.complete:
        await pilot.pause(0.01)
    first_pass = perf() - t0
    files = view.scan.chunks
    await pilot.pause(0.2)

    out: dict[str, Any] = {"first_pass": first_pass, "files": files, "entries": view.total}
    field = app.screen.query_one("#find-input")
    for label, query in (("common", COMMON), ("rare", rare_text(view))):
        field.value = query
        await pilot.pause(0.2)
        times: list[float] = []
        for i in range(presses):
            key = "up" if (i // 10) % 2 == 0 else "down"  # ten older, ten newer, ...
            took = await frames.press(pilot, key)
            if took is not None:
                times.append(took)
        out[f"find_{label}"] = {"query": query, "matches": len(view.finder.positions), "times": times}

    await pilot.press("escape")
    view.go_to(view.total // 2)  # mid-history: the filter keeps the agent's place there
    await pilot.pause(0.2)
    await pilot.press("f")
    while not app.screen.query(FilterPanel):
        await pilot.pause(0.02)
    await pilot.pause(0.2)
    options = app.screen.query_one(FilterList)
    times = []
    while len(times) < presses:
        for row in TOGGLES:
            options.highlighted = row
            await pilot.pause()
            for _ in range(2):  # off, then on again
                took = await frames.press(pilot, "space")
                if took is not None:
                    times.append(took)
    out["filter"] = {"times": times[:presses]}
    await pilot.press("escape")

    # The kind filter: one key on the timeline, after the first pass (the scan is complete).
    view.focus()
    await pilot.pause(0.2)
    times = []
    while len(times) < presses:
        for key in KIND_KEYS:
            for _ in range(2):  # hidden, then shown again
                took = await frames.press(pilot, key)
                if took is not None:
                    times.append(took)
    out["kinds"] = {"times": times[:presses],
                    "kinds": len({k for k, n in view.scan.kind_counts().items() if n})}
    await app.pop_screen()
    await pilot.pause(0.2)
    return out


async def bench_huge(desk_class: Any, paint_waiter: Any, tmp: Path, size: tuple[int, int],
                     rounds: int) -> dict[str, Any]:
    root = tmp / "huge-fields"
    build_huge_fields(root)
    ids = [ID_FIELDS, ID_FIELDS_1MB, ID_FIELDS_1MB_ONE]
    runs: dict[str, list[float]] = {cid: [] for cid in ids}
    expand: list[float] = []
    cut: list[float] = []
    with Cache.open(root) as cache:
        config = Config(path=root / "no-config.toml", author="bench", keymap={})
        app = desk_class(cache, config, customer_id=ID_FIELDS)
        async with app.run_test(headless=True, size=size) as pilot:
            await pilot.pause(0.5)
            for r in range(rounds + 1):  # the first round warms up
                order = ids[r % 3:] + ids[:r % 3]  # who goes first, in turn
                for cid in order:
                    gc.collect()
                    await asyncio.sleep(0.02)
                    before = app.screen
                    painted = paint_waiter(app, lambda s, cid=cid, before=before: isinstance(s, ProfileScreen)
                                           and s is not before and s.customer_id == cid and s.profile is not None)
                    t0 = perf()
                    app.open_customer(cid)
                    took = await asyncio.wait_for(painted, 60) - t0
                    if r:
                        runs[cid].append(took)
                    if cid == ID_FIELDS_1MB and r:
                        view = app.screen.query_one(TimelineView)
                        frames = Frames(app, view, paint_waiter)
                        frames.acting(view, "action_expand")
                        for store in (expand, cut):
                            took = await frames.press(pilot, "enter")
                            if took is not None:
                                store.append(took)
                    await app.pop_screen()
                    await pilot.pause(0.05)
        # What the profile file alone costs: read and parsed, as the desk opens a profile.
        parse = []
        for _ in range(rounds * 3):
            t0 = perf()
            cache.view_profile(ID_FIELDS_1MB)
            parse.append(perf() - t0)
    return {"runs": runs, "expand": expand, "cut": cut, "read": parse}
