"""Modal forms: a note, the customer's details and contact points, a delete confirmation.

Each form validates before it returns anything: an invalid value is refused inline, next to
the field, and the caller gets nothing to save. A form opens on the field the agent chose,
with the cursor at the end of its text, and what is typed is kept as a draft in the cache
(`ui/drafting.py`) until it is saved: Esc closes the form and keeps it, ctrl+g discards it
(after asking, if anything was typed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from agentdesk.model.records import ContactKind, ContactPoint, Profile
from agentdesk.model.sanitize import clean_field, clean_text
from agentdesk.model.contact_values import InvalidContact, normalize_contact
from agentdesk.ui.drafting import DraftKeeper
from agentdesk.ui.keybar import KeyBar

if TYPE_CHECKING:
    from agentdesk.cache.drafts import Drafts


class FormScreen(ModalScreen):
    HELP_GROUP = "Forms"
    BINDINGS = [
        Binding("escape", "cancel", "Close (keeps a draft)", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save"),
        Binding("ctrl+g", "discard", "Discard draft", id="form.discard"),
    ]

    def __init__(self, *, drafts: Drafts | None = None, draft_key: str | None = None) -> None:
        super().__init__()
        self.draft = DraftKeeper(self, drafts, draft_key, self.fields)

    def fields(self) -> dict[str, Any]:
        """What the agent can type in this form, as the draft keeps it (a form that keeps no
        draft: nothing)."""
        return {}

    def show_fields(self, fields: dict[str, Any]) -> None:
        """Put a draft's fields back into the form (a form that keeps no draft: nothing)."""

    def focus_field(self) -> None:  # pragma: no cover - overridden
        """Focus the field the form was opened for, its cursor at the end."""
        raise NotImplementedError

    def on_mount(self) -> None:
        # (Textual calls every class's on_mount: the forms below do their part in these hooks.)
        restored = self.draft.start()
        if restored is not None:
            self.show_fields(restored)
            when = _local_time(self.draft.saved_at)
            status = self.query_one("#draft-status", Static)
            status.update(Text(f"Draft restored (written {when}): ctrl+s saves it, "
                               "ctrl+g discards it.", style="italic"))
            status.display = True
        self.focus_field()

    def on_unmount(self) -> None:
        self.draft.write_pending()  # quitting with the form open (ctrl+q) keeps it too

    def on_input_changed(self) -> None:
        self.draft.changed()

    def on_text_area_changed(self) -> None:
        self.draft.changed()

    def on_checkbox_changed(self) -> None:
        self.draft.changed()

    def action_cancel(self) -> None:
        if self.draft.write(durable=True):
            self.app.notify("Draft kept: open the form again to go on with it.", timeout=3)
        self.draft.stop()
        self.dismiss(None)

    def action_discard(self) -> None:
        if not self.draft.dirty:
            self.draft.discard()
            self.dismiss(None)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.draft.discard()
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(Text("Discard this draft? What you typed is lost.")),
                             answer)

    def finish(self, result: Any) -> None:
        """Return a validated result; the draft is written first and removed by the caller
        once the result is saved, so a save that fails loses nothing."""
        self.draft.write()
        self.draft.stop()
        self.dismiss(result)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"save": self.action_save, "discard": self.action_discard}
        actions.get(event.button.id or "", self.action_cancel)()

    def buttons(self) -> ComposeResult:
        yield Static("", id="draft-status")
        with Horizontal(classes="buttons"):  # one line each: the form fits 24 rows
            yield Button("Discard ^g", id="discard", compact=True)
            yield Button("Save ^s", id="save", variant="primary", compact=True)
            yield Button("Close esc", id="cancel", compact=True)

    def compose_keys(self) -> ComposeResult:
        yield KeyBar()

    def action_save(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def _local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return "earlier"


class NoteForm(FormScreen):
    """Add or edit a note (a "detail" about the customer). Returns the text, or None."""

    def __init__(self, text: str = "", *, title: str = "New note", drafts: Drafts | None = None,
                 draft_key: str | None = None) -> None:
        super().__init__(drafts=drafts, draft_key=draft_key)
        self._text = clean_text(text)
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label(self._title, classes="form-title")
            yield TextArea(self._text, id="note-text", soft_wrap=True)
            yield Static("", id="note-error", classes="error")
            yield from self.buttons()
        yield from self.compose_keys()

    def fields(self) -> dict[str, Any]:
        return {"text": self.query_one("#note-text", TextArea).text}

    def show_fields(self, fields: dict[str, Any]) -> None:
        self.query_one("#note-text", TextArea).text = clean_text(str(fields.get("text", "")))

    def focus_field(self) -> None:
        area = self.query_one("#note-text", TextArea)
        area.move_cursor(area.document.end)  # what is typed goes after what is there
        area.focus()

    def action_save(self) -> None:
        text = self.query_one("#note-text", TextArea).text.strip()
        if not text:
            self.query_one("#note-error", Static).update("A note needs some text.")
            self.query_one("#note-text", TextArea).focus()
            return
        self.finish(text)


@dataclass
class DetailsEdit:
    name: str
    company: str
    contacts: list[ContactPoint]


class PrimaryBox(Checkbox):
    """The "primary" checkbox: ✓ when set, empty when not, so its state reads without colour
    (Textual's box shows an X either way, only its colour changes)."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]
        return "✓" if self.value else " "


class ContactRow(Vertical):
    """One contact point: value, label, primary; an empty value removes it."""

    def __init__(self, point: ContactPoint | None, kind: ContactKind, index: int,
                 value: str = "") -> None:
        """`value`: what a new row opens with (a new customer's address typed in the search)."""
        super().__init__(classes="contact-row")
        self.point = point
        self.kind = kind
        self.index = index
        self.value = value

    def compose(self) -> ComposeResult:
        point = self.point
        caption = self.kind.value if point else f"new {self.kind.value}"
        with Horizontal(classes="contact-fields"):
            yield Label(caption, classes="contact-kind")
            yield Input(clean_field(point.value if point else self.value), placeholder=self.kind.value,
                        id=f"value-{self.index}", classes="contact-value", compact=True,
                        select_on_focus=False)
            yield Input(clean_field(point.label) if point else "", placeholder="label",
                        id=f"label-{self.index}", classes="contact-label", compact=True,
                        select_on_focus=False)
            yield PrimaryBox("primary", point.primary if point else False, id=f"primary-{self.index}",
                             compact=True)
        yield Static("", id=f"error-{self.index}", classes="error")

    @property
    def draft_name(self) -> str:
        """The row's name in a draft: its contact point, or which new row it is."""
        return self.point.id if self.point else f"new {self.kind.value}"


class ContactForm(FormScreen):
    """Edit name, company and contact points. Returns a validated DetailsEdit, or None.

    Opens on the name, or on the value of the contact point `focus` names.
    """

    def __init__(self, profile: Profile, *, focus: str | None = None, drafts: Drafts | None = None,
                 draft_key: str | None = None) -> None:
        super().__init__(drafts=drafts, draft_key=draft_key)
        self.profile = profile
        self.focus_on = focus

    form_title = "Edit customer"
    hint = "Clear a value to remove that contact point."

    def contact_rows(self) -> list[ContactRow]:
        """The contact points, then an empty row for a new e-mail and a new phone."""
        rows = [(p, p.kind) for p in self.profile.contacts]
        rows += [(None, ContactKind.EMAIL), (None, ContactKind.PHONE)]
        return [ContactRow(point, kind, index) for index, (point, kind) in enumerate(rows)]

    def opening_values(self) -> tuple[str, str]:
        """The name and company the form opens with."""
        return self.profile.customer.name, self.profile.customer.company

    def compose(self) -> ComposeResult:
        name, company = self.opening_values()
        with Vertical(classes="form wide"):
            yield Label(self.form_title, classes="form-title")
            with VerticalScroll(id="contact-fields", can_focus=False):
                with Horizontal(classes="contact-fields"):
                    yield Label("name", classes="contact-kind")
                    yield Input(clean_field(name), id="name", compact=True, classes="contact-value",
                                select_on_focus=False)
                yield Static("", id="name-error", classes="error")
                with Horizontal(classes="contact-fields"):
                    yield Label("company", classes="contact-kind")
                    yield Input(clean_field(company), id="company", compact=True, classes="contact-value",
                                select_on_focus=False)
                yield from self.contact_rows()
            yield Static(Text(self.hint, style="dim"))
            yield from self.buttons()
        yield from self.compose_keys()

    def focus_field(self) -> None:
        target = self.query_one("#name", Input)
        for row in self.query(ContactRow):
            if row.point is not None and row.point.id == self.focus_on:
                target = row.query_one(f"#value-{row.index}", Input)
        target.cursor_position = len(target.value)
        target.focus()

    def fields(self) -> dict[str, Any]:
        rows = {}
        for row in self.query(ContactRow):
            rows[row.draft_name] = {
                "value": row.query_one(f"#value-{row.index}", Input).value,
                "label": row.query_one(f"#label-{row.index}", Input).value,
                "primary": row.query_one(f"#primary-{row.index}", Checkbox).value,
            }
        return {"name": self.query_one("#name", Input).value,
                "company": self.query_one("#company", Input).value, "rows": rows}

    def show_fields(self, fields: dict[str, Any]) -> None:
        def put(selector: str, value: object) -> None:
            field = self.query_one(selector, Input)
            field.value = clean_field(str(value))
            field.cursor_position = len(field.value)

        put("#name", fields.get("name", ""))
        put("#company", fields.get("company", ""))
        rows = fields.get("rows") if isinstance(fields.get("rows"), dict) else {}
        for row in self.query(ContactRow):
            drafted = rows.get(row.draft_name)
            if isinstance(drafted, dict):
                put(f"#value-{row.index}", drafted.get("value", ""))
                put(f"#label-{row.index}", drafted.get("label", ""))
                row.query_one(f"#primary-{row.index}", Checkbox).value = bool(drafted.get("primary"))

    def action_save(self) -> None:
        edit = self.validated()
        if edit is not None:
            self.finish(edit)

    def validated(self) -> DetailsEdit | None:
        """The fields checked: a DetailsEdit, or None with each problem shown by its field."""
        name = self.query_one("#name", Input).value.strip()
        errors = 0
        first_bad: Input | None = None
        name_error = self.query_one("#name-error", Static)
        if not name:
            name_error.update("A name is required.")
            errors += 1
            first_bad = self.query_one("#name", Input)
        else:
            name_error.update("")
        contacts: list[ContactPoint] = []
        for row in self.query(ContactRow):
            value_input = row.query_one(f"#value-{row.index}", Input)
            error = row.query_one(f"#error-{row.index}", Static)
            value = value_input.value.strip()
            error.update("")
            value_input.remove_class("invalid")
            if not value:
                continue
            try:
                value = normalize_contact(row.kind.value, value)
                fields = {
                    "kind": row.kind,
                    "value": value,
                    "label": row.query_one(f"#label-{row.index}", Input).value.strip(),
                    "primary": row.query_one(f"#primary-{row.index}", Checkbox).value,
                }
                if row.point is not None:
                    fields = {**row.point.model_dump(), **fields}
                contacts.append(ContactPoint.model_validate(fields))
            except (InvalidContact, ValidationError) as problem:
                message = str(problem) if isinstance(problem, InvalidContact) else _first_error(problem)
                error.update(Text(message))  # may quote the typed value: never markup
                value_input.add_class("invalid")
                errors += 1
                first_bad = first_bad or value_input
        if errors:
            assert first_bad is not None
            first_bad.focus()
            self.notify(f"Not saved: {errors} field(s) need fixing.", severity="error", markup=False)
            return None
        return DetailsEdit(name, self.query_one("#company", Input).value.strip(), contacts)


def _first_error(error: ValidationError) -> str:
    return str(error.errors()[0].get("msg", "invalid value"))


class ConfirmScreen(ModalScreen[bool]):
    HELP_GROUP = "Confirmation"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(self.question)
            yield Static(Text("y: yes   n / esc: no", style="dim"))
        yield KeyBar()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
