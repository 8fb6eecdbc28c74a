"""Command line: the desk, and `sync`, `serve`, `config`.

    agentdesk [--demo] [--cache DIR] [--customer ID] [--remote URL]
    agentdesk sync [--demo] [--cache DIR] [--remote URL]
    agentdesk serve [--host H] [--port P] [--data DIR | --database URL] [--workers N]
                    [--token T] [--demo] [--new-epoch]
    agentdesk config [--remote URL] [--token-from-env]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agentdesk import __version__


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo", action="store_true",
                   help="use the built-in demo store, served on 127.0.0.1, and its own cache "
                   "folder (never your real cache)")
    p.add_argument("--cache", metavar="DIR", type=Path,
                   help="cache folder (default: $AGENTDESK_CACHE, else your user data dir)")
    p.add_argument("--remote", metavar="URL",
                   help="the store to sync with (default: $AGENTDESK_REMOTE, else the config "
                   "file); its token comes from $AGENTDESK_TOKEN or the config file")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agentdesk",
        description="A terminal desk for customer-support agents: customer profile and "
        "conversation timeline over a local cache, kept in sync with a remote store.",
        epilog="Keys: ? for help in the desk. `agentdesk config` shows the config file.",
    )
    p.add_argument("--version", action="version", version=f"agentdesk {__version__}")
    _common(p)
    p.add_argument("--customer", metavar="ID", help="open this customer's profile first")
    commands = p.add_subparsers(dest="command", metavar="COMMAND")
    sync = commands.add_parser("sync", help="sync the cache with the store, headless (exit 0 "
                               "only on success)")
    _common(sync)
    serve = commands.add_parser("serve", help="run the reference store (SQLite, or PostgreSQL "
                                "behind several processes) over HTTP")
    # Defined here, not imported from the server package: the desk must not pay for importing
    # FastAPI and uvicorn at start-up.
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    serve.add_argument("--data", type=Path, metavar="DIR",
                       help="where the store lives (default: <user data dir>/agentdesk/server)")
    serve.add_argument("--token", help="accept this bearer token (else $AGENTDESK_SERVER_TOKEN; "
                       "else one is made and printed on first start)")
    serve.add_argument("--demo", action="store_true", help="seed the demo data set if the store is empty")
    serve.add_argument("--database", metavar="URL",
                       help="keep the store in this PostgreSQL database (a postgresql:// URL; else "
                       "$AGENTDESK_DATABASE; else SQLite in --data)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="serve from N processes (more than 1 needs PostgreSQL; default 1)")
    serve.add_argument("--new-epoch", action="store_true",
                       help="give the store a new epoch before serving (after restoring a backup: "
                       "every desk starts over, keeping its unsent edits)")
    config = commands.add_parser("config", help="show where the config file is and what is set "
                                 "(token masked); --remote/--token-from-env set them")
    config.add_argument("--remote", metavar="URL", help="set the store to sync with")
    config.add_argument("--token-from-env", action="store_true",
                        help="store $AGENTDESK_TOKEN in the config file (created 0600)")
    config.add_argument("--sync-interval", type=float, metavar="SECONDS",
                        help="set the seconds between background syncs")
    return p


def open_cache(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from agentdesk.config import default_cache_dir, demo_cache_dir
    from agentdesk.cache.cache import Cache
    from agentdesk.cache.files import CacheError

    root = args.cache or (demo_cache_dir() if args.demo else default_cache_dir())
    try:
        return Cache.open(root)
    except CacheError as error:
        raise SystemExit(f"agentdesk: {error}") from None


def _remote(args: argparse.Namespace, config: Any) -> tuple[Any, Any]:
    """(Remote or None, the demo's store (served on first sync, stopped at the end) or None)."""
    from agentdesk.config import remote_from

    if args.demo and not args.remote:
        from agentdesk.config import Remote, demo_server_dir
        from agentdesk.server.demo import DemoStore

        demo = DemoStore(demo_server_dir())
        return Remote(url=demo.url, token=demo.token), demo
    return remote_from(config, args.remote), None


def sync_main(cache: Any, remote: Any) -> int:
    """Headless sync with a progress bar on stderr and a summary; 0 only on success."""
    from agentdesk.sync.client import RemoteClient, RemoteError
    from agentdesk.sync.engine import Progress, SyncEngine

    if remote is None:
        print("agentdesk sync: no store configured: pass --remote URL (and set AGENTDESK_TOKEN), "
              "or see `agentdesk config`", file=sys.stderr)
        return 2
    if cache.read_only:
        print("agentdesk sync: another agentdesk is using this cache; sync from it with r, "
              "or close it first", file=sys.stderr)
        return 1
    tty = sys.stderr.isatty()

    def show(progress: Progress) -> None:
        fraction = progress.fraction
        if progress.phase in ("pulling", "saving") and fraction is not None:
            bar = "#" * int(fraction * 30)
            line = f"[{bar:<30}] {fraction:4.0%} {progress.changes:,} changes"
            if progress.phase == "saving":
                line += f", saving customers ({progress.saved}/{progress.to_save})"
        else:
            line = f"{progress.phase} … {progress.changes:,} changes, {progress.pushed} edits sent"
        print(("\r" if tty else "") + line, end="" if tty else "\n", file=sys.stderr, flush=True)

    with RemoteClient(remote.url, remote.token, verify=remote.verify) as client:
        try:
            report = SyncEngine(cache, client, on_progress=show).run()
        except RemoteError as error:
            print(f"\nagentdesk sync: failed: {error}", file=sys.stderr)
            counts = cache.outbox.counts()
            if counts.pending:
                print(f"agentdesk sync: {counts.pending} edits kept in the outbox; they are sent "
                      "on the next sync", file=sys.stderr)
            return 1
    print(f"\nSynced with {remote.url}: {report.summary()}.")
    for reason in report.applied.skipped[:20]:
        print(f"  skipped: {reason}")
    counts = report.outbox
    if counts.rejected or counts.conflicts:
        print(f"  {counts.rejected} rejected and {counts.conflicts} conflicting edits wait for "
              "you in the desk")
    return 0


def config_main(args: argparse.Namespace) -> int:
    import os

    from agentdesk.config import load_config, mask, save_settings

    config = load_config()
    changes: dict[str, object] = {}
    if args.remote:
        changes["remote"] = args.remote
    if args.sync_interval is not None:
        changes["sync_interval"] = args.sync_interval
    if args.token_from_env:
        token = os.environ.get("AGENTDESK_TOKEN", "")
        if not token:
            raise SystemExit("agentdesk config: AGENTDESK_TOKEN is not set")
        changes["token"] = token
    if changes:
        save_settings(config.path, **changes)
        config = load_config()
    from agentdesk.config import default_cache_dir

    env_token = os.environ.get("AGENTDESK_TOKEN")
    print(f"config file: {config.path}{'' if config.path.exists() else ' (not created yet)'}")
    print(f"cache:       {default_cache_dir()}")
    print(f"remote:      {os.environ.get('AGENTDESK_REMOTE') or config.remote or '(not set)'}")
    source = "$AGENTDESK_TOKEN" if env_token else "config file"
    print(f"token:       {mask(env_token or config.token)} (from {source})")
    print(f"sync every:  {config.sync_interval:g} s")
    print(f"author:      {config.author}")
    for binding, keys in config.keymap.items():
        print(f"keymap:      {binding} = {keys}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        from agentdesk.server.run import serve_main

        return serve_main(args)
    if args.command == "config":
        return config_main(args)
    if args.command is None:  # the desk: resumed once its first screen is painted
        from agentdesk.ui.startup import pause_gc

        pause_gc()
    from agentdesk.config import load_config

    config = load_config()
    remote, demo = _remote(args, config)
    try:
        cache = open_cache(args)
        try:
            if args.command == "sync":
                if demo is not None:
                    demo.serve()
                return sync_main(cache, remote)
            from agentdesk.ui.app import AgentDesk

            AgentDesk(cache, config, customer_id=args.customer, remote=remote,
                      prepare_remote=demo.serve if demo is not None else None).run()
        finally:
            cache.close()
    finally:
        if demo is not None:
            demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
