"""Canned replies (ctrl+t in the composer): the store's templates, searched as you type by
title, tags and text; Enter puts the chosen one in the reply. The templates come from the
store and are drawn as data (`Row.data`): their text never becomes markup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from agentdesk.ui.keybar import KeyBar
from agentdesk.ui.row import Row
from agentdesk.ui.row_list import Option, RowList


def matches(replies: Sequence[Any], query: str) -> list[Any]:
    """The replies whose title, tags or text hold every word of `query` (case ignored)."""
    words = query.casefold().split()
    found = []
    for reply in replies:
        haystack = " ".join([reply.title, " ".join(reply.tags), reply.body]).casefold()
        if all(w in haystack for w in words):
            found.append(reply)
    return found


class CannedPicker(ModalScreen[Any]):
    """Returns the chosen canned reply, or None."""

    HELP_GROUP = "Canned replies"
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="canned.close"),
        Binding("down", "move(1)", "Down", show=False, id="canned.down"),
        Binding("up", "move(-1)", "Up", show=False, id="canned.up"),
    ]

    def __init__(self, replies: Sequence[Any]) -> None:
        super().__init__()
        self.replies = list(replies)
        self.shown: list[Any] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="form wide", id="canned"):
            yield Label("Canned replies", classes="form-title")
            yield Input(placeholder="search titles, tags and text…", id="canned-search",
                        compact=True)
            yield Static(id="canned-count")
            yield RowList(id="canned-list")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._show("")

    def _show(self, query: str) -> None:
        self.shown = matches(self.replies, query)
        rows = self.query_one(RowList)
        rows.clear_options()
        rows.add_options([Option(Row(cut=True).data(r.title, "bold").text("\n  ")
                                 .data(r.body.replace("\n", " "), "dim"), id=str(i))
                          for i, r in enumerate(self.shown)])
        rows.highlighted = 0 if self.shown else None
        count = (f"{len(self.shown)} of {len(self.replies)}" if self.replies
                 else "No canned replies yet: they come from the store at each sync.")
        self.query_one("#canned-count", Static).update(Text(count + "  ·  enter: use it",
                                                            style="dim"))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show(event.value)

    def action_move(self, step: int) -> None:
        rows = self.query_one(RowList)
        rows.action_cursor_down() if step > 0 else rows.action_cursor_up()

    def on_input_submitted(self) -> None:
        self._choose(self.query_one(RowList).highlighted)

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        self._choose(event.index)

    def _choose(self, index: int | None) -> None:
        if index is not None and 0 <= index < len(self.shown):
            self.dismiss(self.shown[index])
