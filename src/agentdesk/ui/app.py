"""The agentdesk Textual application: screens, global keys, command palette, background index."""

from __future__ import annotations

from collections.abc import Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from agentdesk.config import Config
from agentdesk.core.cache import Cache, IndexRow
from agentdesk.core.models import Profile
from agentdesk.core.search import CustomerIndex
from agentdesk.ui.help import HelpScreen
from agentdesk.ui.profile import EmptyScreen, ProfileScreen
from agentdesk.ui.search import SearchScreen


class AgentDesk(App):
    CSS_PATH = "app.tcss"
    TITLE = "agentdesk"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("slash", "search", "Search", id="app.search"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.command_palette"),
    ]

    def __init__(self, cache: Cache, config: Config, *, customer_id: str | None = None) -> None:
        super().__init__()
        self.cache = cache
        self.config = config
        self.author = config.author
        self.start_customer = customer_id
        self.index: CustomerIndex | None = None
        self.set_keymap(config.keymap)

    def on_mount(self) -> None:
        customer_id = self.start_customer or self.cache.start_customer_id()
        if customer_id is None:
            self.push_screen(EmptyScreen(self.cache))
        else:
            self.open_customer(customer_id)
        # After the first paint: the index load must not compete with it for the interpreter.
        self.call_after_refresh(self.load_index)

    @work(thread=True, exclusive=True, group="index")
    def load_index(self) -> None:
        """Read every index shard into memory, after the first profile is on screen."""
        index = CustomerIndex(self.cache.index_rows())
        index.recent = self.cache.recent()
        self.call_from_thread(self._index_loaded, index)

    def _index_loaded(self, index: CustomerIndex) -> None:
        self.index = index
        for screen in self.screen_stack:
            if isinstance(screen, SearchScreen):
                screen.set_index(index)

    def customer_name(self, customer_id: str) -> str | None:
        if self.index is not None and (row := self.index.get(customer_id)) is not None:
            return row.name
        return None

    def index_changed(self, profile: Profile) -> None:
        if self.index is not None:
            self.index.update(IndexRow.of(profile))

    def open_customer(self, customer_id: str) -> None:
        """Open a profile on top of the current one (Escape comes back)."""
        self.push_screen(ProfileScreen(self.cache, customer_id))
        self.cache.mark_viewed(customer_id)
        if self.index is not None:
            self.index.recent = [customer_id, *(c for c in self.index.recent if c != customer_id)]

    def action_search(self) -> None:
        if not isinstance(self.screen, SearchScreen):
            self.push_screen(SearchScreen(self.index))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette offers the desk's own actions first."""
        yield SystemCommand("Search customers", "Find a customer by name, e-mail, phone, company or id", self.action_search)
        yield SystemCommand("Help: keys", "Every key of this screen", self.action_help)
        if isinstance(screen, ProfileScreen):
            yield SystemCommand("New note", "Add a detail about this customer", screen.action_new_note)
            yield SystemCommand("Edit customer", "Name, company and contact points", screen.action_edit_contact)
            yield SystemCommand("Toggle details panel", "Show or hide Customer Details", screen.action_toggle_details)
            yield SystemCommand("Timeline: next conversation", "Jump to the next conversation's start",
                                lambda: screen.query_one("#timeline").action_conversation(1))
            yield SystemCommand("Timeline: previous conversation", "Jump to the previous conversation's start",
                                lambda: screen.query_one("#timeline").action_conversation(-1))
            yield SystemCommand("Back", "Return to the previous profile", screen.action_back)
        yield SystemCommand("Quit", "Quit agentdesk", self.action_quit)
        yield from super().get_system_commands(screen)
