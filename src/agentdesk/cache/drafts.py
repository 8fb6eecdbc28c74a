"""Drafts: what the agent typed in a form and has not saved yet.

One small TinyDB file (`drafts.json` in the cache: table `drafts`, a document per draft,
named by what it is a draft of, e.g. "note:<customer>:new"), written whole, atomically and
0600 like every cache file. The desk writes a draft a moment after each change and when the
form is closed without saving, so a draft survives Esc, a crash of the desk and a restart;
saving the form (or discarding the draft) removes it. Typing is not worth an fsync per pause:
a draft written without one survives the desk's crash, not a power cut; closing the form
writes it durably.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentdesk.cache.database import changing
from agentdesk.cache.files import ReadOnlyCacheError, read_json

TABLE = "drafts"


def note_key(customer_id: str, note_id: str | None = None) -> str:
    """A new note's draft (one per customer), or an edit of note `note_id`."""
    return f"note:{customer_id}:{note_id or 'new'}"


def details_key(customer_id: str) -> str:
    """The edit of a customer's name, company and contact points."""
    return f"details:{customer_id}"


class Drafts:
    """The drafts file of one cache. Thread-safe; every change is written before returning."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = threading.Lock()

    def _docs(self) -> list[dict[str, Any]]:
        try:
            table = (read_json(self.path) or {}).get(TABLE) or {}
        except (ValueError, OSError):  # unreadable: as if empty (the next write replaces it)
            return []
        return [d for d in table.values() if isinstance(d, dict) and isinstance(d.get("key"), str)]

    def get(self, key: str) -> dict[str, Any] | None:
        """The draft's fields and when it was written ({"fields": ..., "saved": ISO time})."""
        with self._lock:
            for doc in self._docs():
                if doc["key"] == key and isinstance(doc.get("fields"), dict):
                    return {"fields": doc["fields"], "saved": str(doc.get("saved", ""))}
        return None

    def keys(self) -> list[str]:
        with self._lock:
            return [d["key"] for d in self._docs()]

    def put(self, key: str, fields: dict[str, Any], *, durable: bool = False) -> None:
        """Keep `fields` as the draft `key` (replacing the one there)."""
        from tinydb import where

        self._writable()
        doc = {"key": key, "fields": fields, "saved": datetime.now(UTC).isoformat()}
        with self._lock:
            try:
                with changing(self.path, durable=durable) as db:
                    db.table(TABLE).upsert(doc, where("key") == key)
            except ValueError:  # a damaged file: set aside (never deleted), then a fresh one
                self.path.replace(self.path.with_name(self.path.name + ".unreadable"))
                with changing(self.path, durable=durable) as db:
                    db.table(TABLE).upsert(doc, where("key") == key)

    def drop(self, key: str) -> None:
        """Forget the draft `key` (saved or discarded); nothing is written if there is none."""
        from tinydb import where

        if self.read_only:
            return
        with self._lock:
            if not any(d["key"] == key for d in self._docs()):
                return
            with changing(self.path) as db:
                db.table(TABLE).remove(where("key") == key)

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyCacheError("This cache is open read-only: another agentdesk is using it.")
