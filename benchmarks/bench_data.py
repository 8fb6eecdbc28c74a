"""The benchmark data set: a cache of N demo customers plus a few customers of known size.

Built once per (DATA_VERSION, cache schema, N) under bench-data/ and reused by later runs.
`python benchmarks/bench_data.py build ROOT CUSTOMERS` builds one (run.py calls it in a fresh
process, so its time and peak memory are the build's own).

Contents (ids are fixed, so the benchmarks can name them):

* ``cus_000000`` … : N ordinary customers from `agentdesk.model.demo.generate`
  (2–6 timeline entries each, 1–6 conversations), streamed into `Cache.import_profiles`;
* ``cus_big_timeline`` : the demo's big customer, 10,000 entries in 120 conversations;
* ``cus_hostile`` : the demo's hostile-text customer;
* ``cus_bench_10`` : exactly 10 entries in 3 conversations;
* ``cus_bench_100k`` : exactly 100,000 entries in 1,200 conversations (the same ~83
  entries per conversation as the 10,000-entry customer).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Bump when what is generated changes (ids, sizes, generator arguments), so old data sets are
# not reused by mistake. The cache schema is part of the key as well.
DATA_VERSION = "5"  # 2: timeline files of 200 entries; 3: 20,000 conversations open; 4: entries of every kind; 5: e-mail and phone identifiers with consent

ID_10 = "cus_bench_10"
ID_10K = "cus_big_timeline"  # agentdesk.model.demo.BIG_ID
ID_100K = "cus_bench_100k"
ENTRIES = {ID_10: 10, ID_10K: 10_000, ID_100K: 100_000}
TYPICAL_ID = "cus_000042"  # an ordinary customer (start screen, note benchmark)
START_ID = "cus_000007"  # what the in-process benchmarks open first (none of the above)


def data_key(customers: int) -> str:
    from agentdesk.cache.schema import SCHEMA

    return f"v{DATA_VERSION}-schema{SCHEMA}-c{customers}"


@dataclass
class DataSet:
    root: Path  # the folder holding bench-meta.json and cache/
    meta: dict[str, Any]
    reused: bool

    @property
    def cache(self) -> Path:
        return self.root / "cache"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _extras() -> Iterator[tuple[Any, list[Any]]]:
    """The customers with exactly 10 and 100,000 timeline entries."""
    from agentdesk.model import demo, demo_activity

    rng = random.Random(11)
    small = demo._profile(rng, 900_001, ID_10, name=("Tess", "Tenentries"))
    small.conversations, entries = demo._conversations(rng, small, 3, 10, 900_001)
    yield small, entries
    del small, entries
    huge = demo._profile(rng, 900_002, ID_100K, name=("Hugo", "Hundredthousand"), days=(4000, 4000))
    # A fifth of its entries of the other kinds (campaigns, events, orders, surveys, feedback)
    # over the same years, as the demo's big customer has.
    mixed = demo_activity.activity(900_002, "act_100k", huge.customer.created, demo.EPOCH, 20_000)
    huge.conversations, entries = demo._conversations(
        rng, huge, 1200, 100_000 - len(mixed), 900_002, minutes=(2, 30), days=(0, 2)
    )
    yield huge, entries + mixed


ID_FIELDS = "cus_fields_normal"  # huge-fields cache: 10 entries of ordinary text
ID_FIELDS_1MB = "cus_fields_1mb"  # the same 10 entries, the 3 newest holding a 1 MB body each
ID_FIELDS_1MB_ONE = "cus_fields_1mb_one"  # the same, the newest alone holding one (the log)
MB = 1 << 20


def huge_bodies() -> list[str]:
    """Three 1 MB bodies, each hard in its own way: a pasted log (10,000 short lines), one
    paragraph of words (no newline to cut at), one unbroken token (a base64 blob)."""
    rng = random.Random(5)
    words = ["refund", "order", "parcel", "warehouse", "invoice", "customer", "replacement",
             "serial", "number", "verified", "the", "and", "a", "of", "to", "is"]
    log, paragraph, size = [], [], 0
    while size < MB:
        log.append(f"2026-01-05T09:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z INFO worker-"
                   f"{rng.randint(1, 8)} request {rng.randint(10**8, 10**9)} done in {rng.randint(1, 900)} ms")
        size += len(log[-1]) + 1
    size = 0
    while size < MB:
        paragraph.append(rng.choice(words))
        size += len(paragraph[-1]) + 1
    blob = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", k=MB))
    return ["\n".join(log)[:MB], " ".join(paragraph)[:MB], blob]


def build_huge_fields(root: Path) -> None:
    """A small cache of two customers alike but for the size of three bodies (a few seconds)."""
    from agentdesk.model import demo
    from agentdesk.cache.cache import Cache

    items = []
    bodies = huge_bodies()
    for cid, big in ((ID_FIELDS, []), (ID_FIELDS_1MB, bodies), (ID_FIELDS_1MB_ONE, bodies[:1])):
        rng = random.Random(13)  # the same profile and entries for each
        profile = demo._profile(rng, 900_010, cid, name=("Fiona", "Fields"))
        profile.conversations, entries = demo._conversations(rng, profile, 3, 10, 900_010)
        for entry, body in zip(entries[::-1], big):
            entry.body = body
        items.append((profile, entries))
    with Cache.open(root) as cache:
        cache.import_profiles(items)


QUEUED = 20_000  # conversations still to work (the queue's), as issue 15 measures it


def _queued_at_most(items: Iterator[tuple[Any, list[Any]]], most: int) -> Iterator[tuple[Any, list[Any]]]:
    """The demo's profiles with every conversation after the `most`th still to work closed:
    the demo leaves about one and a half per customer open."""
    from agentdesk.model.records import ConversationStatus

    queued = 0
    for profile, entries in items:
        for conv in profile.conversations:
            if conv.status != ConversationStatus.CLOSED:
                queued += 1
                if queued > most:
                    conv.status = ConversationStatus.CLOSED
                    conv.ended = conv.started
                    conv.waiting_since = None
        yield profile, entries


def build(root: Path, customers: int) -> dict[str, Any]:
    """Build the data set into `root` (must not exist). Returns its metadata."""
    from agentdesk.model import demo
    from agentdesk.cache.cache import Cache

    start = time.perf_counter()
    done = 0

    def progress(items: Iterator[tuple[Any, list[Any]]]) -> Iterator[tuple[Any, list[Any]]]:
        nonlocal done
        for item in items:
            yield item
            done += 1
            if done % 10_000 == 0:
                print(
                    f"  … {done:,} profiles, {time.perf_counter() - start:.0f} s, "
                    f"peak RSS {_rss_mb():.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )

    def items() -> Iterator[tuple[Any, list[Any]]]:
        yield from _queued_at_most(demo.generate(customers=customers, big_entries=10_000,
                                                 entries_each=(2, 6)), QUEUED)
        yield from _extras()

    with Cache.open(root / "cache") as cache:
        count = cache.import_profiles(progress(items()), durable=False)
    seconds = time.perf_counter() - start
    for cid, n in ENTRIES.items():  # check the customers the benchmarks rely on
        with Cache.open(root / "cache") as cache:
            loaded = cache.view_profile(cid)
            total = loaded[1].total if loaded else 0
        if total != n:
            raise SystemExit(f"bench data: {cid} has {total} entries, expected {n}")
    return {
        "key": data_key(customers),
        "customers": customers,
        "profiles": count,
        "build_seconds": round(seconds, 1),
        "build_peak_rss_mb": round(_rss_mb(), 1),
        "built": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def ensure(base: Path, customers: int, *, rebuild: bool = False, log=print) -> DataSet:  # type: ignore[no-untyped-def]
    """The data set for `customers`, built (in a child process) if not there yet."""
    import subprocess

    root = base / data_key(customers)
    meta_path = root / "bench-meta.json"
    if meta_path.exists() and not rebuild:
        return DataSet(root, json.loads(meta_path.read_text()), reused=True)
    base.mkdir(parents=True, exist_ok=True)
    for old in base.glob(f".{root.name}.building-*"):
        shutil.rmtree(old, ignore_errors=True)
    tmp = base / f".{root.name}.building-{os.getpid()}"
    log(f"Building the benchmark cache ({customers:,} customers + extras) in {root} …")
    wall = time.perf_counter()
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "build", str(tmp), str(customers)],
        check=True,
    )
    meta = json.loads((tmp / "bench-meta.json").read_text())
    meta["build_wall_seconds"] = round(time.perf_counter() - wall, 1)
    (tmp / "bench-meta.json").write_text(json.dumps(meta, indent=2))
    if root.exists():
        shutil.rmtree(root)
    tmp.rename(root)
    return DataSet(root, meta, reused=False)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "build":
        print("usage: bench_data.py build ROOT CUSTOMERS", file=sys.stderr)
        return 2
    root, customers = Path(argv[1]), int(argv[2])
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    meta = build(root, customers)
    du = sum(f.stat().st_size for f in (root / "cache").rglob("*") if f.is_file())
    meta["size_mb"] = round(du / 1e6, 1)
    (root / "bench-meta.json").write_text(json.dumps(meta, indent=2))
    print(
        f"  built {meta['profiles']:,} profiles in {meta['build_seconds']} s "
        f"(peak RSS {meta['build_peak_rss_mb']} MB, {meta['size_mb']} MB of files)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
