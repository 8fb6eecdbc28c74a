"""The PostgreSQL store's schema, made and migrated by the server when it opens the database.

`MIGRATIONS[n]` takes a database from schema version n to n + 1; the version is kept in
`meta`. Several server processes may start at once on one database: each migrates under one
transaction-level advisory lock, so the first does the work and the others find it done (DDL
is transactional in PostgreSQL: a migration that fails leaves the old schema whole).

The epoch is made here too, and made again when the database is not where it was made: its
`home` (the cluster's system identifier and the database's oid) changes when a dump is
restored into another database or cluster, and a restored database is a new epoch (every
desk's cursor and revisions are void: it starts over, keeping its unsent edits).
"""

from __future__ import annotations

import secrets

import psycopg

from agentdesk.server.store import StoreError

MIGRATIONS: list[str] = [
    # 0 -> 1: the tables of the SQLite store, plus the feed's counter. `data` is text, not
    # jsonb: the feed serves it byte for byte as the domain model dumped it.
    """
    CREATE TABLE feed_head (one boolean PRIMARY KEY DEFAULT true CHECK (one), head bigint NOT NULL);
    INSERT INTO feed_head VALUES (true, 0);
    CREATE TABLE records (
        type text NOT NULL, id text NOT NULL, customer_id text NOT NULL,
        data text, revision bigint NOT NULL, seq bigint NOT NULL UNIQUE,
        op text NOT NULL DEFAULT 'upsert', deleted boolean NOT NULL DEFAULT false,
        PRIMARY KEY (type, id)
    );
    CREATE INDEX records_customer ON records (customer_id, seq);
    CREATE TABLE search (
        customer_id text PRIMARY KEY, name text NOT NULL, company text NOT NULL,
        email text NOT NULL, phone text NOT NULL, hay text NOT NULL, digits text NOT NULL
    );
    CREATE TABLE mutations (
        id text PRIMARY KEY, customer_id text NOT NULL, agent text NOT NULL, result text NOT NULL
    );
    CREATE INDEX mutations_customer ON mutations (customer_id);
    CREATE TABLE merges (from_id text PRIMARY KEY, into_id text NOT NULL);
    CREATE TABLE scope (
        agent text NOT NULL, customer_id text NOT NULL, active boolean NOT NULL,
        seq bigint NOT NULL UNIQUE, PRIMARY KEY (agent, customer_id)
    );
    CREATE INDEX scope_customer ON scope (customer_id) WHERE active;
    CREATE TABLE tokens (
        hash text PRIMARY KEY, agent text NOT NULL, scoped boolean NOT NULL, revoked boolean NOT NULL
    );
    """,
    # 1 -> 2: every change to tokens or meta (the epoch) is announced on channel `agentdesk`,
    # so each process can keep them in memory (`postgres_listen`), even when edited by hand.
    """
    CREATE FUNCTION agentdesk_announce() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_notify('agentdesk', TG_TABLE_NAME); RETURN NULL; END $$;
    CREATE TRIGGER tokens_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tokens
        FOR EACH STATEMENT EXECUTE FUNCTION agentdesk_announce();
    CREATE TRIGGER meta_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON meta
        FOR EACH STATEMENT EXECUTE FUNCTION agentdesk_announce();
    """,
    # 2 -> 3: what the store lists for every agent (canned replies, agents; `directory`).
    """
    CREATE TABLE directory (
        kind text NOT NULL, id text NOT NULL, data text NOT NULL, PRIMARY KEY (kind, id)
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
LOCK = 0x61676e74  # the advisory lock key under which the schema is checked and migrated

HOME = """SELECT (SELECT system_identifier FROM pg_control_system())::text || ':' ||
                 (SELECT oid FROM pg_database WHERE datname = current_database())::text"""


def prepare(conn: psycopg.Connection) -> None:
    """Create or migrate the schema, and make a new epoch if the database was restored."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreError(f"the database's schema is version {version}, newer than this "
                             f"agentdesk knows ({SCHEMA_VERSION}): upgrade agentdesk")
        for step in MIGRATIONS[version:]:
            conn.execute(step)
        conn.execute("INSERT INTO meta VALUES ('schema', %s) ON CONFLICT (key) DO UPDATE "
                     "SET value = excluded.value", (str(SCHEMA_VERSION),))
        home = conn.execute(HOME).fetchone()[0]
        known = conn.execute("SELECT value FROM meta WHERE key = 'home'").fetchone()
        if known is None or known[0] != home:
            set_epoch(conn)
            conn.execute("INSERT INTO meta VALUES ('home', %s) ON CONFLICT (key) DO UPDATE "
                         "SET value = excluded.value", (home,))


def set_epoch(conn: psycopg.Connection) -> str:
    epoch = secrets.token_hex(8)
    conn.execute("INSERT INTO meta VALUES ('epoch', %s) ON CONFLICT (key) DO UPDATE "
                 "SET value = excluded.value", (epoch,))
    return epoch
