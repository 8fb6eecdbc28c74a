"""The store validates every write as a desk will read it back and answers any malformed
request with a 4xx and its reason, never a 500 (issue 21, items 3, 5 and 8). Real HTTP to a
`ServerThread` on 127.0.0.1; raw sockets where httpx would refuse to send what is tested."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdesk.model import demo
from agentdesk.model.protocol import MAX_BODY
from agentdesk.model.records import Customer, Note
from agentdesk.server.run import ServerThread, open_store
from agentdesk.server.sqlite_store import SqliteStore
from agentdesk.server.store import StoreError

TOKEN = "test-token-" + "k" * 24
CID = "cus_a"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[SqliteStore, httpx.Client, ServerThread]]:
    store = open_store(tmp_path / "server")
    store.add_token(TOKEN, "alice")
    store.upsert("customer", Customer(id=CID, name="Ada", created=demo.EPOCH,
                                      updated=demo.EPOCH).model_dump(mode="json"), CID)
    store.upsert("note", Note(id="note_1", text="tea", created=demo.EPOCH,
                              updated=demo.EPOCH).model_dump(mode="json"), CID)
    with ServerThread(store) as server, httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        yield store, client, server
    store.close()


def post(client: httpx.Client, body: bytes) -> httpx.Response:
    return client.post("/v1/mutations", content=body, headers={"content-type": "application/json"})


def note_add(mid: str, **fields: Any) -> dict[str, Any]:
    note = {"id": f"n_{mid}", "text": "hello", "author": "", "created": "2026-01-05T09:00:00Z",
            "updated": "2026-01-05T09:00:00Z", **fields}
    return {"id": mid, "kind": "note.add", "customer_id": CID, "target": note["id"], "data": note}


def result(client: httpx.Client, mutation: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/v1/mutations", json={"mutations": [mutation]})
    assert r.status_code == 200, r.text
    [answer] = r.json()["results"]
    return answer


@pytest.mark.parametrize("created", ["2024-06-01T10:00:00", "2024-06-01", "0001-01-01T00:00:00+23:59",
                                     "1717236000", 0])
def test_a_note_the_desk_could_not_read_back_is_rejected(served: Any, created: Any) -> None:
    """A zoneless `created` was applied and served, and opening the customer crashed every
    desk that synced it."""
    store, client, _ = served
    head = store.head()
    answer = result(client, note_add("m1", created=created))
    assert answer["status"] == "rejected" and "created" in answer["reason"]
    assert store.head() == head


@pytest.mark.parametrize("base", ["text", ["a"], 5, True], ids=["string", "list", "number", "bool"])
@pytest.mark.parametrize("kind", ["note.delete", "note.edit", "contact.delete", "customer.update"])
def test_a_base_of_the_wrong_type_is_rejected_not_a_500(served: Any, base: Any, kind: str) -> None:
    _, client, _ = served
    target = {"note.delete": "note_1", "note.edit": "note_1", "contact.delete": "cp_1",
              "customer.update": CID}[kind]
    data = {"base": base} if kind.endswith("delete") else {"set": {"text": "x"} if kind == "note.edit"
                                                           else {"name": "B"}, "base": base}
    answer = result(client, {"id": f"m_{kind}", "kind": kind, "customer_id": CID,
                             "target": target, "data": data})
    assert answer["status"] == "rejected" and "base" in answer["reason"]
    r = client.get("/v1/status")  # and the connection is still served
    assert r.status_code == 200


@pytest.mark.parametrize("where", ["text", "extra field", "author"])
def test_a_lone_surrogate_in_a_record_is_rejected_not_a_500(served: Any, where: str) -> None:
    _, client, _ = served
    field = {"text": "text", "extra field": "mood", "author": "author"}[where]
    body = (b'{"mutations": [{"id": "m_s", "kind": "note.add", "customer_id": "cus_a", '
            b'"target": "n_s", "data": {"id": "n_s", "text": "ok", "' + field.encode()
            + b'": "a\\ud800b"}}]}')
    r = post(client, body)
    assert r.status_code == 200, r.text
    [answer] = r.json()["results"]
    assert answer["status"] == "rejected" and "surrogate" in answer["reason"]


def test_a_lone_surrogate_in_a_mutation_id_is_a_422(served: Any) -> None:
    _, client, _ = served
    r = post(client, b'{"mutations": [{"id": "m\\udc00", "kind": "note.add", "customer_id": '
                     b'"cus_a", "target": "n", "data": {}}]}')
    assert r.status_code == 422


@pytest.mark.parametrize(("value", "words"), [(2**70, "64-bit"), ("deep", "Recursion")])
def test_a_value_no_desk_can_file_is_rejected(served: Any, value: Any, words: str) -> None:
    """An integer past 64 bits comes back to a desk as a float; nesting past what orjson
    writes cannot be filed at all."""
    _, client, _ = served
    if value == "deep":
        import json

        value = json.loads("[" * 250 + "]" * 250)
    answer = result(client, note_add("m_v", mood=value))
    assert answer["status"] == "rejected" and words.lower() in answer["reason"].lower()


def test_a_request_nested_too_deep_to_parse_is_a_4xx(served: Any) -> None:
    _, client, _ = served
    r = post(client, b'{"mutations": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert 400 <= r.status_code < 500


def test_admin_writes_refuse_what_a_desk_cannot_read_back(served: Any) -> None:
    store, _, _ = served
    with pytest.raises(StoreError, match="created"):
        store.upsert("note", {"id": "n_x", "text": "x", "created": "2024-06-01"}, CID)
    with pytest.raises(StoreError, match="cannot be stored"):
        store.upsert("note", {"id": "n_x", "text": "a\ud800"}, CID)


def raw_request(server: ServerThread, head: bytes, body: bytes = b"") -> bytes:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR) if not body else None
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_body_over_the_limit_is_413_before_it_is_read(served: Any) -> None:
    """The store read a 200 MB body whole (657 MB of memory)."""
    _, _, server = served
    head = (f"POST /v1/mutations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {200 << 20}\r\n\r\n").encode()
    started = time.monotonic()
    answer = raw_request(server, head, b'{"mutations": [')
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"request body too large" in answer and time.monotonic() - started < 5


def test_a_chunked_body_over_the_limit_is_413(served: Any) -> None:
    _, _, server = served
    head = (f"POST /v1/mutations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    piece = b"x" * (1 << 20)
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        try:
            for _ in range((MAX_BODY >> 20) + 4):
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while data := sock.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_body_within_the_limit_is_served(served: Any) -> None:
    _, client, _ = served
    answer = result(client, note_add("m_big", text="x" * (MAX_BODY // 2)))
    assert answer["status"] == "applied"


def test_serve_takes_its_token_from_a_file_and_never_from_the_command_line(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "AGENTDESK_SERVER_TOKEN"}
    proc = subprocess.Popen([sys.executable, "-m", "agentdesk", "serve", "--data",
                             str(tmp_path / "srv"), "--port", str(port), "--token-file",
                             str(token_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        for _ in range(200):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/status",
                              headers={"Authorization": f"Bearer {TOKEN}"})
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert r.status_code == 200
        with open(f"/proc/{proc.pid}/cmdline", "rb") as handle:
            assert TOKEN.encode() not in handle.read()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert TOKEN not in out + err
    refused = subprocess.run([sys.executable, "-m", "agentdesk", "serve", "--token", TOKEN],
                             capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 2 and TOKEN not in refused.stderr
