"""HTTP to RT's REST 2.0 API, with the desk's retry policy and its error classes.

Connection errors, timeouts, 5xx, 429 and answers that are not JSON are retried with the same
backoff as the reference store's client (`agentdesk.sync.client.RetryPolicy`); a 412 (the
record changed since its ETag) is handed back to the caller, who re-reads and decides again.
Credentials (an auth token, or a user and password) never appear in a message.

With a user and password the client logs in once, as RT's web pages do, and sends the session
cookie: RT checks a password in HTTP Basic auth on every request with its slow password hash,
which made each request half a second (see benchmarks/README.md). A session that ends (RT
answers with a redirect to its login page) is logged into again, once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import orjson

from agentdesk.sync.client import AuthError, NotFound, RemoteError, RetryPolicy, Transient, retrying

API = "/REST/2.0"
T = TypeVar("T")
MAX_PER_PAGE = 100  # RT's REST 2.0 never answers more items than this in one page


class Changed(RemoteError):
    """412: the record's ETag moved on since it was read (someone changed it meanwhile)."""


class RTHttp:
    """One RT instance. `base_url` is RT's web address (https://rt.example.com)."""

    def __init__(self, base_url: str, *, token: str = "", user: str = "", password: str = "",
                 timeout: float = 15.0, verify: bool = True, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, seed: int | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.on_wait: Callable[[float, str], None] | None = None  # told each wait and why
        self._sleep = sleep
        self._rng = random.Random(seed)
        headers = {"User-Agent": "agentdesk", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"token {token}"
        self._login_form = {"user": user, "pass": password} if user and not token else None
        self._session = 0  # logins so far (0: none yet)
        self._http = httpx.Client(base_url=self.base_url + API, headers=headers,
                                  timeout=timeout, verify=verify)

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, what: str, **params: Any) -> Any:
        return self.request("GET", path, what, params=params)[0]

    def request(self, method: str, path: str, what: str, *, attempts: int | None = None,
                **kwargs: Any) -> tuple[Any, httpx.Headers]:
        """(the JSON answer, its headers), retrying what may pass; raises RemoteError. Waits
        as the reference store's client does: told to `on_wait`, and a Retry-After longer than
        the policy's cap stops the sync rather than hold it."""
        return retrying(lambda: self._once(method, path, what, **kwargs), what,
                        attempts or self.retry.attempts, self.retry, self._rng, self._sleep,
                        self.on_wait, who="RT")

    def retried(self, call: Callable[[], T], what: str, attempts: int | None = None) -> T:
        """`call()` (which sends one request, `once`) retried as `request` retries: for a
        write that must look for its own earlier try before it is sent again."""
        return retrying(call, what, attempts or self.retry.attempts, self.retry, self._rng,
                        self._sleep, self.on_wait, who="RT")

    def once(self, method: str, path: str, what: str, **kwargs: Any) -> tuple[Any, httpx.Headers]:
        """One request, not retried: raises Transient for what may pass."""
        return self._once(method, path, what, **kwargs)

    def _log_in(self) -> None:
        """A session for the user and password (its cookie is kept by the client)."""
        assert self._login_form is not None
        self._http.cookies.clear()
        response = self._http.post(self.base_url + "/NoAuth/Login.html", data=self._login_form)
        if response.status_code >= 500:
            raise Transient(f"RT answered {response.status_code} {response.reason_phrase}")
        self._session += 1

    def _once(self, method: str, path: str, what: str, **kwargs: Any) -> tuple[Any, httpx.Headers]:
        try:
            fresh = self._login_form is not None and not self._session
            if fresh:
                self._log_in()
            response = self._http.request(method, path, **kwargs)
            if self._login_form is not None and response.status_code in (301, 302, 303, 401):
                if not fresh:  # the session ended: once more, with a new one
                    self._log_in()
                    response = self._http.request(method, path, **kwargs)
                if response.status_code in (301, 302, 303):  # the login page: refused
                    response = httpx.Response(401, request=response.request)
        except httpx.TimeoutException:
            raise Transient(f"cannot reach RT at {self.base_url}: timed out") from None
        except httpx.TransportError as error:
            detail = "connection refused" if "refused" in str(error).lower() else type(error).__name__
            raise Transient(f"cannot reach RT at {self.base_url}: {detail}") from None
        status = response.status_code
        if status == 401:
            raise AuthError("RT did not accept the credentials (401): set AGENTDESK_TOKEN to an "
                            "RT auth token, or AGENTDESK_RT_USER and AGENTDESK_RT_PASSWORD")
        if status == 403:
            raise AuthError(f"RT refused this user (403): {_message(response) or 'forbidden'}")
        if status == 412:
            raise Changed(f"{what}: the record changed in RT meanwhile (412)")
        if status == 429 or status >= 500:
            raise Transient(f"RT answered {status} {response.reason_phrase}",
                             _retry_after(response))
        if status >= 400:
            kind = NotFound if status == 404 else RemoteError
            error = kind(f"{what}: RT answered {status}: {_message(response) or response.reason_phrase}")
            error.status = status  # a 4xx: sent again as it is, it would be refused again
            raise error
        try:
            return orjson.loads(response.content), response.headers
        except orjson.JSONDecodeError:
            raise Transient("RT sent malformed or truncated JSON") from None

    def pages(self, path: str, what: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a collection, page after page (RT's pages hold at most 100)."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get(path, what, **params, page=page, per_page=MAX_PER_PAGE)
            batch = _items(body, what)
            items += batch
            if len(batch) < MAX_PER_PAGE or page >= int(body.get("pages") or page):
                return items
            page += 1


def _items(body: Any, what: str) -> list[dict[str, Any]]:
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise RemoteError(f"{what}: RT sent a collection without items")
    return [i for i in items if isinstance(i, dict)]


def items(body: Any, what: str) -> list[dict[str, Any]]:
    return _items(body, what)


def _message(response: httpx.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    if isinstance(body, dict):
        return str(body.get("message") or "")[:200]
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None
