"""`RTRemote`: a Request Tracker 5 as the desk's remote store (`sync.remote.RemoteStore`).

The cursor is the id of the last RT transaction the desk has; the epoch names the RT instance
by the time of its first transaction, so a cache made from another store (or another RT) is
rebuilt. An RT restored from an older backup has fewer transactions than the cursor says: it
is taken as a new store too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

import orjson

from agentdesk.model.protocol import (
    DEFAULT_PAGE,
    Agents,
    AgentWire,
    CannedReplies,
    Change,
    Mutation,
    MutationResults,
    ProfileSnapshot,
    SearchHit,
    SearchResults,
)
from agentdesk.sync.client import EpochChanged, FeedPageRaw, NotFound, RetryPolicy
from agentdesk.sync.rt import records
from agentdesk.sync.rt.feed import Feed
from agentdesk.sync.rt.http import RTHttp, items
from agentdesk.sync.rt.push import Pusher


class RTRemote:
    def __init__(self, base_url: str, *, token: str = "", user: str = "", password: str = "",
                 timeout: float = 15.0, verify: bool = True, retry: RetryPolicy | None = None,
                 **http: Any) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = RTHttp(base_url, token=token, user=user, password=password, timeout=timeout,
                           verify=verify, retry=retry, **http)
        self.feed = Feed(self.http)
        self._pusher = Pusher(self.http, self.feed)
        self._epoch: str | None = None
        self._user = user  # RT's name of this desk's agent, when it logs in with one

    @property
    def retry(self) -> RetryPolicy:
        return self.http.retry

    @property
    def on_wait(self) -> Callable[[float, str], None] | None:
        """Told each wait before a retry, and why (the engine shows it on the status line)."""
        return self.http.on_wait

    @on_wait.setter
    def on_wait(self, value: Callable[[float, str], None] | None) -> None:
        self.http.on_wait = value

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RTRemote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def epoch(self) -> str:
        if self._epoch is None:
            what = "asking RT who it is"
            first = items(self.http.get("/transactions", what, query="id > 0", orderby="id",
                                        order="ASC", per_page=1, fields="Created"), what)
            self._epoch = "rt:" + (str(first[0].get("Created")) if first else "empty")
        return self._epoch

    def status(self) -> dict[str, Any]:
        return {"epoch": self.epoch(), "head": self.feed.head(), "protocol": 1}

    def changes(self, cursor: str | None, limit: int = DEFAULT_PAGE) -> FeedPageRaw:
        epoch = self.epoch()
        try:
            after = int(cursor or 0)
        except ValueError:
            raise EpochChanged("the cache's cursor is not an RT transaction id", epoch) from None
        changes, last, more = self.feed.page(after, limit)
        if not changes and last == after and after > self.feed.head():
            raise EpochChanged("RT has fewer transactions than the cache has seen (restored "
                               "from a backup?)", epoch)
        body = orjson.dumps({"epoch": epoch, "changes": changes, "next_cursor": str(last),
                             "more": more})
        return FeedPageRaw(epoch=epoch, changes=changes, next_cursor=str(last), more=more,
                           body=body)

    def profile(self, customer_id: str) -> ProfileSnapshot:
        uid = records.user_id_of(customer_id)
        if uid is None:
            raise NotFound(f"{customer_id} is not a customer from this RT")
        changes = [Change.model_validate(c) for c in self.feed.profile(uid)]
        return ProfileSnapshot(epoch=self.epoch(), customer_id=customer_id, changes=changes)

    def search(self, query: str, limit: int = 20) -> SearchResults:
        what = "searching RT's users"
        found: dict[str, dict[str, Any]] = {}
        # One search per field: RT's JSON searches AND conditions on different fields.
        for name in ("RealName", "EmailAddress", "Organization", "Name"):
            terms = [{"field": name, "operator": "LIKE", "value": query}]
            body = self.http.get("/users", what, query=json.dumps(terms), per_page=min(limit, 100))
            for user in items(body, what):
                found.setdefault(str(user.get("id")), {"Name": user.get("id")})
        hits = []
        for name in list(found)[:limit]:
            if name in records.INTERNAL_USERS:
                continue
            try:  # a listing names users by Name: their number comes from the user itself
                user, _ = self.feed.user(name)
            except NotFound:
                continue
            if not records.is_customer(user):
                continue
            hits.append(SearchHit(
                id=records.customer_id(user["id"]),
                name=records.customer_data(user)["name"],
                email=str(user.get("EmailAddress") or ""), phone=str(user.get("WorkPhone") or ""),
                company=str(user.get("Organization") or "")))
        return SearchResults(epoch=self.epoch(), hits=hits)

    def canned(self) -> CannedReplies:
        """RT keeps no reply templates the desk can read: none (the composer still works)."""
        return CannedReplies(epoch=self.epoch(), replies=[])

    def agents(self) -> Agents:
        """The desk's own RT user only (none with a token: RT does not say whose it is): RT's
        other users are not listed here yet, so the desk does not check an assignee."""
        me = self._user
        return Agents(epoch=self.epoch(), me=me,
                      agents=[AgentWire(name=me, display_name=me)] if me else [])

    def push(self, batch: list[Mutation], *, attempts: int | None = None,
             retried: Collection[str] = ()) -> MutationResults:
        return MutationResults(epoch=self.epoch(),
                               results=self._pusher.push(batch, attempts, retried))
