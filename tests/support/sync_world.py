"""Shared helpers for the sync and ui tests: a real store served over loopback, a desk cache,
and a small fault-injecting HTTP proxy that sits between them.

The `world` and `synced` fixtures are defined here because two folders use them: the conftests
of tests/sync/ and tests/ui/ import them. Fixtures only the sync tests use (`proxy`,
`first_sync_way`) are in tests/sync/conftest.py.

Nothing here mocks a transport: the desk's `RemoteClient` speaks real HTTP to either the
store's `ServerThread` or to `FaultProxy`, which forwards to the store (also over real HTTP)
and breaks the exchange on purpose when a rule says so.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import httpx
import pytest

from agentdesk.cache.cache import Cache
from agentdesk.model.digest import digest as digest_of
from agentdesk.model.protocol import ProfileSnapshot
from agentdesk.sync.client import RemoteClient, RetryPolicy
from agentdesk.sync.engine import SyncEngine, SyncReport
from agentdesk.cache.timeline import _key as entry_key
from agentdesk.server.run import ServerThread, open_store, seed_demo
from agentdesk.server.sqlite_store import SqliteStore
from support.cache_reading import cache_digest, open_profile, timeline_of

TOKEN = "desk-token-" + "t" * 24
SCOPED_TOKEN = "scoped-token-" + "s" * 24
SCOPED_AGENT = "bob"
SEED = dict(customers=20, big_entries=600)
BIG = "cus_big_timeline"
PAGE = 200  # small pages, so a sync takes several


def fast_retry(attempts: int = 4) -> RetryPolicy:
    """Retries that take milliseconds (the policy's shape is the real one)."""
    return RetryPolicy(attempts=attempts, base=0.01, cap=0.05)


class Sleeps(list[float]):
    """A `sleep=` for RemoteClient that records what it was asked to wait, and waits ~not."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 0.002))


@dataclass
class World:
    """A seeded store served on 127.0.0.1 and an empty desk cache."""

    tmp: Path
    store: SqliteStore
    cache: Cache
    port: int = 0
    server: ServerThread | None = None
    clients: list[RemoteClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- the server ----------------------------------------------------------------------

    def start_server(self) -> None:
        """(Re)start serving the store, on the same port as before if there was one."""
        assert self.server is None
        self.server = ServerThread(self.store, port=self.port).start()
        self.port = self.server.port

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    # -- the desk ------------------------------------------------------------------------

    def client(self, url: str | None = None, token: str = TOKEN, **kwargs: Any) -> RemoteClient:
        kwargs.setdefault("retry", fast_retry())
        kwargs.setdefault("timeout", 5.0)
        client = RemoteClient(url or self.url, token, **kwargs)
        self.clients.append(client)
        return client

    def engine(self, client: RemoteClient | None = None, page_size: int = PAGE,
               **kwargs: Any) -> SyncEngine:
        return SyncEngine(self.cache, client or self.client(), page_size=page_size, **kwargs)

    def sync(self, client: RemoteClient | None = None, **kwargs: Any) -> SyncReport:
        return self.engine(client, **kwargs).run()

    # -- comparing -----------------------------------------------------------------------

    def server_digest(self) -> str:
        return str(self.client().digest()["digest"])

    def cache_digest(self) -> str:
        return cache_digest(self.cache)

    def assert_in_sync(self) -> None:
        assert self.cache_digest() == self.server_digest()

    def server_profile(self, customer_id: str) -> ProfileSnapshot:
        """A customer as the store has it, fetched over HTTP with the unscoped token."""
        return self.client().profile(customer_id)

    def server_records(self, customer_id: str, kind: str) -> list[dict[str, Any]]:
        return [c.data or {} for c in self.server_profile(customer_id).changes if c.type == kind]

    def local(self, customer_id: str) -> dict[str, Any]:
        """The cached profile as plain JSON (raises if the customer is not cached)."""
        loaded = open_profile(self.cache, customer_id)
        assert loaded is not None, f"{customer_id} is not in the cache"
        return loaded[0].model_dump(mode="json")

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.stop_server()
        self.cache.close()
        self.store.close()


_TEMPLATE: list[Path] = []


def sync_template() -> Path:
    """A seeded store and a cache synced with it, made once per test session and copied for
    each test (seeding and a first sync would otherwise be most of a test's setup time).

    Not a fixture, so the conftests only need to import `world` and `synced`.
    """
    if _TEMPLATE:
        return _TEMPLATE[0]
    root = Path(tempfile.mkdtemp(prefix="agentdesk-sync-template-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    store = open_store(root / "srv")
    store.add_token(TOKEN, "agent", scoped=False)
    store.add_token(SCOPED_TOKEN, SCOPED_AGENT, scoped=True)
    seed_demo(store, **SEED)
    w = World(tmp=root, store=store, cache=Cache.open(root / "cache"))
    try:
        w.start_server()
        w.sync()
        w.assert_in_sync()
    finally:
        w.close()  # closing the store checkpoints its WAL into store.db
    (root / "cache" / "lock").unlink(missing_ok=True)
    _TEMPLATE.append(root)
    return root


def _world(tmp_path: Path, template: Path, *, synced: bool) -> World:
    shutil.copytree(template / "srv", tmp_path / "srv")
    if synced:
        shutil.copytree(template / "cache", tmp_path / "cache")
    w = World(tmp=tmp_path, store=open_store(tmp_path / "srv"),
              cache=Cache.open(tmp_path / "cache"))
    w.start_server()
    return w


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A seeded store (20 customers, one with 600 entries) served on loopback; an empty cache."""
    w = _world(tmp_path, sync_template(), synced=False)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[World]:
    """The same, with the cache after a first full sync (digests equal)."""
    w = _world(tmp_path, sync_template(), synced=True)
    try:
        yield w
    finally:
        w.close()


def read_all_entries(cache: Cache, customer_id: str) -> list[dict[str, Any]]:
    timeline = timeline_of(cache, customer_id)
    out: list[dict[str, Any]] = []
    for index in range(len(timeline.summary.chunk_sizes)):
        out += [e.model_dump(mode="json") for e in timeline.chunk(index)]
    return out


def assert_timeline_consistent(cache: Cache, customer_id: str) -> list[dict[str, Any]]:
    """Entries are in (time, id) order, chunk sizes match the files, and `starts` points at
    each conversation's first entry as read back."""
    timeline = timeline_of(cache, customer_id)
    entries = read_all_entries(cache, customer_id)
    assert len(entries) == timeline.total
    keys = [entry_key(e) for e in entries]
    assert keys == sorted(keys), "timeline entries out of order"
    assert len({e["id"] for e in entries}) == len(entries), "an entry is filed twice"
    firsts: dict[str, int] = {}
    for position, entry in enumerate(entries):
        if entry["conversation_id"]:  # entries outside a conversation start none
            firsts.setdefault(entry["conversation_id"], position)
    assert timeline.summary.starts == firsts
    for conv, position in firsts.items():
        assert entries[position]["conversation_id"] == conv
    return entries


def at(base: str, **delta: float) -> str:
    """An ISO time `delta` after the ISO time `base` (for entries filed between others)."""
    when = datetime.fromisoformat(base.replace("Z", "+00:00")) + timedelta(**delta)
    return when.isoformat().replace("+00:00", "Z")


def snapshot_digest(snapshots: list[ProfileSnapshot]) -> str:
    """The digest of the customers a scoped desk should hold, from their profile snapshots."""
    return digest_of((c.type.value, c.id, c.customer_id, c.data or {})
                     for s in snapshots for c in s.changes)


# --- the fault proxy ------------------------------------------------------------------------

@dataclass
class Rule:
    """Break matching requests: `times` of them (None: all), in the way `action` says.

    Actions:
      status      answer `status` (with `headers`) without asking the store
      delay       wait `seconds`, then forward (the client has given up by then)
      drop_before close the connection without forwarding
      drop_after  forward (the store applies it), then close without answering
      truncate    forward, answer the first half of the store's body (a valid Content-Length)
      malformed   forward, answer 200 with a body that is not JSON
      replay      answer the previous /v1/changes body again instead of forwarding
      stuck       answer the first matching body for ever (a cursor that never moves)
      rewrite     forward, answer `rewrite(json_body)` instead (bytes are sent as they are)
    """

    action: str
    path: str = "/v1/"
    method: str | None = None
    times: int | None = 1
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    rewrite: Callable[[Any], Any] | None = None
    holding: bytes | None = None  # only requests whose body holds these bytes
    asking: str | None = None  # only requests whose (decoded) query string holds this text
    hits: int = 0
    saved: bytes | None = None

    def matches(self, method: str, path: str, body: bytes = b"", query: str = "") -> bool:
        return (self.times is None or self.times > 0) and path.startswith(self.path) and (
            self.method is None or self.method == method) and (
            self.holding is None or self.holding in body) and (
            self.asking is None or self.asking in unquote_plus(query))


@dataclass
class Seen:
    """One request the proxy received, and what it did with it."""

    method: str
    path: str
    params: dict[str, list[str]]
    body: bytes
    action: str  # "forward" or the rule's action
    status: int | None = None  # what the client was answered (None: nothing)
    answer: bytes = b""


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of the store, with fault rules.

    Not a mock: the client talks HTTP to it and it talks HTTP to the store. It never logs
    (so no header, and no token, is ever printed).
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self.last_changes: bytes | None = None
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=upstream, timeout=30)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # never log
                pass

            def do_GET(self) -> None:
                proxy._handle(self)

            def do_POST(self) -> None:
                proxy._handle(self)

            def do_PUT(self) -> None:  # Request Tracker's updates
                proxy._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True,
                                        name=f"fault-proxy-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting: from now on connections to `url` are refused."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def close(self) -> None:
        self.stop()
        self._http.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rules and what was seen ---------------------------------------------------------

    def add(self, action: str, path: str = "/v1/", **kwargs: Any) -> Rule:
        rule = Rule(action, path, **kwargs)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def requests(self, path: str = "/v1/", method: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path.startswith(path)
                    and (method is None or s.method == method)]

    def forwarded_mutation_ids(self) -> list[str]:
        """Ids of every mutation that reached the store (a retried batch counts again)."""
        ids = []
        for s in self.requests("/v1/mutations", "POST"):
            if s.action in ("forward", "delay", "drop_after", "truncate", "malformed", "rewrite"):
                ids += [m["id"] for m in json.loads(s.body)["mutations"]]
        return ids

    # -- serving -------------------------------------------------------------------------

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> httpx.Response:
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() in ("authorization", "content-type", "user-agent", "accept",
                                    "if-match", "cookie")}
        return self._http.request(handler.command, handler.path, content=body, headers=headers)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes,
                headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        with self._lock:
            rule = next((r for r in self.rules if r.matches(handler.command, parts.path, body,
                                                               parts.query)),
                        None)
            if rule is not None:
                rule.hits += 1
                if rule.times is not None:
                    rule.times -= 1
            seen = Seen(handler.command, parts.path, parse_qs(parts.query), body,
                        rule.action if rule else "forward")
            self.seen.append(seen)
        is_feed = parts.path == "/v1/changes"
        try:
            status, answer, extra = self._serve(handler, body, rule, is_feed)
        except (BrokenPipeError, ConnectionResetError):
            return
        if status is None:
            handler.close_connection = True
            return
        seen.status, seen.answer = status, answer
        try:
            self._answer(handler, status, answer, extra)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout): that was the point

    def _serve(self, handler: BaseHTTPRequestHandler, body: bytes, rule: Rule | None,
               is_feed: bool) -> tuple[int | None, bytes, dict[str, str]]:
        action = rule.action if rule else "forward"
        if action == "status":
            assert rule is not None
            text = json.dumps({"error": f"injected {rule.status}", "epoch": ""}).encode()
            return rule.status, text, dict(rule.headers)
        if action == "drop_before":
            return None, b"", {}
        if action == "replay" and is_feed and self.last_changes is not None:
            return 200, self.last_changes, {}
        if action == "stuck" and rule is not None and rule.saved is not None:
            return 200, rule.saved, {}
        if action == "delay":
            assert rule is not None
            time.sleep(rule.seconds)
        response = self._forward(handler, body)
        content = response.content
        if is_feed and response.status_code == 200:
            self.last_changes = content
        extra = {k: v for k, v in response.headers.items()
                 if k.lower() in ("retry-after", "www-authenticate", "etag", "location",
                                  "set-cookie")}
        if action == "stuck":
            assert rule is not None
            rule.saved = content
        elif action == "drop_after":
            return None, b"", {}
        elif action == "truncate":
            return response.status_code, content[: len(content) // 2], extra
        elif action == "malformed":
            return 200, b'{"epoch": "x", "changes": [,,,] <html>oops</html>', {}
        elif action == "rewrite" and response.status_code == 200:
            assert rule is not None and rule.rewrite is not None
            new = rule.rewrite(json.loads(content))
            return 200, new if isinstance(new, bytes) else json.dumps(new).encode(), extra
        return response.status_code, content, extra


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
