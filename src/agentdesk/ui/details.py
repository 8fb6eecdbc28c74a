"""The Customer Details panel: who the customer is, how to reach them, their conversations by
topic, who they are related to (both ways), and what agents noted about them.

Label/value lines are cut with "…" at the panel's edge rather than wrapped back under their
label; only notes wrap, as text does."""

from __future__ import annotations

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
from agentdesk.model.sanitize import clean_line
from agentdesk.ui.fit import cut
from agentdesk.ui.row_list import Option, RowList

STATUS_MARK = {
    ConversationStatus.NEW: "✦",
    ConversationStatus.OPEN: "●",
    ConversationStatus.PENDING: "◐",
    ConversationStatus.SNOOZED: "◔",
    ConversationStatus.CLOSED: "○",
}
STATUS_STYLE = {
    ConversationStatus.NEW: "bold cyan",
    ConversationStatus.OPEN: "bold green",
    ConversationStatus.PENDING: "yellow",
    ConversationStatus.SNOOZED: "magenta",
    ConversationStatus.CLOSED: "dim",
}


class SectionList(RowList):
    """One section of the panel; Enter on a row posts `RowList.Selected`."""

    HELP_GROUP = "Lists in Customer Details"


class NoteList(SectionList):
    HELP_GROUP = "Notes"
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


class RelationshipList(SectionList):
    """The customer's relationships: Enter opens the other customer; a, e, d add, change and
    remove this customer's own links (a link another customer made is changed on theirs)."""

    HELP_GROUP = "Relationships"
    BINDINGS = [
        Binding("a", "relationship('add')", "Add", id="relationships.add",
                tooltip="Add a relationship: a label, and the other customer found by search"),
        Binding("e", "relationship('change')", "Change", id="relationships.change",
                tooltip="Change the relationship's label or the customer it points to"),
        Binding("delete,d", "relationship('remove')", "Remove", id="relationships.remove",
                tooltip="Remove the relationship (after asking)"),
    ]

    class Requested(Message):
        def __init__(self, what: str, option_id: str | None) -> None:
            self.what = what  # "add", "change" or "remove"
            self.option_id = option_id  # the highlighted line's id (None: none is)
            super().__init__()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        screen_check = getattr(self.screen, "check_action", None)  # a read-only desk hides it
        return screen_check(action, parameters) if screen_check else True

    def action_relationship(self, what: str) -> None:
        option_id = None
        if self.highlighted is not None:
            option = self.get_option_at_index(self.highlighted)
            option_id = None if option.disabled else option.id
        self.post_message(self.Requested(what, option_id))


# Option ids of the lines that are not records (no record id has NULs).
MORE = "\0more\0"  # a topic's "… N more": lists every conversation of the topic
FEWER = "\0fewer\0"  # an expanded topic's last line: back to its newest few
RELATED_BY = "\0related-by\0"  # a customer who lists this one (the link seen the other way)


def _empty(text: str) -> Option:
    return Option(Row(cut=True).text(text, "dim italic"), disabled=True)


SECTIONS: list[tuple[type[SectionList], str, str]] = [
    (SectionList, "contacts", "Contact"),
    (SectionList, "conversations", "Conversations"),
    (RelationshipList, "relationships", "Relationships"),
    (NoteList, "notes", "Notes"),
]

PER_TOPIC = 3  # newest conversations listed per topic (the rest behind "… more"): the panel
# keeps room for the sections below
KIND_WIDTH = 8  # the contact points' label column ("address ")
LABEL_WIDTH = 14  # the widest relationship label column


def _grid_label(text: str, width: int) -> str:
    """A label column: cut to `width` - 1 and padded to `width` (one space before the value)."""
    return f"{cut(text, width - 1):<{width}}"


class DetailsPanel(VerticalScroll, can_focus=False):
    """Sections of the profile; each list is a stop for Tab. The panel scrolls as one: the
    lists are as tall as their rows, so no list scrolls inside it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._profile: StoredProfile | None = None
        self.expanded: set[str] = set()  # topics whose every conversation is listed

    def expand(self, topic: str, expanded: bool = True) -> None:
        """List every conversation of a topic, or (`expanded` False) its newest few again;
        the cursor stays on the topic's line that toggles it back."""
        if expanded:
            self.expanded.add(topic)
        else:
            self.expanded.discard(topic)
        conversations = self.query_one("#conversations", SectionList)
        keep = conversations.highlighted
        self._show_conversations()
        if expanded and keep is not None:  # on the first conversation the "… more" revealed
            conversations.highlighted = min(keep, conversations.option_count - 1)
            return
        for index, option in enumerate(conversations.options):
            if option.id == f"{MORE}{topic}":
                conversations.highlighted = index

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
        # Grouped and sorted on two fields, without a view of every conversation: one sort,
        # newest first, then grouped in that order, so each topic's list is newest first and
        # the topics come in the order of their newest conversation.
        records = profile.conversations
        topic_of = records.field("topic")
        by_topic: dict[str, list[int]] = {}
        for index in sorted(range(len(records)), key=records.field("started").__getitem__, reverse=True):
            by_topic.setdefault(topic_of[index], []).append(index)
        options: list[Option] = []
        for topic, convs in by_topic.items():
            title = Row(cut=True).data(topic, "bold").text(f"  {len(convs)}", "dim")
            options.append(Option(title, heading=True))
            shown = convs if topic in self.expanded else convs[:PER_TOPIC]
            for conv in (records[i] for i in shown):
                prompt = (Row(cut=True).text("  ")
                          .text(f"{STATUS_MARK[conv.status]} {conv.status.value:<7} ", STATUS_STYLE[conv.status])
                          .text(f"{safe.day(conv.started)} ", "dim")
                          .text(", ".join(ch.value for ch in conv.channels)))
                options.append(Option(prompt, id=conv.id))
            if len(shown) < len(convs):
                more = Row(cut=True).text(f"  … {len(convs) - len(shown)} more", "italic").text(" (enter)", "dim")
                options.append(Option(more, id=f"{MORE}{topic}"))
            elif len(convs) > PER_TOPIC:
                fewer = Row(cut=True).text(f"  ▴ newest {PER_TOPIC} only", "italic").text(" (enter)", "dim")
                options.append(Option(fewer, id=f"{FEWER}{topic}"))
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
        """Edits not confirmed by the store, above the contact points; the section is made
        when there first are some (every widget costs on the way to the first frame), and
        hidden when there are none."""
        found = self.query("#unsynced").results(SectionList)
        unsynced = next(found, None)
        if unsynced is None:
            if not items:
                return
            unsynced = SectionList(id="unsynced")
            unsynced.border_title = "Unsynced edits"
            self.mount(unsynced, before="#contacts")
        unsynced.display = bool(items)
        unsynced.clear_options()
        if items:  # the wire protocol's models load only when there is something to show
            from agentdesk.ui.unsynced import describe

            unsynced.add_options([Option(describe(i), id=i.mutation.id) for i in items])

    def show(self, profile: StoredProfile, names: dict[str, str],
             related_by: list[tuple[str, str, str]] | None = None) -> None:
        """Fill every section from `profile`; `names` gives related customers' current names,
        `related_by` the customers who list this one ((id, name, their label))."""
        c = profile.customer
        summary = Row(cut=True).data(c.name, "bold").text("\n")
        if c.company:
            summary.data(c.company).text("\n")
        summary.text(f"{c.status.value.upper()}", "reverse")
        for tag in c.tags:
            summary.text(" ").data(f"#{tag}", "italic")
        summary.text("\nid ", "dim").data(c.id)
        if c.source:
            summary.text(" · from ", "dim").data(c.source)
        summary.text(f"\nsince {safe.day(c.created)} · updated {safe.day(c.updated)}", "dim")
        self.query_one("#summary", Static).update(summary)

        contacts = self.query_one("#contacts", SectionList)
        contacts.clear_options()
        for point in sorted(profile.contacts, key=lambda p: (p.kind.value, not p.primary)):
            # The star is the mark of the primary point: its colour only repeats it.
            prompt = (Row(cut=True).text("★ " if point.primary else "  ", "bold yellow")
                      .text(_grid_label(point.kind.value, KIND_WIDTH), "dim").data(point.value))
            if point.label:
                prompt.optional().text("  ").data(f"({point.label})", "dim")
            contacts.add_option(Option(prompt, id=point.id))
        if not profile.contacts:
            contacts.add_option(_empty("no contact points — press e to add"))

        self._profile = profile
        self._show_conversations()
        self.show_relationships(profile, names, related_by or [])

        notes = self.query_one("#notes", NoteList)
        notes.clear_options()
        for note in sorted(profile.notes, key=lambda n: n.created, reverse=True):  # newest first
            prompt = (Row().block(note.text).text("\n")
                      .data(f"{note.author or 'agent'} · {safe.when(note.updated)}", "dim"))
            notes.add_option(Option(prompt, id=note.id))
        if not profile.notes:
            notes.add_option(_empty("no notes yet — press n to add one"))

    def show_relationships(self, profile: StoredProfile, names: dict[str, str],
                           related_by: list[tuple[str, str, str]]) -> None:
        """The customer's own links, then the links other customers made to this one that
        it does not make back ("assistant of Ada" when Ada lists this customer as assistant)."""
        relationships = self.query_one("#relationships", SectionList)
        keep = relationships.highlighted
        relationships.clear_options()
        listed = {rel.customer_id for rel in profile.relationships}
        inverse = [(cid, name, f"{label} of") for cid, name, label in related_by if cid not in listed]
        labels = [rel.label for rel in profile.relationships] + [label for _, _, label in inverse]
        width = min(LABEL_WIDTH, max((len(label) for label in labels), default=0) + 1)
        for rel in profile.relationships:
            name = names.get(rel.customer_id) or rel.name or rel.customer_id
            prompt = (Row(cut=True).text(_grid_label(clean_line(rel.label), width), "italic").data(name)
                      .text(" ›", "dim"))
            relationships.add_option(Option(prompt, id=rel.id))
        for cid, name, label in inverse:
            prompt = (Row(cut=True).text(_grid_label(clean_line(label), width), "italic").data(name or cid)
                      .text(" ›", "dim"))
            relationships.add_option(Option(prompt, id=f"{RELATED_BY}{cid}"))
        if not labels:
            relationships.add_option(_empty("no relationships — a adds one"))
        elif keep is not None:
            relationships.highlighted = min(keep, relationships.option_count - 1)
