"""`agentdesk export`: the customers a query selects, as CSV or JSON, from the cache alone.

Reads the search index (see `cache.customer_select`), never a profile file or the store, so it
works offline and over 100,000 customers in seconds. The output goes to standard output (to
pipe it) or to a file created 0600, as every file of personal data the desk writes.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentdesk.cache.cache import Cache

EXIT_USAGE = 2


def export_main(args: argparse.Namespace, root: Path) -> int:
    from agentdesk.cache.customer_export import (
        ExportError, fields_of, private_file, write_csv, write_json)
    from agentdesk.cache.customer_select import by_name, select
    from agentdesk.model.customer_query import QueryError, parse

    try:
        query = parse(args.query)
        fields = fields_of(args.fields)
    except (QueryError, ExportError) as error:
        print(f"agentdesk export: {error}", file=sys.stderr)
        return EXIT_USAGE
    cache = open_for_reading(root, "export")
    if cache is None:
        return 1
    try:
        rows = by_name(select(cache.index_rows(), query, datetime.now(UTC)))
    finally:
        cache.close()
    write = write_csv if args.format == "csv" else write_json
    if args.output is None:
        return to_stdout(lambda out: write(rows, fields, out))
    with private_file(args.output) as out:
        count = write(rows, fields, out)
    print(f"agentdesk export: {count} customers written to {args.output}", file=sys.stderr)
    return 0


def open_for_reading(root: Path, command: str) -> Cache | None:
    """The cache, opened to read every customer's row (`export`, `stats`); None, the reason
    printed, when it cannot be read.

    The collector is switched off for the command: 100,000 rows are 100,000 objects that live
    until the end and hold no cycles, and the cyclic collector walked them again and again
    for nothing, a third of the run."""
    from agentdesk.cache.cache import Cache
    from agentdesk.cache.files import CacheError

    gc.disable()
    try:
        return Cache.open(root, create=False)
    except CacheError as error:
        print(f"agentdesk {command}: {error}", file=sys.stderr)
        return None


def to_stdout(write: object) -> int:
    """Write to standard output; a reader that stops early (`| head`) ends it quietly."""
    out = sys.stdout
    try:
        write(out)  # type: ignore[operator]
        out.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        return 0
    return 0
