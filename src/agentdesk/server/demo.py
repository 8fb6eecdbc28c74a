"""The one-command demo's store: reachable at once, served once the desk is on screen.

`agentdesk --demo` binds its store's port and reads (or makes) its token before the desk's
first frame, which costs a socket and a small file; the store itself (FastAPI, uvicorn,
SQLite, and the demo data on first use) starts in the desk's first sync, after the first
frame, so the demo opens on its cached profile as fast as the desk does without a store.
Connections made meanwhile wait in the socket's backlog. The store keeps only the token's
hash, so the token is kept beside it, 0600, made once.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from agentdesk.server.net import listen

if TYPE_CHECKING:
    from agentdesk.server.run import ServerThread


class DemoStore:
    """The demo store of `folder`, on a port of 127.0.0.1 chosen now, served by `serve()`."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
        self.folder = folder
        self.token = _token(folder / "token")
        self._sock = listen("127.0.0.1", 0)
        self._sock.listen(128)  # clients queue until the server accepts
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.server: ServerThread | None = None

    def serve(self) -> None:
        """Open (seeding on first use) the store and serve it in this process."""
        if self.server is not None:
            return
        from agentdesk.model.demo import DEMO_DESK_AGENT
        from agentdesk.server.run import ServerThread, open_store, seed_demo, seed_demo_lists

        store = open_store(self.folder)
        store.add_token(self.token, DEMO_DESK_AGENT)  # the demo's desk works Sam Rivera's queue
        if store.is_empty():  # today's work, not the generator's fixed January
            seed_demo(store, now=datetime.now(UTC))
        elif not store.canned():
            seed_demo_lists(store)
        self.server = ServerThread(store, sock=self._sock).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server.store.close()
        else:
            self._sock.close()


def _token(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        token = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token)
        return token
