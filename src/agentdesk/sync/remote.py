"""What the sync engine needs from a remote store, and the one place that picks the store.

The engine (`engine.SyncEngine`) and the desk use only `RemoteStore`; `connect` chooses the
implementation by the URL's scheme: `rt+https://` and `rt+http://` are a Request Tracker 5
(`agentdesk.sync.rt`), anything else the reference store's protocol (`client.RemoteClient`).
The next helpdesk is a new package beside `rt` and one more line here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol

from agentdesk.model.protocol import (
    DEFAULT_PAGE,
    Agents,
    CannedReplies,
    Mutation,
    MutationResults,
    ProfileSnapshot,
    SearchResults,
)
from agentdesk.sync.client import FeedPageRaw, RemoteClient, RetryPolicy

RT_SCHEMES = ("rt+https://", "rt+http://")


class RemoteStore(Protocol):
    """A remote the desk syncs with. Errors are `client.RemoteError`s (Offline, AuthError,
    NotFound, EpochChanged) whose messages an agent can act on and never hold a secret."""

    @property
    def retry(self) -> RetryPolicy: ...

    # Told each wait before a retry and why; the engine sets it for a run.
    on_wait: Callable[[float, str], None] | None

    def status(self) -> dict[str, Any]:
        """At least {"epoch": ..., "head": the newest position of the feed (an int)}."""
        ...

    def changes(self, cursor: str | None, limit: int = DEFAULT_PAGE) -> FeedPageRaw:
        """The feed's changes after `cursor` (None: from the start), in the store's order,
        as `protocol.Change` dicts; `body` is the page as JSON with a "changes" list."""
        ...

    def profile(self, customer_id: str) -> ProfileSnapshot: ...

    def search(self, query: str, limit: int = 20) -> SearchResults: ...

    def push(self, batch: list[Mutation], *, attempts: int | None = None,
             retried: Collection[str] = ()) -> MutationResults:
        """One result per mutation, in order; each applied at most once however often it is
        sent. `attempts` overrides the retry policy's (an edit sent alone after its batch
        failed). `retried` names the edits sent before, whose answer may have been lost: a
        remote without idempotency keys looks those up before sending them again. A 4xx the
        remote will always answer is a RemoteError with its `status`."""
        ...

    def canned(self) -> CannedReplies:
        """The store's canned replies (for every agent)."""
        ...

    def agents(self) -> Agents:
        """The agents a conversation can be assigned to, and which one this desk is."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> RemoteStore: ...

    def __exit__(self, *exc: object) -> None: ...


def is_rt(url: str) -> bool:
    return url.startswith(RT_SCHEMES)


def connect(url: str, token: str = "", *, user: str = "", password: str = "",
            verify: bool = True, **options: Any) -> RemoteStore:
    """The remote at `url`. `options` are timeout= and retry= (and, for tests, sleep=)."""
    if is_rt(url):
        from agentdesk.sync.rt.remote import RTRemote

        return RTRemote(url[len("rt+"):], token=token, user=user, password=password,
                        verify=verify, **options)
    return RemoteClient(url, token, verify=verify, **options)
