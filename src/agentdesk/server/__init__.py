"""The reference remote store: the server end of `docs/sync-protocol.md`.

`store` is the storage interface, `sqlite_store` its SQLite implementation, `app` the HTTP API
(FastAPI, schema generated from `agentdesk.model.protocol`) and `run` the `agentdesk serve`
command plus a background `ServerThread` for tests, benchmarks and the one-command demo.
Nothing here imports the UI.
"""
