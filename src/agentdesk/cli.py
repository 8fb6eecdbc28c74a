"""Command line: the desk, and `open`, `sync`, `serve`, `config`.

    agentdesk [--demo] [--cache DIR] [--customer ID] [--remote URL]
    agentdesk open [--demo] [--cache DIR] [--remote URL] ID|E-MAIL|PHONE
    agentdesk sync [--demo] [--cache DIR] [--remote URL] [--repair]
    agentdesk serve [--host H] [--port P] [--data DIR | --database URL] [--workers N]
                    [--token-file FILE] [--demo] [--new-epoch] [--canned FILE] [--agents FILE]
    agentdesk serve merge --email ADDRESS [--data DIR | --database URL]
    agentdesk config [--remote URL] [--token-from-env]
    agentdesk export [--cache DIR] [--query Q] [--format csv|json] [--fields F,...] [-o FILE]
    agentdesk stats [--cache DIR] [--channel X] [--from DATE --to DATE | --days N] [--csv]
                    [-o FILE]
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
                   "file); its token comes from $AGENTDESK_TOKEN or the config file. "
                   "rt+https://HOST is a Request Tracker 5: an RT auth token, or "
                   "$AGENTDESK_RT_USER and $AGENTDESK_RT_PASSWORD")


KEYS_EPILOG = """\
keys:
  Press ? (or F1) in the desk for every key of the screen you are on, with the
  id that remaps it; README.md lists the default keys. To remap a key, add a
  [keymap] table to the config file, one line per id (keys comma-separated):

    [keymap]
    "profile.new_note" = "a"
    "timeline.next_conversation" = "ctrl+n,right_square_bracket"

  `agentdesk config` shows where the config file is and the keymap in force.
"""


def _desk_parser(*, exit_on_error: bool = True) -> argparse.ArgumentParser:
    """The arguments of `agentdesk` itself, without its commands."""
    p = argparse.ArgumentParser(
        prog="agentdesk", allow_abbrev=False, exit_on_error=exit_on_error,
        description="A terminal desk for customer-support agents: customer profile and "
        "conversation timeline over a local cache, kept in sync with a remote store.",
        epilog=KEYS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"agentdesk {__version__}")
    _common(p)
    p.add_argument("--customer", metavar="ID", help="open this customer's profile first")
    return p


COMMANDS = ("open", "sync", "serve", "config", "export", "stats")


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The desk's own arguments are parsed without building every command's parser (~3 ms of
    the agent's wait at start-up); anything else, help and errors go to the whole parser, so
    what it says and accepts is the same."""
    argv = sys.argv[1:] if argv is None else argv
    if not any(arg in COMMANDS or arg in ("-h", "--help") for arg in argv):
        try:
            args, rest = _desk_parser(exit_on_error=False).parse_known_args(argv)
            if not rest:
                args.command = None
                return args
        except argparse.ArgumentError:
            pass  # the whole parser says what is wrong
    return parser().parse_args(argv)


def parser() -> argparse.ArgumentParser:
    p = _desk_parser()
    commands = p.add_subparsers(dest="command", metavar="COMMAND")
    pop = commands.add_parser(
        "open", help="bring a customer up in the running desk (screen-pop), or start the desk "
        "on that customer", allow_abbrev=False,
        description="Bring a customer up in the desk running on this cache, as a phone system "
        "or a script does when it routes a call to the agent: over a private Unix socket in "
        "$XDG_RUNTIME_DIR/agentdesk/, never a network port. With no desk running, start one on "
        "that customer. Exit 0: opened; 1: nobody matched (the desk is left as it was).")
    _common(pop)
    pop.add_argument("target", metavar="ID|E-MAIL|PHONE",
                     help="the customer's id, or one of their e-mail addresses or phone numbers")
    sync = commands.add_parser("sync", help="sync the cache with the store, headless (exit 0 "
                               "only on success)", allow_abbrev=False)
    _common(sync)
    sync.add_argument("--repair", action="store_true",
                      help="first check that every cached customer reads back, and rebuild the "
                      "ones that do not from the store (unsent edits are kept)")
    serve = commands.add_parser("serve", help="run the reference store (SQLite, or PostgreSQL "
                                "behind several processes) over HTTP", allow_abbrev=False)
    # Defined here, not imported from the server package: the desk must not pay for importing
    # FastAPI and uvicorn at start-up.
    serve.add_argument("action", nargs="?", choices=["merge"],
                       help="merge: merge the customers who share --email into the one made "
                       "first (fields by the source priority rule), then exit")
    serve.add_argument("--email", metavar="ADDRESS", help="the e-mail `serve merge` merges by")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    serve.add_argument("--data", type=Path, metavar="DIR",
                       help="where the store lives (default: <user data dir>/agentdesk/server)")
    serve.add_argument("--token-file", type=Path, metavar="FILE",
                       help="accept the bearer token in FILE (else $AGENTDESK_SERVER_TOKEN; "
                       "else one is made and printed on first start); never on the command "
                       "line, where ps shows it")
    # Gone: a token given here is refused with a pointer to --token-file, never echoed.
    serve.add_argument("--token", dest="token_on_command_line", help=argparse.SUPPRESS)
    serve.add_argument("--demo", action="store_true", help="seed the demo data set if the store is empty")
    serve.add_argument("--canned", type=Path, metavar="FILE",
                       help="add the canned replies a JSON file lists ([{id, title, body, tags}]; "
                            "same id: replaced) before serving")
    serve.add_argument("--agents", type=Path, metavar="FILE",
                       help="add the agents a JSON file lists ([{name, display_name}]) before "
                            "serving: whom conversations can be assigned to, besides token holders")
    serve.add_argument("--database", metavar="URL",
                       help="keep the store in this PostgreSQL database (a postgresql:// URL; else "
                       "$AGENTDESK_DATABASE; else SQLite in --data)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="serve from N processes (more than 1 needs PostgreSQL; default 1)")
    serve.add_argument("--new-epoch", action="store_true",
                       help="give the store a new epoch before serving (after restoring a backup: "
                       "every desk starts over, keeping its unsent edits)")
    export = commands.add_parser(
        "export", help="write the customers a query selects as CSV or JSON, from the cache "
        "(offline)", allow_abbrev=False,
        description="Write the cached customers a query selects, by name, as CSV or JSON: to "
        "standard output (so it pipes) or to a file (created 0600: it holds personal data). "
        "Read from the cache only: no store is asked. Query: free text plus filters, all must "
        "hold: tag:vip status:churned segment:\"Trial users\" channel:sms last-contact:<30d "
        "(or >30d: not contacted for 30 days, customers never contacted included; h and w "
        "work too); -tag:x negates a filter. CSV cells that would start a spreadsheet "
        "formula get a leading '.")
    export.add_argument("--demo", action="store_true", help="the demo's cache folder")
    export.add_argument("--cache", metavar="DIR", type=Path,
                        help="cache folder (default: $AGENTDESK_CACHE, else your user data dir)")
    export.add_argument("--query", "-q", default="", metavar="QUERY",
                        help="the customers to export (default: all)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--fields", metavar="F,...",
                        help="columns, comma-separated (default: all but the last three): id, "
                        "name, company, email, phone, status, tags, segments, channels, "
                        "last_contact, since, reachable, open_conversations; field:KEY for "
                        "any field of the customers (field:billing.plan)")
    export.add_argument("-o", "--output", metavar="FILE", type=Path,
                        help="write to FILE instead of standard output")
    from agentdesk.stats_command import add_stats_parser

    add_stats_parser(commands)
    config = commands.add_parser("config", help="show where the config file is and what is set "
                                 "(token masked); --remote/--token-from-env set them")
    config.add_argument("--remote", metavar="URL", help="set the store to sync with")
    config.add_argument("--token-from-env", action="store_true",
                        help="store $AGENTDESK_TOKEN in the config file (created 0600)")
    config.add_argument("--rt-login-from-env", action="store_true",
                        help="store $AGENTDESK_RT_USER and $AGENTDESK_RT_PASSWORD (Request "
                        "Tracker) in the config file (created 0600)")
    config.add_argument("--sync-interval", type=float, metavar="SECONDS",
                        help="set the seconds between background syncs")
    return p


def _cache_dir(args: argparse.Namespace) -> Path:
    from agentdesk.config import default_cache_dir, demo_cache_dir

    return args.cache or (demo_cache_dir() if args.demo else default_cache_dir())


def open_cache(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from agentdesk.cache.cache import Cache
    from agentdesk.cache.files import CacheError

    root = _cache_dir(args)
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
        remote, store = Remote(url=demo.url, token=demo.token), demo
    else:
        remote, store = remote_from(config, args.remote), None
    if remote is not None:
        from agentdesk.crash import keep_secret

        keep_secret(remote.token)
        keep_secret(remote.password)
    return remote, store


def _progress_line(progress: Any) -> str:
    fraction = progress.fraction
    if progress.phase == "waiting":
        return f"waiting {progress.wait:.0f} s before asking again: {progress.why}"
    if progress.phase in ("pulling", "saving") and fraction is not None:
        bar = "#" * int(fraction * 30)
        line = f"[{bar:<30}] {fraction:4.0%} {progress.changes:,} changes"
        if progress.phase == "saving":
            line += f", saving customers ({progress.saved}/{progress.to_save})"
        return line
    return f"{progress.phase} … {progress.changes:,} changes, {progress.pushed} edits sent"


def _repair_first(cache: Any) -> None:
    """`sync --repair`: name every customer that does not read back for a rebuild."""
    from agentdesk.cache.health import find_damaged
    from agentdesk.model.sanitize import clean_line
    from agentdesk.sync.engine import SyncState

    damaged, lost = find_damaged(cache)
    for customer_id, why in damaged.items():
        print(f"  does not read back: customer {clean_line(customer_id)}: {clean_line(why)[:200]}",
              file=sys.stderr)
    cache.request_repair(damaged)
    if lost:  # whose they were is lost with them: read the whole feed again to find out
        for path in lost:
            path.unlink(missing_ok=True)
        state = SyncState.load(cache)
        state.cursor = None
        state.save(cache)
    print(f"agentdesk sync: {len(damaged)} customers to rebuild from the store"
          + (f", {len(lost)} unreadable files of unknown customers removed (the whole store is "
             "read again)" if lost else ""), file=sys.stderr)


def sync_main(cache: Any, remote: Any, *, repair: bool = False) -> int:
    """Headless sync with a progress bar on stderr and a summary. Exit 0: synced; 1: the sync
    failed (what it did is kept); 2: no store configured; 3: synced, but edits were held back."""
    from agentdesk.model.sanitize import clean_line
    from agentdesk.sync.client import RemoteError
    from agentdesk.sync.remote import connect
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
        line = clean_line(_progress_line(progress))
        print(("\r\x1b[K" if tty else "") + line, end="" if tty else "\n", file=sys.stderr,
              flush=True)

    if repair:
        _repair_first(cache)
    with connect(remote.url, remote.token, verify=remote.verify, **remote.login) as client:
        try:
            report = SyncEngine(cache, client, on_progress=show).run()
        except RemoteError as error:
            print(f"\nagentdesk sync: failed: {clean_line(str(error))}", file=sys.stderr)
            counts = cache.outbox.counts()
            if counts.pending:
                print(f"agentdesk sync: {counts.pending} edits kept in the outbox; they are sent "
                      "on the next sync", file=sys.stderr)
            return 1
    print(f"\nSynced with {remote.url}: {report.summary()}.")
    for reason in report.applied.skipped[:20]:
        print(f"  skipped: {clean_line(reason)[:300]}")
    if report.skipped:
        more = f"{report.skipped - 20} more; " if report.skipped > 20 else ""
        print(f"  ({more}every skipped change is listed in {report.skipped_log})")
    for held in report.held:
        print(f"  held back: {clean_line(held)[:300]}")
    counts = report.outbox
    if counts.rejected or counts.conflicts:
        print(f"  {counts.rejected} rejected and {counts.conflicts} conflicting edits wait for "
              "you in the desk")
    return 3 if report.held else 0


def ask_running_desk(args: argparse.Namespace) -> int | None:
    """`agentdesk open`: the running desk's answer (exit status), or None when no desk runs on
    this cache (the command then starts one)."""
    from agentdesk.model.sanitize import clean_line
    from agentdesk.ui.screen_pop import ask_desk, socket_path

    try:
        answer = ask_desk(socket_path(_cache_dir(args)), args.target)
    except OSError as error:  # a timeout, a desk that closed mid-answer
        print(f"agentdesk open: the desk did not answer: {clean_line(str(error)) or 'timed out'}",
              file=sys.stderr)
        return 1
    if answer is None:
        return None
    if answer.get("ok"):
        print(f"Opened {clean_line(str(answer.get('name', '')))} "
              f"({clean_line(str(answer.get('customer', '')))}) in the running desk.")
        return 0
    print(f"agentdesk open: {clean_line(str(answer.get('error', 'refused')))}", file=sys.stderr)
    return 1


def customer_to_start_on(cache: Any, target: str) -> str | int:
    """`agentdesk open` with no desk running: the customer to start the desk on, or the exit
    status after saying that nobody matched."""
    from agentdesk.cache.customer_lookup import lookup
    from agentdesk.cache.search import CustomerIndex

    found = lookup(CustomerIndex(cache.index_rows()), target)
    if found.customer_id is None or not cache.profile_path(found.customer_id).exists():
        print(f"agentdesk open: {found.error or 'that customer is not in the cache'}",
              file=sys.stderr)
        return 1
    return found.customer_id


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
    if args.rt_login_from_env:
        user, password = os.environ.get("AGENTDESK_RT_USER"), os.environ.get("AGENTDESK_RT_PASSWORD")
        if not user or not password:
            raise SystemExit("agentdesk config: AGENTDESK_RT_USER and AGENTDESK_RT_PASSWORD "
                             "must both be set")
        changes.update(rt_user=user, rt_password=password)
    if changes:
        save_settings(config.path, **changes)
        config = load_config()
    from agentdesk.config import default_cache_dir

    def shown(env: str, in_file: str, value: str | None = None) -> str:
        """A setting and where it comes from; '(not set)' when it is set nowhere."""
        if os.environ.get(env):
            return f"{value or os.environ[env]} (from ${env})"
        if in_file:
            return f"{value or in_file} (from the config file)"
        return "(not set)"

    env_token = os.environ.get("AGENTDESK_TOKEN", "")
    print(f"config file: {config.path}{'' if config.path.exists() else ' (not created yet)'}")
    print(f"cache:       {default_cache_dir()}")
    print(f"remote:      {shown('AGENTDESK_REMOTE', config.remote)}")
    print(f"token:       {shown('AGENTDESK_TOKEN', config.token, mask(env_token or config.token))}")
    if os.environ.get("AGENTDESK_RT_USER") or config.rt_user:
        password = os.environ.get("AGENTDESK_RT_PASSWORD") or config.rt_password
        print(f"RT user:     {shown('AGENTDESK_RT_USER', config.rt_user)} "
              f"(password {mask(password)})")
    print(f"sync every:  {config.sync_interval:g} s")
    print(f"author:      {config.author}")
    print(f"theme:       {config.theme or '(the default)'}")
    for binding, keys in config.keymap.items():
        print(f"keymap:      {binding} = {keys}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run a command. Ctrl+C ends it quietly (status 130); an unexpected error prints one line
    and leaves its details in a log (status 70, see `agentdesk.crash`): never a traceback on
    the terminal, never status 0."""
    from agentdesk import crash

    args = parse(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print(file=sys.stderr)  # end a progress line
        return crash.INTERRUPTED
    except Exception as error:  # noqa: BLE001 (logged, reported in one line)
        return crash.report_exception(error, _cache_root(args))


def _cache_root(args: argparse.Namespace) -> Path | None:
    if args.command in ("serve", "config"):
        return None
    try:
        return _cache_dir(args)
    except Exception:  # noqa: BLE001 (the crash log then goes to the user log folder)
        return None


def _run(args: argparse.Namespace) -> int:
    import logging

    # The desk's warnings (a skipped record, a retried request) are summed up by the command
    # and kept in the cache's logs, not printed one by one over the progress line.
    logging.getLogger("agentdesk").addHandler(logging.NullHandler())
    if args.command == "serve":
        from agentdesk.server.run import serve_main

        if args.token_on_command_line is not None:
            print("agentdesk serve: a token on the command line is shown to every user by ps; "
                  "put it in a file (--token-file FILE) or in $AGENTDESK_SERVER_TOKEN",
                  file=sys.stderr)
            return 2
        return serve_main(args)
    if args.command == "config":
        return config_main(args)
    if args.command == "export":
        from agentdesk.export_command import export_main

        return export_main(args, _cache_dir(args))
    if args.command == "stats":
        from agentdesk.stats_command import stats_main

        return stats_main(args, _cache_dir(args))
    if args.command == "open":
        answered = ask_running_desk(args)
        if answered is not None:
            return answered
    if args.command in (None, "open"):  # the desk: resumed once its first screen is painted
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
                return sync_main(cache, remote, repair=args.repair)
            if args.command == "open":
                start_on = customer_to_start_on(cache, args.target)
                if isinstance(start_on, int):
                    return start_on
                args.customer = start_on
            return _desk(args, cache, config, remote, demo)
        finally:
            cache.close()
    finally:
        if demo is not None:
            demo.stop()


def _desk(args: argparse.Namespace, cache: Any, config: Any, remote: Any, demo: Any) -> int:
    """The desk. An error in it is drawn by Textual as a long traceback after the screen is
    restored: it is caught here instead and goes to the crash log."""
    import io

    from rich.console import Console

    from agentdesk import crash
    from agentdesk.ui.app import AgentDesk

    app = AgentDesk(cache, config, customer_id=args.customer, remote=remote,
                    prepare_remote=demo.serve if demo is not None else None)
    captured = io.StringIO()
    app.error_console = Console(file=captured, width=120, markup=False, highlight=False,
                                color_system=None)
    app.run()
    code = app.return_code or 0
    if code:
        error = getattr(app, "_exception", None)  # Textual keeps the first one it met
        return crash.report(error, captured.getvalue() or f"the desk exited with status {code}",
                            cache.root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
