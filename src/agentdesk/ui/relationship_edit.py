"""Relationships from the panel's list: add one (the other customer found with the search
screen, then a label), change its label or the customer it points to, remove it.

Only the customer's own links are edited here; a line "assistant of Ada" is Ada's link, and is
changed on Ada's profile (Enter opens it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from agentdesk.model.sanitize import clean_field, clean_line
from agentdesk.ui import safe
from agentdesk.ui.forms import FormScreen

if TYPE_CHECKING:
    from agentdesk.cache.search_index import IndexRow
    from agentdesk.model.views import StoredProfile
    from agentdesk.ui.profile import ProfileScreen

MAX_LABEL = 60  # characters: a label is a word or two ("spouse", "account manager")


@dataclass(frozen=True)
class Other:
    """The customer a relationship points to, as the form shows it."""

    customer_id: str
    name: str


@dataclass(frozen=True)
class RelationshipEdit:
    label: str
    other: Other


class RelationshipForm(FormScreen):
    """The label and the other customer (ctrl+o chooses another). Returns a RelationshipEdit,
    or None."""

    BINDINGS = [
        Binding("ctrl+o", "choose", "Choose customer", id="relationship.choose",
                tooltip="Choose the other customer with the search screen"),
        Binding("escape", "cancel", "Close", id="form.cancel"),  # nothing kept: no draft
    ]

    def __init__(self, of: Other, other: Other | None, label: str = "", *,
                 title: str = "New relationship") -> None:
        super().__init__()  # a label is a word: no draft kept
        self.of = of
        self.other = other
        self._label = clean_field(label)
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label(self._title, classes="form-title")
            with Horizontal(classes="contact-fields"):
                yield Label("of", classes="contact-kind")
                yield Static(safe.line(self.of.name or self.of.customer_id, "bold"))
            with Horizontal(classes="contact-fields"):
                yield Label("label", classes="contact-kind")
                yield Input(self._label, placeholder="spouse, assistant, manager…", id="label", classes="contact-value",
                            compact=True, select_on_focus=False, max_length=MAX_LABEL)
            yield Static("", id="label-error", classes="error")
            with Horizontal(classes="contact-fields"):
                yield Label("customer", classes="contact-kind")
                yield Static(id="other", classes="contact-value")
            yield Static("", id="other-error", classes="error")
            yield Static(Text("ctrl+o: choose the other customer by search", style="dim"))
            yield from self.buttons()
        yield from self.compose_keys()

    def on_mount(self) -> None:
        self._show_other()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "discard"  # a label is not kept as a draft: nothing to discard

    def buttons(self) -> ComposeResult:
        with Horizontal(classes="buttons"):
            yield Button("Save ^s", id="save", variant="primary", compact=True)
            yield Button("Close esc", id="cancel", compact=True)

    def _show_other(self) -> None:
        shown = Text()
        if self.other is None:
            shown.append("(none chosen: ctrl+o)", style="italic")
        else:
            shown.append_text(safe.line(self.other.name or self.other.customer_id, "bold"))
            shown.append_text(safe.line(f"  {self.other.customer_id}", "dim"))
        self.query_one("#other", Static).update(shown)

    def fields(self) -> dict[str, Any]:
        return {"label": self.query_one("#label", Input).value}

    def show_fields(self, fields: dict[str, Any]) -> None:  # pragma: no cover - no drafts
        self.query_one("#label", Input).value = clean_field(str(fields.get("label", "")))

    def focus_field(self) -> None:
        field = self.query_one("#label", Input)
        field.cursor_position = len(field.value)
        field.focus()

    def action_choose(self) -> None:
        def chosen(row: IndexRow | None) -> None:
            if row is not None:
                self.other = Other(row.id, row.name)
                self._show_other()
                self.query_one("#other-error", Static).update("")
            self.focus_field()

        from agentdesk.ui.search import SearchScreen

        self.app.push_screen(SearchScreen(getattr(self.app, "index", None),
                                          pick="Choose the related customer"), chosen)

    def action_save(self) -> None:
        label = " ".join(self.query_one("#label", Input).value.split())
        label_error = self.query_one("#label-error", Static)
        other_error = self.query_one("#other-error", Static)
        label_error.update("" if label else "A label is needed (spouse, assistant, manager…).")
        problem = ""
        if self.other is None:
            problem = "Choose the other customer (ctrl+o)."
        elif self.other.customer_id == self.of.customer_id:
            problem = "A customer cannot be related to themselves: choose another (ctrl+o)."
        other_error.update(problem)
        if not label:
            self.focus_field()
        if label and not problem and self.other is not None:
            self.finish(RelationshipEdit(label, self.other))


def _question(label: str, name: str) -> Text:
    question = Text("Remove the relationship ")
    question.append_text(safe.line(label, "italic"))
    question.append(" with ")
    question.append_text(safe.line(name, "bold"))
    question.append("?\n\nThe other customer's profile is not changed.")
    return question


def edit_relationship(screen: ProfileScreen, what: str, option_id: str | None) -> None:
    """Add, change or remove (`what`) from the Relationships list, on the line `option_id`."""
    from agentdesk.ui.details import RELATED_BY

    profile = screen.profile
    if profile is None or screen._refuse_if_read_only():  # noqa: SLF001
        return
    me = Other(screen.customer_id, profile.customer.name)
    if what == "add":
        def chosen(row: IndexRow | None) -> None:
            if row is not None:
                form = RelationshipForm(me, Other(row.id, row.name))
                screen.app.push_screen(form, lambda edit: _save(screen, edit, None))

        from agentdesk.ui.search import SearchScreen

        screen.app.push_screen(SearchScreen(screen.desk.index, pick=f"Related customer of "
                                            f"{clean_line(profile.customer.name)}"), chosen)
        return
    if option_id is not None and option_id.startswith(RELATED_BY):
        screen.notify("That link is on the other customer's profile: enter opens it, to change "
                      "it there.", timeout=4)
        return
    rel = _own(profile, option_id)
    if rel is None:
        screen.notify("No relationship is highlighted: a adds one.", timeout=3)
        return
    other = Other(rel.customer_id, screen.desk.customer_name(rel.customer_id) or rel.name)
    if what == "change":
        form = RelationshipForm(me, other, rel.label, title="Change relationship")
        screen.app.push_screen(form, lambda edit: _save(screen, edit, rel.id))
    elif what == "remove":
        from agentdesk.ui.forms import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                screen._save(lambda: _after(screen, screen.cache.delete_relationship(  # noqa: SLF001
                    screen.customer_id, rel.id)))

        screen.app.push_screen(ConfirmScreen(_question(rel.label, other.name)), answer)


def _own(profile: StoredProfile, option_id: str | None):  # type: ignore[no-untyped-def]
    return next((r for r in profile.relationships if r.id == option_id), None)


def _save(screen: ProfileScreen, edit: RelationshipEdit | None, rel_id: str | None) -> None:
    """Queue the link as the form returned it (a new one, or `rel_id` changed)."""
    if edit is None:
        return
    from agentdesk.model.records import Relationship

    fields: dict[str, Any] = {"customer_id": edit.other.customer_id, "label": edit.label,
                              "name": edit.other.name}
    if rel_id is not None:
        fields["id"] = rel_id
    relationship = Relationship(**fields)
    screen._save(lambda: _after(screen, screen.cache.put_relationship(  # noqa: SLF001
        screen.customer_id, relationship)))


def _after(screen: ProfileScreen, _result: object):  # type: ignore[no-untyped-def]
    """The profile as saved: the search index follows it (who this customer lists)."""
    return screen.cache.load_profile(screen.customer_id)
