"""The real program in a pseudo-terminal, on hostile data: no injected sequence reaches it.

Runs `python -m agentdesk` attached to a pty (as a terminal would), opens the hostile
customer, scrolls, opens search and help, quits, and scans every byte written to the terminal.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentdesk.model import demo
from agentdesk.cache.cache import Cache

# What the hostile profile tries to send, and must never be seen verbatim in the output.
INJECTED = [
    b"\x1b]52;",  # OSC 52 clipboard write
    b"cHduZWQ=",  # its payload
    b"\x1b]0;pwned",  # window title
    b"\x1b]2;owned",
    b"\x1b]8;;http://evil",  # hyperlink
    b"\x1b[5m",  # blink
    b"\x1b[8m",  # conceal
]
# C1 controls as UTF-8 (U+0080..U+009F) or raw bytes are never part of Textual's output.
C1 = re.compile(rb"\xc2[\x80-\x9f]")


def read_until(fd: int, deadline: float, needle: bytes | None, out: bytearray) -> bool:
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return False
            if not data:
                return False
            out.extend(data)
            if needle is not None and needle in out:
                return True
    return needle is None


@pytest.mark.slow
def test_no_injected_sequence_reaches_the_terminal(demo_template: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    shutil.copytree(demo_template, cache_dir)
    with Cache.open(cache_dir) as cache:
        assert cache.load_profile(demo.HOSTILE_ID) is not None
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "35",
           "AGENTDESK_CONFIG": str(tmp_path / "none.toml"), "TZ": "UTC"}
    import fcntl
    import struct
    import termios

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentdesk", "--cache", str(cache_dir), "--customer", demo.HOSTILE_ID],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
    )
    os.close(slave)
    out = bytearray()
    try:
        assert read_until(master, time.monotonic() + 30, b"Mallory", out), out[-2000:]
        read_until(master, time.monotonic() + 1.0, None, out)
        for keys in [b"g", b"G", b"\t", b"\t", b"j", b"/", b"mall", b"\x1b", b"?", b"\x1b"]:
            os.write(master, keys)
            read_until(master, time.monotonic() + 0.6, None, out)
        os.write(master, b"q")
        read_until(master, time.monotonic() + 5, None, out)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(master)
    assert proc.returncode == 0
    text = bytes(out)
    # The hostile text itself was drawn (literally, markup included)...
    assert b"[bold red]Mallory[/]" in text
    assert b"[USD]" in text
    # ...and nothing it tried to send got through.
    for sequence in INJECTED:
        assert sequence not in text, sequence
    assert not C1.search(text)
    assert b"\x1b[2J" not in text  # Textual never clears this way; the hostile text tried
    assert b"Screen wipe" in text and b"C1 bytes:" in text
