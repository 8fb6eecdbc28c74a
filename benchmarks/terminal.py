"""Timing what the agent waits for: a command launched in a real terminal (tmux) until a
given text is on its screen.

tmux gives each run a real pseudo-terminal of a fixed size and Textual its real driver, so
the figure includes everything the agent waits for: the interpreter, the console script,
imports, the terminal handshake and the first frame written and drawn. The time is taken from
just before the launch to the first `capture-pane` that shows the text.

The screen is read through one tmux client in control mode (`tmux -C`), kept for the whole
benchmark: a read is a line written to it and its reply, about 0.1 ms, every millisecond.
Reading it with a new `tmux capture-pane` process each time (fork, exec, connect: a few ms
each, back to back) kept one of the machine's two CPUs busy beside the command timed, and the
figures moved by up to a third from one run to the next.
"""

from __future__ import annotations

import os
import select
import shlex
import subprocess
import time
from collections.abc import Mapping

SESSION = "agentdesk-bench"
READ_EVERY = 0.001  # seconds between two reads of the screen


def _tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=check)


class Terminal:
    """A tmux session and a control-mode client on it, kept for the benchmark (so their own
    start is not timed); each command runs in a new window of the session."""

    def __enter__(self) -> Terminal:
        _tmux("kill-session", "-t", SESSION, check=False)
        _tmux("new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24", "sleep 100000")
        self._client = subprocess.Popen(["tmux", "-C", "attach", "-t", SESSION],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._unread = b""
        self._reply()  # to the attach itself
        self._command("refresh-client", "-f", "no-output")  # the panes' output is not copied here
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._client.stdin is not None
        self._client.stdin.close()
        self._client.wait(timeout=10)
        _tmux("kill-session", "-t", SESSION, check=False)

    def time_until(self, command: list[str], text: str, *, size: tuple[int, int] = (120, 35),
                   env: Mapping[str, str] | None = None, timeout: float = 30.0) -> float:
        """Seconds from launching `command` in a new window of `size` until `text` shows."""
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        shell = f"exec env {prefix} {shlex.join(command)}" if prefix else f"exec {shlex.join(command)}"
        self._command("refresh-client", "-C", f"{size[0]}x{size[1]}")  # windows take its size
        start = time.perf_counter()
        [made] = self._command("new-window", "-d", "-P", "-F", "#{pane_id} #{pane_pid}",
                               "-t", SESSION, shell)
        pane, pid = made.split()
        try:
            while True:
                screen = "\n".join(self._command("capture-pane", "-p", "-t", pane))
                if text in screen:
                    return time.perf_counter() - start
                if time.perf_counter() - start > timeout:
                    raise TimeoutError(f"{command[0]}: {text!r} not on screen after {timeout} s:\n{screen}")
                time.sleep(READ_EVERY)
        finally:
            self._command("kill-window", "-t", pane)
            _gone(pid)

    def _command(self, *args: str) -> list[str]:
        """Run a tmux command through the client; its output lines."""
        assert self._client.stdin is not None
        self._client.stdin.write(shlex.join(args).encode() + b"\n")
        self._client.stdin.flush()
        return self._reply()

    def _reply(self) -> list[str]:
        """The lines between the next %begin and its %end (notifications around it skipped)."""
        while not (begin := self._line()).startswith("%begin "):
            pass
        number = begin.split()[1:3]  # time and command number: the %end repeats them
        lines: list[str] = []
        while True:
            line = self._line()
            if line.startswith(("%end ", "%error ")) and line.split()[1:3] == number:
                if line.startswith("%error "):
                    raise RuntimeError(f"tmux: {' '.join(lines)}")
                return lines
            lines.append(line)

    def _line(self) -> str:
        assert self._client.stdout is not None
        while b"\n" not in self._unread:
            ready, _, _ = select.select([self._client.stdout], [], [], 30)
            chunk = os.read(self._client.stdout.fileno(), 1 << 16) if ready else b""
            if not chunk:
                raise RuntimeError("tmux: the control client stopped answering")
            self._unread += chunk
        line, self._unread = self._unread.split(b"\n", 1)
        return line.decode("utf-8", "replace")


def _gone(pid: str, within: float = 10.0) -> None:
    """Wait until the killed command has exited: a Textual app takes about a second after
    its terminal closes (the desk goes on reading its index meanwhile), and a command started
    beside it shared the two CPUs with it, which moved the next run's time by up to ~40%."""
    if not pid.isdigit():
        return
    until = time.perf_counter() + within
    while time.perf_counter() < until:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return
        except PermissionError:
            return
        time.sleep(0.005)


def quiet_env(**extra: str) -> dict[str, str]:
    """The environment of a timed command: no colour probing differences, UTC clock."""
    env = {"TERM": os.environ.get("TERM", "xterm-256color"), "TZ": "UTC"}
    env.update(extra)
    return env
