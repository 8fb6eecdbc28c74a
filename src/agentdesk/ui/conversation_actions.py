"""Working a conversation from its customer's profile: reply (`R`), status (`s`, with a snooze
time), assignee (`A`), priority (`P`), topic and tags (`T`).

Each acts on the conversation the agent is looking at: the one highlighted in the panel's
Conversations list when that list has the focus, else the one the timeline went to (from the
queue, `N`, a jump), else the first on screen from the top of the timeline; when the timeline shows none
(a screenful of campaigns and orders), the customer's newest conversation not closed, else
their newest. The dialog names it.
Each change goes through the cache (validated, in the outbox, applied at once) like a note;
a failure is shown and nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from agentdesk.cache.files import CacheError
from agentdesk.model.sanitize import clean_line
from agentdesk.model.views import Stored
from agentdesk.ui import clock, placeholders, safe
from agentdesk.ui.keybar import KeyBar
from agentdesk.ui.row import Row
from agentdesk.ui.row_list import Option, RowList
from agentdesk.ui.timeline import TimelineView

if TYPE_CHECKING:
    from agentdesk.ui.profile import ProfileScreen

PRIORITIES = ("low", "normal", "high", "urgent")
SNOOZES = (("snooze:1h", "Snooze for 1 hour", timedelta(hours=1)),
           ("snooze:4h", "Snooze for 4 hours", timedelta(hours=4)),
           ("snooze:1d", "Snooze for a day", timedelta(days=1)),
           ("snooze:7d", "Snooze for a week", timedelta(days=7)))
UNASSIGNED = "\0nobody"


def current_conversation(screen: ProfileScreen) -> Stored | None:
    """The conversation the agent is looking at (see the module's docstring): the one
    highlighted in the panel's list if it has the focus; else the one the timeline went to
    (opened from the queue, a jump, a find: its entry is marked) while that entry is on
    screen; else the first on screen from the top of the timeline; else (no conversation
    on screen) the newest not closed, else the newest."""
    timeline = screen.query_one(TimelineView)
    panel_list = screen.query_one("#conversations", RowList)
    if screen.focused is panel_list and panel_list.highlighted is not None:
        option_id = panel_list.get_option_at_index(panel_list.highlighted).id
        if option_id and (found := timeline.conversation(option_id)) is not None:
            return found
    top = timeline.scroll_offset.y
    bottom = top + timeline.scrollable_content_region.height
    lines = list(range(top + 1, bottom))  # the first conversation's entry from the top
    if timeline.mark is not None:
        marked = timeline.entry_y(timeline.mark)
        if top <= marked < bottom:
            lines.insert(0, marked)
    for line in lines:
        found = timeline.entry_at(line)
        if found is not None:
            _block, layout, i = found
            if (conversation := timeline.conversation(layout.conversations[i])) is not None:
                return conversation
    return _newest(screen.profile.conversations if screen.profile is not None else [])


def _newest(conversations: Iterable[Stored]) -> Stored | None:
    """The newest conversation not closed, else the newest."""
    return max(conversations, default=None,
               key=lambda c: (getattr(c.status, "value", c.status) != "closed", c.started))


class ChoiceScreen(ModalScreen[str | None]):
    """A short list to choose from (status, assignee, priority); returns the option's id."""

    HELP_GROUP = "Choice"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="choice.cancel")]

    def __init__(self, title: Text, options: list[tuple[str, Row]], current: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(self.title_text, classes="form-title")
            yield RowList(id="choices")
            yield Static(Text("enter: choose · esc: cancel", style="dim"))
        yield KeyBar()

    def on_mount(self) -> None:
        choices = self.query_one(RowList)
        choices.add_options([Option(row, id=option_id) for option_id, row in self.options])
        ids = [option_id for option_id, _ in self.options]
        choices.highlighted = ids.index(self.current) if self.current in ids else 0
        choices.focus()

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        self.dismiss(event.option.id)


class SnoozeUntilScreen(ModalScreen[datetime | None]):
    """A snooze time typed: "3h", "2d", "90m", or "YYYY-MM-DD HH:MM" (desk time); it must be
    in the future."""

    HELP_GROUP = "Choice"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="snooze.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label("Snooze until", classes="form-title")
            yield Input(placeholder="3h, 2d, 90m or 2026-01-07 09:00", id="snooze-until",
                        compact=True)
            yield Static("", id="snooze-error", classes="error")
            yield Static(Text("enter: snooze · esc: cancel", style="dim"))
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        until = parse_until(event.value, clock.now())
        if until is None or until <= clock.now():
            self.query_one("#snooze-error", Static).update(Text(
                "A time in the future, please: 3h, 2d, 90m or YYYY-MM-DD HH:MM."))
            return
        self.dismiss(until)


def parse_until(text: str, now: datetime) -> datetime | None:
    text = text.strip().lower()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if len(text) >= 2 and text[-1] in units and text[:-1].strip().isdigit():
        amount = int(text[:-1])
        return now + timedelta(**{units[text[-1]]: amount}) if 0 < amount < 10_000 else None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.astimezone()  # no zone: the desk's own


class TopicForm(ModalScreen[tuple[str, list[str]] | None]):
    """The conversation's topic and tags (comma-separated)."""

    HELP_GROUP = "Choice"
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="topic.cancel"),
        Binding("ctrl+s", "save", "Save", id="topic.save"),
    ]

    def __init__(self, topic: str, tags: list[str]) -> None:
        super().__init__()
        self.topic, self.tags = topic, tags

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label("Topic and tags", classes="form-title")
            yield Input(clean_line(self.topic), placeholder="topic", id="topic-text",
                        compact=True)
            yield Input(", ".join(clean_line(t) for t in self.tags),
                        placeholder="tags, comma-separated", id="topic-tags", compact=True)
            yield Static("", id="topic-error", classes="error")
            yield Static(Text("ctrl+s or enter: save · esc: cancel", style="dim"))
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#topic-text", Input).focus()

    def on_input_submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        topic = self.query_one("#topic-text", Input).value.strip()
        if not topic:
            self.query_one("#topic-error", Static).update("A conversation needs a topic.")
            return
        tags = [t.strip() for t in self.query_one("#topic-tags", Input).value.split(",")]
        self.dismiss((topic, list(dict.fromkeys(t for t in tags if t))))


# -- the actions -----------------------------------------------------------------------------


def _heading(what: str, conversation: Stored) -> Text:
    line = Text(f"{what} · ")
    line.append_text(safe.line(conversation.topic, "italic"))
    return line


def _target(screen: ProfileScreen) -> Stored | None:
    if screen.profile is None or screen._refuse_if_read_only():  # noqa: SLF001
        return None
    conversation = current_conversation(screen)
    if conversation is None:
        screen.notify("No conversation here to act on.", timeout=3)
    return conversation


def _update(screen: ProfileScreen, conversation: Stored, **fields: Any) -> None:
    def write() -> None:
        screen.cache.update_conversation(screen.customer_id, conversation.id, **fields)
    saved(screen, write)


def saved(screen: ProfileScreen, write: Callable[[], object], *, draft: str | None = None,
          to_end: bool = False) -> bool:
    """Write through the cache; on success show it (timeline and panel), tell the agent where
    it goes, push it, and bring the queue up to date. Whether it was saved."""
    try:
        write()
    except (CacheError, ValueError) as error:
        kept = " (your text is kept as a draft)" if draft else ""
        screen.notify(f"Not saved{kept}: {error}", severity="error", markup=False)
        return False
    if draft is not None:
        screen.cache.drafts.drop(draft)
    screen.show_saved(to_end=to_end)
    desk = screen.desk
    desk.outbox_changed()
    desk.load_queue()
    screen.notify(desk.saved_message(), timeout=3)
    if desk.remote is not None:
        desk.action_sync()
    return True


def _mark_newest(screen: ProfileScreen, entry_id: str) -> None:
    """Mark the reply just sent (the newest entry): it is what the agent looks at now, and
    what `s`, `A`... act on next, whatever conversation is at the top of the screen."""
    timeline, view = screen.timeline, screen.query_one(TimelineView)
    if timeline is None or not timeline.total:
        return
    chunk, offset = timeline.locate(timeline.total - 1)
    if timeline.chunk(chunk)[offset].id == entry_id:
        view.mark = timeline.total - 1
        view.refresh()


def change_status(screen: ProfileScreen) -> None:
    conversation = _target(screen)
    if conversation is None:
        return
    options = [(s, Row().text(s.capitalize())) for s in ("open", "pending")]
    options += [(option_id, Row().text(label)) for option_id, label, _ in SNOOZES]
    options += [("snooze:until", Row().text("Snooze until…")), ("closed", Row().text("Closed"))]

    def chosen(choice: str | None) -> None:
        if choice is None:
            return
        if choice == "snooze:until":
            screen.app.push_screen(SnoozeUntilScreen(), lambda until: until is not None and _update(
                screen, conversation, status="snoozed", snoozed_until=until))
        elif choice.startswith("snooze:"):
            delta = next(d for option_id, _l, d in SNOOZES if option_id == choice)
            _update(screen, conversation, status="snoozed", snoozed_until=clock.now() + delta)
        else:
            _update(screen, conversation, status=choice)

    screen.app.push_screen(ChoiceScreen(_heading("Status", conversation), options,
                                        str(conversation.status.value)), chosen)


def change_assignee(screen: ProfileScreen) -> None:
    conversation = _target(screen)
    if conversation is None:
        return
    desk = screen.desk
    me = desk.work.me
    options: list[tuple[str, Row]] = []
    if me:
        options.append((me, Row(cut=True).text("Me ", "bold").text("(").data(me).text(")")))
    options.append((UNASSIGNED, Row().text("Unassigned", "italic")))
    for agent in screen.cache.agents():
        if agent.name != me:
            row = Row(cut=True).data(agent.display_name or agent.name)
            if agent.display_name and agent.display_name != agent.name:
                row.text("  ").data(agent.name, "dim")  # the name the store knows them by
            options.append((agent.name, row))

    def chosen(choice: str | None) -> None:
        if choice is not None:
            _update(screen, conversation, assignee="" if choice == UNASSIGNED else choice)

    current = conversation.assignee or UNASSIGNED
    screen.app.push_screen(ChoiceScreen(_heading("Assign", conversation), options, current),
                           chosen)


def change_priority(screen: ProfileScreen) -> None:
    conversation = _target(screen)
    if conversation is None:
        return
    options = [(p, Row().text(p.capitalize())) for p in PRIORITIES]

    def chosen(choice: str | None) -> None:
        if choice is not None:
            _update(screen, conversation, priority=choice)

    current = str(getattr(getattr(conversation, "priority", "normal"), "value", "normal"))
    screen.app.push_screen(ChoiceScreen(_heading("Priority", conversation), options, current),
                           chosen)


def change_topic(screen: ProfileScreen) -> None:
    conversation = _target(screen)
    if conversation is None:
        return

    def chosen(result: tuple[str, list[str]] | None) -> None:
        if result is not None:
            _update(screen, conversation, topic=result[0], tags=result[1])

    screen.app.push_screen(TopicForm(conversation.topic, list(getattr(conversation, "tags", []))),
                           chosen)


def reply(screen: ProfileScreen) -> None:
    from agentdesk.ui.composer import ReplyComposer, Written, heading, note_heading, reply_key

    conversation = _target(screen)
    if conversation is None or screen.profile is None:
        return
    desk = screen.desk
    customer = screen.profile.customer
    channel = conversation.channels[0].value if conversation.channels else "email"
    known = placeholders.values(customer.name, desk.work.my_name or desk.author, conversation.topic)
    key = reply_key(screen.customer_id, conversation.id)

    sent: list[str] = []

    def send(written: Written | None) -> None:
        if written and saved(screen, lambda: sent.append(screen.cache.add_reply(
                screen.customer_id, conversation.id, written.text, desk.work.me or desk.author,
                note=written.note)), draft=key, to_end=True):
            _mark_newest(screen, sent[0])

    screen.app.push_screen(ReplyComposer(
        heading=heading(customer.name, conversation.topic, channel), known=known,
        canned=screen.cache.canned_replies(), drafts=screen.cache.drafts, draft_key=key,
        note_heading=note_heading(customer.name, conversation.topic)), send)


ACTIONS: dict[str, Callable[[ProfileScreen], None]] = {
    "reply": reply, "status": change_status, "assignee": change_assignee,
    "priority": change_priority, "topic": change_topic,
}
