"""What only the PostgreSQL store has: its schema made and migrated on start, versioned; a
restored database is a new epoch; how `agentdesk serve` chooses and refuses engines."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest

from agentdesk import cli
from agentdesk.server.postgres_schema import SCHEMA_VERSION
from agentdesk.server.postgres_store import PostgresStore
from agentdesk.server.store import Agent, CursorGone, StoreError
from agentdesk.server.stored import token_hash
from support.pg_cluster import Cluster
from support.serve_process import ServeProcess

ALICE = Agent("alice")
TOKEN = "serve-token-" + "p" * 20


def test_schema_is_made_once_and_versioned(pg_cluster: Cluster) -> None:
    url = pg_cluster.create_database("fresh_schema")
    try:
        with PostgresStore(url) as store:
            epoch = store.epoch()
            store.add_token("t" * 20, "alice")
        with PostgresStore(url) as again:  # a second start (or process) changes nothing
            assert again.epoch() == epoch and again.has_tokens()
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == str(SCHEMA_VERSION)
            conn.execute("UPDATE meta SET value = %s WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
        with pytest.raises(StoreError, match=f"schema is version {SCHEMA_VERSION + 1}.*upgrade agentdesk"):
            PostgresStore(url)
    finally:
        pg_cluster.drop_database("fresh_schema")


def test_a_restored_dump_is_a_new_epoch(pg_cluster: Cluster, tmp_path: Path) -> None:
    """pg_dump, then pg_restore into a new database (as the README's backup section says):
    the restored store has a new epoch, so a desk's cursor from before is void (410)."""
    source = pg_cluster.create_database("dumped")
    target = pg_cluster.create_database("restored")
    try:
        with PostgresStore(source) as store:
            store.upsert("customer", {"id": "cus_a", "name": "Ada", "created": "2026-01-01T00:00:00Z",
                                      "updated": "2026-01-01T00:00:00Z"}, "cus_a")
            epoch, head = store.status()
        dump = tmp_path / "store.dump"
        subprocess.run([pg_cluster.tool("pg_dump"), "-Fc", "-f", str(dump), "-d", source], check=True)
        subprocess.run([pg_cluster.tool("pg_restore"), "-d", target, str(dump)], check=True)
        with PostgresStore(target) as restored:
            assert restored.head() == head and restored.digest() != ""
            assert restored.epoch() != epoch
            with pytest.raises(CursorGone):
                restored.changes(head, 10, ALICE, epoch=epoch)
            assert restored.changes(0, 10, ALICE, epoch=restored.epoch()).rows
        with PostgresStore(source) as original:  # the original is still itself
            assert original.epoch() == epoch
    finally:
        pg_cluster.drop_database("dumped")
        pg_cluster.drop_database("restored")


def test_serve_new_epoch(pg_url: str, tmp_path: Path) -> None:
    """After restoring a file-level backup (same cluster, same database) the operator starts
    the store with --new-epoch: desks' cursors are void."""
    with PostgresStore(pg_url) as store:
        epoch = store.epoch()
    with ServeProcess(TOKEN, tmp_path / "log", database=pg_url, extra=("--new-epoch",)) as server:
        status = httpx.get(f"{server.url}/v1/status", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert status["epoch"] != epoch
    assert f"New epoch {status['epoch']}" in (tmp_path / "log").read_text()


def test_serve_takes_the_database_from_the_environment(pg_url: str, tmp_path: Path) -> None:
    with ServeProcess(TOKEN, tmp_path / "log", env={"AGENTDESK_DATABASE": pg_url},
                      data=tmp_path / "unused"):
        pass
    assert "(PostgreSQL)" in (tmp_path / "log").read_text()
    assert not (tmp_path / "unused").exists()
    with PostgresStore(pg_url) as store:
        assert store.check_token(TOKEN) == Agent("agent")


@pytest.mark.parametrize(("args", "says"), [
    (["--workers", "2"], "--workers above 1 needs PostgreSQL"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--database", "mysql://user:hunter2@db/x"], "takes a postgresql:// URL, not a 'mysql' one"),
    (["--database", "postgresql:///nowhere?host=/nonexistent-folder"], "cannot open the database"),
])
def test_serve_refuses_what_it_cannot_do(args: list[str], says: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTDESK_DATABASE", raising=False)
    with pytest.raises(SystemExit) as exit:
        cli.main(["serve", "--data", str(tmp_path / "srv"), *args])
    assert says in str(exit.value) and "hunter2" not in str(exit.value)


def eventually(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_tokens_and_epoch_changed_elsewhere_are_seen(pg_url: str) -> None:
    """Each process keeps tokens and the epoch in memory; a change made by another process,
    or by hand in the database, reaches it (through the database's notifications)."""
    with PostgresStore(pg_url) as here, PostgresStore(pg_url) as elsewhere:
        assert eventually(lambda: here._shared.live)
        elsewhere.add_token(TOKEN, "alice")
        time.sleep(0.5)  # let the add's own announcement arrive (it empties the memory)
        assert here.check_token(TOKEN) == Agent("alice")
        assert here._shared.token(token_hash(TOKEN)) == Agent("alice")  # answered from memory now
        epoch = here.epoch()
        assert here._shared.epoch() == epoch
        elsewhere.revoke_token(TOKEN)
        assert eventually(lambda: here.check_token(TOKEN) == Agent("alice", revoked=True))
        new = elsewhere.reset_epoch()
        assert new != epoch and eventually(lambda: here.epoch() == new)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DELETE FROM tokens")
        assert eventually(lambda: here.check_token(TOKEN) is None)
