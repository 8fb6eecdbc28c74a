"""The demo store, served in-process on 127.0.0.1 for `agentdesk --demo` and `sync --demo`.

The desk then syncs from it over real HTTP, exactly as from a remote store. Its token is made
once and kept next to the store (0600), since the store itself keeps only a hash.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from agentdesk.config import Remote, demo_server_dir
from agentdesk.core.storage import atomic_write_bytes, make_private_dir
from agentdesk.server.run import DEFAULT_AGENT, ServerThread, open_store, seed_demo


def start_demo_server(folder: Path | None = None) -> tuple[ServerThread, Remote]:
    """Open (seeding on first use) the demo store and serve it; the caller stops it."""
    folder = folder or demo_server_dir()
    make_private_dir(folder)
    store = open_store(folder)
    token_file = folder / "token"
    if token_file.exists():
        token = token_file.read_text().strip()
    else:
        token = secrets.token_urlsafe(32)
        atomic_write_bytes(token_file, token.encode())
    store.add_token(token, DEFAULT_AGENT)
    if store.is_empty():
        seed_demo(store)
    server = ServerThread(store).start()
    return server, Remote(url=server.url, token=token)
