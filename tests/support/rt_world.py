"""A real Request Tracker 5 for the tests: started once per test session on 127.0.0.1 with
scripts/rt-server (its own SQLite database in a temporary folder), seeded through its REST 2.0
API as RT's staff would.

Outside CI the RT tests are skipped, saying so, when RT is not installed; under CI (`CI` set by
.ci/run, which installs RT) a missing RT fails them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.sync_world import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "rt-server"
RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
USER, PASSWORD = "root", "password"
_unique = itertools.count(1)


def rt_installed() -> bool:
    return RT_SERVER.exists()


def require_rt() -> None:
    if rt_installed():
        return
    why = ("Request Tracker 5 is not installed (apt-get install request-tracker5 rt5-db-sqlite "
           "rt5-standalone; .ci/run does it)")
    if os.environ.get("CI"):
        pytest.fail(f"{why}: under CI the RT tests must run")
    pytest.skip(f"{why}: RT tests skipped")


@dataclass
class RTServer:
    """scripts/rt-server running on 127.0.0.1:port; `api` talks to it as RT's root."""

    dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> RTServer:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([str(SCRIPT), str(self.dir), str(self.port)],
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"RT stopped at start:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/REST/2.0/rt", auth=(USER, PASSWORD), timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"RT did not answer within {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)  # its own session: the server and its workers
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.process = None


class RTStaff:
    """RT's staff at work, through the REST 2.0 API: users, tickets, replies, edits."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url + "/REST/2.0", auth=(USER, PASSWORD), timeout=30)

    def close(self) -> None:
        self.http.close()

    def _ok(self, response: httpx.Response) -> Any:
        assert response.status_code < 300, (response.status_code, response.text[:500])
        return response.json()

    def user(self, real_name: str, **fields: str) -> int:
        """A new end user (a customer); its number."""
        email = fields.pop("EmailAddress", None) or f"user{next(_unique)}-{time.time_ns()}@example.com"
        response = self.http.post("/user", json={"Name": email, "EmailAddress": email,
                                                 "RealName": real_name, **fields})
        self._ok(response)
        return int(response.headers["location"].rsplit("/", 1)[1])

    def get_user(self, uid: int | str) -> dict[str, Any]:
        return self._ok(self.http.get(f"/user/{uid}"))

    def set_user(self, uid: int, **fields: str) -> None:
        self._ok(self.http.put(f"/user/{uid}", json=fields))

    def ticket(self, uid: int, subject: str, text: str) -> int:
        name = self.get_user(uid)["Name"]
        body = self._ok(self.http.post("/ticket", json={
            "Queue": "General", "Subject": subject, "Requestor": name, "Content": text,
            "ContentType": "text/plain"}))
        return int(body["id"])

    def correspond(self, ticket: int, text: str) -> None:
        self._ok(self.http.post(f"/ticket/{ticket}/correspond",
                                json={"Content": text, "ContentType": "text/plain"}))

    def comment(self, ticket: int, text: str) -> None:
        self._ok(self.http.post(f"/ticket/{ticket}/comment",
                                json={"Content": text, "ContentType": "text/plain"}))

    def set_ticket(self, ticket: int, **fields: Any) -> None:
        self._ok(self.http.put(f"/ticket/{ticket}", json=fields))

    def set_customfield(self, cf: int, **fields: Any) -> None:
        self._ok(self.http.put(f"/customfield/{cf}", json=fields))


_SERVER: list[RTServer] = []


def rt_server() -> RTServer:
    """The session's RT, started on first use (stopped at the session's end by the fixture)."""
    require_rt()
    if not _SERVER:
        root = Path(tempfile.mkdtemp(prefix="agentdesk-rt-"))
        _SERVER.append(RTServer(root, free_port()).start())
    return _SERVER[0]


def stop_rt_server() -> None:
    while _SERVER:
        server = _SERVER.pop()
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def rt() -> Iterator[RTServer]:
    """The session's RT (skipped, or failed under CI, when RT is not installed)."""
    server = rt_server()
    try:
        yield server
    finally:
        stop_rt_server()


@pytest.fixture
def staff(rt: RTServer) -> Iterator[RTStaff]:
    s = RTStaff(rt.url)
    try:
        yield s
    finally:
        s.close()
