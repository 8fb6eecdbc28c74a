"""Help: every key binding of the screen it was opened from, grouped by where it works, with
the id that remaps it (README.md's key table lists the same; a test compares them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from agentdesk.ui.keybar import KeyBar

if TYPE_CHECKING:
    from agentdesk.ui.app import AgentDesk

Group = tuple[str, list[tuple[list[str], Binding]]]


def describe(binding: Binding) -> str:
    """What a binding does, in words: its tooltip (the long form), else its description,
    else its action made readable (never a raw action name)."""
    if binding.tooltip:
        return binding.tooltip
    if binding.description:
        return binding.description
    return binding.action.partition("(")[0].rpartition(".")[2].replace("_", " ").capitalize()


def _bindings(node: DOMNode | type[DOMNode], keymap: dict[str, str]) -> list[tuple[list[str], Binding]]:
    """(keys, binding) per action as they work now, after any keymap remapping (Textual
    splits "j,down" into one binding per key). Textual's own system bindings (ctrl+c's "how
    to quit" notice) are left out: they are not the desk's keys."""
    merged: dict[str, tuple[list[str], Binding]] = {}
    # The bindings declared on this node, or on a kind of widget not made yet.
    declared = node._merge_bindings() if isinstance(node, type) else node._bindings  # noqa: SLF001
    for key, binding in declared:
        if binding.system:
            continue
        keys, _ = merged.setdefault(binding.id or binding.action, ([], binding))
        if binding.id in keymap:
            keys[:] = [k.strip() for k in keymap[binding.id].split(",")]
        elif key not in keys:
            keys.append(key)
    return list(merged.values())


def groups(screen: Screen) -> list[Group]:
    """The bindings in force on `screen`: the app's, the screen's, then each kind of widget's."""
    keymap = screen.app._keymap  # noqa: SLF001 - the remapping in force (normalized keys)
    found: list[Group] = [("Everywhere", _bindings(screen.app, keymap))]
    found.append((getattr(screen, "HELP_GROUP", screen.__class__.__name__), _bindings(screen, keymap)))
    seen: set[type] = set()
    # The screen's widgets, and those it makes when first used (`made_later`: the find bar,
    # the customer data pane), whose keys the agent looks up before ever opening them.
    later: list[type[DOMNode]] = list(getattr(screen, "made_later", list)())
    for widget in [*screen.walk_children(), *later]:
        kind = widget if isinstance(widget, type) else type(widget)
        if kind in seen or not widget.BINDINGS:
            continue
        seen.add(kind)
        own = [b for b in _bindings(widget, keymap) if b[1].id]
        if own:
            found.append((getattr(widget, "HELP_GROUP", kind.__name__), own))
    return found


class HelpScreen(ModalScreen):
    HELP_GROUP = "Help"
    BINDINGS: list[BindingType] = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close", id="help.close"),
        Binding("j,down", "scroll(1)", "Scroll", id="help.down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="help.up"),
        Binding("pagedown,space", "page(1)", "Page down", show=False, id="help.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="help.page_up"),
        Binding("g,home", "edge(0)", "Top", show=False, id="help.top"),
        Binding("G,end", "edge(1)", "Bottom", show=False, id="help.bottom"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.for_screen = screen
        self.rows: list[tuple[str, str, str, str]] = []  # (group, keys, action, id) as shown

    @property
    def desk(self) -> AgentDesk:
        return cast("AgentDesk", self.app)

    def compose(self) -> ComposeResult:
        close = "esc, q or ? closes this · j/k, PgUp/PgDn scroll"
        with VerticalScroll(id="help", can_focus=False):
            title = Text.assemble(("Keys", "bold"), (f" — {close}", "dim"))
            yield Static(title, id="help-title")
            for title_text, bindings in groups(self.for_screen):
                table = Table(title=title_text, title_justify="left", title_style="bold", box=None,
                              show_header=False, padding=(0, 2, 0, 0), expand=True)
                table.add_column("keys", style="bold", no_wrap=True, width=14)
                table.add_column("action", ratio=1)  # wraps; the ids are never cut
                table.add_column("id", style="dim", no_wrap=True, width=30)
                for key_list, binding in bindings:
                    keys = ", ".join(self.app.get_key_display(Binding(k, "")) for k in key_list)
                    description = describe(binding)
                    self.rows.append((title_text, keys, description, binding.id or ""))
                    table.add_row(Text(keys), Text(description), Text(binding.id or "(fixed)"))
                yield Static(table, classes="help-group")
            yield Static(self._keymap_note(), id="help-keymap")
        yield KeyBar()

    def _keymap_note(self) -> Text:
        """How to remap a key: where, what to write, how to check it."""
        note = Text()
        note.append("Remapping keys\n", style="bold")
        note.append("Every key with an id (right column) can be changed in the config file, ")
        note.append_text(Text(str(self.desk.config.path), style="italic"))
        note.append(", under a [keymap] table: the id, then the keys, comma-separated:\n\n")
        note.append('    [keymap]\n    "profile.new_note" = "a"\n'
                    '    "timeline.next_conversation" = "ctrl+n,right_square_bracket"\n\n',
                    style="bold")
        note.append("Keys are named as Textual names them (a, ctrl+n, f2, right_square_bracket, "
                    "question_mark...). The desk reads the file when it starts; `agentdesk "
                    "config` prints the keymap in force and `agentdesk --help` says the same.",
                    style="dim")
        return note

    def action_scroll(self, step: int) -> None:
        self.query_one("#help", VerticalScroll).scroll_relative(y=step, animate=False)

    def action_page(self, step: int) -> None:
        view = self.query_one("#help", VerticalScroll)
        view.scroll_relative(y=step * max(1, view.scrollable_content_region.height - 1),
                             animate=False)

    def action_edge(self, end: int) -> None:
        view = self.query_one("#help", VerticalScroll)
        view.scroll_to(y=view.max_scroll_y if end else 0, animate=False)
