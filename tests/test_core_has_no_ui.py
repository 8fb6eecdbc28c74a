"""The core (and config) must not depend on the UI: no textual, no rich, no agentdesk.ui."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "agentdesk"
CORE_FILES = sorted((SRC / "core").glob("*.py")) + [SRC / "config.py"]
UI_PACKAGES = ("textual", "rich")


def test_importing_core_loads_no_ui_modules() -> None:
    # Not sync/remote here: importing httpx 0.28 imports its own command line (httpx._main,
    # which uses rich) whenever rich is installed. That is httpx's doing, not a dependency of
    # ours; the source check below covers every core module.
    code = (
        "import agentdesk.core.models, agentdesk.core.cache, agentdesk.core.search, "
        "agentdesk.core.sanitize, agentdesk.core.demo, agentdesk.config, "
        "agentdesk.core.replica, agentdesk.core.outbox, agentdesk.core.mutations, "
        "agentdesk.core.protocol, sys; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual','rich')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_using_core_loads_no_ui_modules(tmp_path: Path) -> None:
    """Not only importing: filling a cache, validating, searching and cleaning text too."""
    code = f"""
import sys
from pathlib import Path
from agentdesk.core.cache import Cache
from agentdesk.core import demo
from agentdesk.core.search import CustomerIndex
from agentdesk.core.sanitize import clean_text
from agentdesk.core.models import ContactPoint
from agentdesk.config import load_config
with Cache.open(Path({str(tmp_path / 'cache')!r})) as cache:
    demo.fill(cache, customers=3, big_entries=10)
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


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                package = path.parent.relative_to(SRC.parent).parts
                base = ".".join(package[: len(package) - node.level + 1])
                names.append(f"{base}.{node.module}" if node.module else base)
            else:
                names.append(node.module or "")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            if node.args and isinstance(node.args[0], ast.Constant):
                names.append(str(node.args[0].value))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)):
            names.append(str(node.args[0].value))
    return names


def _is_ui(module: str) -> bool:
    return module.split(".")[0] in UI_PACKAGES or module == "agentdesk.ui" or module.startswith("agentdesk.ui.")


def test_core_files_found() -> None:
    names = {p.name for p in CORE_FILES}
    assert {"models.py", "cache.py", "search.py", "sanitize.py", "storage.py", "validation.py",
            "demo.py", "config.py"} <= names


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_source_imports_no_ui(path: Path) -> None:
    modules = _imported_modules(path)
    assert not [m for m in modules if _is_ui(m)]


def test_the_import_scanner_sees_ui_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "def f():\n"
        "    from textual.widgets import Static\n"
        "    import rich.text\n"
        "    from agentdesk.ui import app\n"
        "    __import__('textual')\n"
    )
    assert [m for m in _imported_modules(sample) if _is_ui(m)] == [
        "textual.widgets", "rich.text", "agentdesk.ui", "textual"
    ]
