"""Forms of the customer data pane: a field's value (or a new field), a subscription, the
customer's status and tags. Each checks what was typed before it returns anything, as the
other forms do (`ui.forms`); the cache checks again when it saves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Select, Static

from agentdesk.model.fields import check_value, parse_value, shown
from agentdesk.model.kinds import CustomerStatus
from agentdesk.model.profile_kinds import FieldGroup, FieldType, SubscriptionKind
from agentdesk.model.sanitize import clean_line
from agentdesk.ui.forms import FormScreen


@dataclass
class FieldEdit:
    key: str
    text: str
    type: str
    group: str


class FieldForm(FormScreen):
    """A field's desk value; for a new field also its key, type and group."""

    def __init__(self, *, key: str = "", type: str = "text", value: Any = None,
                 label: str = "") -> None:
        super().__init__()
        self._new = not key
        self._key, self._type, self._label = key, type, label
        self._value = "" if value is None else shown(value)

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            title = "New field" if self._new else f"Edit {clean_line(self._label or self._key)}"
            yield Label(Text(title), classes="form-title")
            if self._new:
                yield Input(placeholder="key, e.g. persona or company.size", id="field-key")
                yield Select([(t.value, t.value) for t in FieldType], value=self._type,
                             allow_blank=False, id="field-type", compact=True)
                yield Select([(g.value.replace("_", "-"), g.value) for g in FieldGroup],
                             value=FieldGroup.CUSTOM.value, allow_blank=False, id="field-group",
                             compact=True)
            else:
                yield Static(Text(f"{self._type} field; the desk's value wins over the others",
                                  style="dim"))
            yield Input(clean_line(self._value), placeholder=_hint(self._type), id="field-value")
            yield Static("", id="field-error", classes="error")
            yield from self.buttons()
        yield from self.compose_keys()

    def focus_field(self) -> None:
        self.query_one("#field-key" if self._new else "#field-value", Input).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "field-type":
            self.query_one("#field-value", Input).placeholder = _hint(str(event.value))

    def action_save(self) -> None:
        error = self.query_one("#field-error", Static)
        key, kind, group = self._key, self._type, FieldGroup.CUSTOM.value
        if self._new:
            key = self.query_one("#field-key", Input).value.strip()
            kind = str(self.query_one("#field-type", Select).value)
            group = str(self.query_one("#field-group", Select).value)
            if not key or key != clean_line(key):
                error.update("A field needs a key (letters, digits, dots), no control characters.")
                self.query_one("#field-key", Input).focus()
                return
        text = self.query_one("#field-value", Input).value
        try:
            check_value(kind, parse_value(kind, text))
        except ValueError as why:
            error.update(Text(f"Not a {kind} value: {why}"))
            self.query_one("#field-value", Input).focus()
            return
        self.finish(FieldEdit(key, text, kind, group))


def _hint(kind: str) -> str:
    return {"number": "a number, e.g. 42", "date": "a day, YYYY-MM-DD", "boolean": "yes or no",
            "list": "texts separated by commas"}.get(kind, "text")


@dataclass
class SubscriptionEdit:
    name: str
    kind: str


class SubscriptionForm(FormScreen):
    """A list or subscription category to add the customer to."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label("Add a subscription", classes="form-title")
            yield Input(placeholder="list or category name", id="subscription-name")
            yield Select([("mailing list", SubscriptionKind.LIST.value),
                          ("subscription category", SubscriptionKind.CATEGORY.value)],
                         value=SubscriptionKind.LIST.value, allow_blank=False,
                         id="subscription-kind", compact=True)
            yield Static("", id="subscription-error", classes="error")
            yield from self.buttons()
        yield from self.compose_keys()

    def focus_field(self) -> None:
        self.query_one("#subscription-name", Input).focus()

    def action_save(self) -> None:
        name = self.query_one("#subscription-name", Input).value.strip()
        if not name or len(name) > 200:
            self.query_one("#subscription-error", Static).update("A name of 1 to 200 characters.")
            return
        self.finish(SubscriptionEdit(name, str(self.query_one("#subscription-kind", Select).value)))


@dataclass
class StatusEdit:
    status: str
    tags: list[str]


class StatusTagsForm(FormScreen):
    """The customer's status and tags (separated by commas)."""

    def __init__(self, status: str, tags: list[str]) -> None:
        super().__init__()
        self._status, self._tags = status, tags

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label("Status and tags", classes="form-title")
            yield Select([(s.value, s.value) for s in CustomerStatus], value=self._status,
                         allow_blank=False, id="status", compact=True)
            yield Input(clean_line(", ".join(self._tags)), placeholder="tags, separated by commas",
                        id="tags")
            yield Static("", id="status-error", classes="error")
            yield from self.buttons()
        yield from self.compose_keys()

    def focus_field(self) -> None:
        self.query_one("#tags", Input).focus()

    def action_save(self) -> None:
        raw = [t.strip() for t in self.query_one("#tags", Input).value.split(",") if t.strip()]
        tags = list(dict.fromkeys(raw))
        if any(len(t) > 60 for t in tags):
            self.query_one("#status-error", Static).update("A tag has at most 60 characters.")
            return
        self.finish(StatusEdit(str(self.query_one("#status", Select).value), tags))
