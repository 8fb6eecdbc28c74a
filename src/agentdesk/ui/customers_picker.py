"""The customers table's column picker (`c`): every column with a box, Enter or space ticks
it, Esc closes with the columns ticked (at least one), in the table's order."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from agentdesk.cache.customer_columns import COLUMNS
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

    def __init__(self, shown: list[str]) -> None:
        super().__init__()
        self.chosen = set(shown)

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
        choices = self.query_one(RowList)
        choices.clear_options()
        choices.add_options([
            Option(Row().text("☑ " if c.id in self.chosen else "☐ ").text(c.title), id=c.id)
            for c in COLUMNS])

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
        self._fill()

    def action_done(self) -> None:
        self.dismiss([c.id for c in COLUMNS if c.id in self.chosen])
