"""Entries that fold: those longer than a screen (cut when drawn, `timeline_draw`) and those
with details (a survey response's score and tags, an order's items: shown only expanded).
Enter (or a click on one) expands one in place, or folds it again. The entry Enter acts on is
the marked one (a jump, find, the event picker) if it is on screen, else the first on screen
that folds."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentdesk.ui.timeline import TimelineView
    from agentdesk.ui.timeline_blocks import BlockLayout

Found = tuple[int, "BlockLayout", int]  # (block, its layout, shown entry)


def on_screen(view: TimelineView) -> Found | None:
    """The long entry Enter acts on, if one is on screen."""
    top, lines = view.scroll_offset.y, view.blocks.lines
    first = None
    for line in range(top + 1, min(top + view.scrollable_content_region.height, lines)):
        found = view.entry_at(line)
        if found is not None and found[2] in found[1].long:
            if found[1].positions[found[2]] == view.mark:
                return found
            first = first or found
    return first


def toggle(view: TimelineView, line: int | None = None) -> None:
    """Show a long entry in full, or cut it again: the one on `line` (a click), if long, or
    the one Enter acts on. Its first line stays where it is, or comes back on screen."""
    found = view.entry_at(line) if line is not None else on_screen(view)
    if found is None or found[2] not in found[1].long:
        if line is None:
            view.notify("No entry on screen with details or more text to show.", timeout=2)
        return
    block, layout, i = found
    entry_id, position = layout.ids[i], layout.positions[i]
    above = view.blocks.offsets[block] + layout.entry_lines[i] <= view.scroll_offset.y
    view.expanded.symmetric_difference_update({entry_id})
    view.lay_out_again(block)
    if above:  # its start was off screen: bring it back
        top = view.top_for(position)
        if top > view.max_scroll_y:  # near the end: as the end shows it, the entry whole
            view.action_bottom()
        else:
            view.scroll_to(y=top, animate=False, immediate=True)
    view.mark = position
    view.refresh()
