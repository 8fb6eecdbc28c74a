"""Several `agentdesk serve` processes on one PostgreSQL database keep the protocol's promises.

Real processes, started as an operator would (`agentdesk serve --database URL`, two of them on
their own ports, or one with `--workers 4`), real HTTP. Writers push batches of new notes, each
batch sent twice at once (a retried push reaching two processes), while readers page the feed
with small pages, hopping between processes. Afterwards: every reader holds exactly what the
store holds (no change missed: a note is written once, so a change a reader skipped past would
never come again), each mutation got one answer however often it was sent, and the head moved
by exactly one seq per note (none applied twice).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from agentdesk.model import demo
from agentdesk.model.protocol import FeedPage
from agentdesk.model.records import Note
from agentdesk.server.postgres_store import PostgresStore
from support.serve_process import ServeProcess

TOKEN = "concurrency-token-" + "c" * 20
CUSTOMERS = [f"cus_{i:06d}" for i in range(12)]
WRITERS = 6
BATCHES = 12  # per writer
PER_BATCH = 3
READERS = 3
PAGE = 25


@pytest.fixture
def seeded(pg_url: str) -> Iterator[str]:
    """The session's database with a few customers, and writes slowed down (fault injection in
    the database, not the server): each stored mutation result holds its transaction open a
    few ms after its seq was taken, so writers overlap and readers read in between."""
    with PostgresStore(pg_url) as store:
        store.add_token(TOKEN, "alice")
        store.bulk_load(demo.generate(customers=len(CUSTOMERS), big_entries=0, entries_each=(1, 2)))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("""CREATE FUNCTION linger() RETURNS trigger LANGUAGE plpgsql AS
                        $$ BEGIN PERFORM pg_sleep(random() * 0.008); RETURN NEW; END $$""")
        conn.execute("CREATE TRIGGER linger AFTER INSERT ON mutations FOR EACH ROW EXECUTE FUNCTION linger()")
    yield pg_url
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP FUNCTION linger() CASCADE")


def note_add(mid: str, cid: str, nid: str) -> dict[str, Any]:
    note = Note(id=nid, text=f"note {nid}", author="Sam", created=demo.EPOCH, updated=demo.EPOCH)
    return {"id": mid, "kind": "note.add", "customer_id": cid, "target": nid,
            "data": note.model_dump(mode="json")}


class Reader(threading.Thread):
    """Pages the feed from the start until told to stop, then to its end; the state it
    builds (record -> (revision, data)) must be the store's."""

    def __init__(self, n: int, urls: list[str]) -> None:
        super().__init__(name=f"reader-{n}", daemon=True)
        self.n, self.urls = n, urls
        self.state: dict[tuple[str, str], tuple[int, Any]] = {}
        self.pages = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
                cursor, done = "", False
                while not done:
                    final = self.stop.is_set()  # once writers are done: read to the end
                    url = self.urls[(self.n + self.pages) % len(self.urls)]
                    r = client.get(f"{url}/v1/changes", params={"cursor": cursor, "limit": PAGE})
                    assert r.status_code == 200, r.text
                    page = FeedPage.model_validate(r.json())
                    self.pages += 1
                    for c in page.changes:
                        if c.op == "delete":
                            self.state.pop((c.type, c.id), None)
                        else:
                            self.state[(c.type, c.id)] = (c.revision, c.data)
                    cursor = page.next_cursor
                    done = final and not page.more
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error


def run_load(urls: list[str]) -> tuple[dict[str, dict[str, Any]], list[Reader]]:
    """Writers and readers at once over `urls`; returns each mutation id's answers."""
    answers: dict[str, list[dict[str, Any]]] = {}
    lock = threading.Lock()
    readers = [Reader(n, urls) for n in range(READERS)]
    for reader in readers:
        reader.start()

    def push(client: httpx.Client, url: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        r = client.post(f"{url}/v1/mutations", json={"mutations": batch})
        assert r.status_code == 200, r.text
        return r.json()["results"]

    def writer(w: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client, \
                ThreadPoolExecutor(2) as twice:
            for b in range(BATCHES):
                batch = [note_add(f"m-{w}-{b}-{i}", CUSTOMERS[(w + b + i) % len(CUSTOMERS)],
                                  f"note_{w}_{b}_{i}") for i in range(PER_BATCH)]
                # The same push at once to two processes (a desk retrying after a lost answer).
                first, second = urls[b % len(urls)], urls[(b + 1) % len(urls)]
                for results in twice.map(lambda url: push(client, url, batch), (first, second)):
                    with lock:
                        for result in results:
                            answers.setdefault(result["id"], []).append(result)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    for reader in readers:
        reader.stop.set()
    for reader in readers:
        reader.join(timeout=120)
        assert reader.error is None, reader.error
    return answers, readers


def check(url: str, answers: dict[str, list[dict[str, Any]]], readers: list[Reader], head_before: int) -> None:
    notes = WRITERS * BATCHES * PER_BATCH
    assert len(answers) == notes
    for mid, got in answers.items():
        assert len(got) == 2 and got[0] == got[1], (mid, got)  # one answer, however often sent
        assert got[0]["status"] == "applied", got
    with PostgresStore(url) as store:
        everything = store.changes(0, 1_000_000, store.check_token(TOKEN))
        head_after = store.head()
    truth = {(t, i): (rev, data) for _, op, t, i, _, rev, data in everything.rows if op != "delete"}
    revisions = {(t, i): rev for (t, i), (rev, _) in truth.items()}
    for reader in readers:
        assert reader.pages > 3
        assert {k: rev for k, (rev, _) in reader.state.items()} == revisions, (
            f"{reader.name} missed or kept changes: "
            f"{sorted(set(revisions) ^ set(reader.state))[:10]}")
    # One seq per note: no mutation was applied twice.
    assert head_after - head_before == notes
    new_notes = {f"note_{w}_{b}_{i}" for w in range(WRITERS) for b in range(BATCHES) for i in range(PER_BATCH)}
    assert new_notes <= {i for (t, i) in truth if t == "note"}
    assert {a[0]["revision"] for a in answers.values()} == {truth[("note", n)][0] for n in new_notes}


def test_two_processes_on_one_database(seeded: str, tmp_path: Path) -> None:
    with PostgresStore(seeded) as store:
        head = store.head()
    with ServeProcess(TOKEN, tmp_path / "a.log", database=seeded) as a, \
            ServeProcess(TOKEN, tmp_path / "b.log", database=seeded) as b:
        answers, readers = run_load([a.url, b.url])
    check(seeded, answers, readers, head)


def test_four_worker_processes_on_one_database(seeded: str, tmp_path: Path) -> None:
    with PostgresStore(seeded) as store:
        head = store.head()
    with ServeProcess(TOKEN, tmp_path / "w.log", database=seeded, workers=4) as server:
        answers, readers = run_load([server.url])
        log = server.log.read_text()
    check(seeded, answers, readers, head)
    assert log.count("Started server process") == 4, log[-2000:]
