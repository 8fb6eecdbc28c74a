"""Opening a customer with 200 fields and 20 identifiers against a bare one, in one running
desk (run by run.py in a fresh process of its own):

* open: from `app.open_customer(id)` to the first frame of its ProfileScreen, the two
  customers interleaved (who goes first alternates), after one warm-up round;
* pane: on the rich customer, `p` to the first frame showing the customer data pane
  (filled only when shown), for information.

The cache is made here, in the folder given: the two customers have the same contact
points, notes and 10 timeline entries; the rich one also has 200 fields (1 to 3 sources
each), 20 identifiers, 5 subscriptions and 5 segments.

    python bench_profile_data.py '{"dir": DIR, "out": PATH, "size": [W, H], "rounds": 15}'
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from agentdesk.ui.startup import pause_gc

pause_gc()  # as the desk does (see bench_app.py)

from bench_app import BenchDesk, paint_waiter  # noqa: E402

from agentdesk.cache.cache import Cache  # noqa: E402
from agentdesk.config import Config  # noqa: E402
from agentdesk.model import demo  # noqa: E402
from agentdesk.model.fields import Field, field_id  # noqa: E402
from agentdesk.model.identifiers import Identifier, Segment, Subscription  # noqa: E402
from agentdesk.ui.profile import ProfileScreen  # noqa: E402

perf = time.perf_counter
BARE, RICH, START = "cus_bench_bare", "cus_bench_rich", "cus_bench_start"
FIELDS, IDENTIFIERS = 200, 20


def build(root: Path) -> None:
    base = next(demo.generate(customers=1, big_entries=0, entries_each=(10, 10)))
    profile, entries = base
    epoch = demo.EPOCH
    with Cache.open(root) as cache:
        for cid in (START, BARE, RICH):
            p = profile.model_copy(deep=True)
            p.customer = p.customer.model_copy(update={"id": cid, "name": cid})
            if cid == RICH:
                p.fields = [_field(cid, n, epoch) for n in range(FIELDS)]
                p.identifiers = [Identifier(id=f"idn_{n}", kind=("email", "phone", "push_token")[n % 3],
                                            value=(f"person{n}@example.com" if n % 3 == 0 else
                                                   f"+1 555 010 {1000 + n}" if n % 3 == 1 else f"tok{n}"),
                                            last_seen=epoch - timedelta(days=n),
                                            consent=("opted_in", "opted_out", "unknown")[n % 3])
                                 for n in range(IDENTIFIERS)]
                p.subscriptions = [Subscription(name=f"List {n}") for n in range(5)]
                p.segments = [Segment(name=f"Segment {n}") for n in range(5)]
            cache.put_profile(p, [e.model_copy(update={"id": f"{e.id}_{cid}"}) for e in entries])


def _field(cid: str, n: int, epoch: Any) -> Field:
    key = f"{('standard', 'custom', 'property', 'company', 'third_party')[n % 5]}.field_{n}"
    values = [{"value": f"value {n} from {s}", "source": s, "at": (epoch - timedelta(days=d)).isoformat()}
              for s, d in (("desk", 1), ("api", 2))[: 1 + n % 2]]
    if n % 3 == 0:
        values.append({"value": f"value {n} from HubSpot", "source": "integration",
                       "integration": "HubSpot", "at": epoch.isoformat()})
    group = ("standard", "custom", "property", "property", "third_party")[n % 5]
    return Field.model_validate({"id": field_id(cid, key), "key": key, "group": group, "values": values})


async def measure(root: Path, size: tuple[int, int], rounds: int) -> dict[str, Any]:
    runs: dict[str, list[float]] = {BARE: [], RICH: []}
    pane: list[float] = []
    with Cache.open(root) as cache:
        app = BenchDesk(cache, Config(path=root / "no-config.toml", author="bench", keymap={}),
                        customer_id=START)
        async with app.run_test(headless=True, size=size) as pilot:
            await pilot.pause(0.5)
            for r in range(rounds + 1):  # the first round warms up
                for cid in ((BARE, RICH) if r % 2 else (RICH, BARE)):
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
                    if cid == RICH and r:
                        screen = app.screen
                        shown = paint_waiter(app, lambda s, screen=screen: s is screen
                                             and (data := screen.data_pane()) is not None
                                             and data.display)
                        t0 = perf()
                        await pilot.press("p")
                        pane.append(await asyncio.wait_for(shown, 60) - t0)
                        await pilot.press("p")
                    await app.pop_screen()
                    await pilot.pause(0.05)
    return {"runs": runs, "pane": pane, "fields": FIELDS, "identifiers": IDENTIFIERS}


def main() -> None:
    spec = json.loads(sys.argv[1])
    root = Path(spec["dir"]) / "profile-data"
    build(root)
    results = asyncio.run(measure(root, tuple(spec["size"]), spec["rounds"]))
    Path(spec["out"]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
