"""What the timeline's filter hides and the scan it works from, and the timeline's heading.

The state a timeline needs for its first frame; the filter's panel (`timeline_filter`) and the
scan of the files (`cache.timeline_scan`) are loaded when first used.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from textual.message import Message
from textual.signal import Signal

from agentdesk.model.kinds import KindGroup
from agentdesk.ui import clock
from agentdesk.ui.fit import fit_parts

if TYPE_CHECKING:
    from agentdesk.cache.cache import Timeline
    from agentdesk.cache.timeline_scan import TimelineScan
    from agentdesk.ui.timeline import TimelineView

SYNC_SCAN = 4  # timelines of up to this many files are scanned at once, not in a worker
GROUPS = list(KindGroup)  # in the order of their keys, 1 to 6
GROUP_LABELS = {KindGroup.CONVERSATIONS: "Conversations", KindGroup.CAMPAIGN: "Campaign",
                KindGroup.SUBSCRIPTION: "Subscription", KindGroup.ECOMMERCE: "E-commerce",
                KindGroup.SURVEYS: "Surveys", KindGroup.FEEDBACK: "Feedback"}


@dataclass(frozen=True)
class TimelineFilter:
    """What the timeline hides: kinds (by group), channels, directions, every conversation
    but one."""

    hidden_channels: frozenset[str] = field(default_factory=frozenset)
    hidden_directions: frozenset[str] = field(default_factory=frozenset)
    conversation: str | None = None
    hidden_groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def active(self) -> bool:
        return bool(self.hidden_channels or self.hidden_directions or self.conversation
                    or self.hidden_groups)

    def toggled(self, option: str, conversation: str | None) -> TimelineFilter:
        """This filter with one choice of the dialog flipped."""
        kind, _, value = option.partition(":")
        if kind == "group":
            return replace(self, hidden_groups=self.hidden_groups ^ {value})
        if kind == "channel":
            return replace(self, hidden_channels=self.hidden_channels ^ {value})
        if kind == "direction":
            return replace(self, hidden_directions=self.hidden_directions ^ {value})
        return replace(self, conversation=None if self.conversation else conversation)

    def describe(self, view: TimelineView) -> str:
        """In a few words, for the timeline's heading."""
        from agentdesk.cache.timeline_scan import CHANNELS, DIRECTIONS

        parts = []
        for labels, hidden, nothing in (
                ([(g.value, GROUP_LABELS[g]) for g in GROUPS], self.hidden_groups, "no kind"),
                ([(c.value, c.value) for c in CHANNELS], self.hidden_channels, "no channel"),
                ([(d.value, d.value) for d in DIRECTIONS], self.hidden_directions, "no direction")):
            if hidden:
                parts.append(_shorter([label for value, label in labels if value not in hidden],
                                      [label for value, label in labels if value in hidden], nothing))
        if self.conversation:
            conv = view.conversation(self.conversation)
            parts.append(f"one conversation: {conv.topic}" if conv is not None else "one conversation")
        return "; ".join(parts)


def _shorter(shown: list[str], hidden: list[str], nothing: str) -> str:
    """What a part of the filter lets through, the shorter way: "only a+b" or "no c"."""
    if not shown:
        return nothing
    return "only " + "+".join(shown) if len(shown) <= len(hidden) else "no " + "+".join(hidden)


class Scanned(Message):
    """More of a timeline's files were read (posted from the scan's worker)."""

    def __init__(self, scan: TimelineScan) -> None:
        super().__init__()
        self.scan = scan


class Filtering:
    """A timeline view's scan of its files (for find and filter) and the filter it shows."""

    def __init__(self, view: TimelineView) -> None:
        self.view = view
        self._timeline: Timeline | None = None
        self._scan: TimelineScan | None = None
        self._previous: TimelineScan | None = None  # the last timeline's scan, to reuse
        self.filter = TimelineFilter()  # shown
        self.wanted = TimelineFilter()  # asked for: shown once the scan has read every file
        self.changed: Signal[TimelineScan] = Signal(view, "timeline-scan")

    @property
    def scan(self) -> TimelineScan | None:
        """The scan of the timeline shown, made when find, a filter or a jump first needs it
        (not for the profile's first frame)."""
        if self._scan is None and self._timeline is not None:
            from agentdesk.cache.timeline_scan import TimelineScan

            self._scan, self._previous = TimelineScan(self._timeline, self._previous), None
        return self._scan

    @property
    def made_scan(self) -> TimelineScan | None:
        """The scan if one was made (what a newer version of the timeline can reuse)."""
        return self._scan or self._previous

    def new_timeline(self, timeline: Timeline, previous: TimelineScan | None) -> None:
        """A timeline (or a newer version of it, a sync changed it): a new scan, keeping what
        `previous` read of the files both share; the filter is applied to it once read."""
        self._timeline, self._scan, self._previous = timeline, None, previous
        self.filter = TimelineFilter()
        self.view.blocks.filter(None, None)
        if self.wanted.active:
            self.ensure_scan()

    def ensure_scan(self) -> None:
        """Read what find and filter need of every file: at once for a short timeline, else
        in a worker (the desk keeps answering keys; `changed` tells of progress)."""
        scan = self.scan
        if scan is None:
            return
        if not scan.complete and len(scan.missing()) <= SYNC_SCAN:
            scan.read_all()
        if scan.complete:
            self.scanned(scan)
            return
        self.view.run_worker(lambda: self._scan_in_worker(scan), thread=True, group="timeline-scan",
                             exclusive=True, exit_on_error=False)

    def _scan_in_worker(self, scan: TimelineScan) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            # A message, not call_from_thread: the reading goes on without waiting for the
            # desk to draw its next frame.
            if not worker.is_cancelled:
                self.view.post_message(Scanned(scan))

        scan.read_all(progress, lambda: worker.is_cancelled)

    def scanned(self, scan: TimelineScan) -> None:
        """More of the timeline was read: find looks there too; a filter waiting applies."""
        if scan is not self.scan:
            return
        if scan.complete and self.wanted != self.filter:
            self.set(self.wanted)
        if self.view.finder_made is not None:  # (find not used yet: nothing to tell)
            self.view.finder_made.scanned()
        self.changed.publish(scan)

    def set(self, wanted: TimelineFilter) -> None:
        """Show only the entries `wanted` lets through (once every file has been read)."""
        self.wanted = wanted
        if self.scan is None or not self.scan.complete:
            self.view.update_title()
            self.ensure_scan()
            return
        from agentdesk.cache.timeline_scan import kind_table, visible_table

        self.filter = wanted
        table = visible_table(wanted.hidden_channels, wanted.hidden_directions)
        self.view.show_filtered(self.scan.masks(table, wanted.conversation,
                                                kind_table(wanted.hidden_groups))
                                if wanted.active else None)

    def toggle_group(self, group: KindGroup) -> None:
        """Show or hide one group of kinds (a key on the timeline)."""
        self.set(self.wanted.toggled(f"group:{group.value}", None))
        self._tell_panel()

    def all_kinds(self) -> None:
        self.set(replace(self.wanted, hidden_groups=frozenset()))
        self._tell_panel()

    def _tell_panel(self) -> None:
        """The filter's panel, if open, shows the change made on the timeline."""
        if self._scan is not None:
            self.changed.publish(self._scan)


def heading(view: TimelineView, width: int) -> str:
    """The timeline's heading: what it holds, what the filter shows, the customer's time now;
    the least needed parts left out when the timeline is narrow, the filter's count last."""
    total, conversations = view.total, len(view._conversations)  # noqa: SLF001
    parts = [("Timeline", 0), (f"{total:,} entr{'y' if total == 1 else 'ies'}", 2),
             (f"{conversations:,} conversation{'' if conversations == 1 else 's'}", 4)]
    shown = view.filtering.filter
    if shown.active:
        parts[1] = (f"{view.shown_total:,} of {total:,} shown", 1)
        parts.append((f"filter: {shown.describe(view)}", 2))
    elif view.filtering.wanted.active:
        parts.append(("filtering…", 1))
    if view.customer_zone is not None:
        parts.append((f"their time {clock.now().astimezone(view.customer_zone):%a %H:%M}", 3))
    return fit_parts(parts, width)
