"""Running the store: the `agentdesk serve` command, a background `ServerThread`, demo seeding.

The token is a secret: only its sha256 is stored, it is printed once (when the server makes it
on first start) and never logged (uvicorn's access log shows no headers). It is given in a
file or the environment, never on the command line, where `ps` shows it to every user.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from platformdirs import user_data_path
from uvicorn.supervisors import Multiprocess

from agentdesk.model import demo
from agentdesk.server.app import create_app
from agentdesk.server.net import listen
from agentdesk.server.sqlite_store import SqliteStore
from agentdesk.server.store import Store, StoreError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TOKEN_ENV = "AGENTDESK_SERVER_TOKEN"
DATABASE_ENV = "AGENTDESK_DATABASE"
DB_NAME = "store.db"
DEFAULT_AGENT = "agent"


def default_data_dir() -> Path:
    return user_data_path("agentdesk") / "server"


def open_store(data: Path, database: str | None = None) -> Store:
    """The store in the PostgreSQL database `database` (a postgresql:// URL) if given, else
    the SQLite store in `data` (made 0700; the database files are 0600)."""
    if database:
        if not database.startswith(("postgresql://", "postgres://")):
            # Only the scheme is shown: the rest may hold a password.
            raise StoreError(f"--database takes a postgresql:// URL, not a {database.split(':')[0]!r} one")
        try:
            from agentdesk.server.postgres_store import PostgresStore
        except ImportError:
            raise StoreError("PostgreSQL needs psycopg: pip install 'agentdesk[postgresql]'") from None
        return PostgresStore(database)
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    data.chmod(0o700)
    return SqliteStore(data / DB_NAME)


def seed_demo(store: Store, now: datetime | None = None, **generate_kwargs: Any) -> int:
    """Load `demo.generate(**generate_kwargs)` in one transaction (moved to `now`, a live
    demo's today: `demo.as_of`), and the demo's agents and canned replies; returns how many
    customers."""
    data = demo.generate(**generate_kwargs)
    count = store.bulk_load(data if now is None else demo.as_of(data, now))
    seed_demo_lists(store)
    return count


def seed_demo_lists(store: Store) -> None:
    """The demo's agents and canned replies (a demo store made before they existed gets them
    when it is next served)."""
    for agent in demo.DEMO_AGENTS:
        store.put_agent(agent.model_dump(mode="json"))
    for reply in demo.CANNED_REPLIES:
        store.put_canned(reply.model_dump(mode="json"))


def import_lists(store: Store, canned: Path | None, agents: Path | None) -> str:
    """`agentdesk serve --canned FILE --agents FILE`: add (or replace, by id or name) the
    canned replies and agents a JSON file lists; what was done, for the operator."""
    from agentdesk.server.directory import read_list

    said = []
    for path, what, put in ((canned, "canned replies", store.put_canned),
                            (agents, "agents", store.put_agent)):
        if path is None:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise StoreError(f"cannot read {path}: {error}") from None
        records = read_list(text, str(path))
        for n, record in enumerate(records, 1):
            try:
                put(record)
            except StoreError as error:
                raise StoreError(f"{path}: entry {n}: {error}") from None
        said.append(f"{len(records)} {what} from {path}")
    return "Imported " + ", ".join(said) + "." if said else ""


def serve_main(args: argparse.Namespace) -> int:
    """`agentdesk serve`: open (or create and migrate) the store and serve it until
    interrupted, in this process or in `--workers` processes that each open the database."""
    database = args.database or os.environ.get(DATABASE_ENV) or None
    if args.workers < 1:
        raise SystemExit("agentdesk serve: --workers must be at least 1")
    if args.workers > 1 and not database:
        raise SystemExit("agentdesk serve: --workers above 1 needs PostgreSQL (--database "
                         "postgresql://...): the SQLite store lives in one process")
    token = os.environ.get(TOKEN_ENV)
    if args.token_file is not None:
        try:
            token = args.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise SystemExit(f"agentdesk serve: cannot read the token file: {error}") from None
        if not token:
            raise SystemExit(f"agentdesk serve: the token file {args.token_file} is empty")
    try:
        store = open_store(args.data or default_data_dir(), database)
    except StoreError as error:
        raise SystemExit(f"agentdesk serve: {error}") from None
    except Exception as error:  # the database refused or is not there
        raise SystemExit(f"agentdesk serve: cannot open the database: {type(error).__name__}: "
                         f"{_first_line(error)}") from None
    if getattr(args, "action", None) == "merge":
        return merge_main(store, getattr(args, "email", None))
    try:
        if args.new_epoch:
            print(f"New epoch {store.reset_epoch()}: every desk starts over.", flush=True)
        made = False
        if token:
            store.add_token(token, DEFAULT_AGENT)
        elif not store.has_tokens():
            token, made = secrets.token_urlsafe(32), True
            store.add_token(token, DEFAULT_AGENT)
        try:
            said = import_lists(store, getattr(args, "canned", None), getattr(args, "agents", None))
        except StoreError as error:
            raise SystemExit(f"agentdesk serve: {error}") from None
        if said:
            print(said, flush=True)
        if args.demo and store.is_empty():
            started = time.perf_counter()
            count = seed_demo(store, now=datetime.now(UTC))
            print(f"Seeded the demo data set: {count} customers in {time.perf_counter() - started:.1f} s.",
                  flush=True)
        url = f"http://{args.host}:{args.port}"
        if made:
            print("A token was made for this store; it is shown only this once. Connect a desk with:\n"
                  f"  AGENTDESK_TOKEN={token} agentdesk --remote {url}", flush=True)
        engine = "PostgreSQL" if database else "SQLite"
        processes = f", {args.workers} processes" if args.workers > 1 else ""
        print(f"Serving the agentdesk store ({engine}{processes}) at {url} (Ctrl+C to stop).",
              flush=True)
        sock = listen(args.host, args.port)
        if args.workers == 1:
            config = uvicorn.Config(create_app(store), log_level="info", server_header=False,
                                    lifespan="off")
            uvicorn.Server(config).run(sockets=[sock])
            return 0
    finally:
        store.close()
    # Each worker process opens the database itself (`worker_app`), with its own pool.
    os.environ[DATABASE_ENV] = database
    config = uvicorn.Config("agentdesk.server.run:worker_app", factory=True, workers=args.workers,
                            log_level="info", server_header=False, lifespan="off")
    Multiprocess(config, sockets=[sock]).run()
    return 0


def merge_main(store: Store, email: str | None) -> int:
    """`agentdesk serve merge --email ADDRESS`: one transaction; desks follow the merge at
    their next sync."""
    try:
        if not email:
            raise StoreError("serve merge needs --email ADDRESS")
        into, merged = store.merge_by_email(email)
    except StoreError as error:
        print(f"agentdesk serve merge: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"Merged {', '.join(merged)} into {into}.", flush=True)
    return 0


def worker_app() -> Any:
    """The app of one `--workers` process: the store of $AGENTDESK_DATABASE, already made
    and migrated by the parent."""
    return create_app(open_store(default_data_dir(), os.environ[DATABASE_ENV]))


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


class ServerThread:
    """The store served by uvicorn in a background thread, for tests, benchmarks and demos.

    `with ServerThread(store) as server: httpx.get(server.url + "/v1/status", ...)`. Port 0
    picks a free port; entering waits until connections are accepted, leaving shuts down.
    """

    def __init__(self, store: Store, host: str = DEFAULT_HOST, port: int = 0, *,
                 log_level: str = "warning", access_log: bool = False,
                 sock: socket.socket | None = None) -> None:
        self.store = store
        self._sock = sock  # bound already (the demo's: its clients may be waiting on it)
        self.host = host
        self.port = port
        self._config = dict(log_level=log_level, access_log=access_log)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        sock = self._sock or listen(self.host, self.port)
        self.host, self.port = sock.getsockname()[:2]
        # log_config=None: leave logging to the host process (and pytest's caplog).
        config = uvicorn.Config(create_app(self.store), log_config=None, server_header=False,
                                lifespan="off", **self._config)  # type: ignore[arg-type]
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"agentdesk-server-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the store's server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._server = self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
