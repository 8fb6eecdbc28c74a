"""`agentdesk serve` in a process of its own, as an operator runs it, for the concurrency tests
and the load benchmark: started on a free port of 127.0.0.1, ready once it answers, stopped
(with its workers) on leaving."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    """`agentdesk serve --database URL --data DIR --workers N` (each given or not), with the
    token in $AGENTDESK_SERVER_TOKEN (never on a command line); its output goes to `log`."""

    def __init__(self, token: str, log: Path, *, database: str | None = None,
                 data: Path | None = None, workers: int = 1, extra: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        self.log = log
        args = ["serve", "--port", str(self.port), "--workers", str(workers), *extra]
        args += ["--database", database] if database else []
        args += ["--data", str(data)] if data else []
        env = {**{k: v for k, v in os.environ.items()
                  if k not in ("AGENTDESK_DATABASE", "AGENTDESK_SERVER_TOKEN")},
               "AGENTDESK_SERVER_TOKEN": token, **(env or {})}
        with open(log, "ab") as out:
            # A session of its own, so stopping it stops its workers too.
            self.proc = subprocess.Popen([sys.executable, "-m", "agentdesk.cli", *args], stdout=out,
                                         stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> ServeProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agentdesk serve exited: {self.log.read_text()[-2000:]}")
            try:
                r = httpx.get(f"{self.url}/v1/status", headers={"Authorization": f"Bearer {self.token}"},
                              timeout=2)
                if r.status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"agentdesk serve did not answer: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)

    def __enter__(self) -> ServeProcess:
        return self.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self.stop()
