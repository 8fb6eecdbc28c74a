"""Export from the customers screen (`x`): the rows shown (the query, the sort, the columns)
written to a CSV or JSON file in a worker, with a progress bar.

The file is written as `agentdesk export` writes it (`cache.customer_export`: the same
cleaning, the same neutralised formulas, 0600), first under a temporary name beside it and
renamed when complete: a failed export leaves no half file, and an existing file is replaced
only by a whole one. The rows are those of the view when the export was asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, RadioButton, RadioSet, Static

from agentdesk.cache.customer_columns import field_key
from agentdesk.cache.customer_export import private_file, write_csv, write_json
from agentdesk.cache.customer_table import CustomerTable
from agentdesk.model.sanitize import clean_line
from agentdesk.ui.keybar import KeyBar

if TYPE_CHECKING:
    from textual.screen import Screen

FORMATS = ("csv", "json")
STEP = 2_000  # rows between two moves of the progress bar


def default_path(fmt: str = "csv") -> Path:
    return Path.cwd() / f"customers-{date.today().isoformat()}.{fmt}"


class ExportForm(ModalScreen[tuple[Path, str] | None]):
    """A file name and a format; returns them, or None on Esc."""

    HELP_GROUP = "Export"
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="export.cancel"),
        Binding("ctrl+s", "save", "Export", id="export.save",
                tooltip="Write the file (Enter in the file name too)"),
    ]

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(Text(f"Export the {self.rows:,} customers shown", style="bold"),
                         classes="form-title")
            yield Static("File")
            yield Input(str(default_path()), id="export-path", compact=True)
            with RadioSet(id="export-format", compact=True):
                yield RadioButton("CSV", value=True, id="export-csv", compact=True)
                yield RadioButton("JSON", id="export-json", compact=True)
            yield Static("", id="export-error", classes="error")
            yield Static(Text("⏎/^s: export · esc: cancel", style="dim"))
        yield KeyBar()

    def on_mount(self) -> None:
        path = self.query_one("#export-path", Input)
        path.focus()
        path.cursor_position = len(path.value)

    @property
    def format(self) -> str:
        return "json" if self.query_one("#export-json", RadioButton).value else "csv"

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        """The file name follows the format when it ends in the other one's extension."""
        path = self.query_one("#export-path", Input)
        for fmt in FORMATS:
            if path.value.endswith(f".{fmt}") and fmt != self.format:
                path.value = path.value[: -len(fmt)] + self.format

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self.query_one("#export-error", Static).update("A file name, please.")
            return
        path = Path(text).expanduser()
        if path.is_dir():
            self.query_one("#export-error", Static).update(Text(
                f"{clean_line(str(path))} is a folder: add a file name."))
            return
        self.dismiss((path if path.is_absolute() else Path.cwd() / path, self.format))


def export_view(screen: Screen, table: CustomerTable, view: Sequence[int],
                fields: list[str]) -> None:
    """Ask for a file and a format, then write the rows of `view` (a copy: the agent may
    go on filtering) in a worker."""
    rows = list(view)

    def chosen(answer: tuple[Path, str] | None) -> None:
        if answer is not None:
            path, fmt = answer
            screen.run_worker(lambda: _write(screen, table, rows, fields, path, fmt),
                              thread=True, group="customers-export", exclusive=True)

    screen.app.push_screen(ExportForm(len(rows)), chosen)


def records(table: CustomerTable, rows: Sequence[int], fields: list[str],
            moved: Callable[[int], None] | None = None) -> Iterator[SimpleNamespace]:
    """The rows' values of `fields` (what the writers read: a field column's value in
    `fields`, as an index row holds it), `moved(count)` every STEP rows."""
    values = [(f, table.values[f]) for f in fields if field_key(f) is None]
    held = [(key, table.values[f]) for f in fields
            if (key := field_key(f)) is not None and table.holds(f)]
    for n, i in enumerate(rows, start=1):
        record = SimpleNamespace(**{f: list(v[i]) if isinstance(v[i], tuple) else v[i]
                                    for f, v in values})
        record.fields = {key: list(v[i]) if isinstance(v[i], tuple) else v[i]
                         for key, v in held if v[i] is not None} if held else None
        yield record
        if moved is not None and n % STEP == 0:
            moved(n)


def progress_line(done: int, total: int, width: int = 30) -> Text:
    """"Exporting ███████░░░ 70% (7,000 of 10,000)": one line of text, not a widget tree."""
    part = done / total if total else 1.0
    filled = round(part * width)
    line = Text(" Exporting ", style="bold")
    line.append("█" * filled + "░" * (width - filled))
    line.append(f" {part:.0%} ({done:,} of {total:,})")
    return line


def _write(screen: Screen, table: CustomerTable, rows: list[int], fields: list[str],
           path: Path, fmt: str) -> None:
    app = screen.app
    bar = screen.query_one("#customers-progress", Static)

    def show(done: int) -> None:
        if bar.is_attached:  # the screen may be closed while the file is written
            bar.update(progress_line(done, len(rows)))
            bar.display = True

    def moved(count: int) -> None:
        app.call_from_thread(show, count)

    app.call_from_thread(show, 0)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    write = write_csv if fmt == "csv" else write_json
    try:
        with private_file(temporary) as out:
            count = write(records(table, rows, fields, moved), fields, out)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        why = error.strerror or str(error)
        app.call_from_thread(app.notify, f"Could not write {path}: {why}. Nothing was exported; "
                             "choose another file (x).", severity="error", markup=False, timeout=8)
        return
    finally:
        app.call_from_thread(lambda: bar.is_attached and setattr(bar, "display", False))
    app.call_from_thread(app.notify, f"Exported {count:,} customers to {path}", markup=False,
                         timeout=6)
