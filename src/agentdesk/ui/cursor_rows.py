"""A cursor over the rows of a virtual list (a ScrollView drawing one line at a time, a
heading line on top): moving it and keeping it on screen. The queue and the customers table
both move this way."""

from __future__ import annotations

from textual.scroll_view import ScrollView


class CursorRows(ScrollView):
    """Keys for the cursor; a subclass says how many rows there are (`row_count`)."""

    cursor: int

    def row_count(self) -> int:
        raise NotImplementedError

    def _show_cursor(self) -> None:
        """Scroll so the cursor's row is on screen below the heading line."""
        height = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if self.cursor < top:
            top = self.cursor
        elif self.cursor >= top + height:
            top = self.cursor - height + 1
        if top != self.scroll_offset.y:
            self.scroll_to(y=top, animate=False, immediate=True)

    def action_move(self, step: int) -> None:
        if count := self.row_count():
            self.cursor = max(0, min(count - 1, self.cursor + step))
            self._show_cursor()
            self.refresh()

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height - 2))

    def action_edge(self, end: int) -> None:
        count = self.row_count()
        self.action_move(count if end else -count)
