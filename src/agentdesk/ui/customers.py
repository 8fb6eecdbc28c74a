"""The customers screen (`C`): every cached customer in a table, filtered by a query as the
agent types, sorted by any column, exported as shown; Enter opens the customer and Esc
comes back to the same row.

Nothing of it runs at start-up: the table (`cache.customer_table`) is read from the search
index in a worker when the screen is first opened, kept on the app for the next time, and
read again when a sync changes customers (the cursor stays on its customer). The first rows
are on screen before the whole index is read: the first few thousand are shown (in name
order among themselves) while the rest load, then the whole table.

A field column (`field:<key>`) is held by the table only when it is shown (or sorted by):
ticking one in the picker reads the table again, with it; a remembered one whose key no
customer has any more is left out quietly.
"""

from __future__ import annotations

import threading
from itertools import islice
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from agentdesk.cache.customer_columns import DEFAULT_SHOWN, FIELD, field_key
from agentdesk.cache.customer_table import CustomerTable
from agentdesk.model.customer_query import Query, QueryError, parse
from agentdesk.model.sanitize import clean_line
from agentdesk.ui import clock
from agentdesk.ui.customers_grid import CustomerGrid, columns_of
from agentdesk.ui.first_showing import StyledOnceWhenShown
from agentdesk.ui.keybar import KeyBar

if TYPE_CHECKING:
    from agentdesk.ui.app import AgentDesk
    from agentdesk.ui.sync_bar import SyncEffects

FIRST_PAGE = 150  # rows shown while the rest of the index is read (one shard holds ~400)
FIRST_PAINT_WAIT = 1.0  # seconds the reading waits for the first page's frame, at the most


class CustomersScreen(StyledOnceWhenShown, Screen):
    """The query on top, the table, the keys."""

    HELP_GROUP = "Customers"
    BINDINGS = [
        Binding("escape", "back", "Back", id="customers.back",
                tooltip="Back (from the query: back to the table)"),
        Binding("f", "query", "Filter", id="customers.query",
                tooltip="Type a query: words, tag:, status:, segment:, channel:, last-contact:"),
        Binding("c", "pick_columns", "Columns", id="customers.columns",
                tooltip="Choose the columns shown (any field of the customers too)"),
        Binding("x", "export", "Export", id="customers.export",
                tooltip="Export the rows shown (query, sort, columns) to CSV or JSON"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.table: CustomerTable | None = None
        self.reading = False
        self.query_text = ""
        self.customer_query: Query = Query()
        self.sort: tuple[str, bool] = ("name", False)
        self._order: tuple[tuple[str, bool], CustomerTable, object] | None = None
        self._reads = 0  # tables asked for: only the last one asked is shown
        self._asked: list[str] = []  # the field keys of the last table asked for

    @property
    def desk(self) -> AgentDesk:
        return cast("AgentDesk", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="customers-title")
        yield Input(placeholder='query: words tag:vip status:churned segment:"Trial users" '
                    "channel:sms last-contact:<30d (f)", id="customers-query", compact=True)
        yield Static(id="customers-error")
        yield CustomerGrid(id="customers-rows")
        yield Static(id="customers-progress")  # an export's progress (customers_export.py)
        yield KeyBar()

    def on_mount(self) -> None:
        grid = self.query_one(CustomerGrid)
        chosen = self.desk.cache.panel.table_columns()
        grid.set_columns(columns_of(chosen if chosen else DEFAULT_SHOWN) or
                         columns_of(DEFAULT_SHOWN))
        grid.sort = self.sort
        grid.focus()
        self.query_one("#customers-error").display = False
        self.query_one("#customers-progress").display = False
        self.desk.sync_applied.subscribe(self, self._synced)
        held = self.desk.customer_table
        if held is not None:
            self.table = held
            self.refilter()
            if self.desk.customer_table_index is not self.desk.index or self._missing_fields():
                self.load()  # changed since it was read, or read without a field column shown
        else:
            self.show_title()
            self.load()

    def on_screen_resume(self) -> None:
        """Back from a profile: a customer edited there (or synced meanwhile) is read again."""
        if (self.table is not None and not self.reading
                and self.desk.customer_table_index is not self.desk.index):
            self.load()

    def on_unmount(self) -> None:
        self.desk.sync_applied.unsubscribe(self)  # see SyncBar.on_unmount

    def _synced(self, effects: SyncEffects | None) -> None:
        if effects is not None and (effects.customers or effects.gone or effects.merged):
            self.load()

    # -- loading -------------------------------------------------------------------------

    def _field_keys(self) -> list[str]:
        """The field keys whose columns the table must hold: those shown and the sort's."""
        ids = [c.id for c in self.query_one(CustomerGrid).shown] + [self.sort[0]]
        return [key for i in ids if (key := field_key(i)) is not None]

    def _missing_fields(self) -> bool:
        """Whether a field column shown is in neither the table nor the read under way."""
        keys = self._field_keys()
        if self.reading:
            return not set(keys) <= set(self._asked)
        return self.table is not None and not all(self.table.holds(FIELD + k) for k in keys)

    def load(self) -> None:
        """Read the table (again) in a worker; what is shown stays until it is ready. On the
        screen's first open, a first page is read here, from one index shard (~4 ms), so that
        the screen's first frame has rows; the worker reads the rest once that frame is on the
        terminal (read meanwhile, it held the interpreter while the screen was painted)."""
        self.reading = True
        self._reads += 1
        self._asked = self._field_keys()
        self.show_title()
        painted = threading.Event()
        if self.table is None:
            first = list(islice(self.desk.cache.index_rows(), FIRST_PAGE))
            if len(first) == FIRST_PAGE:  # (a smaller cache is read whole at once)
                self._shown(CustomerTable.load(first, fields=self._asked), None, partial=True)
            self.call_after_refresh(painted.set)
        else:
            painted.set()
        self._read_table(self.desk.index, self._asked, self._reads, painted)

    @work(thread=True, exclusive=True, group="customers-table")
    def _read_table(self, index: object, fields: list[str], read: int,
                    painted: threading.Event) -> None:
        painted.wait(timeout=FIRST_PAINT_WAIT)

        def progress(count: int) -> None:
            self.app.call_from_thread(self._progress, count)

        table = CustomerTable.load(self.desk.cache.index_rows(), progress, fields)
        self.app.call_from_thread(self._read_done, table, index, read)
        # Every column's sort order and the times' order, ahead of the first sort or filter.
        for column in table.values:
            table.rank(column)
        table.matching(parse("last-contact:<1d"), clock.now())

    def _progress(self, count: int) -> None:
        if self.reading and self.is_attached:
            self.show_title(f"reading the customers… {count:,}")

    def _read_done(self, table: CustomerTable, index: object, read: int) -> None:
        if read == self._reads:  # not an earlier read (a field column since ticked)
            self._shown(table, index, partial=False)

    def _shown(self, table: CustomerTable, index: object, *, partial: bool) -> None:
        if not partial:
            self.reading = False
            self.desk.customer_table, self.desk.customer_table_index = table, index
        if not self.is_attached:  # closed while reading: the table is kept for the next time
            return
        if not partial:
            self._drop_gone_fields(table)
        # The first rows shown, the cursor not moved yet: it stays on the first row of the whole
        # table rather than following a customer from the middle of it.
        moved = self.table is None or self.query_one(CustomerGrid).cursor > 0
        self.table = table
        self.refilter(keep=moved)

    def _drop_gone_fields(self, table: CustomerTable) -> None:
        """Field columns whose key no customer has (any more) are left out, quietly (the
        choice remembered keeps them: a sync may bring the key back)."""
        grid = self.query_one(CustomerGrid)
        kept = [c for c in grid.shown
                if (key := field_key(c.id)) is None or key in table.field_counts]
        if len(kept) != len(grid.shown):
            grid.set_columns(kept or columns_of(DEFAULT_SHOWN))
        if (key := field_key(self.sort[0])) is not None and key not in table.field_counts:
            self.sort = ("name", False)

    # -- the view ------------------------------------------------------------------------

    def _ordered(self, table: CustomerTable) -> object:
        """The rows in the sort chosen, kept while the sort and the table are the same."""
        if self._order is None or self._order[:2] != (self.sort, table):
            self._order = (self.sort, table, table.order(*self.sort))
        return self._order[2]

    def refilter(self, *, keep: bool = True) -> None:
        """The view again, from the query and the sort; the cursor on its customer."""
        grid = self.query_one(CustomerGrid)
        if self.table is None:
            self.show_title()
            return
        current = grid.current if keep else None
        view = self.table.view(self.customer_query, clock.now(), self._ordered(self.table))  # type: ignore[arg-type]
        grid.sort = self.sort
        grid.show(self.table, view, current)
        self.show_title()

    def show_title(self, loading: str = "") -> None:
        title = Text()
        title.append(" Customers ", style="bold reverse")
        title.append(" ")
        grid = self.query_one(CustomerGrid)
        if self.table is None:
            title.append(loading or "reading the customers…", style="italic")
        else:
            total = len(self.table)
            title.append(f"{len(grid.view):,} of {total:,}", style="bold")
            if self.reading:
                title.append(f" · {loading or 'reading the customers…'}", style="italic")
            column, reverse = self.sort
            name = next((c.title for c in grid.shown if c.id == column), column)
            title.append(f" · sorted by {name} {'↓' if reverse else '↑'}")
            title.append("   ←/→ column · s sort · f filter · c columns · x export", style="dim")
        self.query_one("#customers-title", Static).update(title)

    def on_input_changed(self, event: Input.Changed) -> None:
        error = self.query_one("#customers-error", Static)
        try:
            query = parse(event.value)
        except QueryError as problem:  # the table stays as it was
            error.update(Text(clean_line(str(problem)), style="bold"))
            error.display = True
            return
        error.display = False
        self.query_text, self.customer_query = event.value, query
        self.refilter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(CustomerGrid).focus()

    def on_customer_grid_sort_asked(self, event: CustomerGrid.SortAsked) -> None:
        column, reverse = self.sort
        self.sort = (event.column, not reverse if column == event.column else False)
        self.refilter()

    def on_customer_grid_opened(self, event: CustomerGrid.Opened) -> None:
        self.desk.open_customer(event.customer_id)

    # -- keys ----------------------------------------------------------------------------

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one(CustomerGrid).focus()
            return
        self.app.pop_screen()

    def action_query(self) -> None:
        self.query_one(Input).focus()

    def action_pick_columns(self) -> None:
        from agentdesk.ui.customers_picker import ColumnPicker

        grid = self.query_one(CustomerGrid)

        def chosen(ids: list[str] | None) -> None:
            if ids:
                grid.set_columns(columns_of(ids))
                self.desk.cache.panel.set_table_columns(ids)
                self.show_title()
                if self._missing_fields():
                    self.load()  # with the values of the field columns ticked; the cursor stays

        counts = self.table.field_counts if self.table is not None else {}
        self.app.push_screen(ColumnPicker([c.id for c in grid.shown], counts), chosen)

    def action_export(self) -> None:
        from agentdesk.ui.customers_export import export_view

        grid = self.query_one(CustomerGrid)
        if self.table is None or self.reading:
            self.notify("The customers are still being read: export once they are all shown.",
                        timeout=3)
            return
        export_view(self, self.table, grid.view, [c.id for c in grid.shown])
