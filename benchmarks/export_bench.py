"""`agentdesk export` of 100,000 customers to CSV, against `python -c` writing the same rows
with the csv module from the same cache, measured in one run (issue 18's figure):

    python benchmarks/export_bench.py [--quick] [--customers N] [--runs N] [--data-dir DIR]

The export reads only the search index (`cache.customer_select`), so the data set is a cache
whose index holds N search rows (names, e-mails, phones, companies, tags, segments, channels,
last contact; a few with quotes, newlines, formulas and escape sequences), made here in a few
seconds and kept in DIR. Each run is a fresh process, both commands interleaved (who goes
first alternates), the output written to a file; medians. Targets: within 5 s, and within 3x
the baseline. `--quick` is one run each (a smoke run: the figures need a quiet machine).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

from report import Row, markdown, median, print_rows, say

from agentdesk.cache.cache import Cache
from agentdesk.cache.search_index import IndexRow

BASELINE = """
import csv, sys
from agentdesk.cache.cache import Cache
fields = ("id", "name", "company", "email", "phone", "status", "tags", "segments", "channels",
          "last_contact")
with Cache.open(sys.argv[1], create=False) as cache, open(sys.argv[2], "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(fields)
    for r in cache.index_rows():
        w.writerow([r.id, r.name, r.company, r.email, r.phone, r.status, "; ".join(r.tags),
                    "; ".join(r.segments), "; ".join(r.channels), r.last_contact])
"""

FIRST = "Ada Bruno Chiara Dmitri Elena Farah Gustav Hana Ivan Jun Kofi Lena Ólafur Zoë".split()
LAST = "Okafor Lindqvist Moreau Tanaka Novak Haddad Silva Kowalski Nakamura O'Brien".split()
ODD = ['=HYPERLINK("http://x","y")', "@SUM(1)", 'Line one\nline "two"', "\x1b[31mred\x1b[0m"]


def build(root: Path, customers: int) -> None:
    if (root / "meta.json").exists():
        return
    rng = random.Random(18)
    rows: dict[str, IndexRow | None] = {}
    for n in range(customers):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows[f"cus_{n:06d}"] = IndexRow(
            id=f"cus_{n:06d}", name=f"{first} {last}" if n % 1000 else ODD[n // 1000 % len(ODD)],
            email=f"{first.lower()}.{n}@example.com", phone=f"+1 555 {n % 1000:03d} {n % 9999:04d}",
            company=rng.choice(["Northwind Traders", "Kettle & Co", "", "Blue Harbor Hotels"]),
            others=[["email", f"{n}@mail.example.org"]], status=rng.choice(["active", "vip", "churned"]),
            tags=rng.sample(["vip", "beta", "newsletter", "wholesale"], rng.randint(0, 2)),
            segments=["Trial users"] if n % 7 == 0 else [],
            channels=sorted(rng.sample(["email", "sms", "chat", "voice"], rng.randint(1, 3))),
            last_contact=f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}T10:00:00Z")
    with Cache.open(root) as cache:
        cache.write_index_rows(rows, durable=False, fold=True)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="one run each")
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parent.parent / "bench-data")
    args = p.parse_args(argv)
    runs = 1 if args.quick else args.runs
    from agentdesk.cache.schema import SCHEMA

    # Built for each cache schema: a migration makes the search rows again from the profile
    # files, and this cache has none (its rows are written directly).
    root = args.data_dir / f"export-schema{SCHEMA}-{args.customers}"
    start = time.perf_counter()
    build(root, args.customers)
    say(f"cache of {args.customers:,} index rows at {root} ({time.perf_counter() - start:.1f} s)")
    out = args.data_dir / "export-out.csv"
    export = [sys.executable, "-m", "agentdesk", "export", "--cache", str(root), "-o", str(out)]
    baseline = [sys.executable, "-c", BASELINE, str(root), str(out)]
    times: dict[str, list[float]] = {"export": [], "baseline": []}
    for n in range(runs):
        order = ["export", "baseline"] if n % 2 == 0 else ["baseline", "export"]
        for name in order:
            times[name].append(timed(export if name == "export" else baseline))
            say(f"  {name}: {times[name][-1]:.2f} s")
    lines = sum(1 for _ in out.open(encoding="utf-8", newline=""))
    mine, base = median(times["export"]), median(times["baseline"])
    rows = [
        Row(f"agentdesk export, {args.customers:,} customers to CSV", f"{mine:.2f} s", "≤ 5 s", mine <= 5),
        Row("  vs python -c + csv module, same cache", f"{base:.2f} s (×{mine / base:.2f})", "≤ ×3",
            mine <= 3 * base),
        Row("  (output lines of the last run)", f"{lines:,}", "", None),
    ]
    say()
    print_rows(rows)
    say()
    say(markdown(rows))
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
