"""How long `q` takes to quit the desk when keys are queued ahead of it, measured outside-in.

The real `agentdesk` command runs on a pseudo-terminal (Textual's real driver) on a small
cache of its own: the demo data set plus one customer whose note and newest timeline entry
hold 1 MB of text each (the huge-field case of issue 21). Once the profile is on screen, N
keys and then `q` are written to the terminal in one write, as a held-down key or a paste
would queue them; the figure is the time from that write until the process has exited
(terminal restored). "q alone" is the same with no keys ahead: the floor (Textual's shutdown).

    python quit_bench.py build DIR          # the cache (run.py calls it in a child process)
    python quit_bench.py measure DIR        # every case, printed as JSON

run.py (`--only quit`) builds the cache in a temporary folder and reports the figures.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HUGE_ID = "cus_bench_huge"
BIG_ID = "cus_big_timeline"  # agentdesk.model.demo.BIG_ID: 10,000 entries
TYPICAL_ID = "cus_000007"
MEGABYTE = 1_000_000

# (label, customer, keys written before q)
CASES: list[tuple[str, str, str]] = [
    ("q alone, typical customer", TYPICAL_ID, ""),
    ("300 × j then q, 10,000-entry timeline", BIG_ID, "j" * 300),
    ("300 × ] then q, 10,000-entry timeline", BIG_ID, "]" * 300),
    ("150 × Tab, b then q, 10,000-entry timeline", BIG_ID, "\tb" * 150),
    ("300 × j then q, 1 MB note and entry", HUGE_ID, "j" * 300),
]


def build(root: Path) -> None:
    """The demo data set and the huge-field customer, in a fresh cache at `root`."""
    from datetime import timedelta

    from agentdesk.cache.cache import Cache
    from agentdesk.model import demo
    from agentdesk.model.records import Channel, Conversation, Customer, Direction, Note, Profile
    from agentdesk.model.records import TimelineEntry

    words = ("lorem ipsum dolor sit amet consectetur adipiscing elit " * (MEGABYTE // 50))[:MEGABYTE]
    conversation = Conversation(id="conv_huge", topic="Huge", started=demo.EPOCH)
    entries = [
        TimelineEntry(id=f"ent_huge_{n}", conversation_id="conv_huge",
                      at=demo.EPOCH + timedelta(minutes=n), channel=Channel.EMAIL,
                      direction=Direction.INBOUND, body=words if n == 19 else f"message {n}")
        for n in range(20)
    ]
    huge = Profile(customer=Customer(id=HUGE_ID, name="Hilde Hugefield"),
                   conversations=[conversation], notes=[Note(text=words, author="bench")])
    with Cache.open(root) as cache:
        cache.import_profiles([*demo.dataset(), (huge, entries)])


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("TEXTUAL", "AGENTDESK_REMOTE", "AGENTDESK_TOKEN", "AGENTDESK_CACHE", "NO_COLOR"):
        env.pop(name, None)
    env["AGENTDESK_CONFIG"] = str(root / "no-config.toml")  # defaults; never the user's own
    env.setdefault("TERM", "xterm-256color")
    env["COLORTERM"] = "truecolor"
    env["TZ"] = "UTC"
    return env


def quit_once(root: Path, customer: str, keys: str, size: tuple[int, int] = (120, 35),
              timeout: float = 120.0) -> dict[str, float]:
    """Start the desk on `customer`, wait for its first screen, write `keys` + q, and time the
    exit. Returns {"quit": seconds from the write to the exit, "start": spawn to screen}."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    cmd = [sys.executable, "-m", "agentdesk.cli", "--cache", str(root), "--customer", customer]
    spawn = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=_env(root),
                            start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        # The profile is on screen once the sync line has been drawn (it is below the
        # profile's widgets); then a moment for the index to load in the background.
        deadline = spawn + timeout
        while b"local cache only" not in seen:
            if time.perf_counter() > deadline or proc.poll() is not None:
                raise SystemExit(f"quit_bench: the desk did not show {customer} "
                                 f"(exit {proc.poll()})")
            if select.select([master], [], [], 0.1)[0]:
                seen = (seen + os.read(master, 1 << 16))[-4096:]
        started = time.perf_counter() - spawn
        end = time.perf_counter() + 1.5
        while time.perf_counter() < end:  # settle: drain what the first frames wrote
            if select.select([master], [], [], 0.05)[0]:
                os.read(master, 1 << 16)
        data = (keys + "q").encode()
        t0 = time.perf_counter()
        os.write(master, data)
        while proc.poll() is None:
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"quit_bench: still running {timeout:.0f} s after q")
            if select.select([master], [], [], 0.005)[0]:
                try:
                    os.read(master, 1 << 16)
                except OSError:
                    break
        proc.wait()
        return {"quit": time.perf_counter() - t0, "start": started}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def measure(root: Path, runs: int = 3) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for label, customer, keys in CASES:
        results[label] = [quit_once(root, customer, keys)["quit"] for _ in range(runs)]
        print(f"  {label}: " + ", ".join(f"{t * 1000:,.0f} ms" for t in results[label]),
              file=sys.stderr, flush=True)
    return results


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("build", "measure"):
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[1])
    if argv[0] == "build":
        build(root)
        return 0
    runs = int(argv[2]) if len(argv) > 2 else 3
    print(json.dumps(measure(root, runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
