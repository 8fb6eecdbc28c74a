"""The sync status line: online or offline, last sync, new changes, pending edits, errors.

The app owns one `SyncView` (what it knows about syncing) and publishes it on its
`sync_status` signal, which the bar of every screen follows; the bar only draws it, so a
snapshot test can show any state without a clock or a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.widgets import Static

from agentdesk.ui import safe

if TYPE_CHECKING:  # the app imports this module
    from agentdesk.ui.app import AgentDesk


@dataclass(frozen=True)
class SyncView:
    configured: bool = False  # a store is configured at all
    online: bool | None = None  # None: not tried yet
    syncing: bool = False
    first: bool = False  # the first sync of this cache (shows the progress bar)
    progress: float | None = None  # 0..1 when the store said how far it goes
    changes: int = 0  # changes received in the run under way
    saving: bool = False  # a first sync writing the customers it received (the bar restarts)
    retrying: bool = False  # a request of the sync under way failed and is tried again
    waiting: str = ""  # the store asked to wait (Retry-After): how long and why, as said
    skipped: int = 0  # bad changes the last sync skipped (listed in `skipped_log`)
    skipped_log: str = ""
    last_success: str = ""  # local time of the last successful sync, as shown
    pending: int = 0
    rejected: int = 0
    conflicts: int = 0
    error: str = ""
    read_only: bool = False


@dataclass(frozen=True)
class SyncEffects:
    """What a finished sync did to the cache, as open screens need it (the app publishes it on
    `sync_applied`; `None` there means the sync failed and applied nothing)."""

    customers: Mapping[str, int]  # customer id -> changes applied
    gone: frozenset[str]  # removed from the store, or no longer in this agent's scope
    merged: Mapping[str, str]  # customer id -> the customer it was merged into
    repaired: frozenset[str] = frozenset()  # rebuilt from the store: not news, the same data


class SyncBar(Static):
    """One line above the footer. A single widget drawing text (the progress bar too): it is
    on every profile screen, and Textual's ProgressBar (five widgets with data bindings)
    cost more to mount than the rest of the line."""

    DEFAULT_CLASSES = "sync-bar"

    new_here = 0  # changes a sync brought to this screen's customer since it was opened

    @property
    def desk(self) -> AgentDesk:
        return cast("AgentDesk", self.app)

    def on_mount(self) -> None:
        self.show(self.desk.sync_view)
        self.desk.sync_status.subscribe(self, self.show)

    def on_unmount(self) -> None:
        # Now, not at the next publish (Textual drops closed nodes only then): without a store
        # there is none, and the signal would hold on to every closed screen's bar for good.
        self.desk.sync_status.unsubscribe(self)

    def show(self, view: SyncView) -> None:
        self.update(render(view, self.new_here))
        self.set_class(bool(view.error) and not view.syncing, "-error")
        self.set_class(view.online is False and not view.syncing, "-offline")


BAR = 24  # cells of the first-sync progress bar


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
    if view.syncing and view.waiting:
        text.append("⧗ ", style="bold")
        text.append_text(safe.line(view.waiting))
    elif view.syncing and view.retrying:  # said at once, not after the retries
        text.append("● offline" if view.online is False else "● no answer from the store",
                    style="bold")
        text.append(" · trying again")
    elif view.syncing:
        text.append("⟳ first sync" if view.first else "⟳ syncing", style="bold")
        if view.progress is not None:
            done = round(view.progress * BAR)
            text.append(" ")
            text.append("━" * done, style="bold green")
            text.append("━" * (BAR - done), style="dim")
            text.append(f" {view.progress:4.0%}")
        if view.changes or view.progress is not None:  # not "0 changes" before any answer
            text.append(f" · {view.changes:,} changes")
        if view.saving:
            text.append(" · saving customers")
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
    if view.skipped and not view.syncing:
        text.append(f" · {view.skipped:,} bad record{'s' if view.skipped != 1 else ''} skipped",
                    style="bold")
        if view.skipped_log:
            text.append(" (")
            text.append_text(safe.line(view.skipped_log))
            text.append(")")
    if not view.syncing and view.last_success:
        text.append(f" · synced {view.last_success}", style="dim")
    if view.error and not view.syncing:
        text.append(" · ")
        text.append_text(safe.line(view.error))
    return text
