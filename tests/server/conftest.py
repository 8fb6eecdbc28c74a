"""The store under test, on each engine: SQLite in the test's folder, PostgreSQL in a fresh
database of one throwaway cluster started once per test session.

Outside CI the PostgreSQL tests skip (saying why) when no PostgreSQL server is installed;
under CI (`CI` set, as .ci/run does) they fail instead, so a missing install is never green.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from agentdesk.server.postgres_store import PostgresStore
from agentdesk.server.run import open_store
from agentdesk.server.store import Store
from support.pg_cluster import Cluster, bin_dir

ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    if bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (initdb not found); .ci/run installs it")
        pytest.skip("PostgreSQL is not installed (no initdb): the PostgreSQL store is not tested")
    with Cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_database(pg_cluster: Cluster) -> str:
    """The session's store database, its schema made once (by opening a store on it)."""
    url = pg_cluster.create_database("store")
    PostgresStore(url).close()
    return url


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """The session's store database, emptied for this test (faster than a database per test:
    ~10 ms against ~150 ms); the next store opened on it makes a new epoch."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("TRUNCATE records, search, mutations, merges, scope, tokens, directory")
        conn.execute("UPDATE feed_head SET head = 0")
        conn.execute("DELETE FROM meta WHERE key IN ('home', 'epoch')")
    return pg_database


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_store(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], Store]]:
    """Opens the test's store (the same database each time), on the test's engine; every
    store opened is closed after the test."""
    opened: list[Store] = []
    url = request.getfixturevalue("pg_url") if engine == "postgresql" else None

    def make() -> Store:
        store = open_store(tmp_path / "server", database=url)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
