"""The command palette (ctrl+p): the desk's own actions, each once, each with its key.

It replaces Textual's system commands, which doubled ours ("Quit" twice, "Keys" beside
"Help") and mixed in generic ones (Maximize; Screenshot, which failed when ~/Downloads did
not exist). Theme switching stays: the chosen theme is remembered in the config file (the
app saves it). The key shown is the one in force, after any [keymap] remapping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.screen import Screen

if TYPE_CHECKING:
    from agentdesk.ui.app import AgentDesk


@dataclass(frozen=True)
class Command:
    title: str
    help: str
    run: Callable[[], object]
    binding_id: str | None = None  # whose key is shown beside the title


CONVERSATION_COMMANDS = (  # on the conversation at the top of the timeline
    ("reply", "Reply", "Reply to the conversation on its channel (canned replies: ctrl+t)"),
    ("status", "Conversation status", "Open, pending, snoozed until a time, closed"),
    ("assignee", "Assign conversation", "To me, to another agent, or to nobody"),
    ("priority", "Conversation priority", "Low, normal, high, urgent"),
    ("topic", "Conversation topic and tags", "Change the topic; tags, comma-separated"),
)


def key_of(app: AgentDesk, screen: Screen, binding_id: str) -> str:
    """The key that runs binding `binding_id` on `screen` now, as the key bar shows keys."""
    keys = app._keymap.get(binding_id)  # noqa: SLF001 - the remapping in force
    if keys is None:
        for node in (app, screen, *screen.walk_children()):
            found = next((b for _k, b in node._bindings if b.id == binding_id), None)  # noqa: SLF001
            if found is not None:
                keys = found.key
                break
    if not keys:
        return ""
    return app.get_key_display(Binding(keys.split(",")[0].strip(), ""))


def commands(app: AgentDesk, screen: Screen) -> Iterator[Command]:
    """What the palette offers on `screen` (the one it was opened from), most used first."""
    from agentdesk.ui.profile import ProfileScreen

    yield Command("Search customers", "Find a customer by name, e-mail, phone, company or id",
                  app.action_search, "app.search")
    yield Command("Customers", "Every customer in a table: query, sort, choose columns, export",
                  app.action_customers, "app.customers")
    yield Command("My queue", "Conversations waiting for me, then unassigned ones",
                  app.action_queue, "app.queue")
    yield Command("Next in queue", "Open the next conversation of the queue at its start",
                  app.action_next_in_queue, "app.next_in_queue")
    yield Command("Customers over time", "Total, reachable, unreachable and monthly active "
                  "customers by day, by channel and period", app.action_customer_chart,
                  "app.customer_chart")
    if isinstance(screen, ProfileScreen):
        if not app.cache.read_only:
            for what, title, help_text in CONVERSATION_COMMANDS:
                yield Command(title, help_text,
                              lambda what=what: screen.action_conversation(what),
                              f"profile.conversation_{what}" if what != "reply" else "profile.reply")
            yield Command("New note", "Add a note about this customer", screen.action_new_note,
                          "profile.new_note")
            yield Command("Edit customer", "Name, company and contact points",
                          screen.action_edit_contact, "profile.edit_contact")
            yield Command("Start a conversation", "A channel, a topic and the first message",
                          screen.action_start_conversation, "profile.start_conversation")
            yield Command("Add a relationship", "A label, and the other customer found by search",
                          lambda: _add_relationship(screen), "relationships.add")
        timeline = screen.query_one("#timeline")
        yield Command("Next conversation", "Scroll the timeline to the next conversation",
                      lambda: timeline.action_conversation(1), "timeline.next_conversation")
        yield Command("Previous conversation", "Scroll the timeline to the previous conversation",
                      lambda: timeline.action_conversation(-1),
                      "timeline.previous_conversation")
        yield Command("Show or hide the details panel", "Customer Details beside the timeline",
                      screen.action_toggle_details, "profile.toggle_details")
        if app.screen_stack.index(screen) > 1:  # another customer under this one
            yield Command("Back", "Return to the previous customer", screen.action_back,
                          "profile.back")
    if not app.cache.read_only:
        yield Command("New customer", "Create a customer: a name and at least one contact point",
                      lambda: _new_customer(app))
    if isinstance(screen, ProfileScreen) and not app.cache.read_only:
        yield Command("Erase customer…", "A privacy request: erase this customer from the store "
                      "and every desk (asks first)", lambda: _erase(screen))
    if app.remote is not None and not app.cache.read_only:
        yield Command("Sync now", "Push pending edits and pull changes from the store",
                      app.action_sync, "app.sync")
    yield Command("Help: every key", "The keys of this screen, and how to remap them",
                  app.action_help, "app.help")
    yield Command("Change theme", "Colours of the desk (remembered in the config file)",
                  app.action_change_theme)
    yield Command("Quit", "Quit agentdesk", app.action_quit, "app.quit")


def _new_customer(app: AgentDesk) -> None:
    from agentdesk.ui.customer_new import new_customer

    new_customer(app)


def _add_relationship(screen: Screen) -> None:
    from agentdesk.ui.relationship_edit import edit_relationship

    edit_relationship(screen, "add", None)  # type: ignore[arg-type]


def _erase(screen: Screen) -> None:
    from agentdesk.ui.customer_erase import erase_customer

    erase_customer(screen)  # type: ignore[arg-type]


def _shown(title: Content | str, key: str) -> Content:
    line = title if isinstance(title, Content) else Content(title)
    if key:
        line = line + Content.from_rich_text(Text(f"   {key}", style="dim bold"))
    return line


class DeskCommands(Provider):
    @property
    def desk(self) -> AgentDesk:
        return cast("AgentDesk", self.app)

    def _key(self, command: Command) -> str:
        return key_of(self.desk, self.screen, command.binding_id) if command.binding_id else ""

    async def discover(self) -> Hits:
        for command in commands(self.desk, self.screen):
            key = self._key(command)
            yield DiscoveryHit(_shown(command.title, key), command.run, text=command.title,
                               help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in commands(self.desk, self.screen):
            score = matcher.match(command.title)
            if score > 0:
                key = self._key(command)
                yield Hit(score, _shown(matcher.highlight(command.title), key), command.run,
                          text=command.title, help=command.help)
