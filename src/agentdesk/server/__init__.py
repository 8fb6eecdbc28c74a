"""The reference remote store: the server end of `docs/sync-protocol.md`.

`store` is the storage interface, `sqlite_store` its SQLite implementation, `app` the HTTP API
(FastAPI, schema generated from `agentdesk.model.protocol`) and `run` the `agentdesk serve`
command plus a background `ServerThread` for tests, benchmarks and the one-command demo.
What an implementation shares with any other engine is in `mutation_rules` (how a desk's
mutation changes a record), `search_index` (what search matches), `stored` (the stored forms
of records and tokens) and `load_order` (the order of a bulk load).
Nothing here imports the UI.
"""
