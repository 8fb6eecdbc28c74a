"""Start a conversation with the customer on screen (`c`): a channel the customer can be
reached on, a topic, and the first message, which goes out as the conversation's first
outbound entry. What is typed is kept as a draft, as for notes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static, TextArea

from agentdesk.model.kinds import Channel, ContactKind
from agentdesk.model.sanitize import clean_field, clean_text
from agentdesk.ui.forms import FormScreen

if TYPE_CHECKING:
    from agentdesk.cache.drafts import Drafts
    from agentdesk.model.views import StoredProfile
    from agentdesk.ui.profile import ProfileScreen

# Channels a first message can go out on, and the contact point each needs (None: the
# channel's own connector finds the customer, as chat does by their session).
REACHED_BY: dict[Channel, ContactKind | None] = {
    Channel.EMAIL: ContactKind.EMAIL,
    Channel.SMS: ContactKind.PHONE,
    Channel.VOICE: ContactKind.PHONE,
    Channel.CHAT: None,
    Channel.SOCIAL: ContactKind.SOCIAL,
}
MAX_TOPIC = 120  # characters: a topic is a heading in the panel's conversation list


def start_key(customer_id: str) -> str:
    """The draft of a new conversation with the customer (one at a time)."""
    return f"conversation:{customer_id}:new"


@dataclass(frozen=True)
class ConversationStart:
    channel: Channel
    topic: str
    body: str


class StartConversationForm(FormScreen):
    """Returns a ConversationStart, or None."""

    def __init__(self, profile: StoredProfile, *, drafts: Drafts | None = None,
                 draft_key: str | None = None) -> None:
        super().__init__(drafts=drafts, draft_key=draft_key)
        self.kinds = {p.kind for p in profile.contacts}
        self.customer_name = profile.customer.name

    def _first_reachable(self) -> Channel:
        return next((ch for ch, kind in REACHED_BY.items() if kind is None or kind in self.kinds),
                    Channel.EMAIL)

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            title = Text("New conversation with ", style="bold")
            title.append(clean_field(self.customer_name))
            yield Label(title, classes="form-title")
            with Horizontal(classes="contact-fields"):
                yield Label("channel", classes="contact-kind")
                yield Select([(ch.value, ch) for ch in REACHED_BY], value=self._first_reachable(),
                             allow_blank=False, id="channel", compact=True)
            yield Static("", id="channel-error", classes="error")
            with Horizontal(classes="contact-fields"):
                yield Label("topic", classes="contact-kind")
                yield Input("", placeholder="what it is about", id="topic", compact=True, classes="contact-value",
                            select_on_focus=False, max_length=MAX_TOPIC)
            yield Static("", id="topic-error", classes="error")
            yield Label("first message (goes out on the channel above)", classes="contact-kind",
                        id="first-message-label")
            yield TextArea("", id="first-message", soft_wrap=True)
            yield Static("", id="message-error", classes="error")
            yield from self.buttons()
        yield from self.compose_keys()

    def fields(self) -> dict[str, Any]:
        return {"channel": str(self.query_one("#channel", Select).value),
                "topic": self.query_one("#topic", Input).value,
                "text": self.query_one("#first-message", TextArea).text}

    def show_fields(self, fields: dict[str, Any]) -> None:
        channel = str(fields.get("channel", ""))
        if channel in {ch.value for ch in REACHED_BY}:
            self.query_one("#channel", Select).value = Channel(channel)
        self.query_one("#topic", Input).value = clean_field(str(fields.get("topic", "")))
        self.query_one("#first-message", TextArea).text = clean_text(str(fields.get("text", "")))

    def on_select_changed(self) -> None:
        self.draft.changed()

    def focus_field(self) -> None:
        topic = self.query_one("#topic", Input)
        topic.cursor_position = len(topic.value)
        topic.focus()

    def action_save(self) -> None:
        channel = self.query_one("#channel", Select).value
        topic = " ".join(self.query_one("#topic", Input).value.split())
        body = self.query_one("#first-message", TextArea).text.strip()
        needed = REACHED_BY.get(channel) if isinstance(channel, Channel) else None
        problems = {
            "#channel-error": (f"This customer has no {needed.value} contact point: add one "
                               "(e on the profile) or choose another channel."
                               if needed is not None and needed not in self.kinds else ""),
            "#topic-error": "" if topic else "A topic is needed (it heads the conversation).",
            "#message-error": "" if body else "The first message needs some text.",
        }
        for selector, problem in problems.items():
            self.query_one(selector, Static).update(problem)
        first = next((s for s, p in problems.items() if p), None)
        if first is not None:
            focus = {"#channel-error": "#channel", "#topic-error": "#topic",
                     "#message-error": "#first-message"}[first]
            self.query_one(focus).focus()
            return
        assert isinstance(channel, Channel)
        self.finish(ConversationStart(channel, topic, body))


def start_conversation(screen: ProfileScreen) -> None:
    """The form, then the conversation queued for the store and shown at once, scrolled to."""
    profile = screen.profile
    if profile is None or screen._refuse_if_read_only():  # noqa: SLF001
        return
    key = start_key(screen.customer_id)

    def save(start: ConversationStart | None) -> None:
        if start is None:
            return
        started: list[str] = []

        def write() -> None:
            started.append(screen.cache.start_conversation(
                screen.customer_id, start.topic, start.channel, start.body, screen.desk.author))

        screen._save(write, draft=key)  # noqa: SLF001
        if started:
            screen.show_started(started[0])

    screen.app.push_screen(StartConversationForm(profile, drafts=screen.cache.drafts,
                                                 draft_key=key), save)
