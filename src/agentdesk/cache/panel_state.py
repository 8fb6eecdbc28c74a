"""How the agent left the customer data pane: which sections are collapsed, which view of the
fields is chosen; and which columns the customers table shows. Kept in the cache (`panel.json`, 0600 like every cache file), so it is the
same at the next start; a read-only desk remembers it for its own run only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentdesk.cache.database import changing, put_single, single
from agentdesk.cache.files import read_json


class PanelState:
    def __init__(self, root: Path, *, read_only: bool) -> None:
        self.path = root / "panel.json"
        self.read_only = read_only
        self._state: dict[str, Any] | None = None

    def _read(self) -> dict[str, Any]:
        if self._state is None:
            try:
                found = single(read_json(self.path), "panel") or {}
            except (ValueError, OSError, AttributeError):
                found = {}
            self._state = found if isinstance(found, dict) else {}
        return self._state

    def collapsed(self) -> set[str]:
        names = self._read().get("collapsed", [])
        return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()

    def field_view(self) -> str:
        view = self._read().get("field_view")
        return view if isinstance(view, str) else "common"

    def table_columns(self) -> list[str] | None:
        """The customers table's columns as the agent chose them (None: never chosen)."""
        names = self._read().get("table_columns")
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else None

    def set_table_columns(self, names: list[str]) -> None:
        self._write(table_columns=list(names))

    def set_collapsed(self, section: str, collapsed: bool) -> None:
        names = self.collapsed() - {section} | ({section} if collapsed else set())
        self._write(collapsed=sorted(names))

    def set_field_view(self, view: str) -> None:
        self._write(field_view=view)

    def _write(self, **changes: Any) -> None:
        state = {**self._read(), **changes}
        self._state = state
        if self.read_only:
            return
        with changing(self.path, durable=False) as db:  # a lost toggle is no harm
            put_single(db, "panel", state)
