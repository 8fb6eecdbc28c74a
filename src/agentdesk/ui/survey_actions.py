"""What the agent does to a survey response in the Responses view: ignore it (or count it
again) with `i`, add a tag with `+`, remove one with `-`, start a conversation from it with
`N` (the response quoted in its first note; the timeline shows it). Each is an edit
(`cache.entry_edits`), synced like every edit; the view reads the surveys again after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from agentdesk.ui import entry_actions

if TYPE_CHECKING:
    from agentdesk.model.surveys import SurveyItem
    from agentdesk.ui.profile import ProfileScreen
    from agentdesk.ui.surveys import SurveysScreen

MAX_TAG = 64


class TagPrompt(ModalScreen[str | None]):
    """One tag, typed."""

    HELP_GROUP = "Tag"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="tag.cancel")]

    def __init__(self, title: str, choices: list[str]) -> None:
        super().__init__()
        self.title_text, self.choices = title, choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(Text(self.title_text, style="bold"))
            if self.choices:
                yield Static(Text("its tags: " + ", ".join(self.choices), style="dim"))
            yield Input(placeholder="tag", max_length=MAX_TAG, id="tag-input")
            yield Static(Text("enter: done · esc: cancel", style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _edit(view: SurveysScreen, item: SurveyItem, make: Callable[[ProfileScreen, dict[str, Any]], Any]) -> None:
    from agentdesk.ui.profile import ProfileScreen

    profile = view.view.screen
    if not isinstance(profile, ProfileScreen) or profile._refuse_if_read_only():  # noqa: SLF001
        return
    doc = profile.cache.entry_doc(profile.customer_id, item.position)
    if doc.get("id") != item.entry.id:  # the timeline changed under the list: read it again
        view.reread()
        return
    entry_actions.edit(profile, lambda: make(profile, doc))
    view.reread()


def toggle_ignored(view: SurveysScreen, item: SurveyItem) -> None:
    _edit(view, item, lambda p, doc: p.cache.update_response(
        p.customer_id, doc, ignored=not item.ignored))


def add_tag(view: SurveysScreen, item: SurveyItem) -> None:
    def chosen(tag: str | None) -> None:
        if tag and tag not in item.tags:
            _edit(view, item, lambda p, doc: p.cache.update_response(
                p.customer_id, doc, tags=[*item.tags, tag]))

    view.app.push_screen(TagPrompt("Add a tag to this response", item.tags), chosen)


def remove_tag(view: SurveysScreen, item: SurveyItem) -> None:
    if not item.tags:
        view.notify("This response has no tags.", timeout=2)
        return

    def chosen(tag: str | None) -> None:
        if tag and tag in item.tags:
            _edit(view, item, lambda p, doc: p.cache.update_response(
                p.customer_id, doc, tags=[t for t in item.tags if t != tag]))
        elif tag:
            view.notify("This response has no such tag.", timeout=2)

    view.app.push_screen(TagPrompt("Remove a tag from this response", item.tags), chosen)


def start_conversation(view: SurveysScreen, item: SurveyItem) -> None:
    """A new conversation quoting the response: shown in the timeline, its note marked."""
    from agentdesk.ui.profile import ProfileScreen

    profile = view.view.screen
    if not isinstance(profile, ProfileScreen) or profile._refuse_if_read_only():  # noqa: SLF001
        return
    doc = profile.cache.entry_doc(profile.customer_id, item.position)
    if doc.get("id") != item.entry.id:
        view.reread()
        return
    started: list[Any] = []

    def write() -> Any:
        started.append(profile.cache.start_conversation_from_response(profile.customer_id, doc, profile.desk.author))
        return started[-1]

    timeline = view.view
    view.app.pop_screen()
    entry_actions.edit(profile, write)
    if started:
        profile.reload()  # the details panel lists the new conversation
        timeline.scroll_to_conversation(started[0].target)
