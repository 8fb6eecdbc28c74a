"""The desk's half of screen-pop: serve the socket while the desk runs, find the customer a
request names, and bring that customer up (see `ui/screen_pop.py` for the wire)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from agentdesk.cache.customer_lookup import Lookup, lookup
from agentdesk.model.sanitize import clean_line
from agentdesk.ui.screen_pop import Answer, ScreenPopError, ScreenPopServer, socket_path

if TYPE_CHECKING:
    from agentdesk.ui.app import AgentDesk

INDEX_WAIT = 10.0  # seconds a request waits for the search index of a desk just started


class DeskScreenPop:
    def __init__(self, app: AgentDesk) -> None:
        self.app = app
        self.server: ScreenPopServer | None = None

    async def start(self) -> None:
        """Serve this cache's socket, unless another desk on the same cache already does
        (it answers, then); a folder that cannot be used is said once, the desk goes on."""
        if self.server is not None:
            return
        server = ScreenPopServer(socket_path(self.app.cache.root), self.answer)
        try:
            serving = await server.start()
        except (ScreenPopError, OSError) as error:
            self.app.notify(f"Screen-pop is off (agentdesk open cannot reach this desk): "
                            f"{clean_line(str(error))}", severity="warning", markup=False)
            return
        if serving:
            self.server = server

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
            self.server = None

    async def answer(self, target: str) -> Answer:
        """Open the customer `target` names, or say why not (and change nothing)."""
        found = await self._find(target)
        if found.customer_id is None:
            return {"ok": False, "error": found.error}
        if not self.app.cache.profile_path(found.customer_id).exists():
            return {"ok": False, "error": f"customer {clean_line(found.customer_id)} is not in "
                    "this desk's cache"}
        self.show(found.customer_id, found.name)
        return {"ok": True, "customer": found.customer_id, "name": clean_line(found.name)}

    async def _find(self, target: str) -> Lookup:
        for _ in range(int(INDEX_WAIT / 0.05)):  # a desk just started loads its index first
            if self.app.index is not None:
                return lookup(self.app.index, target)
            if self.app.cache.profile_path(target.strip()).exists():  # an id needs no index
                return Lookup(target.strip(), self.app.customer_name(target.strip()) or "")
            await asyncio.sleep(0.05)
        return Lookup(None, error="the desk is still loading its customers: try again in a moment")

    def show(self, customer_id: str, name: str) -> None:
        """Bring the customer up over what is on screen. Help and the palette close; a form
        stays under the profile, with what was typed in it (esc comes back to it)."""
        from textual.command import CommandPalette

        from agentdesk.ui.help import HelpScreen
        from agentdesk.ui.profile import ProfileScreen

        app = self.app
        while isinstance(app.screen, HelpScreen | CommandPalette) and len(app.screen_stack) > 1:
            app.pop_screen()
        screen = app.screen
        if not (isinstance(screen, ProfileScreen) and screen.customer_id == customer_id):
            app.open_customer(customer_id)
        app.bell()
        app.notify(f"Screen-pop: {clean_line(name) or clean_line(customer_id)}", timeout=4,
                   markup=False)
