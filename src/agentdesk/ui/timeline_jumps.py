"""Jumps in the timeline (`]`/`[`, a conversation chosen in the panel, find): the entry gone to
is shown first under the heading row and marked, so the jump is visible even near the end,
where the view cannot scroll that far."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentdesk.ui.timeline import TimelineView


def go_to(view: TimelineView, position: int, *, if_hidden: bool = False) -> None:
    """Show the entry at `position` at the top and mark it. With `if_hidden`, an entry already
    whole on screen is only marked (find moving between matches in view)."""
    if not view.total or not view.blocks.spans:  # (not laid out: no width yet)
        return
    position = view.blocks.shown_near(position)
    if not (if_hidden and _whole_on_screen(view, position)):
        view.scroll_to(y=view.top_for(position), animate=False, immediate=True)
    view.mark = position
    view.refresh()


def _whole_on_screen(view: TimelineView, position: int) -> bool:
    start = view.entry_y(position)
    found = view.entry_at(start)
    if found is None:
        return False
    block, layout, i = found
    top = view.scroll_offset.y
    return top + 1 <= start and view.blocks.offsets[block] + layout.end_of(i) <= top + view.content_height()


def to_conversation(view: TimelineView, conversation_id: str) -> bool:
    """Scroll so the conversation's header and first entry shown are at the top, marked
    (False, and nothing moves, if it has none: not in the timeline, or filtered out)."""
    starts = view.starts()
    if conversation_id not in starts:
        return False
    position = view.blocks.first_shown_of(conversation_id, starts[conversation_id])
    if position is None:
        view.notify("The filter hides this conversation (f changes the filter).", timeout=3)
        return False
    go_to(view, position)
    return True


def next_conversation(view: TimelineView, step: int) -> None:
    """To the next (1) or previous (-1) conversation's heading from the top of the screen."""
    top = view.top_entry()
    if top is None:
        return
    position, on_header = top
    found = view.blocks.headings_from(position, step)
    if step < 0 and found and on_header and found[0] == position:
        found = found[1:]  # at its heading already: the one before
    if found:
        go_to(view, found[0])
