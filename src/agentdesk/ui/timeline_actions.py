"""The timeline's actions, apart from its drawing (`timeline`): moving through it (lines,
half pages, ends, conversations, a long entry shown in full), find (ctrl+f, made on first
use), the filter's panel (f) and keys 1-6 and 0 for the kind filter, Responses and Survey
outbox, feedback assigned to another customer or unlinked, and going to one entry, marked and
expanded (from a list of them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from agentdesk.model.views import Stored
from agentdesk.ui import timeline_jumps, timeline_long

if TYPE_CHECKING:
    from agentdesk.ui.timeline import TimelineView
    from agentdesk.ui.timeline_find import Finder

    _Base = TimelineView
else:
    _Base = object


# The timeline's keys for these actions (in `TimelineView.BINDINGS`).
ENTRY_BINDINGS = [
    Binding("1", "kind(0)", "Conversations", show=False, id="timeline.kind_conversations"),
    Binding("2", "kind(1)", "Campaign", show=False, id="timeline.kind_campaign"),
    Binding("3", "kind(2)", "Subscription", show=False, id="timeline.kind_subscription"),
    Binding("4", "kind(3)", "E-commerce", show=False, id="timeline.kind_ecommerce"),
    Binding("5", "kind(4)", "Surveys", show=False, id="timeline.kind_surveys"),
    Binding("6", "kind(5)", "Feedback", show=False, id="timeline.kind_feedback"),
    Binding("0", "all_kinds", "All kinds", show=False, id="timeline.all_kinds"),
    # (Shift+R and Shift+A are the profile's reply and assignee.)
    Binding("O", "surveys('responses')", "Surveys", show=False, id="timeline.responses"),
    Binding("M", "reassign_feedback", "Feedback: move", show=False, id="timeline.reassign_feedback"),
    Binding("U", "unlink_feedback", "Feedback: unlink", show=False, id="timeline.unlink_feedback"),
    Binding("D", "jump_date", "Jump to a date", show=False, id="timeline.jump_date"),
    Binding("E", "pick_event", "Jump to an event", show=False, id="timeline.pick_event"),
]


class TimelineActions(_Base):
    """Mixed into `TimelineView` (which holds the bindings)."""

    # -- moving through it -----------------------------------------------------------------

    def go_to(self, position: int, *, if_hidden: bool = False) -> None:
        timeline_jumps.go_to(self, position, if_hidden=if_hidden)

    def scroll_to_conversation(self, conversation_id: str) -> bool:
        return timeline_jumps.to_conversation(self, conversation_id)

    def action_conversation(self, step: int) -> None:
        timeline_jumps.next_conversation(self, step)

    def action_scroll_lines(self, step: int) -> None:
        self.scroll_to(y=self.scroll_offset.y + step, animate=False, immediate=True)

    def action_half_page(self, direction: int) -> None:
        step = max(1, self.scrollable_content_region.height // 2)
        self.scroll_to(y=self.scroll_offset.y + direction * step, animate=False, immediate=True)

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False, immediate=True)

    def action_bottom(self) -> None:
        if self.blocks.heights:
            self._scroll_to_end()

    def action_expand(self) -> None:  # a long entry shown in full, or cut again
        timeline_long.toggle(self)

    # -- find, filter, kinds, entries ------------------------------------------------------

    @property
    def finder(self) -> Finder:
        """Find in the timeline, loaded when first used: not for the first frame."""
        if self._finder is None:
            from agentdesk.ui.timeline_find import Finder  # (it imports the timeline)

            self._finder = Finder(self)
        return self._finder

    @property
    def finder_made(self) -> Finder | None:
        """The finder if find was used: what a new timeline, filter or scan is told to."""
        return self._finder

    def action_find(self) -> None:
        self.finder.open_bar()

    def action_match(self, step: int) -> None:
        self.finder.step(step)

    def action_filter(self) -> None:
        if self._timeline is not None:
            from agentdesk.ui.timeline_filter import open_panel  # the panel: loaded when opened

            open_panel(self)

    def action_kind(self, index: int) -> None:
        """Show or hide one group of kinds (1 Conversations ... 6 Feedback)."""
        from agentdesk.ui.timeline_filtering import GROUPS

        if self._timeline is not None:
            self.filtering.toggle_group(GROUPS[index])

    def action_all_kinds(self) -> None:
        if self._timeline is not None:
            self.filtering.all_kinds()

    def entry(self, position: int) -> Stored:
        """The entry at a position of the whole timeline."""
        assert self._timeline is not None
        chunk, offset = self._timeline.locate(position)
        return self._timeline.chunk(chunk)[offset]

    def action_reassign_feedback(self) -> None:
        from agentdesk.ui import entry_actions

        entry_actions.reassign(self)

    def action_unlink_feedback(self) -> None:
        from agentdesk.ui import entry_actions

        entry_actions.unlink(self)

    def action_surveys(self, which: str) -> None:
        """The customer's Responses or Survey outbox (`ui.surveys`)."""
        from agentdesk.ui.surveys import SurveysScreen

        if self._timeline is not None:
            self.app.push_screen(SurveysScreen(self, self.customer_name, which))

    def show_entry(self, position: int, entry_id: str) -> None:
        """Go to an entry, marked and expanded (a response or an event picked from a list).
        One the filter hides is said to be hidden; nothing moves."""
        if self._timeline is None:
            return
        if not self.blocks.is_shown(position):
            self.notify("The filter hides this entry (0 shows every kind, f the filter).",
                        timeout=3)
            return
        if entry_id not in self.expanded:
            self.expanded.add(entry_id)
            self.lay_out_again(self.blocks.of(position))
        self.go_to(position)
        self.focus()

    def action_jump_date(self) -> None:
        from agentdesk.ui import timeline_goto

        if self._timeline is not None:
            timeline_goto.jump_to_date(self)

    def action_pick_event(self) -> None:
        from agentdesk.ui import timeline_goto

        timeline_goto.pick_event(self)
