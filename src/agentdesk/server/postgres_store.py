"""The PostgreSQL implementation of `Store`: one database, served by any number of processes.

The tables are the SQLite store's (`postgres_schema`). What makes several processes safe:

* **One writer at a time, across processes.** Every write transaction first locks the one row
  of `feed_head` (`SELECT ... FOR UPDATE`) and holds it to its commit; it takes its seqs from
  that row and writes the new head back before committing. So transactions commit in the
  order of their seqs, and a snapshot holds every seq up to some point and none after it: a
  feed reader can never see seq 11 while seq 10 is still to be committed (see
  docs/sync-protocol.md, "Several processes"). It also makes each mutation's check of
  `mutations` and its write one atomic step: a retried push that reaches two processes at
  once is applied by the first, answered from its stored result by the second.
* **Readers never wait**: a feed page is one statement, so one snapshot, that reads the epoch,
  the head and the page together.
* **Few round trips while locked**: a push reads what its whole batch needs at once
  (`prefetch`) and its writes travel with the commit (pipeline mode); every statement is
  planned once per connection.
* **Tokens and the epoch** are kept in each process's memory, forgotten whenever the
  database announces a change to them (`postgres_listen`).
* **Erasure** deletes the rows, then VACUUMs the tables it touched, so no row, live or dead,
  holds the erased data (see the protocol's "Erasure").

psycopg 3 with its connection pool; each process has its own pool.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from agentdesk.model.digest import digest as records_digest
from agentdesk.model.protocol import ChangeOp, Mutation, MutationResult, RecordType, SearchHit
from agentdesk.model.records import Profile, TimelineEntry
from agentdesk.server.admin_writes import AdminWrites
from agentdesk.server.directory import Directory
from agentdesk.server.load_order import BulkLoad
from agentdesk.server.mutation_rules import TARGET_TYPES
from agentdesk.server.postgres_listen import MISSING, SharedCache
from agentdesk.server.postgres_schema import prepare, set_epoch
from agentdesk.server.search_index import SearchRow, query
from agentdesk.server.store import Agent, CursorGone, FeedRows, StoreError
from agentdesk.server.stored import Record, dump, token_hash
from agentdesk.server.transaction import ProfileRows, Transaction, parse

COLUMNS = "seq, op, type, id, customer_id, revision, data"
RECORD = "SELECT type, id, customer_id, data, revision, deleted, op FROM records"
REPLACE = """ON CONFLICT (type, id) DO UPDATE SET customer_id = excluded.customer_id,
    data = excluded.data, revision = excluded.revision, seq = excluded.seq, op = excluded.op,
    deleted = excluded.deleted"""
PUT = f"""INSERT INTO records (type, id, customer_id, data, revision, seq, op, deleted)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s) {REPLACE}"""
# A record loaded twice keeps its last version, as an upsert of each row in turn would.
LOAD = f"""INSERT INTO records SELECT * FROM (
    SELECT DISTINCT ON (type, id) * FROM loading ORDER BY type, id, seq DESC) l {REPLACE}"""
INSERT_SEARCH = """
INSERT INTO search VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (customer_id) DO UPDATE SET name = excluded.name, company = excluded.company,
    email = excluded.email, phone = excluded.phone, hay = excluded.hay, digits = excluded.digits
"""
# The page, the epoch and the head in one statement (one snapshot, one round trip); a cursor
# past the head reads no rows. The first row always comes (the page's rows are null if none).
STATUS = """SELECT (SELECT value FROM meta WHERE key = 'epoch') AS epoch,
                   (SELECT head FROM feed_head) AS head"""
FEED = f"""
WITH s AS ({STATUS})
SELECT s.epoch, s.head, p.* FROM s LEFT JOIN LATERAL (
    SELECT {COLUMNS} FROM records WHERE seq > %(after)s AND %(after)s <= s.head
    ORDER BY seq LIMIT %(limit)s) p ON true
"""
SCOPED_FEED = f"""
WITH s AS ({STATUS})
SELECT s.epoch, s.head, p.* FROM s LEFT JOIN LATERAL (
    SELECT * FROM (
        SELECT {COLUMNS} FROM records
         WHERE seq > %(after)s
           AND customer_id IN (SELECT customer_id FROM scope WHERE agent = %(agent)s AND active)
        UNION ALL
        SELECT seq, CASE WHEN active THEN 'include' ELSE 'evict' END, 'customer', customer_id,
               customer_id, seq, NULL
          FROM scope WHERE agent = %(agent)s AND seq > %(after)s
    ) u WHERE %(after)s <= s.head ORDER BY 1 LIMIT %(limit)s) p ON true
"""


class PostgresTransaction(Transaction):
    """The row operations in PostgreSQL's SQL, on one connection inside a transaction. In a
    write transaction `head` is the counter row's value, locked until the commit."""

    def __init__(self, conn: psycopg.Connection, head: int | None = None) -> None:
        self.conn, self.head, self.start = conn, head, head
        # What `prefetch` read, kept up to date by this transaction's own writes.
        self._records: dict[tuple[str, str], Record | None] = {}
        self._results: dict[str, str | None] = {}
        self._merges: dict[str, str | None] = {}

    def prefetch(self, mutations: Sequence[Mutation]) -> None:
        """Stored results, merges, customers and targets of a batch in one round trip (the
        queries are pipelined when the transaction is)."""
        customers = sorted({m.customer_id for m in mutations})
        keys = {(RecordType.CUSTOMER.value, c) for c in customers}
        keys |= {(TARGET_TYPES[m.kind].value, m.target) for m in mutations if m.kind in TARGET_TYPES}
        types, ids = [k[0] for k in keys], [k[1] for k in keys]
        results = self.conn.execute("SELECT id, result FROM mutations WHERE id = ANY(%s)",
                                    ([m.id for m in mutations],))
        merges = self.conn.execute("SELECT from_id, into_id FROM merges WHERE from_id = ANY(%s)",
                                   (customers,))
        records = self.conn.execute(f"{RECORD} WHERE (type, id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                                    (types, ids))
        self._results = {m.id: None for m in mutations} | dict(results.fetchall())
        self._merges = {c: None for c in customers} | dict(merges.fetchall())
        self._records = {k: None for k in keys} | {(r[0], r[1]): parse(r) for r in records.fetchall()}

    def _next(self) -> int:
        if self.head is None:
            raise StoreError("a write in a read transaction")
        self.head += 1
        return self.head

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def get(self, type: str, id: str) -> Record | None:
        key = (RecordType(type).value, id)  # (an enum member hashes by name, not value)
        if key in self._records:
            return self._records[key]
        row = self.conn.execute(f"{RECORD} WHERE type = %s AND id = %s", (type, id)).fetchone()
        return parse(row) if row else None

    def text(self, type: str, id: str) -> str:
        return self.conn.execute("SELECT data FROM records WHERE type = %s AND id = %s",
                                 (type, id)).fetchone()[0]

    def write_row(self, type: str, id: str, customer_id: str, data: str | None, op: str,
                  deleted: bool) -> int:
        seq = self._next()
        self.conn.execute(PUT, (type, id, customer_id, data, seq, seq, op, deleted))
        key = (RecordType(type).value, id)
        if key in self._records:
            self._records[key] = parse((key[0], id, customer_id, data, seq, deleted, op))
        return seq

    def merged_into(self, customer_id: str) -> str | None:
        if customer_id in self._merges:
            return self._merges[customer_id]
        row = self.conn.execute("SELECT into_id FROM merges WHERE from_id = %s", (customer_id,)).fetchone()
        return row[0] if row else None

    def records_of(self, customer_id: str) -> list[Record]:
        return [parse(r) for r in self._rows(
            f"{RECORD} WHERE customer_id = %s AND NOT deleted AND type != 'customer' ORDER BY seq",
            (customer_id,))]

    def links_to(self, customer_id: str) -> list[Record]:
        return [parse(r) for r in self._rows(
            f"{RECORD} WHERE type = 'relationship' AND NOT deleted "
            "AND data::json ->> 'customer_id' = %s ORDER BY seq", (customer_id,))]

    def live_contacts(self, customer_id: str) -> list[dict[str, Any]]:
        return [json.loads(d) for (d,) in self._rows(
            "SELECT data FROM records WHERE customer_id = %s AND type = 'contact' AND NOT deleted "
            "ORDER BY seq", (customer_id,))]

    def customers_with_email(self, email: str) -> list[str]:
        return [c for (c,) in self._rows(
            "SELECT DISTINCT customer_id FROM records WHERE NOT deleted "
            "AND type IN ('contact', 'identifier') AND data::json ->> 'kind' = 'email' "
            "AND lower(data::json ->> 'value') = %s ORDER BY customer_id", (email.lower(),))]

    def forget(self, customer_id: str) -> None:
        self._records, self._results = {}, {}
        self.conn.execute("DELETE FROM records WHERE customer_id = %s AND type != 'customer'", (customer_id,))
        self.conn.execute("DELETE FROM search WHERE customer_id = %s", (customer_id,))
        self.conn.execute("DELETE FROM mutations WHERE customer_id = %s", (customer_id,))

    def add_merge(self, from_id: str, into_id: str) -> None:
        self._merges = {}
        self.conn.execute("INSERT INTO merges VALUES (%s, %s) ON CONFLICT (from_id) DO UPDATE "
                          "SET into_id = excluded.into_id", (from_id, into_id))
        self.conn.execute("UPDATE merges SET into_id = %s WHERE into_id = %s", (into_id, from_id))

    def put_search(self, row: SearchRow) -> None:
        self.conn.execute(INSERT_SEARCH, row)

    def drop_search(self, customer_id: str) -> None:
        self.conn.execute("DELETE FROM search WHERE customer_id = %s", (customer_id,))

    def scope_state(self, agent: str, customer_id: str) -> bool | None:
        row = self.conn.execute("SELECT active FROM scope WHERE agent = %s AND customer_id = %s",
                                (agent, customer_id)).fetchone()
        return None if row is None else bool(row[0])

    def write_scope(self, agent: str, customer_id: str, active: bool) -> None:
        self.conn.execute("INSERT INTO scope VALUES (%s, %s, %s, %s) ON CONFLICT (agent, customer_id) "
                          "DO UPDATE SET active = excluded.active, seq = excluded.seq",
                          (agent, customer_id, active, self._next()))

    def scope_of(self, agent: str) -> set[str]:
        return {c for (c,) in self._rows(
            "SELECT customer_id FROM scope WHERE agent = %s AND active", (agent,))}

    def agents_scoping(self, customer_id: str) -> list[str]:
        return [a for (a,) in self._rows(
            "SELECT agent FROM scope WHERE customer_id = %s AND active ORDER BY agent", (customer_id,))]

    def stored_result(self, mutation_id: str) -> str | None:
        if mutation_id in self._results:
            return self._results[mutation_id]
        row = self.conn.execute("SELECT result FROM mutations WHERE id = %s", (mutation_id,)).fetchone()
        return row[0] if row else None

    def store_result(self, mutation_id: str, customer_id: str, agent: str, result: str) -> None:
        self.conn.execute("INSERT INTO mutations VALUES (%s, %s, %s, %s)",
                          (mutation_id, customer_id, agent, result))
        self._results[mutation_id] = result

    def profile_rows(self, customer_id: str) -> ProfileRows:
        return self._rows(
            "SELECT seq, 'upsert', type, id, customer_id, revision, data FROM records "
            "WHERE customer_id = %s AND NOT deleted ORDER BY type != 'customer', seq",
            (customer_id,))

    def known_agent(self, name: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM directory WHERE kind = 'agent' AND id = %s "
            "UNION ALL SELECT 1 FROM tokens WHERE agent = %s AND NOT revoked LIMIT 1",
            (name, name)).fetchone() is not None


def _configure(conn: psycopg.Connection) -> None:
    """Plan each prepared statement once. PostgreSQL would otherwise plan the feed's query
    anew at every page (its generic plan's estimate for `seq > $1` looks worse than the
    custom plan's, though both scan the seq index): planning cost 4x the execution.
    Every statement here looks rows up by key or scans an index in order, so the generic
    plan is the plan."""
    conn.execute("SET plan_cache_mode = force_generic_plan")


class PostgresStore(AdminWrites, Directory):
    """`Store` over one PostgreSQL database (`url`: a libpq connection string or URL).
    Thread-safe; any number of processes may open the same database."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        with psycopg.connect(url, autocommit=True) as conn:
            prepare(conn)
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True,
                                    kwargs={"autocommit": True}, configure=_configure,
                                    name="agentdesk")
        self._shared = SharedCache(url)

    # --- plumbing ------------------------------------------------------------------------
    @contextmanager
    def _write(self, pipeline: bool = False) -> Iterator[PostgresTransaction]:
        """A write transaction holding the feed's counter row to its commit. In `pipeline`
        mode, statements whose answer is not read (the writes) travel with the next read or
        the commit instead of a round trip each: the lock is held for fewer round trips."""
        with self._pool.connection() as conn, (conn.pipeline() if pipeline else nullcontext()), \
                conn.transaction():
            head = conn.execute("SELECT head FROM feed_head FOR UPDATE").fetchone()[0]
            tx = PostgresTransaction(conn, head)
            yield tx
            if tx.head != tx.start:
                conn.execute("UPDATE feed_head SET head = %s", (tx.head,))

    @contextmanager
    def _read(self) -> Iterator[psycopg.Connection]:
        """A connection for reads that are one statement each (each is its own snapshot)."""
        with self._pool.connection() as conn:
            yield conn

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._read() as conn:
            return conn.execute(sql, params).fetchone()

    # --- reading -------------------------------------------------------------------------
    def epoch(self) -> str:
        epoch = self._shared.epoch()
        if epoch is None:
            generation = self._shared.generation
            epoch = self._one("SELECT value FROM meta WHERE key = 'epoch'")[0]
            self._shared.keep_epoch(epoch, generation)
        return epoch

    def head(self) -> int:
        return self._one("SELECT head FROM feed_head")[0]

    def status(self) -> tuple[str, int]:
        epoch, head = self._one(STATUS)
        return epoch, head

    def is_empty(self) -> bool:
        return self._one("SELECT NOT EXISTS (SELECT 1 FROM records)")[0]

    def changes(self, after_seq: int, limit: int, agent: Agent, epoch: str | None = None) -> FeedRows:
        """The feed after `after_seq`, read with the epoch and head in one snapshot; with
        `epoch`, CursorGone if it is not ours or the cursor is past our head."""
        params = {"after": after_seq, "limit": limit + 1, "agent": agent.name}
        with self._read() as conn:
            rows = conn.execute(SCOPED_FEED if agent.scoped else FEED, params).fetchall()
        ours, head = rows[0][0], rows[0][1]
        if (epoch is not None and epoch != ours) or after_seq > head or after_seq < 0:
            raise CursorGone("cursor is not valid for this store; start over without one", epoch=ours)
        page = [r[2:] for r in rows if r[2] is not None]
        return FeedRows(epoch=ours, rows=page[:limit], after=after_seq, more=len(page) > limit)

    def profile(self, customer_id: str, agent: Agent) -> ProfileRows:
        if agent.scoped:
            with self._write() as tx:
                return tx.profile(customer_id, agent)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return PostgresTransaction(conn).profile(customer_id, agent)

    def search(self, q: str, limit: int) -> list[SearchHit]:
        terms = query(q)
        if terms is None:
            return []
        with self._read() as conn:
            # strpos(hay, q) = 1: the name (hay's first line) starts with q. COLLATE "C":
            # code point order, as SQLite sorts, whatever the database's locale.
            rows = conn.execute(
                "SELECT customer_id, name, email, phone, company FROM search "
                "WHERE strpos(hay, %(q)s) > 0 OR (%(d)s != '' AND strpos(digits, %(d)s) > 0) "
                "ORDER BY strpos(hay, %(q)s) != 1, name COLLATE \"C\", customer_id LIMIT %(limit)s",
                {"q": terms.text, "d": terms.digits, "limit": limit}).fetchall()
        return [SearchHit(id=r[0], name=r[1], email=r[2], phone=r[3], company=r[4]) for r in rows]

    def digest(self) -> str:
        with self._read() as conn, conn.transaction(), conn.cursor(name="digest") as cur:
            cur.execute("SELECT type, id, customer_id, data FROM records WHERE NOT deleted")
            return records_digest((t, i, c, json.loads(d)) for t, i, c, d in cur)

    # --- admin writes --------------------------------------------------------------------
    def erase_customer(self, customer_id: str) -> None:
        with self._write() as tx:
            tx.erase(customer_id)
        # The deleted rows stay in their pages, readable, until vacuumed (a row still visible
        # to a transaction running now is left to autovacuum).
        with self._read() as conn:
            conn.execute("VACUUM records, search, mutations")

    def bulk_load(self, items: Iterable[tuple[Profile, list[TimelineEntry]]]) -> int:
        """One transaction, COPY, in the order of `load_order` (seqs as they come)."""
        load = BulkLoad(items)
        up = ChangeOp.UPSERT.value
        with self._write() as tx:
            conn = tx.conn
            for cid, name in conn.execute("SELECT id, data::json ->> 'name' FROM records "
                                          "WHERE type = 'customer' AND NOT deleted"):
                load.names[cid] = name
            # COPY into a scratch table, then one upsert: COPY alone cannot replace a record
            # the store already has.
            conn.execute("CREATE TEMP TABLE loading (LIKE records) ON COMMIT DROP")
            with conn.cursor() as cur, cur.copy("COPY loading FROM STDIN") as copy:
                for type, id, customer_id, model in load.records():
                    seq = tx._next()
                    copy.write_row((type, id, customer_id, dump(model), seq, seq, up, False))
            conn.execute(LOAD)
            with conn.cursor() as cur:
                cur.executemany(INSERT_SEARCH, load.search_rows)
        return load.count

    def reset_epoch(self) -> str:
        """A new identity, after restoring a backup: every desk's cursor becomes void (410)."""
        with self._write() as tx:
            epoch = set_epoch(tx.conn)
        self._shared.forget()  # at once here; other processes when the database tells them
        return epoch

    # --- mutations -----------------------------------------------------------------------
    def apply(self, mutations: Sequence[Mutation], agent: Agent) -> list[MutationResult]:
        with self._write(pipeline=True) as tx:
            return tx.apply(mutations, agent)

    # --- tokens --------------------------------------------------------------------------
    def add_token(self, token: str, agent: str, scoped: bool = False) -> None:
        if len(token) < 16:
            raise StoreError("a token needs at least 16 characters")
        with self._read() as conn:
            conn.execute("INSERT INTO tokens VALUES (%s, %s, %s, false) ON CONFLICT (hash) DO UPDATE "
                         "SET agent = excluded.agent, scoped = excluded.scoped, revoked = false",
                         (token_hash(token), agent, scoped))
        self._shared.forget()

    def check_token(self, token: str) -> Agent | None:
        """From this process's memory when it can (see `postgres_listen`), else the database."""
        hash = token_hash(token)
        found = self._shared.token(hash)
        if found is not MISSING:
            return found
        generation = self._shared.generation
        row = self._one("SELECT agent, scoped, revoked FROM tokens WHERE hash = %s", (hash,))
        if row is None:
            return None  # unknown tokens are not kept: a flood of guesses cannot fill memory
        agent = Agent(row[0], bool(row[1]), bool(row[2]))
        self._shared.keep_token(hash, agent, generation)
        return agent

    def revoke_token(self, token: str) -> bool:
        with self._read() as conn:
            revoked = conn.execute("UPDATE tokens SET revoked = true WHERE hash = %s",
                                   (token_hash(token),)).rowcount > 0
        self._shared.forget()
        return revoked

    def has_tokens(self) -> bool:
        return self._one("SELECT EXISTS (SELECT 1 FROM tokens)")[0]

    # --- canned replies and agents (see `directory`) ----------------------------------------
    def _directory_rows(self, kind: str) -> list[str]:
        with self._read() as conn:
            return [d for (d,) in conn.execute("SELECT data FROM directory WHERE kind = %s",
                                               (kind,)).fetchall()]

    def _write_directory(self, kind: str, id: str, data: str | None) -> bool:
        with self._read() as conn:
            if data is None:
                return conn.execute("DELETE FROM directory WHERE kind = %s AND id = %s",
                                    (kind, id)).rowcount > 0
            conn.execute("INSERT INTO directory VALUES (%s, %s, %s) ON CONFLICT (kind, id) "
                         "DO UPDATE SET data = excluded.data", (kind, id, data))
            return True

    def _token_agents(self) -> list[str]:
        with self._read() as conn:
            return [a for (a,) in conn.execute(
                "SELECT DISTINCT agent FROM tokens WHERE NOT revoked ORDER BY agent").fetchall()]

    def close(self) -> None:
        self._shared.close()
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

