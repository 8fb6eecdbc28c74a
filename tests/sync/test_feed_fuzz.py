"""A property-based fuzzer of the change feed (issue 21): the real SyncEngine against the real
reference store, through a proxy that mutates the pages it forwards.

Each case writes to the store (or empties the desk's cache, for a first sync), then syncs
through the proxy while it changes some of the changes (a wrong type in the envelope or in the
record, a field dropped, a date without a zone, nesting too deep, a change that is no object;
or harmless: an extra field, another seq) and breaks some pages as a whole (a cursor of 100,000
characters, `more` that is not a boolean, not JSON...). Then:

* the sync ends normally: a broken page is retried like a 5xx, nothing raises;
* every change made invalid is skipped and reported, one reason each, nothing else is;
* a harmless change is filed as sent;
* everything filed reads back (`cache.health.find_damaged` finds nothing);
* once the store sends the mutated records again, a clean sync skips nothing and the cache's
  digest equals the store's: every change the proxy left alone was applied.

Hypothesis shrinks a failing case to the smallest one. Cases it ever finds stay below as
`@example`s. By default the cases are the same on every run (derandomized) and bounded for the
test suite; AGENTDESK_FUZZ_EXAMPLES=N runs N random ones per test (see benchmarks/README.md for
the time they take).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agentdesk.cache.cache import Cache
from agentdesk.cache.health import find_damaged
from agentdesk.model.protocol import RecordType
from agentdesk.server.run import ServerThread, open_store, seed_demo
from agentdesk.sync.engine import SyncState
from support.cache_reading import cache_records
from support.sync_world import TOKEN, FaultProxy, World, fast_retry, sync_template

EXAMPLES = int(os.environ.get("AGENTDESK_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=EXAMPLES or 75,
    derandomize=not EXAMPLES,  # the suite's cases are the same on every run
    deadline=None,
    database=None if not EXAMPLES else settings.default.database,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
)
MAX_INT = 2**63 - 1
OPS = ("upsert", "delete", "merge", "evict", "include")
TYPES = tuple(t.value for t in RecordType)

# -- what the proxy does to a change -------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
storable_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
BAD_TIMES = ["2024-06-01T10:00:00", "2024-06-01", "0001-01-01T00:00:00+23:59",
             "9999-12-31T23:00:00-05:00", "1717236000", "yesterday", 0, -1, 1.5, None, []]
STR_FIELDS = {
    "customer": ["name", "company", "source"], "contact": ["value", "label"],
    "relationship": ["customer_id", "label", "name"], "note": ["text", "author"],
    "conversation": ["topic", "assignee"],
    "entry": ["conversation_id", "author", "subject", "body"],
}
TIME_FIELDS = {"customer": ["created", "updated"], "note": ["created", "updated"],
               "conversation": ["started", "ended"], "entry": ["at"]}
ENUM_FIELDS = {"customer": ["status"], "contact": ["kind"], "conversation": ["status"],
               "entry": ["channel", "direction"]}
REQUIRED = {"customer": ["id", "name", "created", "updated"], "contact": ["id", "kind", "value"],
            "relationship": ["id", "customer_id", "label"],
            "note": ["id", "text", "created", "updated"],
            "conversation": ["id", "topic", "started"],
            "entry": ["id", "conversation_id", "at", "channel", "direction"]}
BAD = ("op", "type", "id", "customer_id", "seq", "revision", "data", "not an object",
       "field type", "field time", "field enum", "field dropped", "too deep", "wrong operation")
HARMLESS = ("extra envelope field", "extra data field", "another seq", "another revision")


def _valid_id(v: Any) -> bool:
    return type(v) is str and 1 <= len(v) <= 128


def invalid(kind: str, change: dict[str, Any], v: Any, pick: int) -> Any:
    """`change` made invalid the way `kind` says, with the drawn value `v` (turned into one
    that cannot be valid when it happens to be). Judged by the protocol, not by the desk."""
    c = dict(change)
    data = dict(c["data"]) if isinstance(c.get("data"), dict) else None
    rtype = c["type"]
    if kind == "op":
        c["op"] = [v] if v in OPS else v
    elif kind == "type":
        c["type"] = [v] if v in TYPES else v
    elif kind in ("id", "customer_id"):
        c[kind] = {"id": v} if _valid_id(v) else v
    elif kind == "seq":
        c["seq"] = str(v) if type(v) is int and 1 <= v <= MAX_INT else v
    elif kind == "revision":
        c["revision"] = str(v) if type(v) is int and 0 <= v <= MAX_INT else v
    elif kind == "data":
        c["data"] = [v] if isinstance(v, dict) or (v is None and c["op"] != "upsert") else v
    elif kind == "not an object":
        return [v] if isinstance(v, dict) else v
    elif kind == "too deep":
        assert data is not None
        data["deep"] = json.loads("[" * 260 + "]" * 260)
        c["data"] = data
    elif kind == "wrong operation":
        if rtype == "customer":
            c["customer_id"] = c["customer_id"] + "_other"  # its own record, filed elsewhere
        else:
            c["op"], c["data"] = ("merge", {"into": "cus_000001"}) if pick % 2 else ("evict", None)
    else:
        assert data is not None
        if kind == "field type":
            name = STR_FIELDS[rtype][pick % len(STR_FIELDS[rtype])]
            data[name] = [v] if isinstance(v, str) else v
        elif kind == "field time":
            name = TIME_FIELDS[rtype][pick % len(TIME_FIELDS[rtype])]
            bad = BAD_TIMES[pick % len(BAD_TIMES)]
            data[name] = "never" if bad is None and name == "ended" else bad
        elif kind == "field enum":
            name = ENUM_FIELDS[rtype][pick % len(ENUM_FIELDS[rtype])]
            data[name] = f"{data[name]}-not" if isinstance(data.get(name), str) else v
        elif kind == "field dropped":
            data.pop(REQUIRED[rtype][pick % len(REQUIRED[rtype])], None)
        c["data"] = data
    return c


def harmless(kind: str, change: dict[str, Any], v: Any, pick: int) -> dict[str, Any]:
    c = dict(change)
    if kind == "extra envelope field":
        c["x_extra"] = v
    elif kind == "extra data field":
        c["data"] = {**c["data"], "x_extra": v}
    elif kind == "another seq":
        c["seq"] = 1 + pick % MAX_INT
    else:
        c["revision"] = pick % MAX_INT
    return c


def fits(kind: str, change: dict[str, Any]) -> bool:
    """Whether a mutation applies to this change."""
    upsert = change["op"] == "upsert"
    rtype = change["type"]
    if kind == "data":
        return True
    if kind in ("field type", "field dropped", "too deep", "extra data field"):
        return upsert
    if kind == "field time":
        return upsert and rtype in TIME_FIELDS
    if kind == "field enum":
        return upsert and rtype in ENUM_FIELDS
    return True


PAGE_FAULTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "a cursor of 100,000 characters": lambda b: {**b, "next_cursor": "c" * 100_000},
    "a cursor that is a number": lambda b: {**b, "next_cursor": 7},
    "more is a string": lambda b: {**b, "more": "false"},
    "changes is an object": lambda b: {**b, "changes": {}},
    "no epoch": lambda b: {k: v for k, v in b.items() if k != "epoch"},
    "not JSON": lambda b: b"<html>502 Bad Gateway</html>",
    "nested 100,000 deep": lambda b: json.dumps(b).replace(
        '"changes": [', '"changes": [' + "[" * 100_000 + "]" * 100_000 + ",", 1).encode(),
    "a list": lambda b: [b],
}


@dataclass
class Plan:
    """What the proxy does during one sync: changes to mutate (by the seq the store gave
    them), each once, and pages to break, each once."""

    mutations: dict[int, tuple[str, bool, Any, int]] = field(default_factory=dict)
    page_faults: dict[int, str] = field(default_factory=dict)  # page number -> fault
    mutated: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq -> original
    done_faults: set[int] = field(default_factory=set)
    pages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rewrite(self, body: dict[str, Any]) -> Any:
        with self.lock:
            self.pages += 1
            page = self.pages
            fault = self.page_faults.get(page)
            if fault is not None and page not in self.done_faults:
                self.done_faults.add(page)
                self.pages -= 1  # the page comes again, as sent
                return PAGE_FAULTS[fault](body)
            for index, change in enumerate(body["changes"]):
                planned = self.mutations.get(change["seq"])
                if planned is None or change["seq"] in self.mutated:
                    continue
                kind, bad, v, pick = planned
                self.mutated[change["seq"]] = change
                body["changes"][index] = (invalid if bad else harmless)(kind, change, v, pick)
        return body

    @property
    def invalid_count(self) -> int:
        return sum(1 for seq in self.mutated if self.mutations[seq][1])


# -- the world ----------------------------------------------------------------------------------

@dataclass
class FuzzWorld:
    world: World
    proxy: FaultProxy
    direct: Any = None  # a client straight to the store
    proxied: Any = None  # a client through the proxy

    def __post_init__(self) -> None:
        self.direct = self.world.client()
        self.proxied = self.world.client(self.proxy.url, retry=fast_retry(4))

    def __repr__(self) -> str:
        return f"FuzzWorld({self.world.tmp.name})"


def _world(root: Path, template: Path | None) -> World:
    if template is not None:
        shutil.copytree(template / "srv", root / "srv")
        shutil.copytree(template / "cache", root / "cache")
        store = open_store(root / "srv")
    else:
        store = open_store(root / "srv")
        store.add_token(TOKEN, "agent")
        seed_demo(store, customers=4, big_entries=300)
    w = World(tmp=root, store=store, cache=Cache.open(root / "cache"))
    w.server = ServerThread(store).start()
    w.port = w.server.port
    return w


@pytest.fixture(scope="module")
def fuzz_worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, FuzzWorld]]:
    """Two worlds for all the cases of this module: a synced one for incremental syncs (the
    suite's template) and a small store for first syncs. Every case leaves its world in sync,
    so the next one starts from a known state."""
    worlds = {"incremental": _world(tmp_path_factory.mktemp("fuzz-inc"), sync_template()),
              "first": _world(tmp_path_factory.mktemp("fuzz-first"), None)}
    made = {name: FuzzWorld(w, FaultProxy(w.url).start()) for name, w in worlds.items()}
    try:
        yield made
    finally:
        for f in made.values():
            f.proxy.close()
            f.world.close()


# -- writing to the store -------------------------------------------------------------------------

def store_writes(f: FuzzWorld, count: int, seed: int) -> list[tuple[str, str, str, dict[str, Any], bool]]:
    """`count` writes to the store, as agents elsewhere would make them: (type, id, customer,
    record as written or as it was before its delete, deleted)."""
    rng = random.Random(seed)
    store = f.world.store
    case = next(_cases)  # ids never used before: a record moved to another customer is not
    # something a store does (merges aside), and the desk does not follow it
    customers = [c for c in (f"cus_{n:06d}" for n in range(1, 21)) if _exists(store, c)]
    written: list[tuple[str, str, str, dict[str, Any], bool]] = []
    for n in range(count):
        cid = rng.choice(customers)
        records = {t: [json.loads(r[6]) for r in store.profile(cid, _AGENT) if r[2] == t]
                   for t in ("customer", "note", "entry", "conversation", "contact")}
        what = rng.choice(["note", "note", "entry", "entry", "rename", "delete note",
                           "delete entry", "contact"])
        if what == "note" or (what == "delete note" and not records["note"]):
            doc = {"id": f"note_fz_{case}_{n}", "text": f"fuzz note {n}", "author": "Fuzz",
                   "created": "2026-02-01T10:00:00Z", "updated": "2026-02-01T10:00:00Z"}
            store.upsert("note", doc, cid)
            written.append(("note", doc["id"], cid, doc, False))
        elif what == "entry" and records["conversation"] or (
                what == "delete entry" and not records["entry"] and records["conversation"]):
            conv = rng.choice(records["conversation"])
            doc = {"id": f"ent_fz_{case}_{n}", "conversation_id": conv["id"],
                   "at": f"2026-02-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
                   "channel": "chat", "direction": "inbound", "author": "", "subject": "",
                   "body": f"fuzz entry {n}"}
            store.upsert("entry", doc, cid)
            written.append(("entry", doc["id"], cid, doc, False))
        elif what in ("delete note", "delete entry") and records[what.split()[1]]:
            doc = rng.choice(records[what.split()[1]])
            store.delete(what.split()[1], doc["id"])
            written.append((what.split()[1], doc["id"], cid, doc, True))
        elif what == "contact":
            doc = {"id": f"cp_fz_{case}_{n}", "kind": "email", "value": f"fz{n}@example.com",
                   "label": "fuzz", "primary": False}
            store.upsert("contact", doc, cid)
            written.append(("contact", doc["id"], cid, doc, False))
        else:
            doc = {**records["customer"][0], "name": f"Fuzzed Name {seed} {n}"}
            store.upsert("customer", doc, cid)
            written.append(("customer", cid, cid, doc, False))
    return written


_cases = itertools.count()
_AGENT = __import__("agentdesk.server.store", fromlist=["Agent"]).Agent("agent")


def _exists(store: Any, customer_id: str) -> bool:
    from agentdesk.server.store import NotFound

    try:
        store.profile(customer_id, _AGENT)
        return True
    except NotFound:
        return False


def touch(f: FuzzWorld, original: dict[str, Any]) -> None:
    """Have the store send a record the proxy mutated again, as it is (a store that repaired
    its feed): written again, or deleted again."""
    store = f.world.store
    rtype, rid, cid = original["type"], original["id"], original["customer_id"]
    if original["op"] == "upsert":
        store.upsert(rtype, original["data"], cid)
        return
    before = _last_state.get((rtype, rid))
    if before is not None:
        store.upsert(rtype, before, cid)
        store.delete(rtype, rid)


_last_state: dict[tuple[str, str], dict[str, Any]] = {}


# -- the properties -------------------------------------------------------------------------------

def check_case(f: FuzzWorld, plan: Plan) -> None:
    w = f.world
    f.proxy.clear()
    f.proxy.add("rewrite", "/v1/changes", times=None, rewrite=plan.rewrite)
    report = w.engine(f.proxied, page_size=40).run()

    # Every change made invalid is reported, one reason each, and nothing else is.
    assert len(report.applied.skipped) == plan.invalid_count, (report.applied.skipped, plan)
    assert not report.applied.damaged
    # What was filed reads back.
    assert find_damaged(w.cache) == ({}, [])
    # A harmless change is filed as sent.
    cached = {(t, i): d for t, i, _, d in cache_records(w.cache)}
    for seq, original in plan.mutated.items():
        kind, bad, v, _ = plan.mutations[seq]
        if not bad and kind == "extra data field":
            doc = cached.get((original["type"], original["id"]))
            if doc is not None:
                assert doc["x_extra"] == v
    # Once the store sends them again, a clean sync skips nothing and the digests are equal:
    # every change the proxy left alone was applied.
    for original in plan.mutated.values():
        touch(f, original)
    f.proxy.clear()
    again = w.engine(f.direct, page_size=40).run()
    assert not again.applied.skipped
    w.assert_in_sync()
    assert SyncState.load(w.cache).last_error == ""


Mutation = tuple[int, bool, str, Any, int]  # position in the feed, invalid?, kind, value, pick
mutations = st.lists(st.one_of(
    st.tuples(st.integers(0, 10_000), st.just(True), st.sampled_from(BAD), json_values,
              st.integers(0, 1000)),
    st.tuples(st.integers(0, 10_000), st.just(False), st.sampled_from(HARMLESS), storable_values,
              st.integers(0, 1000)),
), max_size=6)
page_faults = st.lists(st.tuples(st.integers(0, 100), st.sampled_from(sorted(PAGE_FAULTS))),
                       max_size=2)


def make_plan(changes: list[Mutation], pages: list[tuple[int, str]], seqs: list[int],
              page_count: int) -> Plan:
    """The plan for this feed: positions are taken modulo its length (its seqs differ from run
    to run, the store being shared by the cases), so a case replays and shrinks the same way."""
    plan = Plan()
    for position, bad, kind, v, pick in changes:
        if seqs:
            plan.mutations.setdefault(seqs[position % len(seqs)], (kind, bad, v, pick))
    for position, fault in pages:
        plan.page_faults.setdefault(1 + position % max(1, page_count), fault)
    return plan


def feed_of(f: FuzzWorld, after: int) -> list[dict[str, Any]]:
    rows = f.world.store.changes(after, 100_000, _AGENT).rows
    return [{"seq": s, "op": op, "type": t, "id": i, "customer_id": c, "revision": r,
             "data": json.loads(d) if d else None} for s, op, t, i, c, r, d in rows]


def applicable(plan: Plan, feed: list[dict[str, Any]]) -> Plan:
    """Drop the mutations that do not fit their change (a field a delete does not have)."""
    by_seq = {c["seq"]: c for c in feed}
    plan.mutations = {s: m for s, m in plan.mutations.items() if fits(m[0], by_seq[s])}
    return plan


# Cases the fuzzer found (against the desk before issue 21's fixes), kept as they shrank.
FOUND = [
    # op a list: TypeError: unhashable type, a traceback.
    dict(changes=[(0, True, "op", None, 79)], pages=[]),
    # type an object, with an op that is valid.
    dict(changes=[(0, True, "type", {"a": [None]}, 624)], pages=[]),
    # an entry merged: KeyError: 'at'.
    dict(changes=[(0, True, "wrong operation", None, 1)], pages=[]),
    # at a number or without a zone: ValueError / can't compare offset-naive and -aware.
    dict(changes=[(0, True, "field time", None, 6), (1, True, "field time", None, 0)], pages=[]),
    # a date out of range: OverflowError.
    dict(changes=[(0, True, "field time", None, 2)], pages=[]),
    # a next_cursor of 100,000 characters: httpx.InvalidURL.
    dict(changes=[], pages=[(0, "a cursor of 100,000 characters")]),
    # a page nested 100,000 deep: RecursionError in the json fallback.
    dict(changes=[], pages=[(0, "nested 100,000 deep")]),
]


def found(test: Callable[..., None]) -> Callable[..., None]:
    for case in reversed(FOUND):
        test = example(**case, writes=3, seed=1)(test)
    return test


@SETTINGS
@found
@given(changes=mutations, pages=page_faults, writes=st.integers(1, 10), seed=st.integers(0, 10**9))
def test_incremental_syncs_survive_whatever_the_proxy_does_to_the_feed(
        fuzz_worlds: dict[str, FuzzWorld], changes: list[Mutation], pages: list[tuple[int, str]],
        writes: int, seed: int) -> None:
    f = fuzz_worlds["incremental"]
    head = f.world.store.head()
    for rtype, rid, _, doc, deleted in store_writes(f, writes, seed):
        if deleted:
            _last_state[(rtype, rid)] = doc
    feed = feed_of(f, head)
    plan = applicable(make_plan(changes, pages, [c["seq"] for c in feed], 1), feed)
    check_case(f, plan)


@SETTINGS
@found
@given(changes=mutations, pages=page_faults, writes=st.just(0), seed=st.just(0))
def test_first_syncs_survive_whatever_the_proxy_does_to_the_feed(
        fuzz_worlds: dict[str, FuzzWorld], changes: list[Mutation], pages: list[tuple[int, str]],
        writes: int, seed: int) -> None:
    f = fuzz_worlds["first"]
    w = f.world
    w.cache.wipe()
    SyncState().save(w.cache)
    feed = feed_of(f, 0)
    plan = applicable(make_plan(changes, pages, [c["seq"] for c in feed], len(feed) // 40 + 1),
                      feed)
    check_case(f, plan)
