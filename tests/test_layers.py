"""The layers hold: model -> cache -> sync -> ui and server, checked by import-linter.

`lint-imports` reads the contracts in pyproject.toml ([tool.importlinter]); these tests run it
in the test run, show that it catches an upward import, and check at run time what a static
check cannot see: using the layers below the UI loads no Textual or Rich.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, *, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = None
    if pythonpath is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


def test_the_import_contracts_are_kept() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    """The contracts are not vacuous: the model importing the cache is reported."""
    shutil.copytree(ROOT / "src" / "agentdesk", tmp_path / "src" / "agentdesk",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    kinds = tmp_path / "src" / "agentdesk" / "model" / "kinds.py"
    kinds.write_text(kinds.read_text() + "\nimport agentdesk.cache.files  # upward\n")
    result = _lint(tmp_path, pythonpath=tmp_path / "src")
    assert result.returncode == 1, result.stdout
    assert "agentdesk.model.kinds -> agentdesk.cache.files" in result.stdout


def test_using_the_layers_below_the_ui_loads_no_ui(tmp_path: Path) -> None:
    """Not only importing: filling a cache, validating, searching and cleaning text too.
    (Not the sync client: importing httpx imports its own command line, which uses rich,
    whenever rich is installed; that is httpx's doing, not a dependency of ours.)"""
    code = f"""
import sys
from pathlib import Path
from agentdesk.cache.cache import Cache
from agentdesk.model import demo
from agentdesk.cache.search import CustomerIndex
from agentdesk.model.sanitize import clean_text
from agentdesk.model.records import ContactPoint
from agentdesk.config import load_config
import agentdesk.sync.replica, agentdesk.cache.outbox, agentdesk.model.protocol
with Cache.open(Path({str(tmp_path / 'cache')!r})) as cache:
    cache.import_profiles(demo.dataset(customers=3, big_entries=10))
    CustomerIndex(cache.index_rows()).search("a")
    cache.add_note("cus_000001", "x")
ContactPoint(kind="email", value="a@example.com")
clean_text("\\x1b[2Jx")
load_config(Path({str(tmp_path / 'config.toml')!r}))
print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich') or m.startswith('agentdesk.ui')))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]", result.stdout
