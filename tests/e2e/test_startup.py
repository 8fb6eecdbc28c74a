"""The way to the first painted profile: what the desk does before it and what it leaves for after."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agentdesk.cache.cache import Cache

# Runs the desk headless in a fresh interpreter, as `agentdesk` does, and reports at its first
# painted profile which modules were loaded.
PAINT = """
import json, os, sys
from pathlib import Path
from agentdesk.ui.startup import pause_gc
pause_gc()
from agentdesk.config import Config
from agentdesk.cache.cache import Cache
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.profile import ProfileScreen

cache = Cache.open(Path(sys.argv[1]))

class Desk(AgentDesk):

    def _display(self, screen, renderable):
        super()._display(screen, renderable)
        if isinstance(screen, ProfileScreen) and screen.profile is not None:
            print(json.dumps({"customer": screen.profile.customer.id,
                              "modules": sorted(m for m in sys.modules if m.startswith(("pydantic", "httpx", "tinydb", "agentdesk.ui.customer_chart", "agentdesk.model.customer_stats")))}))
            sys.stdout.flush()
            os._exit(0)

Desk(cache, Config(path=Path(sys.argv[1]) / "none.toml", author="t", keymap={}),
     customer_id="cus_000000").run(headless=True, size=(120, 35))
"""


def test_the_first_profile_is_painted_before_pydantic_httpx_or_tinydb_load(demo_cache: Cache) -> None:
    """Models, the remote client and TinyDB (for writes) load after the first frame; the
    customers-over-time chart when it is opened."""
    demo_cache.close()  # the child takes the write lock, as a real desk would
    out = subprocess.run([sys.executable, "-c", PAINT, str(demo_cache.root)], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).parent)
    assert out.returncode == 0, out.stderr[-2000:]
    painted = json.loads(out.stdout.strip().splitlines()[-1])
    assert painted == {"customer": "cus_000000", "modules": []}
