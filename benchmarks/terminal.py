"""Timing what the agent waits for: a command launched in a real terminal (tmux) until a
given text is on its screen.

tmux gives each run a real pseudo-terminal of a fixed size and Textual its real driver, so
the figure includes everything the agent waits for: the interpreter, the console script,
imports, the terminal handshake and the first frame written and drawn. The screen is read
with `tmux capture-pane` in a tight loop (a few milliseconds a read), and the time is taken
from just before the launch to the first read that shows the text.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Mapping

SESSION = "agentdesk-bench"


def _tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=check)


class Terminal:
    """A tmux server kept running for the benchmark (so its own start is not timed)."""

    def __enter__(self) -> Terminal:
        _tmux("kill-session", "-t", SESSION, check=False)
        _tmux("new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24", "sleep 100000")
        return self

    def __exit__(self, *exc: object) -> None:
        _tmux("kill-session", "-t", SESSION, check=False)

    def time_until(self, command: list[str], text: str, *, size: tuple[int, int] = (120, 35),
                   env: Mapping[str, str] | None = None, timeout: float = 30.0) -> float:
        """Seconds from launching `command` in a new window of `size` until `text` shows."""
        window = f"run{time.monotonic_ns()}"
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        shell = f"exec env {prefix} {shlex.join(command)}" if prefix else f"exec {shlex.join(command)}"
        _tmux("set-option", "-t", SESSION, "default-size", f"{size[0]}x{size[1]}")
        start = time.perf_counter()
        _tmux("new-window", "-d", "-t", SESSION, "-n", window, shell)
        target = f"{SESSION}:{window}"
        pid = _tmux("display-message", "-p", "-t", target, "#{pane_pid}", check=False).stdout
        try:
            while True:
                screen = _tmux("capture-pane", "-p", "-t", target, check=False).stdout
                if text in screen:
                    return time.perf_counter() - start
                if time.perf_counter() - start > timeout:
                    raise TimeoutError(f"{command[0]}: {text!r} not on screen after {timeout} s:\n{screen}")
        finally:
            _tmux("kill-window", "-t", target, check=False)
            _gone(pid.strip())


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
