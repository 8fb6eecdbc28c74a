"""Sync with a Request Tracker 5: the desk's first and incremental syncs against a bare httpx
loop fetching the same pages, in one run.

    python benchmarks/rt_bench.py [--data bench-data/rt]

The RT is the one `benchmarks/rt_seed.pl` seeded into --data (1,000 requestors, 5,000
tickets, 50,000 ticket transactions; kept for reuse, git-ignored). Its database is copied to a
temporary folder and served there by scripts/rt-server, so the seeded copy stays as it was.
The bare loop is the same HTTP requests the connector made (recorded as it ran), sent again
one after another with httpx and read to the end, logged in the same way (one RT session),
without any of the desk's work: what a client that only downloads would spend. Then 100 replies are added and the incremental sync
is timed the same way.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from agentdesk.cache.cache import Cache  # noqa: E402
from agentdesk.sync.engine import SyncEngine  # noqa: E402
from agentdesk.sync.remote import connect  # noqa: E402
from support.rt_world import PASSWORD, USER, RTServer, RTStaff  # noqa: E402
from support.sync_world import free_port  # noqa: E402


def synced(url: str, cache_dir: Path) -> tuple[float, list[str], int]:
    """(seconds, the URLs the connector fetched, changes applied) of one sync."""
    fetched: list[str] = []
    with connect("rt+" + url, user=USER, password=PASSWORD, timeout=120) as remote:
        remote.http._http.event_hooks["request"].append(  # type: ignore[attr-defined]
            lambda request: fetched.append(str(request.url)))
        with Cache.open(cache_dir) as cache:
            start = time.perf_counter()
            report = SyncEngine(cache, remote).run()
            seconds = time.perf_counter() - start
    return seconds, fetched, report.applied.changes


def bare(base: str, urls: list[str]) -> float:
    """The same GETs, logged in the same way (one session, its cookie), nothing else."""
    with httpx.Client(timeout=120) as client:
        client.post(base + "/NoAuth/Login.html", data={"user": USER, "pass": PASSWORD})
        start = time.perf_counter()
        for url in urls:
            client.get(url).read()
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data" / "rt")
    args = parser.parse_args()
    if not (args.data / "rt.sqlite").exists():
        raise SystemExit(f"no seeded RT in {args.data}: see benchmarks/rt_seed.pl")
    work = Path(tempfile.mkdtemp(prefix="agentdesk-rt-bench-"))
    try:
        shutil.copy(args.data / "rt.sqlite", work / "rt.sqlite")
        server = RTServer(work, free_port()).start()
        try:
            print(f"load average before: {os.getloadavg()}")
            first, urls, changes = synced(server.url, work / "cache")
            first_bare = bare(server.url, [u for u in urls if "/REST/2.0/" in u])
            print(f"first sync: {first:.1f} s, {changes:,} changes, {len(urls):,} requests; "
                  f"bare httpx loop over the same requests: {first_bare:.1f} s; "
                  f"ratio {first / first_bare:.2f}")
            staff = RTStaff(server.url)
            for n in range(100):
                staff.correspond(1 + n * 37 % 5000, f"incremental reply {n}")
            staff.close()
            inc, inc_urls, inc_changes = synced(server.url, work / "cache")
            inc_bare = bare(server.url, [u for u in inc_urls if "/REST/2.0/" in u])
            print(f"incremental (100 new transactions): {inc:.2f} s, {inc_changes:,} changes, "
                  f"{len(inc_urls)} requests; bare: {inc_bare:.2f} s; ratio {inc / inc_bare:.2f}")
            print(f"load average after: {os.getloadavg()}")
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
