"""Modal forms: a note, the customer's details and contact points, a delete confirmation.

Each form validates before it returns anything: an invalid value is refused inline, next to
the field, and the caller gets nothing to save.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from agentdesk.model.records import ContactKind, ContactPoint, Profile
from agentdesk.model.sanitize import clean_line, clean_text
from agentdesk.model.contact_values import InvalidContact, normalize_contact


class FormScreen(ModalScreen):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save"),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def buttons(self) -> ComposeResult:
        with Horizontal(classes="buttons"):
            yield Button("Save  ctrl+s", id="save", variant="primary")
            yield Button("Cancel  esc", id="cancel")

    def action_save(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class NoteForm(FormScreen):
    """Add or edit a note (a "detail" about the customer). Returns the text, or None."""

    def __init__(self, text: str = "", *, title: str = "New note") -> None:
        super().__init__()
        self._text = clean_text(text)
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label(self._title, classes="form-title")
            yield TextArea(self._text, id="note-text", soft_wrap=True)
            yield Static("", id="note-error", classes="error")
            yield from self.buttons()

    def action_save(self) -> None:
        text = self.query_one("#note-text", TextArea).text.strip()
        if not text:
            self.query_one("#note-error", Static).update("A note needs some text.")
            self.query_one("#note-text", TextArea).focus()
            return
        self.dismiss(text)


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

    def __init__(self, point: ContactPoint | None, kind: ContactKind, index: int) -> None:
        super().__init__(classes="contact-row")
        self.point = point
        self.kind = kind
        self.index = index

    def compose(self) -> ComposeResult:
        point = self.point
        caption = self.kind.value if point else f"new {self.kind.value}"
        with Horizontal(classes="contact-fields"):
            yield Label(caption, classes="contact-kind")
            yield Input(clean_line(point.value) if point else "", placeholder=self.kind.value,
                        id=f"value-{self.index}", classes="contact-value", compact=True)
            yield Input(clean_line(point.label) if point else "", placeholder="label",
                        id=f"label-{self.index}", classes="contact-label", compact=True)
            yield PrimaryBox("primary", point.primary if point else False, id=f"primary-{self.index}",
                             compact=True)
        yield Static("", id=f"error-{self.index}", classes="error")


class ContactForm(FormScreen):
    """Edit name, company and contact points. Returns a validated DetailsEdit, or None."""

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.profile = profile

    def compose(self) -> ComposeResult:
        customer = self.profile.customer
        with Vertical(classes="form wide"):
            yield Label("Edit customer", classes="form-title")
            with VerticalScroll(id="contact-fields"):
                with Horizontal(classes="contact-fields"):
                    yield Label("name", classes="contact-kind")
                    yield Input(clean_line(customer.name), id="name", compact=True)
                yield Static("", id="name-error", classes="error")
                with Horizontal(classes="contact-fields"):
                    yield Label("company", classes="contact-kind")
                    yield Input(clean_line(customer.company), id="company", compact=True)
                rows = [(p, p.kind) for p in self.profile.contacts]
                rows += [(None, ContactKind.EMAIL), (None, ContactKind.PHONE)]
                for index, (point, kind) in enumerate(rows):
                    yield ContactRow(point, kind, index)
            yield Static(Text("Clear a value to remove that contact point.", style="dim"))
            yield from self.buttons()

    def action_save(self) -> None:
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
            return
        self.dismiss(DetailsEdit(name, self.query_one("#company", Input).value.strip(), contacts))


def _first_error(error: ValidationError) -> str:
    return str(error.errors()[0].get("msg", "invalid value"))


class ConfirmScreen(ModalScreen[bool]):
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

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
