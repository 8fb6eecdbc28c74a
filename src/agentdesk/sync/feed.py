"""Reading the change feed: a page ahead, in a thread of its own, while the engine files the
one before.

No UI here.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from agentdesk.sync.client import FeedPageRaw, RemoteClient


def _last_seq(changes: list[Any]) -> int:
    """The feed's position after a page (changes come in order: the last valid one's)."""
    for change in reversed(changes):
        if isinstance(change, dict) and type(change.get("seq")) is int:
            return change["seq"]
    return 0


class PageReader:
    """The change feed from a cursor on, read one page ahead in a thread of its own.

    The store prepares page N+1 while this process applies page N, instead of this process
    waiting for it. The thread only reads the feed (nothing
    else uses the client meanwhile) and follows each page's `next_cursor`, as the engine
    would; a page served again with the same cursor is asked for again. An error is handed
    over in order, after the pages before it.
    """

    def __init__(self, client: RemoteClient, cursor: str | None, page_size: int) -> None:
        self._queue: queue.Queue[tuple[FeedPageRaw | None, BaseException | None]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(client, cursor, page_size),
                                        name="agentdesk-feed", daemon=True)
        self._thread.start()

    def _read(self, client: RemoteClient, cursor: str | None, page_size: int) -> None:
        try:
            while not self._stop.is_set():
                page = client.changes(cursor, page_size)
                if not self._hand_over((page, None)) or not page.more:
                    return
                cursor = page.next_cursor
        except BaseException as error:  # noqa: BLE001 (re-raised by next(), in the engine's thread)
            self._hand_over((None, error))

    def _hand_over(self, item: tuple[FeedPageRaw | None, BaseException | None]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def next(self) -> FeedPageRaw:
        page, error = self._queue.get()
        if error is not None:
            raise error
        assert page is not None
        return page

    def close(self) -> None:
        """Stop reading ahead (the engine is done, or stopped on an error). A request under
        way is not waited for beyond a moment: its page is dropped when it comes."""
        self._stop.set()
        self._thread.join(timeout=1.0)
