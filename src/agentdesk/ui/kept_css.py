"""Textual's stylesheet with its parsed rules kept on disk from one start to the next.

Textual parses every source of styles (the desk's .tcss files and each widget class's
DEFAULT_CSS) on every start, before the first frame: the largest single part of the desk's
start-up beyond a minimal app's (benchmarks/README.md has the figures). What a source parses
to depends only on its text, where it was read from, its flags and the theme's variables, so
the rules are kept in one file per Textual install and theme, read once when the desk starts
and written again, after the first frame, when a source was parsed that the file lacked.

The file is a pickle in the agent's own cache folder (0700; the file 0600): as trusted as
the bytecode Python caches beside our modules. Loading still accepts nothing but Textual's
and Rich's classes, so a stray or damaged file is parsed again rather than obeyed; any
failure to read or write it costs only the parse it would have saved.
"""

from __future__ import annotations

import io
import os
import pickle
import threading
from pathlib import Path
from typing import Any

from textual.css import model, styles
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

from agentdesk.cache.files import atomic_write_bytes
from agentdesk.model.sha256 import sha256

Rules = dict[tuple[Any, ...], list[RuleSet]]

# What a pickle of parsed rules refers to besides Textual's and Rich's own classes: enum
# members and selector checks are pickled as getattr and partial calls.
_ALSO_ALLOWED = {("builtins", "getattr"), ("functools", "partial"), ("builtins", "set"),
                 ("builtins", "frozenset")}


def kept_css_folder() -> Path:
    """Where the parsed rules are kept: the user's cache folder, not the desk's data cache
    (they hold nothing of a customer's, and every cache folder shares them)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "agentdesk" / "css"


class _TextualOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.split(".", 1)[0] in ("textual", "rich") or (module, name) in _ALSO_ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of parsed styles")


def _textual_made() -> tuple[int, ...]:
    """When and how large the modules of the pickled classes are: another Textual (an
    upgrade rewrites them) has other files. (`textual.__version__` reads the package's
    metadata: ~10 ms at start.)"""
    stats = [os.stat(module.__file__ or "") for module in (model, styles)]
    return tuple(n for stat in stats for n in (stat.st_mtime_ns, stat.st_size))


class KeptRules:
    """The parsed rules of one theme, as read from (and written back to) one file."""

    def __init__(self, folder: Path, variables: dict[str, str]) -> None:
        made = repr((_textual_made(), sorted(variables.items())))
        digest = sha256(made.encode()).hexdigest()[:20]
        self.path = folder / f"rules-{digest}.pickle"
        self.rules: Rules = self._read()
        self.added = False  # a source was parsed that the file did not hold

    def _read(self) -> Rules:
        try:
            data = self.path.read_bytes()
        except OSError:
            return {}
        try:
            rules = _TextualOnly(io.BytesIO(data)).load()
        except Exception:  # noqa: BLE001 - damaged, or from another kind of file: parse again
            return {}
        return rules if isinstance(rules, dict) else {}

    def write(self, rules: Rules) -> None:
        """Write `rules` to the file, atomically (0600, in 0700 folders), as the cache writes
        its files; not fsynced: a lost file is only parsed again."""
        try:
            atomic_write_bytes(self.path, pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL),
                               durable=False)
        except OSError:
            pass  # a read-only home: the next start parses again, as it would without this


class KeptStylesheet(Stylesheet):
    """A Stylesheet that takes a source's rules from `KeptRules` when they were parsed
    before with the same theme variables."""

    def __init__(self, *, variables: dict[str, str] | None = None,
                 folder: Path | None = None) -> None:
        super().__init__(variables=variables)
        self.folder = folder if folder is not None else kept_css_folder()
        self._kept: KeptRules | None = None

    @property
    def kept(self) -> KeptRules:
        # Read when first asked for: the theme's variables are set by then.
        if self._kept is None:
            self._kept = KeptRules(self.folder, self._variables)
        return self._kept

    def set_variables(self, variables: dict[str, str]) -> None:
        super().set_variables(variables)
        self._kept = None  # another theme: another file

    def _parse_rules(self, css: str, read_from: Any, is_default_rules: bool = False,
                     tie_breaker: int = 0, scope: str = "") -> list[RuleSet]:
        key = (css, read_from, is_default_rules, tie_breaker, scope)
        kept = self.kept
        rules = kept.rules.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            kept.rules[key] = rules
            kept.added = True
        return rules

    def reparse(self) -> None:
        # Textual's reparse parses every source again in a fresh plain Stylesheet (a theme
        # set from the config at start does this once): the same, through the kept rules.
        fresh = KeptStylesheet(variables=self._variables, folder=self.folder)
        fresh._kept = self.kept
        for read_from, (css, is_defaults, tie_breaker, scope) in self.source.items():
            fresh.add_source(css, read_from=read_from, is_default_css=is_defaults,
                             tie_breaker=tie_breaker, scope=scope)
        try:
            fresh.parse()
        except Exception:
            self._invalid_css.update(fresh._invalid_css)
            raise
        self._rules = fresh.rules
        self._rules_map = None
        self.source = fresh.source
        self._require_parse = False

    def keep(self) -> None:
        """Write the rules parsed so far, in a thread (the caller is the UI; not a daemon, so
        that an exit waits for the write)."""
        kept = self.kept
        if kept.added:
            kept.added = False
            rules = dict(kept.rules)  # a copy: the UI may parse more while the thread writes
            threading.Thread(target=kept.write, args=(rules,), name="kept-css").start()
