"""Help: every key binding of the screen it was opened from, grouped by where it works."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def _bindings(node: DOMNode) -> list[tuple[list[str], Binding]]:
    """(keys, binding) per action, after any keymap remapping (Textual splits "j,down")."""
    merged: dict[str, tuple[list[str], Binding]] = {}
    for key, binding in node._bindings:  # noqa: SLF001 - the bindings in force on this node
        keys, _ = merged.setdefault(binding.id or binding.action, ([], binding))
        keys.append(key)
    return list(merged.values())


def _groups(screen: Screen) -> list[tuple[str, list[tuple[list[str], Binding]]]]:
    groups: list[tuple[str, list[tuple[list[str], Binding]]]] = [("Everywhere", _bindings(screen.app))]
    groups.append((getattr(screen, "HELP_GROUP", screen.__class__.__name__), _bindings(screen)))
    seen: set[type] = set()
    for widget in screen.walk_children():
        if type(widget) in seen or not widget.BINDINGS:
            continue
        seen.add(type(widget))
        own = [b for b in _bindings(widget) if b[1].id]
        if own:
            groups.append((getattr(widget, "HELP_GROUP", widget.__class__.__name__), own))
    return groups


class HelpScreen(ModalScreen):
    BINDINGS: list[BindingType] = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close", id="help.close"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.for_screen = screen
        self.rows: list[tuple[str, str, str, str]] = []  # (group, keys, action, id) as shown

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text("Keys", style="bold"), id="help-title")
            for title, bindings in _groups(self.for_screen):
                table = Table(title=title, title_justify="left", title_style="bold", box=None,
                              show_header=False, padding=(0, 2, 0, 0))
                table.add_column("keys", style="bold", no_wrap=True, width=18)
                table.add_column("action", width=28)
                table.add_column("id", style="dim", no_wrap=True)
                for key_list, binding in bindings:
                    keys = ", ".join(self.app.get_key_display(Binding(k, "")) for k in key_list)
                    description = binding.description or binding.action
                    self.rows.append((title, keys, description, binding.id or ""))
                    table.add_row(Text(keys), Text(description), Text(binding.id or ""))
                yield Static(table, classes="help-group")
            yield Static(Text("Remap any key in config.toml: [keymap] <id> = \"keys\"   (agentdesk --help)", style="dim"))
