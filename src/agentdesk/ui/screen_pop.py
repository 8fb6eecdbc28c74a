"""Screen-pop: `agentdesk open <id | e-mail | phone>` brings a customer up in the running desk.

A phone system or a script routes a call to the agent by running the command; the desk that
has the cache open answers on a Unix socket, `$XDG_RUNTIME_DIR/agentdesk/desk-<hash>.sock`
(one per cache folder: two desks on two caches do not answer for each other). The folder is
0700 and the socket 0600, and the desk checks the peer's user id too: only the agent's own
processes reach it; there is no network port.

The exchange is one JSON line each way:

    → {"open": "ada@example.com"}
    ← {"ok": true, "customer": "cus_000001", "name": "Ada Lovelace"}
    ← {"ok": false, "error": "no customer has the e-mail address ..."}

A line that is not such an object, or names nobody, is answered with an error and changes
nothing in the desk. Textual is not imported here: the command imports this module to ask the
desk, and must not pay for loading the UI to do so.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
import stat
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

MAX_LINE = 4096  # bytes of one request; more is refused, not read on
READ_TIMEOUT = 5.0  # seconds a client has to send its line
ANSWER_TIMEOUT = 15.0  # seconds the command waits for the desk (its index may still be loading)
USAGE = 'expected one JSON line like {"open": "cus_123"} (an id, an e-mail address or a phone number)'

Answer = dict[str, Any]


class ScreenPopError(Exception):
    """The socket's folder cannot be used safely (not ours, not private); the message says why."""


def socket_folder() -> Path:
    """The agent's runtime folder for desk sockets (a private folder in /tmp without one)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "agentdesk"
    import tempfile  # only without a runtime folder: not on the way to the desk's first frame

    return Path(tempfile.gettempdir()) / f"agentdesk-{os.getuid()}"


def socket_path(cache_root: Path) -> Path:
    """The socket of the desk that has the cache at `cache_root` open."""
    key = hashlib.sha256(str(Path(cache_root).expanduser().resolve()).encode()).hexdigest()[:16]
    return socket_folder() / f"desk-{key}.sock"


def private_folder(folder: Path) -> Path:
    """Make `folder` (0700) or check that the one there is a folder of ours that no one else
    can enter: a socket in a folder another user controls could be swapped for theirs."""
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError as error:
        raise ScreenPopError(f"cannot use {folder}: {error.strerror or error}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise ScreenPopError(f"{folder} is not a folder of this user")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(folder, 0o700)
    return folder


def _peer_is_us(sock: socket.socket | None) -> bool:
    """The connecting process runs as this user (Linux tells; elsewhere the folder's 0700 has
    to do)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if sock is None or option is None:
        return True
    try:
        _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, option,
                                                              struct.calcsize("3i")))
    except OSError:
        return False
    return uid == os.getuid()


def parse_request(line: bytes) -> str | Answer:
    """The target a request line names, or the error answer for a line that names none."""
    try:
        request = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return {"ok": False, "error": f"not valid JSON: {USAGE}"}
    target = request.get("open") if isinstance(request, dict) else None
    if not isinstance(target, str) or not target.strip():
        return {"ok": False, "error": USAGE}
    return target


def _encode(answer: Answer) -> bytes:
    # ensure_ascii: no byte of the answer is a control character on the caller's terminal.
    return json.dumps(answer, ensure_ascii=True).encode() + b"\n"


class ScreenPopServer:
    """The desk's end: serves the socket while the desk runs, one request per connection."""

    def __init__(self, path: Path, handle: Callable[[str], Awaitable[Answer]]) -> None:
        self.path = path
        self._handle = handle
        self._server: asyncio.base_events.Server | None = None
        self._inode: int | None = None

    async def start(self) -> bool:
        """Serve, unless a desk already answers on this socket (False). The socket is bound
        under a temporary name, made 0600, then renamed into place: it is never reachable
        with wider permissions, and no process-wide umask is touched."""
        folder = private_folder(self.path.parent)
        if self.path.exists() and await asyncio.to_thread(_answers, self.path):
            return False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        temporary = folder / f".{self.path.name}.{os.getpid()}.tmp"
        try:
            temporary.unlink(missing_ok=True)
            sock.bind(str(temporary))
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)  # over a socket no desk answers on any more
            self._inode = os.lstat(self.path).st_ino
            sock.listen(8)
            sock.setblocking(False)
            self._server = await asyncio.start_unix_server(self._client, sock=sock,
                                                           limit=MAX_LINE + 2)
        except BaseException:
            sock.close()
            temporary.unlink(missing_ok=True)
            raise
        return True

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        self._server = None
        with contextlib.suppress(OSError):  # only our socket: not one a newer desk put there
            if os.lstat(self.path).st_ino == self._inode:
                self.path.unlink()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not _peer_is_us(writer.get_extra_info("socket")):
                return
            try:
                line = await asyncio.wait_for(reader.readuntil(b"\n"), READ_TIMEOUT)
            except asyncio.LimitOverrunError:
                answer: Answer = {"ok": False, "error": f"the request is longer than {MAX_LINE} "
                                  f"bytes: {USAGE}"}
            except asyncio.IncompleteReadError as error:  # no newline: the line is what came
                answer = await self._answer(error.partial)
            else:
                answer = await self._answer(line)
            writer.write(_encode(answer))
            await writer.drain()
        except (TimeoutError, ConnectionError, ValueError):
            pass  # a caller that went quiet or away: nothing to answer
        finally:
            writer.close()

    async def _answer(self, line: bytes) -> Answer:
        target = parse_request(line)
        return target if isinstance(target, dict) else await self._handle(target)


def _answers(path: Path) -> bool:
    """A desk listens on `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def ask_desk(path: Path, target: str, timeout: float = ANSWER_TIMEOUT) -> Answer | None:
    """The command's end: ask the desk listening on `path` to open `target`. None when no
    desk listens there (none runs on that cache, or one that stopped left its socket)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
            return None
        sock.sendall(_encode({"open": target}))
        received = b""
        while not received.endswith(b"\n") and len(received) <= MAX_LINE * 4:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    try:
        answer = json.loads(received)
    except ValueError:
        return {"ok": False, "error": "the desk did not answer (it may be closing)"}
    return answer if isinstance(answer, dict) else {"ok": False, "error": "the desk's answer was not understood"}
