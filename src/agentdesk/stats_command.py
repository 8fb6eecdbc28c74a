"""`agentdesk stats`: customers over time (total, reachable, unreachable, monthly active) by
day, from the cache alone: a short summary, or the daily series as CSV.

Reads the search index rows (`model.customer_stats` says what each figure means), never a
profile file or the store, so it works offline and beside a running desk (which holds the
cache's lock: the rows are read all the same). Output to standard output, or to a file
created 0600 like every file of customer data the desk writes.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

EXIT_USAGE = 2
LABELS = {"total": "total", "reachable": "reachable", "unreachable": "unreachable",
          "monthly_active": "monthly active"}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'"{text}" is not a day: use YYYY-MM-DD') from None


def add_stats_parser(commands: Any) -> None:
    """The `stats` subcommand's arguments (kept here: cli.py only names it)."""
    stats = commands.add_parser(
        "stats", help="customers over time (total, reachable, unreachable, monthly active), "
        "from the cache (offline)", allow_abbrev=False,
        description="Count the cached customers by day over a period: total (created by that "
        "day), reachable and unreachable (whether marketing can reach them now: a deliverable "
        "identifier with consent, no CCPA opt-out), monthly active (did something themselves "
        "in the 30 days up to that day). Prints the current values and their change over the "
        "last 30 days; --csv prints the daily series. Read from the cache only.")
    stats.add_argument("--demo", action="store_true", help="the demo's cache folder")
    stats.add_argument("--cache", metavar="DIR", type=Path,
                       help="cache folder (default: $AGENTDESK_CACHE, else your user data dir)")
    stats.add_argument("--channel", metavar="NAME",
                       help="only customers with a conversation on this channel (email, chat, "
                       "sms, voice, social, app, web; default: all)")
    stats.add_argument("--from", dest="start", type=_day, metavar="DATE",
                       help="first day (YYYY-MM-DD)")
    stats.add_argument("--to", dest="end", type=_day, metavar="DATE",
                       help="last day (YYYY-MM-DD; default: today)")
    stats.add_argument("--days", type=int, metavar="N",
                       help="the last N days up to today (default: 90)")
    stats.add_argument("--csv", action="store_true",
                       help="print the daily series as CSV: date,total,reachable,unreachable,"
                       "monthly_active")
    stats.add_argument("-o", "--output", metavar="FILE", type=Path,
                       help="write to FILE (created 0600) instead of standard output")


def stats_main(args: argparse.Namespace, root: Path) -> int:
    from agentdesk.export_command import open_for_reading, to_stdout
    from agentdesk.model.customer_stats import (
        StatsError,
        check_channel,
        facts_of,
        period_of,
        series,
    )

    try:
        channel = check_channel(args.channel)
        period = period_of(datetime.now(UTC).date(), start=args.start, end=args.end,
                           days=args.days)
    except StatsError as error:
        print(f"agentdesk stats: {error}", file=sys.stderr)
        return EXIT_USAGE
    cache = open_for_reading(root, "stats")
    if cache is None:
        return 1
    try:
        found = series(facts_of(cache.search_index.docs()), period, channel)
    finally:
        cache.close()
    write = write_csv if args.csv else write_summary
    if args.output is None:
        return to_stdout(lambda out: write(found, out))
    from agentdesk.cache.customer_export import private_file

    with private_file(args.output) as out:
        write(found, out)
    print(f"agentdesk stats: written to {args.output}", file=sys.stderr)
    return 0


def write_csv(found: Any, out: IO[str]) -> None:
    from agentdesk.cache.customer_export import write_series_csv

    write_series_csv(found.days, out)


def write_summary(found: Any, out: IO[str]) -> None:
    """The current values and their trend, a few lines for a person."""
    period = found.period
    out.write(f"Customers on {period.end.isoformat()}, "
              f"{'channel ' + found.channel if found.channel else 'all channels'} "
              f"(period {period.start.isoformat()} to {period.end.isoformat()}, "
              f"{period.days} day{'s' if period.days != 1 else ''})\n")
    trends = found.trends()
    back = trends[0].days
    out.write(f"{'':16}{'now':>10}  change in {back} day{'s' if back != 1 else ''}\n")
    for t in trends:
        out.write(f"{LABELS[t.metric]:16}{t.value:>10,}  {t.change:>+,}\n")
