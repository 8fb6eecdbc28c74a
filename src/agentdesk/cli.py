"""Command line: `agentdesk [--demo] [--cache DIR] [--customer ID]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentdesk import __version__


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agentdesk",
        description="A terminal desk for customer-support agents: customer profile and "
        "conversation timeline over a local cache.",
        epilog="Keys: ? for help in the desk. Config file (author, [keymap]): see README.",
    )
    p.add_argument("--version", action="version", version=f"agentdesk {__version__}")
    p.add_argument("--demo", action="store_true",
                   help="open a built-in demo data set in its own folder (never your real cache)")
    p.add_argument("--cache", metavar="DIR", type=Path,
                   help="cache folder (default: $AGENTDESK_CACHE, else your user data dir)")
    p.add_argument("--customer", metavar="ID", help="open this customer's profile first")
    return p


def open_cache(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from agentdesk.config import default_cache_dir, demo_cache_dir
    from agentdesk.core.cache import Cache
    from agentdesk.core.storage import CacheError

    root = args.cache or (demo_cache_dir() if args.demo else default_cache_dir())
    try:
        cache = Cache.open(root)
    except CacheError as error:
        raise SystemExit(f"agentdesk: {error}") from None
    if args.demo and cache.start_customer_id() is None:
        if cache.read_only:
            raise SystemExit("agentdesk: the demo cache is being created by another agentdesk.")
        from agentdesk.core import demo

        print(f"agentdesk: creating the demo data set in {root} …", file=sys.stderr)
        demo.fill(cache)
    return cache


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from agentdesk.config import load_config

    config = load_config()
    cache = open_cache(args)
    from agentdesk.ui.app import AgentDesk

    try:
        AgentDesk(cache, config, customer_id=args.customer).run()
    finally:
        cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
