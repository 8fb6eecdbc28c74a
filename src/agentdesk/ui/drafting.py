"""A form's draft: what the agent typed, kept in the cache (`cache/drafts.py`) until saved.

The form hands its fields over after each change; they are written a moment later (one write
per pause in typing, not per key), and at once when the form closes without saving. Fields
equal to what the form opened with are no draft: the stored one is removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.screen import Screen
from textual.timer import Timer

from agentdesk.cache.drafts import Drafts
from agentdesk.cache.files import CacheError

PAUSE = 0.3  # seconds without a change before the draft is written


class DraftKeeper:
    def __init__(self, screen: Screen, drafts: Drafts | None, key: str | None,
                 fields: Callable[[], dict[str, Any]]) -> None:
        self.screen = screen
        self.drafts = drafts if key else None
        self.key = key or ""
        self.fields = fields
        self.original: dict[str, Any] = {}
        self.saved_at = ""  # when the draft shown at opening was written (ISO), if one was
        self._timer: Timer | None = None
        self._pending: dict[str, Any] | None = None  # the fields at the last change not written
        self._stopped = False
        self._failed = False

    def start(self) -> dict[str, Any] | None:
        """Remember the fields as opened; the stored draft's fields, if there is one."""
        self.original = self.fields()
        if self.drafts is None:
            return None
        draft = self.drafts.get(self.key)
        if draft is None:
            return None
        self.saved_at = draft["saved"]
        return draft["fields"]

    @property
    def dirty(self) -> bool:
        """Something typed that is not saved (what a discard would lose)."""
        return self.fields() != self.original

    def changed(self) -> None:
        if self.drafts is None or self._stopped:
            return
        self._pending = self.fields()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.screen.set_timer(PAUSE, self.write)

    def write(self, *, durable: bool = False) -> bool:
        """Keep the fields as the draft now (or remove it if they are as opened). Whether a
        draft is kept."""
        return self._store(self.fields(), durable)

    def write_pending(self) -> None:
        """Write what changed since the last write, if anything (the form is closing: its
        fields may be gone already, so the copy taken at the change is written)."""
        if self._timer is not None and self._pending is not None:
            self._store(self._pending, durable=False)

    def _store(self, fields: dict[str, Any], durable: bool) -> bool:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._pending = None
        if self.drafts is None or self._stopped:
            return False
        try:
            if fields == self.original:
                self.drafts.drop(self.key)
                return False
            self.drafts.put(self.key, fields, durable=durable)
            return True
        except (CacheError, OSError) as error:
            if not self._failed:  # once: the agent is typing
                self._failed = True
                self.screen.notify(f"Could not keep a draft of this form: {error}",
                                   severity="error", markup=False)
            return False

    def discard(self) -> None:
        """Forget the draft for good (the agent confirmed)."""
        self.stop()
        if self.drafts is not None:
            self.drafts.drop(self.key)

    def stop(self) -> None:
        """No more writes: the form is saved or discarded (the caller removes the draft once
        the save is written, so a failed save keeps it)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._stopped = True
