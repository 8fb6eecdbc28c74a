"""The sync status line: online or offline, last sync, new changes, pending edits, errors.

The app owns one `SyncView` (what it knows about syncing) and hands it to the bar of every
screen; the bar only draws it, so a snapshot test can show any state without a clock or a
network.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from agentdesk.ui import safe


@dataclass(frozen=True)
class SyncView:
    configured: bool = False  # a store is configured at all
    online: bool | None = None  # None: not tried yet
    syncing: bool = False
    first: bool = False  # the first sync of this cache (shows the progress bar)
    progress: float | None = None  # 0..1 when the store said how far it goes
    changes: int = 0  # changes applied in the run under way
    last_success: str = ""  # local time of the last successful sync, as shown
    pending: int = 0
    rejected: int = 0
    conflicts: int = 0
    error: str = ""
    read_only: bool = False


class SyncBar(Horizontal):
    """One line at the bottom of a screen."""

    DEFAULT_CLASSES = "sync-bar"

    def compose(self) -> ComposeResult:
        yield Static(id="sync-text")
        yield ProgressBar(total=1.0, show_eta=False, id="sync-progress")

    def on_mount(self) -> None:
        view = getattr(self.app, "sync_view", None)
        self.show(view or SyncView(), getattr(self.screen, "changes_since_open", 0))

    def show(self, view: SyncView, new_here: int = 0) -> None:
        self.query_one("#sync-text", Static).update(render(view, new_here))
        bar = self.query_one("#sync-progress", ProgressBar)
        showing = view.syncing and view.progress is not None
        bar.display = showing
        if showing:
            bar.update(progress=view.progress)
        self.set_class(bool(view.error) and not view.syncing, "-error")
        self.set_class(view.online is False and not view.syncing, "-offline")


def render(view: SyncView, new_here: int = 0) -> Text:
    """State first, then what waits for the agent, then the details (which may be cut off)."""
    text = Text(" ")
    if not view.configured:
        text.append("○ local cache only", style="dim")
        text.append(" (no store configured: see agentdesk config)", style="dim")
        return text
    if view.read_only:
        text.append("○ read-only: the other agentdesk on this cache syncs it", style="dim")
        return text
    if view.syncing:
        text.append("⟳ first sync" if view.first else "⟳ syncing", style="bold")
        text.append(f" · {view.changes:,} changes")
    elif view.online is False:
        text.append("● offline", style="bold")
    elif view.error:
        text.append("▲ sync failed", style="bold")
    elif view.online:
        text.append("● online", style="bold")
    else:
        text.append("○ not synced yet", style="dim")
    if new_here:
        text.append(f" · {new_here:,} new here since opened")
    if view.pending:
        text.append(f" · {view.pending} pending edit{'s' if view.pending != 1 else ''}")
    if view.conflicts:
        text.append(f" · {view.conflicts} conflict{'s' if view.conflicts != 1 else ''}",
                    style="bold")
    if view.rejected:
        text.append(f" · {view.rejected} rejected", style="bold")
    if not view.syncing and view.last_success:
        text.append(f" · synced {view.last_success}", style="dim")
    if view.error and not view.syncing:
        text.append(" · ")
        text.append_text(safe.line(view.error))
    return text
