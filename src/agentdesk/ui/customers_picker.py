"""The customers table's column picker (`c`): every column with a box, Enter or space ticks
it, Esc closes with the columns ticked (at least one), in the table's order.

The fixed columns come first, then every field key the customers have (`field:<key>`), the
most common first (then by key): with hundreds of keys from integrations, the ones most
customers have are the columns worth a look, and a key only a few customers have is at the
end rather than between them. Each says how many customers have it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from agentdesk.cache.customer_columns import COLUMNS, FIELD, column_of, field_key
from agentdesk.ui.keybar import KeyBar
from agentdesk.ui.row import Row
from agentdesk.ui.row_list import Option, RowList


class ColumnPicker(ModalScreen[list[str] | None]):
    HELP_GROUP = "Columns"
    BINDINGS = [
        Binding("escape", "done", "Done", id="columns.done",
                tooltip="Close: the table shows the columns ticked"),
        Binding("space", "toggle", "Tick", id="columns.toggle",
                tooltip="Tick or untick the column (Enter too)"),
    ]

    def __init__(self, shown: list[str], field_counts: dict[str, int] | None = None) -> None:
        super().__init__()
        self.order = [c.id for c in COLUMNS]
        self.chosen = set(shown)
        counts = dict(field_counts or {})
        # A field column shown whose key the table has not counted (still being read) is
        # listed too, so it can be unticked.
        shown_keys = [k for i in shown if (k := field_key(i)) is not None and k not in counts]
        keys = sorted(counts, key=lambda k: (-counts[k], k)) + shown_keys
        self.order += [FIELD + k for k in keys]
        self.counts = counts

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(Text("Columns of the customers table", style="bold"), classes="form-title")
            yield RowList(id="column-choices")
            yield Static(Text("⏎/space: tick · esc: done", style="dim"))
        yield KeyBar()

    def on_mount(self) -> None:
        self._fill()
        choices = self.query_one(RowList)
        choices.highlighted = 0
        choices.focus()

    def _fill(self) -> None:
        self.query_one(RowList).add_options([Option(self._row(i), id=i) for i in self.order])

    def _row(self, column_id: str) -> Row:
        column = column_of(column_id)
        assert column is not None
        row = Row().text("☑ " if column_id in self.chosen else "☐ ")
        key = field_key(column_id)
        if key is None:
            return row.text(column.title)
        row.data(column.title)  # a key is the customers' data: drawn inert
        count = self.counts.get(key)
        return row.text(" (field" + (f", {count:,})" if count is not None else ")"), "dim")

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        self._toggle(event.option.id or "")

    def action_toggle(self) -> None:
        choices = self.query_one(RowList)
        if choices.highlighted is not None:
            self._toggle(choices.get_option_at_index(choices.highlighted).id or "")

    def _toggle(self, column: str) -> None:
        if column in self.chosen:
            if len(self.chosen) == 1:
                self.notify("The table shows at least one column.", timeout=2)
                return
            self.chosen.discard(column)
        else:
            self.chosen.add(column)
        self.query_one(RowList).set_prompt(column, self._row(column))

    def action_done(self) -> None:
        self.dismiss([i for i in self.order if i in self.chosen])
