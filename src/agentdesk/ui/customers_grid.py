"""The customers table's rows: a ScrollView drawing only the lines on screen.

A view of 100,000 customers is an array of row numbers into the `CustomerTable`; a line is
drawn from the values of the shown columns at that row, so scrolling, sorting and filtering
never build a widget or a string per customer. The first line is the columns' heading and
stays on top; one column is *focused* (its heading highlighted, moved with ←/→): `s` sorts
by it, and again reverses. A click on a heading sorts by that column too.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from agentdesk.cache.customer_columns import Column, column_of
from agentdesk.cache.customer_table import CustomerTable
from agentdesk.model.sanitize import clean_line
from agentdesk.ui.component_styles import StylesOnDemand
from agentdesk.ui.cursor_rows import CursorRows
from agentdesk.ui.fit import LONGEST, columns

SORT_MARK = {False: " ↑", True: " ↓"}


class CustomerGrid(StylesOnDemand, CursorRows, can_focus=True):
    """Rows of the current view under a heading line; a cursor row and a focused column."""

    HELP_GROUP = "Customers table"
    COMPONENT_CLASSES = {"customers--cursor", "customers--heading", "customers--column",
                         "customers--dim"}
    BINDINGS = [
        Binding("down,j", "move(1)", "Down", show=False, id="customers.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="customers.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="customers.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="customers.page_up"),
        Binding("home,g", "edge(0)", "First", show=False, id="customers.first"),
        Binding("end,G", "edge(1)", "Last", show=False, id="customers.last"),
        Binding("left,h", "column(-1)", "Column left", show=False, id="customers.column_left"),
        Binding("right,l", "column(1)", "Column right", show=False, id="customers.column_right"),
        Binding("s", "sort", "Sort", id="customers.sort",
                tooltip="Sort by the focused column (again: the other way)"),
        Binding("enter", "open", "Open", id="customers.open", tooltip="Open the customer"),
    ]

    class Opened(Message):
        def __init__(self, customer_id: str) -> None:
            self.customer_id = customer_id
            super().__init__()

    class SortAsked(Message):
        """Sort by `column` (the screen decides the direction: again reverses)."""

        def __init__(self, column: str) -> None:
            self.column = column
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.table: CustomerTable | None = None
        self.view: Sequence[int] = ()
        self.shown: list[Column] = []
        self.focus_column = 0
        self.sort: tuple[str, bool] = ("name", False)
        self.cursor = 0

    # -- what is shown -------------------------------------------------------------------

    def show(self, table: CustomerTable, view: Sequence[int], keep: str | None = None) -> None:
        """Show `view` of `table`; the cursor on customer `keep` if it is in the view (at the
        same line on screen), else at the same place, else the first row."""
        line = self.cursor - self.scroll_offset.y
        old_table, old_view, old_cursor = self.table, self.view, self.cursor
        self.table, self.view = table, view
        self.virtual_size = Size(self.size.width, len(view) + 1)
        cursor = None
        if keep is not None:
            row = table.index_of(keep) if table is not old_table else _row_at(old_view, old_cursor)
            if row is not None:
                cursor = _position(view, row)
        self.cursor = max(0, min(len(view) - 1, old_cursor if cursor is None else cursor))
        top = max(0, self.cursor - max(0, line))
        self.scroll_to(y=top, animate=False, immediate=True)
        self._show_cursor()
        self.refresh()

    def set_columns(self, shown: list[Column]) -> None:
        focused = self.shown[self.focus_column].id if self.shown else None
        self.shown = shown
        ids = [c.id for c in shown]
        self.focus_column = ids.index(focused) if focused in ids else 0
        self.refresh()

    @property
    def current(self) -> str | None:
        """The customer id on the cursor's row."""
        if self.table is None or not self.view:
            return None
        return str(self.table.values["id"][self.view[self.cursor]])

    # -- moving --------------------------------------------------------------------------

    def row_count(self) -> int:
        return len(self.view) if self.view else 0

    def action_column(self, step: int) -> None:
        if self.shown:
            self.focus_column = max(0, min(len(self.shown) - 1, self.focus_column + step))
            self.refresh()

    def action_sort(self) -> None:
        if self.shown:
            self.post_message(self.SortAsked(self.shown[self.focus_column].id))

    def action_open(self) -> None:
        customer = self.current
        if customer is not None:
            self.post_message(self.Opened(customer))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:  # a heading: sort by its column
            for column, start, size in self._layout(self.scrollable_content_region.width):
                if start <= offset.x < start + size:
                    self.focus_column = self.shown.index(column)
                    self.post_message(self.SortAsked(column.id))
                    return
            return
        index = offset.y - 1 + self.scroll_offset.y
        if 0 <= index < len(self.view):
            self.cursor = index
            self.refresh()
            self.action_open()

    # -- drawing -------------------------------------------------------------------------

    def _layout(self, width: int) -> list[tuple[Column, int, int]]:
        """(column, x, width) of the columns on screen: from the first, or from the one that
        leaves the focused column in view; the last one drawn takes what is left."""
        if not self.shown:
            return []
        first = 0
        while first < self.focus_column and sum(
                c.width for c in self.shown[first:self.focus_column + 1]) > width:
            first += 1
        out: list[tuple[Column, int, int]] = []
        x = 0
        for n, column in enumerate(self.shown[first:], start=first):
            if x >= width:
                break
            last = n == len(self.shown) - 1 or x + column.width >= width
            size = width - x if last else column.width
            out.append((column, x, size))
            x += size
        return out

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        layout = self._layout(width)
        if y == 0:
            heading = base + self.get_component_rich_style("customers--heading", partial=True)
            focused = heading + self.get_component_rich_style("customers--column", partial=True)
            cells = []
            for column, _x, size in layout:
                title = column.title + (SORT_MARK[self.sort[1]] if column.id == self.sort[0] else "")
                style = focused if self.shown[self.focus_column] is column else heading
                cells.append(([(title, style)], size))
            return Strip(columns(cells, width, base)).adjust_cell_length(width, base)
        index = y - 1 + self.scroll_offset.y
        if self.table is None or index >= len(self.view):
            return Strip.blank(width, base)
        row = self.view[index]
        if index == self.cursor:
            base = base + self.get_component_rich_style("customers--cursor")
        dim = base + self.get_component_rich_style("customers--dim", partial=True)
        values = self.table.values
        cells = []
        for column, _x, size in layout:
            held = values.get(column.id)  # a field column is blank until the table holding it is read
            text = clean_line(column.show(held[row])[:LONGEST]) if held is not None else ""
            style = base + Style(bold=True) if column.id == "name" else (
                dim if column.id in ("id", "last_contact") else base)
            cells.append(([(text, style)], size))
        return Strip(columns(cells, width, base)).adjust_cell_length(width, base)


def _row_at(view: Sequence[int], position: int) -> int | None:
    return view[position] if 0 <= position < len(view) else None


def _position(view: Sequence[int], row: int) -> int | None:
    try:
        return view.index(row)  # type: ignore[attr-defined]
    except ValueError:
        return None


def columns_of(ids: Sequence[str]) -> list[Column]:
    """The columns of these ids (unknown ones left out: a column since removed)."""
    return [c for i in dict.fromkeys(ids) if (c := column_of(i)) is not None]
