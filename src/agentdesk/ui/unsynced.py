"""Edits the store has not confirmed, shown on the profile they belong to.

Pending edits are listed quietly; a conflict shows the agent's value next to the store's
(which is what the profile now shows), a rejected edit shows the store's reason. Enter on
either asks: keep mine (send again) or discard.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from agentdesk.cache.outbox import CONFLICT, REJECTED, OutboxItem
from agentdesk.model.protocol import MutationKind
from agentdesk.model.work_mutations import is_note
from agentdesk.ui.row import Row

WHAT = {
    MutationKind.NOTE_ADD: "note added",
    MutationKind.NOTE_EDIT: "note edited",
    MutationKind.NOTE_DELETE: "note deleted",
    MutationKind.CUSTOMER_UPDATE: "customer edited",
    MutationKind.CONTACT_UPSERT: "contact saved",
    MutationKind.CONTACT_DELETE: "contact removed",
    MutationKind.CONVERSATION_UPDATE: "conversation changed",
    MutationKind.REPLY_ADD: "reply sent",
    MutationKind.CONVERSATION_START: "conversation started",
    MutationKind.CUSTOMER_CREATE: "customer created",
    MutationKind.RELATIONSHIP_UPSERT: "relationship saved",
    MutationKind.RELATIONSHIP_DELETE: "relationship removed",
    MutationKind.CUSTOMER_ERASE: "customer erased",
    MutationKind.FEEDBACK_REASSIGN: "feedback assigned to another customer",
    MutationKind.FEEDBACK_UNLINK: "feedback unlinked",
    MutationKind.RESPONSE_UPDATE: "survey response changed",
}


def what(m: Any) -> str:
    """An edit's kind in words (an internal note on a conversation is a `reply.add` too)."""
    if m.kind == MutationKind.REPLY_ADD and is_note(m.data):
        return "internal note added"
    return WHAT.get(m.kind, m.kind.value)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        value = (value.get("value") or value.get("text") or value.get("name")
                 or value.get("label") or value.get("body") or "")
    text = str(value if value is not None else "(none)")
    return text if len(text) <= 40 else text[:39] + "…"


def _mine(item: OutboxItem) -> dict[str, Any]:
    data = item.mutation.data
    if item.mutation.kind == MutationKind.NOTE_ADD:
        return {"text": data.get("text", "")}
    if item.mutation.kind == MutationKind.REPLY_ADD:
        return {"note" if is_note(data) else "reply": data.get("body", "")}
    if item.mutation.kind == MutationKind.CONVERSATION_START:
        return {"topic": (data.get("conversation") or {}).get("topic", "")}
    if item.mutation.kind == MutationKind.CUSTOMER_CREATE:
        return {"name": (data.get("customer") or {}).get("name", "")}
    if item.mutation.kind == MutationKind.CUSTOMER_ERASE:
        return {"name": data.get("confirm", "")}
    return dict(data.get("set") or {})


def describe(item: OutboxItem) -> Row:
    """One list entry for an unconfirmed edit (data shown literally)."""
    m = item.mutation
    row = Row(cut=True)  # label/value lines: cut with "…", never wrapped under the label
    if item.status == CONFLICT:
        row.text("⚠ conflict", "bold yellow").text(f" · {what(m)}", "bold")
        mine, theirs = _mine(item), item.current or {}
        for name in item.conflicts or list(mine):
            row.text("\n  ").data(name, "italic")
            row.text("\n    yours ", "dim").data(_short(mine.get(name, mine)))
            row.text("\n    store ", "dim").data(_short(theirs.get(name) if theirs else None))
        row.text("\n  enter: keep mine or discard", "dim italic")
    elif item.status == REJECTED:
        row.text("✗ rejected", "bold red").text(f" · {what(m)}", "bold")
        mine = _mine(item)
        if mine:
            row.text("\n    yours ", "dim").data(_short(next(iter(mine.values())) if len(mine) == 1 else mine))
        row.text("\n    why   ", "dim").data(item.reason or "rejected by the store", "italic")
        row.text("\n  enter: send again or discard", "dim italic")
    else:
        row.text("… pending", "dim").text(f" · {what(m)}", "dim")
        if item.attempts and item.reason:  # the store failed on it: said, with why
            times = "once" if item.attempts == 1 else f"{item.attempts} times"
            row.text(f"\n    the store failed on it {times}: ", "dim").data(item.reason, "italic")
    return row


class ResolveScreen(ModalScreen[bool | None]):
    """Keep mine (send again) or discard an edit the store did not take."""

    HELP_GROUP = "Conflicting or rejected edit"
    BINDINGS = [
        Binding("k", "answer(True)", "Keep mine", id="resolve.keep"),
        Binding("d", "answer(False)", "Discard mine", id="resolve.discard"),
        Binding("escape", "answer(None)", "Cancel", id="resolve.cancel"),
    ]

    def __init__(self, item: OutboxItem) -> None:
        super().__init__()
        self.item = item

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(describe(self.item))
            yield Static(Text("k: keep mine (send again)   d: discard mine   esc: later",
                              style="dim"))

    def action_answer(self, answer: bool | None) -> None:
        self.dismiss(answer)
