"""What every request asks and almost never changes, kept in each process: tokens and the epoch.

Every request checks its token and most answers carry the epoch: two queries a request, for
values that change when an operator adds or revokes a token or gives the store a new epoch.
So each process keeps them, and the database says when to forget them: triggers on `tokens`
and `meta` send a notification on channel `agentdesk` with every change, committed or made by
hand in psql, and a thread in each process listens and empties the cache. A change is seen by
the other processes when its notification arrives (milliseconds after its commit), and at once
by the process that made it. Until the listener is connected, and whenever its connection is
lost, nothing is cached: every request asks the database, as without the cache.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

CHANNEL = "agentdesk"
MAX_TOKENS = 10_000  # more than any team has; past it the cache starts again empty
MISSING: Any = object()


class SharedCache:
    """Tokens (by hash) and the epoch, valid while `live`; a value read from the database is
    kept only if nothing was forgotten since the read began (`generation`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.generation = 0
        self.live = False
        self._tokens: dict[str, Any] = {}
        self._epoch: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="agentdesk-listen", daemon=True)
        self._thread.start()

    # --- reading and filling -------------------------------------------------------------
    def token(self, hash: str) -> Any:
        """The agent of a token hash, or MISSING."""
        return self._tokens.get(hash, MISSING) if self.live else MISSING

    def epoch(self) -> str | None:
        return self._epoch if self.live else None

    def keep_token(self, hash: str, agent: Any, generation: int) -> None:
        with self._lock:
            if self.live and generation == self.generation:
                if len(self._tokens) >= MAX_TOKENS:
                    self._tokens.clear()
                self._tokens[hash] = agent

    def keep_epoch(self, epoch: str, generation: int) -> None:
        with self._lock:
            if self.live and generation == self.generation:
                self._epoch = epoch

    def forget(self) -> None:
        with self._lock:
            self.generation += 1
            self._tokens.clear()
            self._epoch = None

    # --- the listener --------------------------------------------------------------------
    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    with self._lock:  # from now on every change is heard
                        self.generation += 1
                        self.live = True
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self.forget()
            except psycopg.Error:
                pass
            with self._lock:
                self.live = False
                self.generation += 1
                self._tokens.clear()
                self._epoch = None
            self._stop.wait(1.0)  # then connect again

    def close(self) -> None:
        """Stop listening (the thread ends within half a second, closing its connection)."""
        self._stop.set()
        with self._lock:
            self.live = False
