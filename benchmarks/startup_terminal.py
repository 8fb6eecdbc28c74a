"""Start-up as the agent sees it: `agentdesk` launched in a real terminal until its profile
shows, against a minimal Textual app launched the same way until its text shows.

Each run is a fresh process in a new tmux window of the given size (see `terminal.py`): the
interpreter, the console script, imports, the terminal handshake and the first frame all
count, as they do for the agent. Runs alternate between the apps; the figure is the median of
the per-round ratios (neighbours in time), as the VM's speed drifts within a run.

Three commands are timed against the same minimal app:
* `agentdesk --cache DIR --customer ID` on the benchmark cache (100,000 customers);
* `agentdesk --cache DEMO_CACHE`, the demo's cache opened without its store;
* `agentdesk --demo`, started again once the demo's store and cache exist (the second start
  of the one-command demo: its store is served in-process).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report import Row, median, ms, say
from terminal import Terminal, quiet_env

HERE = Path(__file__).resolve().parent
MARK_DESK = "Contact"  # the Customer Details panel's first section: the profile is on screen
AGENTDESK = str(Path(sys.executable).with_name("agentdesk"))


def _minimal() -> tuple[list[str], str]:
    from minimal_app import TEXT

    return [sys.executable, str(HERE / "minimal_app.py")], TEXT


def _env(home: Path, pycache: Path | None) -> dict[str, str]:
    """A home of its own: no user config, the demo's store and cache kept there."""
    env = quiet_env(HOME=str(home), XDG_DATA_HOME=str(home / "data"),
                    XDG_CONFIG_HOME=str(home / "config"), AGENTDESK_CONFIG=str(home / "none.toml"))
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _prepare_demo(term: Terminal, env: dict[str, str], size: tuple[int, int]) -> None:
    """The demo's first start: seeds its store and syncs its cache (not timed)."""
    term.time_until([AGENTDESK, "--demo"], "● online", size=size, env=env, timeout=180)


def bench(cache: Path, customer: str, runs: int, size: tuple[int, int],
          pycache: Path | None) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="agentdesk-term-"))
    try:
        env = _env(home, pycache)
        mini_cmd, mini_text = _minimal()
        desk_cmd = [AGENTDESK, "--cache", str(cache), "--customer", customer]
        times: dict[str, list[float]] = {"minimal": [], "desk": [], "demo-cache": [], "demo": []}
        say(f"\n[1] Start-up in a terminal (tmux {size[0]}x{size[1]}, launch → text on screen; "
            f"{runs} rounds, alternating)")
        with Terminal() as term:
            _prepare_demo(term, env, size)
            demo_cache = home / "data" / "agentdesk" / "demo"
            commands = {"minimal": (mini_cmd, mini_text), "desk": (desk_cmd, MARK_DESK),
                        "demo-cache": ([AGENTDESK, "--cache", str(demo_cache)], MARK_DESK),
                        "demo": ([AGENTDESK, "--demo"], MARK_DESK)}
            for kind, (cmd, text) in commands.items():  # warm-up: page cache, .pyc files
                term.time_until(cmd, text, size=size, env=env)
            for n in range(runs):
                order = list(commands) if n % 2 == 0 else list(reversed(commands))
                for kind in order:
                    cmd, text = commands[kind]
                    times[kind].append(term.time_until(cmd, text, size=size, env=env))
                    time.sleep(0.2)  # let the killed process's exit settle
                say(f"  round {n + 1}: " + ", ".join(f"{k} {ms(v[-1])}" for k, v in times.items()))
        return times
    finally:
        shutil.rmtree(home, ignore_errors=True)


def rows(times: dict[str, list[float]]) -> list[Row]:
    mini = times["minimal"]
    out = []
    for kind, label in (("desk", "`agentdesk` (cache of 100,000 customers)"),
                        ("demo-cache", "`agentdesk --cache <the demo's cache>`"),
                        ("demo", "`agentdesk --demo` (second start)")):
        ratios = [d / m for d, m in zip(times[kind], mini, strict=True)]
        ratio = median(ratios)
        out.append(Row(
            f"Start-up in a terminal, {label} → profile on screen, vs a minimal Textual app "
            f"(tmux, median of {len(ratios)} rounds' ratios)",
            f"{ms(median(times[kind]))} vs {ms(median(mini))}: ×{ratio:.2f} "
            f"(rounds ×{min(ratios):.2f}-{max(ratios):.2f})",
            "≤ ×1.3", ratio <= 1.3))
    return out
