"""Erase a customer (a privacy request), from the palette: a confirmation that names the
customer and has the agent type the name, then the erasure is queued for the store, the
customer's files leave this cache at once, and the desk goes back to where it was before.

The typed name is compared as the agent can type it (case, accents, runs of spaces and
characters that cannot be typed, such as zero-width ones, do not count: "olafur" names
Ólafur, as the search finds him); the store is sent the name as it has it."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from agentdesk.cache.files import CacheError
from agentdesk.model.fold import fold
from agentdesk.model.sanitize import clean_field, clean_line
from agentdesk.ui import safe
from agentdesk.ui.keybar import KeyBar

if TYPE_CHECKING:
    from agentdesk.ui.app import AgentDesk
    from agentdesk.ui.profile import ProfileScreen


def typeable(name: str) -> str:
    """A name as an agent can type it: one line, no invisible or control characters, spaces
    collapsed, case and accents folded."""
    visible = "".join(ch for ch in clean_field(name) if unicodedata.category(ch) not in ("Cf", "Cc"))
    return fold(" ".join(visible.split()))


class EraseScreen(ModalScreen[bool]):
    """Dismissed with True once the agent typed the customer's name and confirmed."""

    HELP_GROUP = "Erase a customer"
    BINDINGS = [
        Binding("enter", "erase", "Erase", id="erase.confirm",
                tooltip="Erase, once the customer's name is typed"),
        Binding("escape", "cancel", "Cancel", id="erase.cancel", tooltip="Keep the customer"),
    ]

    def __init__(self, customer_id: str, name: str) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.customer_name = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="form", id="erase-form"):
            title = Text("Erase ", style="bold")
            title.append_text(safe.line(self.customer_name, "bold"))
            title.append_text(safe.line(f" ({self.customer_id})", "dim"))
            title.append("?", style="bold")
            yield Label(title, classes="form-title")
            yield Static(Text(
                "Every record of this customer is erased from the store and from every desk: "
                "contact points, conversations, messages, notes. This cannot be undone."))
            yield Static(Text("Type the customer's name to confirm:", style="bold"),
                         id="erase-prompt")
            yield Input("", placeholder="the name, as shown above", id="erase-name", compact=True)
            yield Static("", id="erase-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Erase ⏎", id="erase", variant="error", compact=True)
                yield Button("Cancel esc", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#erase-name", Input).focus()

    def on_input_changed(self) -> None:
        self.query_one("#erase-error", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_erase()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "erase":
            self.action_erase()
        else:
            self.action_cancel()

    def action_erase(self) -> None:
        typed = self.query_one("#erase-name", Input).value
        if not typed.strip() or typeable(typed) != typeable(self.customer_name):
            self.query_one("#erase-error", Static).update(
                Text("That is not the customer's name: nothing is erased."))
            self.query_one("#erase-name", Input).focus()
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


def erase_customer(screen: ProfileScreen) -> None:
    """Ask, then erase the customer on `screen` and go back."""
    profile = screen.profile
    if profile is None or screen._refuse_if_read_only():  # noqa: SLF001
        return
    app: AgentDesk = screen.desk
    customer_id, name = screen.customer_id, profile.customer.name

    def answer(yes: bool | None) -> None:
        if not yes:
            return
        try:
            app.cache.erase_customer(customer_id, name)
        except (CacheError, ValueError) as error:
            app.notify(f"Not erased: {clean_line(str(error))}", severity="error", markup=False)
            return
        app.outbox_changed()
        leave_erased(app, customer_id)
        app.load_index()  # the customer leaves the search and the "… of" lines of others
        app.notify(f"{clean_line(name)} erased. {app.saved_message()}", timeout=4, markup=False)
        if app.remote is not None:
            app.action_sync()

    app.push_screen(EraseScreen(customer_id, name), answer)


def leave_erased(app: AgentDesk, customer_id: str) -> None:
    """No screen keeps showing the erased customer: the profiles open under the current one
    are opened again without it (the last one on top), else the desk's start customer."""
    from agentdesk.ui.empty_screen import EmptyScreen
    from agentdesk.ui.profile import ProfileScreen

    stack = app.screen_stack
    others = [s.customer_id for s in stack
              if isinstance(s, ProfileScreen) and s.customer_id != customer_id]
    if all(not isinstance(s, ProfileScreen) or s.customer_id != customer_id for s in stack):
        return
    while len(app.screen_stack) > 1:
        app.pop_screen()
    kept: list[str] = []
    for other in others:
        if not kept or kept[-1] != other:
            kept.append(other)
    if not kept:
        start = app.cache.start_customer_id()
        kept = [start] if start is not None and start != customer_id else []
    if not kept:
        app.push_screen(EmptyScreen(app.cache))
    for other in kept:
        app.open_customer(other)
