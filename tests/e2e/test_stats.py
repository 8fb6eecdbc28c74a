"""`agentdesk stats` through the real command, on a real cache: the daily series counts what
the profile files say, a channel and a period narrow it, the summary shows the current values
and their trend, bad arguments are named (exit 2); all beside a desk holding the cache."""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from agentdesk.cache.cache import Cache
from agentdesk.model.customer_facts import active_on, day_number
from agentdesk.model.reachability import reachable
from support.chart_data import make_some_reachable

LAST = date(2026, 1, 5)  # the demo's epoch: every figure is fixed up to it


def stats(cache: Cache, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentdesk", "stats", "--cache", str(cache.root),
                           *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})


def series(cache: Cache, *args: str) -> list[dict[str, str]]:
    done = stats(cache, "--csv", *args)
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout, newline="")))


@pytest.fixture
def cache(demo_cache: Cache) -> Cache:
    """The demo with some reachable customers. Open: the cache's lock is held, as by a
    running desk."""
    assert not demo_cache.read_only
    return make_some_reachable(demo_cache)


def _profiles(cache: Cache) -> list:
    return [cache.load_profile(r.id) for r in cache.index_rows()]


def test_the_series_counts_what_the_profile_files_say(cache: Cache) -> None:
    days = series(cache, "--from", "2024-01-01", "--to", LAST.isoformat())
    assert [d["date"] for d in days[:2]] == ["2024-01-01", "2024-01-02"]
    assert days[-1]["date"] == LAST.isoformat() and len(days) == (LAST - date(2024, 1, 1)).days + 1
    profiles = _profiles(cache)
    for d in days[::50] + days[-1:]:
        day = date.fromisoformat(d["date"])
        existing = [p for p in profiles if p.customer.created.date() <= day]
        reach = sum(1 for p in existing if reachable(p.identifiers))
        assert (int(d["total"]), int(d["reachable"]), int(d["unreachable"])) == (
            len(existing), reach, len(existing) - reach), d
    assert 0 < int(days[-1]["reachable"]) < int(days[-1]["total"])
    assert int(days[0]["total"]) < int(days[-1]["total"])


def test_monthly_active_counts_the_customers_own_entries(cache: Cache) -> None:
    day = LAST - timedelta(days=3)
    figures = series(cache, "--from", day.isoformat(), "--to", day.isoformat())
    expected = 0
    for row in cache.index_rows():
        _, timeline = cache.view_profile(row.id)
        if timeline.summary.chunk_files not in ([], [""]):  # a long timeline: its rows' days
            expected += active_on(row.active, day_number(day))  # stand in (test_chart_facts)
            continue
        times = [e.at.date() for e in timeline.chunk(0) if str(e.direction) == "inbound"
                    and str(e.kind) != "subscription"]
        expected += any(day - timedelta(days=29) <= t <= day for t in times)
    assert int(figures[0]["monthly_active"]) == expected > 2


def test_a_channel_keeps_its_customers(cache: Cache) -> None:
    every = series(cache, "--days", "5")
    for channel in ("sms", "email"):
        only = series(cache, "--channel", channel.upper(), "--days", "5")
        with_it = sum(1 for p in _profiles(cache)
                      if any(channel in v.channels for v in p.conversations))
        assert int(only[-1]["total"]) == with_it
        assert 0 < with_it < int(every[-1]["total"])


def test_the_summary_shows_current_values_and_trend(cache: Cache) -> None:
    days = series(cache, "--from", (LAST - timedelta(days=89)).isoformat(), "--to",
                  LAST.isoformat())
    done = stats(cache, "--from", (LAST - timedelta(days=89)).isoformat(), "--to",
                 LAST.isoformat())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Customers on 2026-01-05, all channels")
    assert "change in 30 days" in lines[1]
    now, then = days[-1], days[-31]
    for line, key in zip(lines[2:], ("total", "reachable", "unreachable", "monthly_active"),
                         strict=True):
        change = int(now[key]) - int(then[key])
        assert line.split()[-2:] == [f"{int(now[key]):,}", f"{change:+,}"], line


def test_output_to_a_private_file(cache: Cache, tmp_path: Path) -> None:
    out = tmp_path / "stats.csv"
    done = stats(cache, "--csv", "--days", "7", "-o", str(out))
    assert done.returncode == 0 and done.stdout == ""
    assert str(out) in done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().splitlines()[0] == "date,total,reachable,unreachable,monthly_active"
    assert len(out.read_text().splitlines()) == 8


@pytest.mark.parametrize(("args", "message"), [
    (("--days", "0"), "the number of days must be 1 to"),
    (("--days", "x"), "invalid int value"),
    (("--days", "5", "--from", "2025-01-01"), "not both"),
    (("--from", "2025-02-01", "--to", "2025-01-01"), "starts (2025-02-01) after it ends"),
    (("--from", "yesterday"), '"yesterday" is not a day: use YYYY-MM-DD'),
    (("--channel", "fax"), 'unknown channel "fax"'),
])
def test_bad_arguments_are_named(cache: Cache, args: tuple[str, ...], message: str) -> None:
    done = stats(cache, *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_no_cache_is_named(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "agentdesk", "stats", "--cache",
                           str(tmp_path / "none")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "No cache at" in done.stderr
