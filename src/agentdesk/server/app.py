"""The HTTP API of the remote store (FastAPI): `create_app(store)`.

Request and response models are the wire models of `agentdesk.model.protocol`, so the published
OpenAPI schema (`/openapi.json`, kept in `docs/openapi.json`) is generated from the same code
the desk parses with. The change feed is the hot path: its page is assembled from the stored
JSON text without parsing or validating any record.

Regenerate docs/openapi.json with: python -m agentdesk.server.app docs/openapi.json
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
import tempfile
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from agentdesk.model.protocol import (
    API_PREFIX,
    Agents,
    AgentWire,
    CannedReplies,
    CannedReplyWire,
    DEFAULT_PAGE,
    MAX_BODY,
    MAX_PAGE,
    PROTOCOL_VERSION,
    Change,
    DigestBody,
    ErrorBody,
    FeedPage,
    MutationBatch,
    MutationResults,
    ProfileSnapshot,
    SearchResults,
    StoreStatus,
)
from agentdesk.server.store import Agent, CursorGone, Store, StoreError

MAX_SEARCH = 200
_dumps = json.dumps


def encode_cursor(epoch: str, seq: int) -> str:
    """Opaque to clients: they only pass it back."""
    return base64.urlsafe_b64encode(f"{epoch}:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """(epoch, seq) of a cursor; CursorGone if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        epoch, seq = text.rsplit(":", 1)
        return epoch, int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorGone("cursor is not valid for this store; start over without one") from None


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes is answered 413 without being read
    whole (a 200 MB body cost the store 657 MB of memory). Bodies within it are read here and
    handed on as one piece."""

    def __init__(self, app: Any, limit: int, epoch: Callable[[], str]) -> None:
        self.app, self.limit, self.epoch = app, limit, epoch

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await self._too_large(send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body, handed = b"".join(chunks), False

        async def replay() -> dict[str, Any]:
            nonlocal handed
            if handed:
                return await receive()  # type: ignore[no-any-return]
            handed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send: Any) -> None:
        body = ErrorBody(error=f"request body too large (at most {self.limit >> 20} MiB)",
                         epoch=self.epoch()).model_dump_json().encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class AuthError(StoreError):
    status = 401


class Revoked(StoreError):
    status = 403


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    texts = {401: "Missing or invalid token", 403: "Token revoked", 404: "Unknown, erased or merged customer",
             410: "Cursor from another epoch or past the store's head: start over",
             413: f"Request body over {MAX_BODY >> 20} MiB", 422: "Invalid request"}
    return {code: {"model": ErrorBody, "description": texts[code]} for code in codes}


BEARER = HTTPBearer(auto_error=False, description="A token issued by `agentdesk serve`.")


def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> Agent:
    """The agent of the request's bearer token: 401 if missing or unknown, 403 if revoked."""
    store: Store = request.app.state.store
    found = store.check_token(credentials.credentials) if credentials else None
    if found is None:
        raise AuthError("missing or invalid token")  # never echo what was sent
    if found.revoked:
        raise Revoked("token revoked")
    return found


Authed = Annotated[Agent, Depends(authenticated)]


def create_app(store: Store) -> FastAPI:
    """The API over one store. Every JSON answer, errors included, carries the store's epoch."""
    app = FastAPI(
        title="agentdesk remote store",
        version=str(PROTOCOL_VERSION),
        description="Reference remote store of the agentdesk sync protocol; see docs/sync-protocol.md.",
    )
    app.state.store = store
    app.add_middleware(BodyLimit, limit=MAX_BODY, epoch=store.epoch)

    def error(status: int, message: str, detail: str = "", **extra: Any) -> JSONResponse:
        body = ErrorBody(**{"error": message, "detail": detail, "epoch": store.epoch(), **extra})
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(body.model_dump(), status_code=status, headers=headers)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        return error(exc.status, str(exc), **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The request's own values are left out: they may hold anything the client sent.
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error(422, "invalid request", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        return error(500, "internal error")

    @app.get(f"{API_PREFIX}/status", response_model=StoreStatus, responses=_errors(401, 403))
    def status(_: Authed) -> StoreStatus:
        """Who the store is (epoch), how far its feed goes (head), which protocol it speaks."""
        epoch, head = store.status()
        return StoreStatus(epoch=epoch, head=head, protocol=PROTOCOL_VERSION)

    @app.get(f"{API_PREFIX}/changes", response_model=FeedPage, responses=_errors(401, 403, 410, 422))
    def changes(
        who: Authed,
        cursor: Annotated[str, Query(description="next_cursor of the previous page; none = from the start")] = "",
        limit: Annotated[int, Query(ge=1, description=f"At most this many changes (capped at {MAX_PAGE}).")] = DEFAULT_PAGE,
    ) -> Response:
        """The compacted change feed after a cursor: the latest change of each record, by seq."""
        epoch, after = decode_cursor(cursor) if cursor else (None, 0)
        page = store.changes(after, min(limit, MAX_PAGE), who, epoch=epoch)
        parts = [
            f'{{"seq":{seq},"op":"{op}","type":"{kind}","id":{_dumps(rid)},'
            f'"customer_id":{_dumps(cid)},"revision":{rev},"data":{data or "null"}}}'
            for seq, op, kind, rid, cid, rev, data in page.rows
        ]
        body = (f'{{"epoch":{_dumps(page.epoch)},"changes":[{",".join(parts)}],'
                f'"next_cursor":"{encode_cursor(page.epoch, page.last_seq)}",'
                f'"more":{"true" if page.more else "false"}}}')
        return Response(body.encode(), media_type="application/json")

    @app.get(f"{API_PREFIX}/customers/{{customer_id}}", response_model=ProfileSnapshot,
             responses=_errors(401, 403, 404))
    def customer(customer_id: str, who: Authed) -> ProfileSnapshot:
        """Every live record of one customer, customer first; a scoped agent's scope gains it."""
        rows = store.profile(customer_id, who)
        return ProfileSnapshot(epoch=store.epoch(), customer_id=customer_id, changes=[
            Change(seq=seq, op=op, type=kind, id=rid, customer_id=cid, revision=rev,
                   data=json.loads(data))
            for seq, op, kind, rid, cid, rev, data in rows
        ])

    @app.get(f"{API_PREFIX}/search", response_model=SearchResults, responses=_errors(401, 403, 422))
    def search(
        who: Authed,
        q: Annotated[str, Query(max_length=200, description="Part of a name, company, e-mail, phone or id.")] = "",
        limit: Annotated[int, Query(ge=1, le=MAX_SEARCH)] = 20,
    ) -> SearchResults:
        """Live customers matching `q` (case-insensitive substring), whatever the agent's scope."""
        hits = store.search(q, limit)
        return SearchResults(epoch=store.epoch(), hits=hits)

    @app.post(f"{API_PREFIX}/mutations", response_model=MutationResults,
              responses=_errors(401, 403, 413, 422))
    def mutations(batch: MutationBatch, who: Authed) -> MutationResults:
        """Apply a batch of desk edits, each at most once; one result per mutation, in order."""
        results = store.apply(batch.mutations, who)
        return MutationResults(epoch=store.epoch(), results=results)

    @app.get(f"{API_PREFIX}/canned", response_model=CannedReplies, responses=_errors(401, 403))
    def canned(_: Authed) -> CannedReplies:
        """The store's canned replies (reply templates with placeholders), for every agent."""
        return CannedReplies(epoch=store.epoch(), replies=[
            CannedReplyWire.model_validate(r.model_dump(mode="json")) for r in store.canned()])

    @app.get(f"{API_PREFIX}/agents", response_model=Agents, responses=_errors(401, 403))
    def agents(who: Authed) -> Agents:
        """The agents a conversation can be assigned to, and which one the token is (`me`)."""
        return Agents(epoch=store.epoch(), me=who.name, agents=[
            AgentWire.model_validate(a.model_dump(mode="json")) for a in store.agents()])

    @app.get(f"{API_PREFIX}/digest", response_model=DigestBody, responses=_errors(401, 403))
    def digest(_: Authed) -> DigestBody:
        """`agentdesk.model.digest.digest` over every live record (tests compare it with a cache's)."""
        return DigestBody(epoch=store.epoch(), digest=store.digest())

    return app


def openapi_schema() -> dict[str, Any]:
    """The schema `create_app` publishes (it does not depend on the store's contents)."""
    from agentdesk.server.sqlite_store import SqliteStore

    with tempfile.TemporaryDirectory() as tmp, SqliteStore(Path(tmp) / "schema.db") as store:
        return create_app(store).openapi()


def openapi_text() -> str:
    return json.dumps(openapi_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # python -m agentdesk.server.app docs/openapi.json
    Path(sys.argv[1]).write_text(openapi_text(), encoding="utf-8") if len(sys.argv) > 1 else print(openapi_text())
