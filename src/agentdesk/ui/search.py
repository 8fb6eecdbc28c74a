"""Customer search: incremental as you type, recently viewed first, Enter opens the profile.

Each result shows, beside the name, the field the query matched (an address, a second
e-mail...) with the matched text highlighted; case and accents are ignored both ways."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Static

from agentdesk.cache.cache import IndexRow
from agentdesk.model.sanitize import clean_line
from agentdesk.cache.search import CustomerIndex, SearchResult, matched_field, span_of
from agentdesk.ui.component_styles import StylesOnDemand
from agentdesk.ui.first_showing import StyledOnceWhenShown
from agentdesk.ui.fit import columns
from agentdesk.ui.keybar import KeyBar

if TYPE_CHECKING:  # the app imports this module
    from agentdesk.ui.app import AgentDesk


class ResultList(StylesOnDemand, ScrollView, can_focus=True):
    """Rows drawn one line at a time: replacing 200 results costs nothing per keystroke."""

    HELP_GROUP = "Search results"

    COMPONENT_CLASSES = {"results--cursor", "results--dim", "results--recent", "results--match"}
    BINDINGS = [
        Binding("down,j", "move(1)", "Down", show=False, id="results.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="results.up"),
        Binding("enter", "open", "Open", id="results.open"),
    ]

    class Opened(Message):
        def __init__(self, customer_id: str) -> None:
            self.customer_id = customer_id
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[IndexRow] = []
        self.recent: set[str] = set()
        self.remote: set[str] = set()  # found on the store, not cached yet
        self.words: list[str] = []  # the folded query words the rows matched
        self.cursor = 0

    def set_rows(self, rows: list[IndexRow], recent: set[str], remote: set[str] | None = None,
                 words: list[str] | None = None) -> None:
        self.rows, self.recent, self.cursor = rows, recent, 0
        self.words = words or []
        self.remote = remote or set()
        self.virtual_size = Size(self.size.width, len(rows))
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def action_move(self, step: int) -> None:
        if not self.rows:
            return
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))
        self.scroll_to_region(self.region.__class__(0, self.cursor, 1, 1), animate=False, immediate=True)
        self.refresh()

    def action_open(self) -> None:
        if self.rows:
            self.post_message(self.Opened(self.rows[self.cursor].id))

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        row = event.y + self.scroll_offset.y
        if 0 <= row < len(self.rows):
            self.cursor = row
            self.action_open()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + self.scroll_offset.y
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        base = self.rich_style
        if index == self.cursor:
            base = base + self.get_component_rich_style("results--cursor")
        dim = base + self.get_component_rich_style("results--dim", partial=True)
        match = base + self.get_component_rich_style("results--match", partial=True)
        mark = "•" if row.id in self.recent else "↓" if row.id in self.remote else " "

        def cell(value: str, style: Style, label: str = "") -> list[tuple[str, Style]]:
            """A value with what the query matched in it highlighted (after a dim label)."""
            text = clean_line(value)
            spans = [(f"{label}: ", dim)] if label else []
            marks = sorted(span for w in self.words if (span := span_of(text, w)))
            at = 0
            for start, end in marks:
                if start >= at:
                    spans += [(text[at:start], style), (text[start:end], match + Style(bold=True))]
                    at = end
            return spans + [(text[at:], style)]

        # Beside the name: the field the query matched, named, else the e-mail; the other
        # usual fields after it.
        found = matched_field(row, self.words)
        shown = found[0] if found and found[1] in (row.email, row.phone, row.company) else "email"
        second = cell(found[1], base, found[0]) if found else cell(row.email, base)
        rest = [(cell(value, style), size) for name, value, style, size in (
            ("email", row.email, base, 33), ("phone", row.phone, dim, 17),
            ("company", row.company, base, 22)) if name != shown]
        cells = [([(mark, base)], 2), (cell(row.name, base + Style(bold=True)), 25), (second, 42),
                 *rest, (cell(row.id, dim), 0)]
        return Strip(columns(cells, width, base)).adjust_cell_length(width, base)


class SearchScreen(StyledOnceWhenShown, Screen):
    """Type to search; ↑/↓ to choose; Enter to open; Esc to go back."""

    HELP_GROUP = "Customer search"

    BINDINGS = [
        Binding("escape", "back", "Back", id="search.back"),
        Binding("down", "move(1)", "Down", show=False, id="search.down"),
        Binding("up", "move(-1)", "Up", show=False, id="search.up"),
        Binding("pagedown", "move(10)", "Page down", show=False, id="search.page_down"),
        Binding("pageup", "move(-10)", "Page up", show=False, id="search.page_up"),
        Binding("ctrl+n", "new_customer", "New customer", id="search.new_customer",
                tooltip="Create a customer (offered when nothing matches what was typed)"),
    ]

    def __init__(self, index: CustomerIndex | None, *, pick: str = "") -> None:
        """`pick`: the screen chooses a customer for the caller (its title says what for)
        and is dismissed with the id, or None on Esc, instead of opening the profile."""
        super().__init__()
        self.index = index
        self.pick = pick
        self._local: list[IndexRow] = []
        self._query = ""
        self._words: list[str] = []
        self._remote_timer = None

    @property
    def desk(self) -> AgentDesk:
        return cast("AgentDesk", self.app)

    def compose(self) -> ComposeResult:
        title = (f" {self.pick}: find them by name, e-mail, phone, company or id" if self.pick
                 else " Find a customer: name, any e-mail, phone, address or handle, company or id")
        yield Static(Text(title, style="bold"), id="search-title")
        yield Input(placeholder="type to search…", id="search-input")
        yield Static(id="search-count")
        yield ResultList(id="results")
        yield KeyBar()

    def on_mount(self) -> None:
        if self.index is None:  # it may have loaded since this screen was made
            self.index = self.desk.index
        self.desk.index_loaded.subscribe(self, self.set_index)
        self.query_one(Input).focus()
        self.run_search("")

    def on_unmount(self) -> None:
        self.desk.index_loaded.unsubscribe(self)  # see SyncBar.on_unmount

    def set_index(self, index: CustomerIndex) -> None:
        """The index finished loading in the background: search what was typed meanwhile."""
        self.index = index
        self.run_search(self.query_one(Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    def run_search(self, query: str) -> SearchResult | None:
        count = self.query_one("#search-count", Static)
        if self.index is None:
            count.update(Text(" Loading the customer index…", style="italic"))
            return None
        if ":" in query:  # maybe filters (ui/search_filters.py); plain text never goes there
            from agentdesk.ui.search_filters import run_filtered

            if run_filtered(self, query):
                self._local, self._query, self._words = [], query, []
                self.refresh_bindings()
                return None
        result = self.index.search(query)
        self._local, self._query, self._words = result.rows, query, result.words
        self.query_one(ResultList).set_rows(result.rows, set(self.index.recent), words=result.words)
        total = f"{result.total:,}{'+' if result.more else ''}"
        shown = f" (showing {len(result.rows)})" if len(result.rows) < result.total else ""
        noun = "customer" if result.total == 1 else "customers"
        count.update(Text(f" {total} {noun}{shown}" + " · • recently viewed", style="dim"))
        self.refresh_bindings()  # "new customer" is offered when nothing matches
        if not result.rows and query.strip() and self._offers_new_customer():
            from agentdesk.ui.commands import key_of

            key = key_of(self.desk, self, "search.new_customer")
            line = Text(" No customer matches. ", style="dim")
            line.append(f"{key}: new customer", style="bold")
            line.append(" (what you typed goes in its field)", style="dim")
            count.update(line)
        if self.desk.remote is not None and len(query.strip()) >= 2:
            if self._remote_timer is not None:
                self._remote_timer.stop()
            # Ask the store too, once typing pauses: customers not cached yet can be opened.
            self._remote_timer = self.set_timer(
                0.3, lambda: self.desk.search_remote(self, query))
        return result

    def add_remote(self, query: str, rows: list[IndexRow]) -> None:
        """Hits from the store for `query`; those not cached are listed after the local ones."""
        if query != self._query:
            return  # the agent typed on
        known = {r.id for r in self._local}
        extra = [r for r in rows if r.id not in known]
        if not extra:
            return
        self.query_one(ResultList).set_rows(self._local + extra, set(self.index.recent if self.index else []),
                                            {r.id for r in extra}, self._words)
        count = self.query_one("#search-count", Static)
        count.update(Text(f" {len(self._local):,} cached · {len(extra)} more on the store (↓: fetched "
                          "when opened) · • recently viewed", style="dim"))

    def remote_failed(self, query: str, error: Exception) -> None:
        """The store could not be asked: say so, or "0 customers" would read as "nobody"."""
        if query != self._query:
            return
        from agentdesk.sync.client import Offline

        why = ("is unreachable (offline)" if isinstance(error, Offline)
               else f"could not search ({clean_line(str(error))})")
        count = self.query_one("#search-count", Static)
        line = Text(f" {len(self._local):,} cached · ", style="dim")
        line.append(f"the store {why}: customers not cached here cannot be found", style="bold")
        count.update(line)

    def _offers_new_customer(self) -> bool:
        return not self.pick and not self.desk.cache.read_only

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_customer":
            return (self._offers_new_customer() and self.index is not None
                    and not self.query_one(ResultList).rows
                    and bool(self.query_one(Input).value.strip()))
        return True

    def action_new_customer(self) -> None:
        from agentdesk.ui.customer_new import new_customer

        def close_search() -> None:
            if self.is_attached and self in self.app.screen_stack:
                while self.app.screen is not self:
                    self.app.pop_screen()
                self.app.pop_screen()

        new_customer(self.desk, self.query_one(Input).value, before_open=close_search)

    def action_back(self) -> None:
        if self.pick:
            self.dismiss(None)
        else:
            self.app.pop_screen()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(ResultList).action_open()

    def action_move(self, step: int) -> None:
        self.query_one(ResultList).action_move(step)

    def on_result_list_opened(self, event: ResultList.Opened) -> None:
        remote = event.customer_id in self.query_one(ResultList).remote
        if self.pick:  # the row, for its name: a customer found on the store is not cached
            rows = self.query_one(ResultList).rows
            self.dismiss(next(r for r in rows if r.id == event.customer_id))
            return
        self.app.pop_screen()
        if remote:
            self.desk.fetch_and_open(event.customer_id)
        else:
            self.desk.open_customer(event.customer_id)
