"""Load benchmark of the store: `python benchmarks/load_bench.py [--quick] [options]`.

Simulates N agents against `agentdesk serve` (see benchmarks/README.md, "The store under
load"): each agent pulls the change feed from its cursor every `--period` seconds (30 s of a
real desk, compressed), and on a fifth of its pulls also pushes an edit (a new note, and half
the time an edit of its previous note). For each configuration (SQLite in 1 process,
PostgreSQL in 1, 2 and 4 processes) it measures the idle push latency, then raises N level by
level: feed-page and push latency p50/p99, throughput, errors, and after each level that no
mutation was lost or applied twice (the notes read back from the feed, compared by digest with
what the agents were told; one seq per write). The largest N whose push p99 stays within 10x
the idle push latency with 0 errors and 0 lost or duplicated is the configuration's capacity.

The load generator is asyncio in this process (one keep-alive connection per agent); every server runs as `agentdesk serve`
in processes of its own, PostgreSQL in a cluster kept under bench-data/ (durable settings).
The store (100,000 customers, ~2,000,000 entries; --quick: 2,000) is built once and kept.

Internal mode: `load_bench.py build ROOT CUSTOMERS` (in a child process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))  # the throwaway cluster and serve process helpers

from report import Row, markdown, median, ms, pct, print_rows, say  # noqa: E402
from support.pg_cluster import Cluster  # noqa: E402
from support.serve_process import ServeProcess  # noqa: E402

DATA_VERSION = "1"  # bump when what is built changes
TOKEN = "load-bench-token-0123456789abcdef"
STORE_KW = {"big_entries": 0, "entries_each": (10, 30)}  # ~20 entries a customer
PAGE = 1000  # the desk's page size
PUSH_SHARE = 0.2  # a fifth of the pulls also push
MADE_AT = "2026-12-06T10:00:00+00:00"
CONFIGS = {"sqlite1": ("sqlite", 1), "pg1": ("postgresql", 1), "pg2": ("postgresql", 2),
           "pg4": ("postgresql", 4)}
# A durable cluster sized for the store: the records table and its indexes (~2 GB) mostly fit.
PG_SETTINGS = ("shared_buffers=1GB", "max_wal_size=4GB", "checkpoint_timeout=15min")

perf = time.perf_counter


# -- the store, built once ------------------------------------------------------------------

def data_root(base: Path, customers: int) -> Path:
    return base / f"load-v{DATA_VERSION}-c{customers}"


def build(root: Path, customers: int) -> dict[str, Any]:
    """SQLite by the demo generator, then the same rows copied into PostgreSQL."""
    from agentdesk.server.postgres_store import PostgresStore
    from agentdesk.server.run import open_store, seed_demo

    t0 = perf()
    store = open_store(root / "sqlite")
    store.add_token(TOKEN, "bench")
    seed_demo(store, customers=customers, **STORE_KW)
    epoch, head = store.status()
    store.close()
    sqlite_seconds = perf() - t0
    say(f"  SQLite store: {head:,} records in {sqlite_seconds:.0f} s")
    t1 = perf()
    source = sqlite3.connect(root / "sqlite" / "store.db")
    with Cluster(root / "pg", durable=True, settings=PG_SETTINGS) as cluster:
        cluster.drop_database("store")
        url = cluster.create_database("store")
        PostgresStore(url).close()  # the schema
        import psycopg

        with psycopg.connect(url) as conn:
            for table, columns in (("records", "type, id, customer_id, data, revision, seq, op, deleted"),
                                   ("search", "*"), ("tokens", "*")):
                with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in source.execute(f"SELECT {columns} FROM {table}"):
                        if table == "records":
                            row = (*row[:7], bool(row[7]))
                        elif table == "tokens":
                            row = (*row[:2], bool(row[2]), bool(row[3]))
                        copy.write_row(row)
            conn.execute("UPDATE feed_head SET head = %s", (head,))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    source.close()
    meta = {"customers": customers, "records": head, "sqlite_seconds": round(sqlite_seconds),
            "postgresql_seconds": round(perf() - t1), "built": time.strftime("%Y-%m-%d %H:%M:%S")}
    say(f"  PostgreSQL copy: {meta['postgresql_seconds']} s")
    return meta


def ensure_data(base: Path, customers: int, rebuild: bool) -> Path:
    root = data_root(base, customers)
    meta = root / "load-meta.json"
    if meta.exists() and not rebuild:
        return root
    if root.exists():
        subprocess.run(["rm", "-rf", str(root)], check=True)
    root.mkdir(parents=True)
    say(f"Building the load store ({customers:,} customers) in {root} (kept for later runs) ...")
    subprocess.run([sys.executable, __file__, "build", str(root), str(customers)], check=True)
    return root


# -- CPU accounting (for the prediction): server processes and PostgreSQL backends ----------

def cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_by_pid(pids).values())


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) each process has used so far."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return out


def group(pgid: int) -> list[int]:
    """Processes of a process group (a serve process and its workers)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid:
            out.append(int(stat.parent.name))
    return out


def postgres_pids(cluster: Cluster) -> list[int]:
    """The postmaster and its children (backends, writer, WAL writer, ...)."""
    ppid = int((cluster.data / "postmaster.pid").read_text().split()[0])
    out = [ppid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == ppid:
            out.append(int(stat.parent.name))
    return out


# -- the simulated agents -------------------------------------------------------------------

@dataclass
class Level:
    agents: int
    seconds: float
    feed: list[float] = field(default_factory=list)
    push: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    duplicated: int = 0
    cpu_server: float = 0.0
    cpu_postgres: float = 0.0
    cpu_generator: float = 0.0
    behind: int = 0  # pulls that started late (the agent's previous cycle overran)
    lag: list[float] = field(default_factory=list)  # the generator's event loop, late by

    @property
    def requests(self) -> int:
        return len(self.feed) + len(self.push)

    def summary(self) -> dict[str, Any]:
        return {"agents": self.agents, "seconds": round(self.seconds, 1),
                "feed_p50_ms": pct(self.feed, 50) * 1000, "feed_p99_ms": pct(self.feed, 99) * 1000,
                "push_p50_ms": pct(self.push, 50) * 1000, "push_p99_ms": pct(self.push, 99) * 1000,
                "requests_per_s": self.requests / self.seconds, "pushes": len(self.push),
                "errors": self.errors, "error_kinds": self.error_kinds, "lost": self.lost,
                "duplicated": self.duplicated, "behind": self.behind,
                "generator_lag_p99_ms": pct(self.lag, 99) * 1000,
                "cpu_server_s": round(self.cpu_server, 1), "cpu_postgres_s": round(self.cpu_postgres, 1),
                "cpu_generator_s": round(self.cpu_generator, 1)}


class Agents:
    """The notes the agents wrote, as the store must hold them (id -> customer, data)."""

    def __init__(self, tag: str, customers: int) -> None:
        from agentdesk.model.records import Note

        self.Note = Note
        self.tag = tag
        self.customers = customers
        self.expected: dict[str, tuple[str, dict[str, Any]]] = {}
        self.writes = 0
        self.last: dict[int, str] = {}  # agent -> its previous note
        self.count = 0

    def batch(self, agent: int, rng: random.Random) -> list[dict[str, Any]]:
        """The next push of an agent: a new note, and half the time an edit of its last."""
        self.count += 1
        cid = f"cus_{rng.randrange(self.customers):06d}"
        nid = f"note_{self.tag}_{agent}_{self.count}"
        note = self.Note(id=nid, text=f"call back about order {self.count}", author="Load Agent",
                         created=MADE_AT, updated=MADE_AT).model_dump(mode="json")
        batch = [{"id": f"m_{nid}", "kind": "note.add", "customer_id": cid, "target": nid,
                  "made_at": MADE_AT, "data": note}]
        previous = self.last.get(agent)
        if previous is not None and rng.random() < 0.5:
            pcid, old = self.expected[previous]
            text = old["text"] + " (done)"
            batch.append({"id": f"m_{previous}_edit_{self.count}", "kind": "note.edit", "customer_id": pcid,
                          "target": previous, "made_at": MADE_AT,
                          "data": {"set": {"text": text}, "base": {"text": old["text"]}}})
        return batch

    def confirmed(self, agent: int, batch: list[dict[str, Any]]) -> None:
        """The push was answered `applied` for each mutation: note what the store now holds."""
        for m in batch:
            if m["kind"] == "note.add":
                self.expected[m["target"]] = (m["customer_id"], m["data"])
                self.last[agent] = m["target"]
            else:
                cid, old = self.expected[m["target"]]
                new = self.Note.model_validate({**old, "text": m["data"]["set"]["text"],
                                                "updated": MADE_AT}).model_dump(mode="json")
                self.expected[m["target"]] = (cid, new)
            self.writes += 1


class Connection:
    """One agent's keep-alive HTTP/1.1 connection, on asyncio streams. Not httpx: its
    AsyncClient spent 1.6 ms of CPU a request against 0.12 ms for this (benchmarks/README.md),
    and the generator shares the 2 CPUs with the servers it measures."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.auth = f"Authorization: Bearer {TOKEN}\r\nHost: 127.0.0.1\r\n"

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\n{self.auth}"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        try:
            self.writer.write(head.encode() + b"\r\n" + body)
            status = int((await self.reader.readuntil(b"\r\n")).split()[1])
            length, close = 0, False
            while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and b"close" in value.lower():
                    close = True
            data = await self.reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


TAIL = re.compile(rb'"next_cursor":"([^"]*)","more":(true|false)}$')


def page_end(body: bytes) -> tuple[str, bool]:
    """A feed page's next_cursor and more, read from its last bytes (the store writes them
    last): the generator does not parse the changes, which the servers it measures need
    the CPU for. Anything else is parsed in full."""
    found = TAIL.search(body, max(0, len(body) - 300))
    if found:
        return found.group(1).decode(), found.group(2) == b"true"
    import orjson

    page = orjson.loads(body)
    return page["next_cursor"], page["more"]


async def lag_probe(stop_at: float, lags: list[float]) -> None:
    """How late the generator's own event loop runs a 10 ms sleep: latency it adds to every
    figure it measures."""
    loop = asyncio.get_running_loop()
    while loop.time() < stop_at:
        t0 = loop.time()
        await asyncio.sleep(0.01)
        lags.append(loop.time() - t0 - 0.01)


async def run_level(port: int, n: int, seconds: float, period: float, agents: Agents,
                    cursor: str, rng: random.Random) -> Level:
    import orjson

    level = Level(n, seconds)
    loop = asyncio.get_running_loop()
    start = loop.time()
    stop_at = start + seconds

    def failed(kind: str) -> None:
        level.errors += 1
        level.error_kinds[kind] = level.error_kinds.get(kind, 0) + 1

    async def agent(i: int) -> None:
        own = random.Random(rng.random())
        conn = Connection(port)
        at = start + own.uniform(0, period)
        mine = cursor
        await asyncio.sleep(at - loop.time())
        while at < stop_at:
            more = True
            while more:
                t0 = perf()
                try:
                    code, body = await asyncio.wait_for(
                        conn.request("GET", f"/v1/changes?cursor={mine}&limit={PAGE}"), 60)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as error:
                    failed(type(error).__name__)
                    break
                level.feed.append(perf() - t0)
                if code != 200:
                    failed(f"feed {code}")
                    break
                mine, more = page_end(body)
            if own.random() < PUSH_SHARE:
                batch = agents.batch(i, own)
                t0 = perf()
                try:
                    code, body = await asyncio.wait_for(
                        conn.request("POST", "/v1/mutations", orjson.dumps({"mutations": batch})), 60)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as error:
                    failed(type(error).__name__)
                else:
                    level.push.append(perf() - t0)
                    results = orjson.loads(body).get("results", []) if code == 200 else []
                    if code != 200 or any(x["status"] != "applied" for x in results):
                        failed(f"push {code}")
                    else:
                        agents.confirmed(i, batch)
            at += period
            if loop.time() > at:
                level.behind += 1
            await asyncio.sleep(max(0.0, at - loop.time()))
        conn.close()

    await asyncio.gather(lag_probe(stop_at, level.lag), *(agent(i) for i in range(n)))
    level.seconds = loop.time() - start
    return level


def read_back(url: str, cursor: str, agents: Agents, head_before: int, level: Level) -> None:
    """Lost or duplicated mutations: the notes in the feed after `cursor` against the agents'
    confirmed notes (by digest, then counted), and one seq per write."""
    import httpx

    from agentdesk.model.digest import digest

    got: dict[str, tuple[str, dict[str, Any]]] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as client:
        more = True
        while more:
            page = client.get("/v1/changes", params={"cursor": cursor, "limit": 5000}).json()
            for c in page["changes"]:
                if c["type"] == "note" and c["id"].startswith(f"note_{agents.tag}_"):
                    got[c["id"]] = (c["customer_id"], c["data"])
            cursor, more = page["next_cursor"], page["more"]
        head = client.get("/v1/status").json()["head"]
    want = {k: v for k, v in agents.expected.items()}
    same = digest(("note", k, c, d) for k, (c, d) in got.items()) == \
        digest(("note", k, c, d) for k, (c, d) in want.items())
    level.lost = 0 if same else sum(1 for k, v in want.items() if got.get(k) != v)
    level.duplicated = max(0, (head - head_before) - agents.writes) + sum(1 for k in got if k not in want)
    if not same and level.lost == 0:
        level.lost = len(set(got) ^ set(want))


# -- one configuration ----------------------------------------------------------------------

def idle_push(url: str, customers: int, tag: str, pushes: int) -> float:
    """Median push latency, one agent, nothing else running."""
    import httpx

    agents = Agents(tag, customers)
    rng = random.Random(7)
    times = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
        for _ in range(pushes + 5):
            batch = agents.batch(0, rng)
            t0 = perf()
            r = client.post("/v1/mutations", json={"mutations": batch})
            times.append(perf() - t0)
            assert r.status_code == 200, r.text
            agents.confirmed(0, batch)
    return median(times[5:])


def status(url: str) -> tuple[str, int]:
    import httpx

    from agentdesk.server.app import encode_cursor

    body = httpx.get(f"{url}/v1/status", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    return encode_cursor(body["epoch"], body["head"]), body["head"]


def run_config(name: str, root: Path, cluster: Cluster | None, args: argparse.Namespace,
               customers: int, log_dir: Path) -> dict[str, Any]:
    engine, workers = CONFIGS[name]
    database = cluster.url("store") if engine == "postgresql" else None
    data = None if database else root / "sqlite"
    server = ServeProcess(TOKEN, log_dir / f"{name}.log", database=database, data=data,
                          workers=workers).wait_ready(timeout=300)
    server_pids = group(server.proc.pid)
    run = secrets.token_hex(3)
    try:
        idle = idle_push(server.url, customers, f"{run}idle", args.idle_pushes)
        say(f"{name}: idle push {ms(idle)} (median of {args.idle_pushes})")
        limit = 10 * idle
        levels: list[dict[str, Any]] = []

        def measure(n: int) -> bool:
            agents = Agents(f"{run}{n}", customers)
            cursor, head = status(server.url)
            pg0 = cpu_by_pid(postgres_pids(cluster)) if cluster else {}
            cpu0 = (cpu_seconds(server_pids), time.process_time())
            level = asyncio.run(run_level(server.port, n, args.seconds, args.period, agents, cursor,
                                          random.Random(n)))
            level.cpu_generator = time.process_time() - cpu0[1]
            level.cpu_server = cpu_seconds(server_pids) - cpu0[0]
            if cluster:  # backends started during the level count from 0
                pg1 = cpu_by_pid(postgres_pids(cluster))
                level.cpu_postgres = sum(t - pg0.get(pid, 0.0) for pid, t in pg1.items())
            read_back(server.url, cursor, agents, head, level)
            s = level.summary()
            s["ok"] = ok = (s["push_p99_ms"] <= limit * 1000 and level.errors == 0
                            and level.lost == 0 and level.duplicated == 0)
            levels.append(s)
            say(f"{name}: N={n:5d}  feed p50 {s['feed_p50_ms']:6.1f} p99 {s['feed_p99_ms']:7.1f} ms · "
                f"push p50 {s['push_p50_ms']:6.1f} p99 {s['push_p99_ms']:7.1f} ms · "
                f"{s['requests_per_s']:6.0f} req/s · errors {level.errors} · lost {level.lost} · "
                f"dup {level.duplicated} · behind {level.behind} · loop lag p99 "
                f"{s['generator_lag_p99_ms']:.1f} ms · CPU s: server {s['cpu_server_s']}, "
                f"postgres {s['cpu_postgres_s']}, generator {s['cpu_generator_s']}  "
                f"{'ok' if ok else 'OVER'}")
            return ok

        passed, over = 0, None
        for n in args.levels:  # up until the first level over the limit
            if measure(n):
                passed = n
            else:
                over = n
                break
        for _ in range(args.refine):  # then halve the gap between the last pass and it
            if over is None or over - passed <= max(10, passed // 8):
                break
            n = (passed + over) // 2
            if measure(n):
                passed = n
            else:
                over = n
        failed_at = over
        return {"config": name, "engine": engine, "processes": workers, "idle_push_ms": idle * 1000,
                "limit_ms": limit * 1000, "capacity": passed, "first_over": failed_at, "levels": levels}
    finally:
        server.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="2,000 customers, two short levels (~1 minute)")
    p.add_argument("--customers", type=int, default=None, help="customers in the store (default 100,000)")
    p.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated: sqlite1,pg1,pg2,pg4")
    p.add_argument("--levels", default=None, help="agent counts to try, ascending (comma-separated)")
    p.add_argument("--seconds", type=float, default=None, help="length of each level")
    p.add_argument("--period", type=float, default=1.0, help="seconds between an agent's pulls "
                   "(a real desk's 30 s, compressed; default 1.0: x30)")
    p.add_argument("--idle-pushes", type=int, default=100, help="pushes timed alone, for the idle latency")
    p.add_argument("--data-dir", type=Path, default=REPO / "bench-data")
    p.add_argument("--rebuild", action="store_true")
    p.add_argument("--json", type=Path, default=None, help="also write every figure here")
    args = p.parse_args()
    customers = args.customers or (2_000 if args.quick else 100_000)
    levels = args.levels or ("20,80" if args.quick else "50,100,200,300,400,500,600,800,1000,1200,1600")
    args.levels = [int(x) for x in levels.split(",")]
    args.seconds = args.seconds or (6.0 if args.quick else 30.0)
    args.refine = 0 if args.quick else 2
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    started = perf()
    load_before = os.getloadavg()
    say(f"Load benchmark: {customers:,} customers, configs {', '.join(configs)}, levels "
        f"{args.levels}, {args.seconds:g} s each, period {args.period:g} s; load average before "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} on {os.cpu_count()} CPUs")
    root = ensure_data(args.data_dir, customers, args.rebuild)
    log_dir = root / "logs"
    log_dir.mkdir(exist_ok=True)
    cluster = None
    if any(CONFIGS[c][0] == "postgresql" for c in configs):
        cluster = Cluster(root / "pg", durable=True, settings=PG_SETTINGS)
    results = []
    try:
        for name in configs:
            results.append(run_config(name, root, cluster, args, customers, log_dir))
    finally:
        if cluster:
            cluster.stop()
    load_after = os.getloadavg()
    rows = []
    sqlite = next((r for r in results if r["config"] == "sqlite1"), None)
    # The rule takes each store's own idle push; a second, common rule takes the
    # embedded default's (SQLite, 1 process), so a store slower when idle gains nothing.
    common = 10 * sqlite["idle_push_ms"] if sqlite else None
    for r in results:
        best = next((lv for lv in r["levels"] if lv["agents"] == r["capacity"]), None)
        r["capacity_common"] = max((lv["agents"] for lv in r["levels"] if lv["errors"] == 0 and lv["lost"] == 0
                                    and lv["duplicated"] == 0 and lv["push_p99_ms"] <= common), default=0) \
            if common else None
        measured = (f"{r['capacity']} agents (first over: {r['first_over'] or '—'}); idle push "
                    f"{r['idle_push_ms']:.1f} ms, limit {r['limit_ms']:.1f} ms")
        if best:
            cpu = (best["cpu_server_s"] + best["cpu_postgres_s"]) / (best["agents"] * best["seconds"]) * 1000
            measured += (f"; at {r['capacity']}: feed p50/p99 {best['feed_p50_ms']:.1f}/{best['feed_p99_ms']:.1f} ms, "
                         f"push p50/p99 {best['push_p50_ms']:.1f}/{best['push_p99_ms']:.1f} ms, "
                         f"{best['requests_per_s']:.0f} req/s, 0 errors, 0 lost or duplicated; "
                         f"store CPU {cpu:.2f} ms per agent-second")
        if common:
            measured += f"; with the common limit ({common:.1f} ms): {r['capacity_common']} agents"
        rows.append(Row(f"{r['engine']}, {r['processes']} process{'es' if r['processes'] > 1 else ''}",
                        measured, "—", None))
    pg2 = next((r for r in results if r["config"] == "pg2"), None)
    if sqlite and sqlite["capacity"] and pg2 is not None:
        ratio = pg2["capacity"] / sqlite["capacity"]
        text = f"×{ratio:.2f} the agents"
        if sqlite["capacity_common"]:
            text += f" (with the common limit ×{pg2['capacity_common'] / sqlite['capacity_common']:.2f})"
        rows.append(Row("PostgreSQL 2 processes vs SQLite 1", text, "≥ ×1.6", ratio >= 1.6))
    say()
    print_rows(rows)
    say()
    say(markdown(rows))
    say(f"\nLoad average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; "
        f"{perf() - started:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps({"customers": customers, "args": {k: str(v) for k, v in vars(args).items()},
                                         "load_before": load_before, "load_after": load_after,
                                         "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "build":
        meta = build(Path(sys.argv[2]), int(sys.argv[3]))
        (Path(sys.argv[2]) / "load-meta.json").write_text(json.dumps(meta, indent=2))
        sys.exit(0)
    sys.exit(main())
