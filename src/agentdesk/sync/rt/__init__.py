"""The Request Tracker 5 connector: RT's REST 2.0 API spoken as the desk's remote store.

`remote.RTRemote` offers what the sync engine uses (`agentdesk.sync.remote.RemoteStore`);
`http` talks to RT with retries, `records` maps RT's users, tickets and transactions to the
desk's records, `comments` keeps the desk's notes in a user's Comments, `feed` builds feed
pages and profiles, `push` applies the desk's edits. The mapping is in
docs/request-tracker.md.
"""
