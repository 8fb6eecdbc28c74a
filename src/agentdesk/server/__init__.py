"""The reference remote store: the server end of `docs/sync-protocol.md`.

`store` is the storage interface, `sqlite_store` its SQLite implementation (one process) and
`postgres_store` its PostgreSQL one (any number of processes on one database; its schema in
`postgres_schema`), `app` the HTTP API (FastAPI, schema generated from
`agentdesk.model.protocol`) and `run` the `agentdesk serve` command plus a background
`ServerThread` for tests, benchmarks and the one-command demo. What the engines share is in
`transaction` (every write: merges, erasure, scope, mutations, over row operations each engine
writes in its SQL), `mutation_rules` (how a desk's mutation changes a record), `search_index`
(what search matches), `stored` (the stored forms of records and tokens) and `load_order`
(the order of a bulk load).
Nothing here imports the UI.
"""
