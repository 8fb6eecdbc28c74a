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
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from agentdesk.model.protocol import (
    API_PREFIX,
    DEFAULT_PAGE,
    Agents,
    CannedReplies,
    Mutation,
    MutationResults,
    ProfileSnapshot,
    SearchResults,
    UNREADABLE,
    unstorable,
)
from agentdesk.model.sanitize import clean_line

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class RemoteError(Exception):
    """The store could not be used; the message says why. `status` is the HTTP status of a
    4xx answer that caused it (None otherwise)."""

    status: int | None = None


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
    # The longest Retry-After honoured: a store asking for more is not asked again in this
    # run (the desk's next sync tries again) rather than waited for in silence.
    retry_after_cap: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        return rng.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))


def retrying(call: Callable[[], T], what: str, attempts: int, policy: RetryPolicy,
             rng: random.Random, sleep: Callable[[float], None],
             on_wait: Callable[[float, str], None] | None, who: str = "the server") -> T:
    """`call()` until it passes, retrying what may pass (`Transient`) up to `attempts` times
    with the policy's waits, each told to `on_wait`; a Retry-After over the policy's cap stops
    the sync rather than hold it. Raises Offline or RemoteError. The reference store's client
    and the RT connector alike."""
    last = ""
    for attempt in range(1, attempts + 1):
        retry_after = None
        try:
            return call()
        except Transient as problem:
            last, retry_after = str(problem), problem.retry_after
        if attempt == attempts:
            break
        if retry_after is not None and retry_after > policy.retry_after_cap:
            raise RemoteError(f"{what} failed: {last}, and {who} asks to wait "
                              f"{_wait_text(retry_after)} before trying again; the sync "
                              "stopped until then")
        wait = policy.delay(attempt, retry_after, rng)
        if on_wait is not None:
            on_wait(wait, last)
        sleep(wait)
    if last.startswith("cannot reach"):
        raise Offline(f"{last} (tried {attempts} times)")
    raise RemoteError(f"{what} failed: {last} (tried {attempts} times)")


MAX_CURSOR = 1024  # characters of a next_cursor; a longer one is a broken page, not a cursor
MAX_EPOCH = 200


@dataclass
class FeedPageRaw:
    """A feed page with its records still unvalidated (they are checked one by one)."""

    epoch: str
    changes: list[Any]
    next_cursor: str
    more: bool
    body: bytes = b""  # the answer as it came, for a first sync's helper process to read


class Transient(Exception):
    """A failure that may pass: retried (`retrying`), then reported as RemoteError/Offline."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks to wait: delta-seconds or an HTTP date (RFC 9110).
    Anything else (`soon`, `-1`, `nan`, a date that is no date) is ignored: None."""
    value = (value or "").strip()
    if not value:
        return None
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    try:
        return max(0.0, when.timestamp() - time.time())
    except (OverflowError, OSError, ValueError):
        return None


def _error_text(response: httpx.Response) -> str:
    """The reason a store gave (`error`, else `detail`), cleaned: it is shown on a terminal."""
    try:
        body = _loads(response.content)
    except ValueError:
        return ""
    if isinstance(body, dict):
        text = body.get("error") or body.get("detail") or ""
        return clean_line(text[:200]) if isinstance(text, str) else ""
    return ""


def _wait_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.0f} hours"


class RemoteClient:
    """Talks to one store. Thread-safe enough for one sync at a time plus searches."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 15.0, verify: bool = True,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 seed: int | None = None,
                 on_wait: Callable[[float, str], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        # Told (seconds, why) before each wait between two attempts, so a long one is shown.
        self.on_wait = on_wait
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
                    attempts: int | None = None, **kwargs: Any) -> T:
        """The answer as `read` makes it from the parsed JSON and the bytes as they came.
        `read` refuses an answer of the wrong shape by raising `Transient`, which is retried
        within these same attempts, like malformed JSON."""
        return retrying(lambda: read(*self._once(method, API_PREFIX + path, what, **kwargs)),
                        what, attempts or self.retry.attempts, self.retry, self._rng, self._sleep,
                        self.on_wait)

    def _once(self, method: str, path: str, what: str, **kwargs: Any) -> tuple[Any, bytes]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.InvalidURL as error:  # e.g. a cursor too long for a URL: no retry helps
            raise RemoteError(f"{what}: the request could not be made ({error})") from None
        except httpx.TimeoutException:
            raise Transient(f"cannot reach the server at {self.base_url}: timed out") from None
        except httpx.TransportError as error:
            kind = type(error).__name__
            detail = "connection refused" if "refused" in str(error).lower() else kind
            raise Transient(f"cannot reach the server at {self.base_url}: {detail}") from None
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
            body: Any = {}
            try:
                body = _loads(response.content)
            except ValueError:
                pass
            epoch = body.get("epoch") if isinstance(body, dict) else None
            raise EpochChanged(
                f"the server's store was rebuilt or restored: {_error_text(response)}",
                epoch if isinstance(epoch, str) and len(epoch) <= MAX_EPOCH else None,
            )
        if status == 429 or status >= 500:
            raise Transient(f"the server answered {status} {clean_line(response.reason_phrase)}",
                             retry_after(response.headers.get("retry-after")))
        if status >= 400:
            reason = _error_text(response) or clean_line(response.reason_phrase)
            error = (NotFound if status == 404 else RemoteError)(
                f"{what}: the server answered {status}: {reason}")
            error.status = status
            raise error
        try:
            return _loads(response.content), response.content
        except ValueError:
            raise Transient("the server sent malformed or truncated JSON") from None

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

    def push(self, batch: list[Mutation], *, attempts: int | None = None,
             retried: Collection[str] = ()) -> MutationResults:
        """`retried` is not needed here: the store keeps each mutation's id and applies it
        once."""
        payload = {"mutations": [m.model_dump(mode="json") for m in batch]}
        body = self._request_as(_parsed, "POST", "/mutations", what="sending edits",
                                attempts=attempts, json=payload)
        results = _parse(MutationResults, body, "sending edits")
        if [r.id for r in results.results] != [m.id for m in batch]:
            raise RemoteError("sending edits: the server answered for other edits than sent")
        return results

    def digest(self) -> dict[str, Any]:
        return dict(self._request("GET", "/digest", what="asking the server's digest"))

    def canned(self) -> CannedReplies:
        """The store's canned replies (asked once: a store without them must not hold up
        the sync)."""
        body = self._request("GET", "/canned", what="fetching canned replies", attempts=1)
        return _parse(CannedReplies, body, "fetching canned replies")

    def agents(self) -> Agents:
        """The agents the store knows and which one this desk's token is (asked once)."""
        body = self._request("GET", "/agents", what="fetching the agents", attempts=1)
        return _parse(Agents, body, "fetching the agents")


def _parsed(body: Any, content: bytes) -> Any:
    return body


def _feed_page(body: Any, content: bytes) -> FeedPageRaw:
    """A feed page from an answer. A page that is broken as a whole (fields missing or of the
    wrong type, a cursor that is not a short string) is retried like a truncated one, within
    the request's own attempts (a second loop around them multiplied the requests); each of
    its changes is checked later, on its own."""
    if not isinstance(body, dict):
        raise Transient("the server sent a page that is not a JSON object")
    epoch, changes, cursor, more = (body.get("epoch"), body.get("changes"),
                                    body.get("next_cursor"), body.get("more"))
    if type(epoch) is not str or not 0 < len(epoch) <= MAX_EPOCH:
        raise Transient(f"the server sent a page whose epoch is not a string of 1 to "
                         f"{MAX_EPOCH} characters")
    if type(changes) is not list:
        raise Transient("the server sent a page whose changes are not a list")
    if type(cursor) is not str or not 0 < len(cursor) <= MAX_CURSOR or not cursor.isprintable():
        raise Transient(f"the server sent a page whose next_cursor is not a string of 1 to "
                         f"{MAX_CURSOR} printable characters")
    if type(more) is not bool:
        raise Transient("the server sent a page whose `more` is not true or false")
    return FeedPageRaw(epoch=epoch, changes=changes, next_cursor=cursor, more=more, body=content)


def _loads(content: bytes) -> Any:
    """An answer's JSON, parsed with orjson (a feed page in half the time of `json`), and
    checked to be something a cache file can hold.

    What JSON allows but no cache file can hold (lone surrogate escapes ("\\ud800"), integers
    past 64 bits, nesting deeper than orjson writes) is refused per change: each change
    holding such a value becomes {UNREADABLE: reason}, which the replica skips like any
    invalid record while the rest of the page applies. Elsewhere in an answer it is a
    ValueError (malformed), like truncated JSON; so is an answer nested too deep to parse.
    """
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        try:
            body = json.loads(content)  # ValueError if it is not JSON at all
        except RecursionError:
            raise ValueError("the answer is nested too deep to read") from None
    else:
        if unstorable(body) is None:
            return body
    changes = body.get("changes") if isinstance(body, dict) else None
    for index, change in enumerate(changes if isinstance(changes, list) else []):
        if (why := unstorable(change)) is not None:
            label = change.get("id", "?") if isinstance(change, dict) else "?"
            label = clean_line(label[:60]) if isinstance(label, str) else "?"
            changes[index] = {UNREADABLE: f"change {label}: a value no file can hold ({why})"}
    if (why := unstorable(body)) is not None:
        raise ValueError(f"a value no file can hold: {why}")
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
