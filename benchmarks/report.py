"""Statistics and the results table, shared by run.py and sync_bench.py (which runs alone or
under `run.py --only sync`): a module of its own, so neither script imports the other."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


@dataclass
class Row:
    name: str
    measured: str
    target: str
    ok: bool | None  # None: information only

    @property
    def verdict(self) -> str:
        return "info" if self.ok is None else ("PASS" if self.ok else "FAIL")


def print_rows(rows: list[Row]) -> None:
    widths = [max(len(x) for x in col) for col in zip(*[(r.name, r.measured, r.target, r.verdict) for r in rows],
                                                      ("Benchmark", "Measured", "Target", "Result"))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format("Benchmark", "Measured", "Target", "Result"))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(r.name, r.measured, r.target, r.verdict))


def markdown(rows: list[Row]) -> str:
    out = ["| Benchmark | Measured | Target | Result |", "|---|---|---|---|"]
    for r in rows:
        verdict = {"PASS": "✅ PASS", "FAIL": "❌ FAIL", "info": "info"}[r.verdict]
        out.append(f"| {r.name} | {r.measured.replace('|', '/')} | {r.target} | {verdict} |")
    return "\n".join(out)


def say(text: str = "") -> None:
    print(text, flush=True)
