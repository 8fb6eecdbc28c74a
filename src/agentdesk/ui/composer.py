"""The reply composer (`R` on a profile): a multi-line reply to one conversation, sent on that
conversation's channel.

A form like the note form (`forms.FormScreen`): what is typed is kept as a draft per customer
and conversation until sent; Esc closes and keeps it. ctrl+s sends (ctrl+enter too, where the
terminal tells it apart from enter); ctrl+t inserts a canned reply with its placeholders
filled in (`placeholders`). A placeholder the desk cannot fill is highlighted in the text and
named under it, and the reply is not sent until it is fixed.

ctrl+n turns the reply into an internal note on the conversation (and back). The customer
never sees a note, and a note sent as a reply cannot be taken back, so the mode is
unmistakable: the title says it in reverse, the dialog is tinted with a heavy border, the key
bar and the button say "Add note" instead of "Send reply". The draft keeps the mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static, TextArea

from agentdesk.model.sanitize import clean_text
from agentdesk.ui import placeholders, safe
from agentdesk.ui.forms import FormScreen

if TYPE_CHECKING:
    from agentdesk.cache.drafts import Drafts

UNKNOWN = "agentdesk.unknown-placeholder"  # the highlight's name in the area's theme


def reply_key(customer_id: str, conversation_id: str) -> str:
    """The draft of a reply to one conversation."""
    return f"reply:{customer_id}:{conversation_id}"


class ReplyArea(TextArea):
    """A TextArea that highlights the placeholders `unresolved` finds (by the highlight map
    syntax highlighting uses: no language, no tree-sitter)."""

    def __init__(self, text: str, known: Callable[[], dict[str, str]], **kwargs: Any) -> None:
        self._known = known
        super().__init__(text, **kwargs)

    def _set_theme(self, theme: str) -> None:
        super()._set_theme(theme)
        # The theme object is a shallow copy of a shared one: its styles dict is replaced,
        # never added to.
        self._theme = replace(self._theme, syntax_styles={
            **self._theme.syntax_styles,
            UNKNOWN: Style(color="white", bgcolor="red", bold=True, underline=True)})

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        known = self._known()
        for row, line in enumerate(self.document.lines):
            for start, end, _name in placeholders.unresolved(line, known):
                # Byte offsets, as the map holds them.
                first = len(line[:start].encode("utf-8"))
                highlights[row].append((first, first + len(line[start:end].encode("utf-8")),
                                        UNKNOWN))


class Written(NamedTuple):
    """What the composer returns: the text (placeholders filled in), and whether it is an
    internal note rather than a reply to the customer."""

    text: str
    note: bool = False


class ReplyComposer(FormScreen, inherit_bindings=False):
    """Returns `Written`, or None."""

    HELP_GROUP = "Reply composer"
    # One key per action, its hint per mode (`check_action` shows the one that applies).
    BINDINGS = [
        Binding("ctrl+s,ctrl+enter", "send(False)", "Send reply", id="composer.send",
                tooltip="Send the reply to the customer on the conversation's channel"),
        Binding("ctrl+s,ctrl+enter", "send(True)", "Add note", id="composer.add_note",
                tooltip="Add the internal note to the conversation (the customer never sees it)"),
        Binding("ctrl+n", "mode(True)", "Make it a note", id="composer.note",
                tooltip="Write an internal note on the conversation instead of a reply"),
        Binding("ctrl+n", "mode(False)", "Make it a reply", id="composer.reply",
                tooltip="Write a reply to the customer instead of an internal note"),
        Binding("ctrl+t", "canned", "Canned reply", id="composer.canned",
                tooltip="Insert a canned reply (searchable)"),
        Binding("escape", "cancel", "Close (keeps a draft)", id="composer.close"),
        Binding("ctrl+g", "discard", "Discard draft", id="composer.discard"),
    ]

    def __init__(self, *, heading: Text, known: dict[str, str], canned: Sequence[Any],
                 drafts: Drafts | None = None, draft_key: str | None = None,
                 note_heading: Text | None = None) -> None:
        super().__init__(drafts=drafts, draft_key=draft_key)
        self.heading = heading
        self.note_heading = note_heading or Text("Internal note")
        self.known = known
        self.canned = canned
        self.note = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="form wide", id="composer"):
            yield Static(self.heading, classes="form-title", id="composer-title")
            yield ReplyArea("", lambda: self.known, id="reply-text", soft_wrap=True)
            yield Static("", id="reply-problem", classes="error")
            yield Static("", id="draft-status")
            with Horizontal(classes="buttons"):
                yield Button("Discard ^g", id="discard", compact=True)
                yield Button("Canned ^t", id="canned", compact=True)
                yield Button("Send reply ^s", id="save", variant="primary", compact=True)
                yield Button("Close esc", id="cancel", compact=True)
        yield from self.compose_keys()

    def fields(self) -> dict[str, Any]:
        return {"text": self.query_one(ReplyArea).text, "note": self.note}

    def show_fields(self, fields: dict[str, Any]) -> None:
        self.query_one(ReplyArea).text = clean_text(str(fields.get("text", "")))
        self._set_mode(fields.get("note") is True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "mode":
            return parameters[0] != self.note  # ctrl+n offers the other mode
        if action == "send":
            return parameters[0] == self.note
        return super().check_action(action, parameters)

    def action_send(self, note: bool) -> None:
        if note == self.note:
            self.action_save()

    def action_mode(self, note: bool) -> None:
        self._set_mode(note)
        self.draft.changed()

    def _set_mode(self, note: bool) -> None:
        self.note = note
        self.query_one("#composer").set_class(note, "-note")
        self.query_one("#composer-title", Static).update(self.note_heading if note
                                                         else self.heading)
        self.query_one("#save", Button).label = "Add note ^s" if note else "Send reply ^s"
        self._show_problem()
        self.refresh_bindings()

    def focus_field(self) -> None:
        area = self.query_one(ReplyArea)
        area.move_cursor(area.document.end)
        area.focus()

    def on_text_area_changed(self) -> None:
        super().on_text_area_changed()
        self._show_problem()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "canned":
            event.stop()
            self.action_canned()
        else:
            super().on_button_pressed(event)

    def _show_problem(self, *, sending: bool = False) -> bool:
        """Name the placeholders that have no value, as they are typed or inserted (and say
        the reply was not sent, on an attempt to send it); whether there are any."""
        problem = self.query_one("#reply-problem", Static)
        missing = placeholders.unresolved(self.query_one(ReplyArea).text, self.known)
        if not missing:
            problem.update("")
            return False
        names = ", ".join(dict.fromkeys("{" + name + "}" for _s, _e, name in missing))
        start = "Not sent: no value for" if sending else "No value for"
        # The names are typed text: a Text, never markup.
        problem.update(Text(f"{start} {names}: replace or remove the highlighted text."))
        return True

    def action_canned(self) -> None:
        from agentdesk.ui.canned import CannedPicker

        def insert(reply: Any) -> None:
            if reply is None:
                return
            area = self.query_one(ReplyArea)
            area.insert(placeholders.fill(clean_text(reply.body), self.known))
            area.focus()
            self._show_problem()

        self.app.push_screen(CannedPicker(self.canned), insert)

    def action_save(self) -> None:
        area = self.query_one(ReplyArea)
        text = placeholders.fill(area.text, self.known).strip()
        if not text:
            self.query_one("#reply-problem", Static).update(
                "A note needs some text." if self.note else "A reply needs some text.")
            area.focus()
            return
        if self._show_problem(sending=True):
            area.focus()
            return
        self.finish(Written(text, self.note))


def note_heading(customer_name: str, topic: str) -> Text:
    line = Text("Internal note", style="bold reverse")
    line.append(" on ")
    line.append_text(safe.line(customer_name, "bold"))
    line.append(" · ")
    line.append_text(safe.line(topic, "italic"))
    line.append(" · not sent to the customer", style="dim")
    return line


def heading(customer_name: str, topic: str, channel: str) -> Text:
    line = Text("Reply to ")
    line.append_text(safe.line(customer_name, "bold"))
    line.append(" · ")
    line.append_text(safe.line(topic, "italic"))
    line.append(f" · by {channel}", style="dim")
    return line
