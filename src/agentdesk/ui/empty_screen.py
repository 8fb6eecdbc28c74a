"""The screen of a desk whose cache holds no customer yet (before its first sync)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from agentdesk.cache.cache import Cache
from agentdesk.ui import safe
from agentdesk.ui.keybar import KeyBar
from agentdesk.ui.sync_bar import SyncBar, SyncEffects

if TYPE_CHECKING:  # the forms load when first opened, not on the way to the first paint
    from agentdesk.ui.app import AgentDesk  # (and the app imports this module)


class EmptyScreen(Screen):
    """Shown instead of a blank desk when the cache has no customers."""

    def __init__(self, cache: Cache) -> None:
        super().__init__()
        self.cache = cache

    @property
    def desk(self) -> AgentDesk:
        return cast("AgentDesk", self.app)

    def on_mount(self) -> None:
        self.desk.sync_applied.subscribe(self, self._sync_ended)

    def on_unmount(self) -> None:
        self.desk.sync_applied.unsubscribe(self)  # see SyncBar.on_unmount

    def _sync_ended(self, effects: SyncEffects | None) -> None:
        """Customers arrived while this screen is shown: open the first one in its place."""
        if effects is None or self is not self.app.screen:
            return
        customer_id = self.cache.start_customer_id()
        if customer_id is not None:
            self.app.pop_screen()
            self.desk.open_customer(customer_id)

    def compose(self) -> ComposeResult:
        message = Text()
        message.append("No customers in this cache yet\n\n", style="bold")
        message.append("The cache at ")
        message.append_text(safe.line(str(self.cache.root), "italic"))
        message.append(" is empty.\n\n")
        message.append("To try the desk on demo data, quit (q) and run:\n\n")
        message.append("    agentdesk --demo\n\n", style="bold")
        message.append("Customers arrive here when the desk syncs from your team's remote store, "
                       "or when another cache folder is chosen with --cache DIR or AGENTDESK_CACHE.\n\n")
        message.append("?  help    q  quit", style="dim")
        yield Static(message, id="empty-message")
        yield SyncBar()
        yield KeyBar()

