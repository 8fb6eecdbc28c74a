"""The desk's HTTP client for a remote store (httpx), with retries that never give up silently.

Connection errors, timeouts, 5xx, 429 and answers that are not the JSON we expect (truncated,
malformed) are retried with exponential backoff and full jitter, honouring Retry-After. Other
4xx are not retried. Every failure ends as a `RemoteError` whose message says what happened
in words an agent can act on; the token never appears in one.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from agentdesk.model.protocol import (
    API_PREFIX,
    DEFAULT_PAGE,
    Mutation,
    MutationResults,
    ProfileSnapshot,
    SearchResults,
    UNREADABLE,
)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class RemoteError(Exception):
    """The store could not be used; the message says why."""


class Offline(RemoteError):
    """The store could not be reached (after retries)."""


class NotFound(RemoteError):
    """The store does not have what was asked for (404): e.g. an erased or merged customer."""


class AuthError(RemoteError):
    """The store refused our token (401) or this action (403)."""


class EpochChanged(RemoteError):
    """The store was rebuilt or restored: our cursor means nothing there any more."""

    def __init__(self, message: str, epoch: str | None) -> None:
        super().__init__(message)
        self.epoch = epoch


@dataclass
class RetryPolicy:
    attempts: int = 6
    base: float = 0.5  # seconds before the first retry (before jitter)
    cap: float = 30.0  # longest wait between two attempts
    retry_after_cap: float = 120.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        return rng.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))


@dataclass
class FeedPageRaw:
    """A feed page with its records still unvalidated (they are checked one by one)."""

    epoch: str
    changes: list[Any]
    next_cursor: str
    more: bool
    body: bytes = b""  # the answer as it came, for a first sync's helper process to read


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        if when is None:
            return None
        return max(0.0, when.timestamp() - time.time())


def _error_text(response: httpx.Response) -> str:
    try:
        body = _loads(response.content)
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("error") or body.get("detail") or "")[:200]
    return ""


class RemoteClient:
    """Talks to one store. Thread-safe enough for one sync at a time plus searches."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 15.0, verify: bool = True,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 seed: int | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "agentdesk"},
            timeout=timeout,
            verify=verify,  # TLS certificates are checked unless explicitly turned off
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RemoteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request, with retries -----------------------------------------------------------

    def _request(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        return self._request_as(_parsed, method, path, what=what, **kwargs)

    def _request_as(self, read: Callable[[Any, bytes], T], method: str, path: str, *, what: str,
                    **kwargs: Any) -> T:
        """The answer as `read` makes it from the parsed JSON and the bytes as they came.
        `read` refuses an answer of the wrong shape by raising `_Transient`, which is retried
        within these same attempts, like malformed JSON."""
        last = ""
        for attempt in range(1, self.retry.attempts + 1):
            retry_after = None
            try:
                return read(*self._once(method, API_PREFIX + path, what, **kwargs))
            except _Transient as problem:
                last, retry_after = str(problem), problem.retry_after
            if attempt < self.retry.attempts:
                self._sleep(self.retry.delay(attempt, retry_after, self._rng))
        if last.startswith("cannot reach"):
            raise Offline(f"{last} (tried {self.retry.attempts} times)")
        raise RemoteError(f"{what} failed: {last} (tried {self.retry.attempts} times)")

    def _once(self, method: str, path: str, what: str, **kwargs: Any) -> tuple[Any, bytes]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise _Transient(f"cannot reach the server at {self.base_url}: timed out") from None
        except httpx.TransportError as error:
            kind = type(error).__name__
            detail = "connection refused" if "refused" in str(error).lower() else kind
            raise _Transient(f"cannot reach the server at {self.base_url}: {detail}") from None
        status = response.status_code
        if status == 401:
            raise AuthError(
                "the server did not accept the token (401): set AGENTDESK_TOKEN or the token in "
                "the config file (see `agentdesk config`)"
            )
        if status == 403:
            reason = _error_text(response) or "forbidden"
            raise AuthError(f"the server refused this token (403): {reason}")
        if status == 410:
            body: dict[str, Any] = {}
            try:
                body = _loads(response.content)
            except ValueError:
                pass
            raise EpochChanged(
                f"the server's store was rebuilt or restored: {_error_text(response)}",
                body.get("epoch") if isinstance(body, dict) else None,
            )
        if status == 429 or status >= 500:
            raise _Transient(
                f"the server answered {status} {response.reason_phrase}", _retry_after(response)
            )
        if status >= 400:
            reason = _error_text(response) or response.reason_phrase
            error = NotFound if status == 404 else RemoteError
            raise error(f"{what}: the server answered {status}: {reason}")
        try:
            return _loads(response.content), response.content
        except ValueError:
            raise _Transient("the server sent malformed or truncated JSON") from None

    # -- the protocol ------------------------------------------------------------------------

    def changes(self, cursor: str | None, limit: int = DEFAULT_PAGE) -> FeedPageRaw:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._request_as(_feed_page, "GET", "/changes", what="reading the change feed",
                                params=params)

    def status(self) -> dict[str, Any]:
        return dict(self._request("GET", "/status", what="asking the server's status"))

    def profile(self, customer_id: str) -> ProfileSnapshot:
        body = self._request("GET", f"/customers/{_quote(customer_id)}",
                             what=f"fetching customer {customer_id}")
        return _parse(ProfileSnapshot, body, f"fetching customer {customer_id}")

    def search(self, query: str, limit: int = 20) -> SearchResults:
        body = self._request("GET", "/search", what="searching the server",
                             params={"q": query, "limit": limit})
        return _parse(SearchResults, body, "searching the server")

    def push(self, batch: list[Mutation]) -> MutationResults:
        payload = {"mutations": [m.model_dump(mode="json") for m in batch]}
        body = self._request("POST", "/mutations", what="sending edits", json=payload)
        results = _parse(MutationResults, body, "sending edits")
        if [r.id for r in results.results] != [m.id for m in batch]:
            raise RemoteError("sending edits: the server answered for other edits than sent")
        return results

    def digest(self) -> dict[str, Any]:
        return dict(self._request("GET", "/digest", what="asking the server's digest"))


def _parsed(body: Any, content: bytes) -> Any:
    return body


def _feed_page(body: Any, content: bytes) -> FeedPageRaw:
    """A feed page from an answer. One without its fields is retried like a truncated one,
    within the request's own attempts: a second loop around them multiplied the requests."""
    try:
        return FeedPageRaw(
            epoch=str(body["epoch"]),
            changes=list(body["changes"]),
            next_cursor=str(body["next_cursor"]),
            more=bool(body["more"]),
            body=content,
        )
    except (KeyError, TypeError):
        raise _Transient("the server sent a page without epoch/changes/next_cursor/more") from None


def _loads(content: bytes) -> Any:
    """An answer's JSON, parsed with orjson (a feed page in half the time of `json`).

    orjson refuses what JSON allows but no cache file can hold: lone surrogate escapes
    ("\\ud800") and numbers out of range. Such an answer is parsed again with the standard
    library; each change holding such a value becomes {UNREADABLE: reason}, which the replica
    skips like any invalid record while the rest of the page applies. Elsewhere in an answer
    it is a ValueError (malformed), like truncated JSON.
    """
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        body = json.loads(content)  # ValueError if it is not JSON at all
    changes = body.get("changes") if isinstance(body, dict) else None
    for index, change in enumerate(changes if isinstance(changes, list) else []):
        try:
            orjson.dumps(change)
        except orjson.JSONEncodeError as error:
            label = change.get("id", "?") if isinstance(change, dict) else "?"
            changes[index] = {UNREADABLE: f"change {label!r:.60}: a value no file can hold "
                                          f"({error})"}
    try:
        orjson.dumps(body)
    except orjson.JSONEncodeError as error:
        raise ValueError(f"a value no file can hold: {error}") from None
    return body


def _parse(model: type[M], body: Any, what: str) -> M:
    """An answer as its wire model; one that is valid JSON of another shape is a RemoteError
    like every other failure (the message names the field, never the values sent)."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "answer"
        raise RemoteError(
            f"{what}: the server sent an answer this desk does not understand "
            f"({where}: {first.get('msg', 'invalid')})"
        ) from None


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
