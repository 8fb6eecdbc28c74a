"""The Customer Details panel: who the customer is, how to reach them, their conversations by
topic, who they are related to, and what agents noted about them."""

from __future__ import annotations

from collections import defaultdict

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from agentdesk.model.kinds import ConversationStatus
from agentdesk.cache.outbox import OutboxItem
from agentdesk.model.views import StoredProfile
from agentdesk.ui import safe
from agentdesk.ui.row import Row
from agentdesk.ui.row_list import Option, RowList

STATUS_MARK = {
    ConversationStatus.NEW: "✦",
    ConversationStatus.OPEN: "●",
    ConversationStatus.WAITING: "◐",
    ConversationStatus.CLOSED: "○",
}
STATUS_STYLE = {
    ConversationStatus.NEW: "bold cyan",
    ConversationStatus.OPEN: "bold green",
    ConversationStatus.WAITING: "yellow",
    ConversationStatus.CLOSED: "dim",
}


class SectionList(RowList):
    """One section of the panel; Enter on a row posts `RowList.Selected`."""

    HELP_GROUP = "Lists in Customer Details"


class NoteList(SectionList):
    HELP_GROUP = "Details (notes)"
    BINDINGS = [
        Binding("delete,d", "delete_note", "Delete note", id="notes.delete"),
    ]

    class DeleteRequested(Message):
        def __init__(self, note_id: str) -> None:
            self.note_id = note_id
            super().__init__()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        screen_check = getattr(self.screen, "check_action", None)  # a read-only desk hides it
        return screen_check(action, parameters) if screen_check else True

    def action_delete_note(self) -> None:
        if self.highlighted is not None:
            option = self.get_option_at_index(self.highlighted)
            if option.id and not option.disabled:
                self.post_message(self.DeleteRequested(option.id))


MORE = "\0more\0"  # option id prefix of a topic's "… more" line (no conversation id has NULs)


def _empty(text: str) -> Option:
    return Option(Row().text(text, "dim italic"), disabled=True)


SECTIONS: list[tuple[type[SectionList], str, str]] = [
    (SectionList, "unsynced", "Unsynced edits"),
    (SectionList, "contacts", "Contact"),
    (SectionList, "conversations", "Conversations"),
    (SectionList, "relationships", "Relationships"),
    (NoteList, "notes", "Details"),
]

PER_TOPIC = 3  # newest conversations listed per topic (the rest behind "… more"): the list shows
# 15 lines, and three a topic puts three topics on screen rather than two


class DetailsPanel(VerticalScroll, can_focus=False):
    """Sections of the profile; each list is a stop for Tab."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._profile: StoredProfile | None = None
        self.expanded: set[str] = set()  # topics whose every conversation is listed

    def expand(self, topic: str) -> None:
        """List every conversation of a topic (Enter on its "… more" line)."""
        self.expanded.add(topic)
        conversations = self.query_one("#conversations", SectionList)
        keep = conversations.highlighted
        self._show_conversations()
        if keep is not None:
            conversations.highlighted = min(keep, conversations.option_count - 1)

    def _show_conversations(self) -> None:
        """Topics with the most recent conversation first, newest conversation first within.

        A customer can have thousands of conversations: each topic lists its newest few and a
        line to show the rest, so the list stays short to build and to read (the timeline's
        ] and [ walk through all of them).
        """
        profile = self._profile
        assert profile is not None
        conversations = self.query_one("#conversations", SectionList)
        conversations.clear_options()
        # Grouped and sorted on two fields, without a view of every conversation.
        records = profile.conversations
        started = records.field("started")
        by_topic: defaultdict[str, list[int]] = defaultdict(list)
        for index, topic in enumerate(records.field("topic")):
            by_topic[topic].append(index)
        topics = sorted(by_topic.items(), key=lambda item: max(started[i] for i in item[1]), reverse=True)
        options: list[Option] = []
        for topic, convs in topics:
            title = Row().data(topic, "bold").text(f"  {len(convs)}", "dim")
            options.append(Option(title, disabled=True))
            convs.sort(key=lambda i: started[i], reverse=True)
            shown = convs if topic in self.expanded else convs[:PER_TOPIC]
            for conv in (records[i] for i in shown):
                prompt = (Row().text("  ")
                          .text(f"{STATUS_MARK[conv.status]} {conv.status.value:<7} ", STATUS_STYLE[conv.status])
                          .text(f"{safe.day(conv.started)} ", "dim")
                          .text(", ".join(ch.value for ch in conv.channels)))
                options.append(Option(prompt, id=conv.id))
            if len(shown) < len(convs):
                more = Row().text(f"  … {len(convs) - len(shown)} more", "italic").text(" (enter)", "dim")
                options.append(Option(more, id=f"{MORE}{topic}"))
        conversations.add_options(options)
        if not profile.conversations:
            conversations.add_option(_empty("no conversations yet"))

    def compose(self) -> ComposeResult:
        # Each section's heading is its list's border title, not a widget of its own: every
        # widget is paid for on the way to the first frame.
        yield Static(id="summary")
        for list_type, list_id, title in SECTIONS:
            section = list_type(id=list_id)
            section.border_title = title
            yield section

    def show_unsynced(self, items: list[OutboxItem]) -> None:
        """Edits not confirmed by the store; the section is hidden when there are none."""
        unsynced = self.query_one("#unsynced", SectionList)
        unsynced.display = bool(items)
        unsynced.clear_options()
        if items:  # the wire protocol's models load only when there is something to show
            from agentdesk.ui.unsynced import describe

            unsynced.add_options([Option(describe(i), id=i.mutation.id) for i in items])

    def show(self, profile: StoredProfile, names: dict[str, str]) -> None:
        """Fill every section from `profile`; `names` gives related customers' current names."""
        c = profile.customer
        summary = Text()
        summary.append_text(safe.line(c.name, "bold"))
        summary.append("\n")
        if c.company:
            summary.append_text(safe.line(c.company))
            summary.append("\n")
        summary.append(f"{c.status.value.upper()}", style="reverse")
        for tag in c.tags:
            summary.append(" ")
            summary.append_text(safe.line(f"#{tag}", "italic"))
        summary.append("\n")
        summary.append("id ", style="dim")
        summary.append_text(safe.line(c.id))
        if c.source:
            summary.append(" · from ", style="dim")
            summary.append_text(safe.line(c.source))
        summary.append(f"\ncustomer since {safe.day(c.created)} · updated {safe.day(c.updated)}", style="dim")
        self.query_one("#summary", Static).update(summary)

        contacts = self.query_one("#contacts", SectionList)
        contacts.clear_options()
        for point in sorted(profile.contacts, key=lambda p: (p.kind.value, not p.primary)):
            prompt = (Row().text("★ " if point.primary else "  ", "bold yellow")
                      .text(f"{point.kind.value:<7} ", "dim").data(point.value))
            if point.label:
                prompt.text(" ").data(f"({point.label})", "dim")
            contacts.add_option(Option(prompt, id=point.id))
        if not profile.contacts:
            contacts.add_option(_empty("no contact points — press e to add"))

        self._profile = profile
        self._show_conversations()

        relationships = self.query_one("#relationships", SectionList)
        relationships.clear_options()
        for rel in profile.relationships:
            prompt = (Row().data(rel.label, "italic").text(" · ")
                      .data(names.get(rel.customer_id) or rel.name or rel.customer_id).text(" ›", "dim"))
            relationships.add_option(Option(prompt, id=rel.id))
        if not profile.relationships:
            relationships.add_option(_empty("no relationships"))

        notes = self.query_one("#notes", NoteList)
        notes.clear_options()
        for note in sorted(profile.notes, key=lambda n: n.created):
            prompt = (Row().block(note.text).text("\n")
                      .data(f"{note.author or 'agent'} · {safe.when(note.updated)}", "dim"))
            notes.add_option(Option(prompt, id=note.id))
        if not profile.notes:
            notes.add_option(_empty("no details yet — press n to add one"))
