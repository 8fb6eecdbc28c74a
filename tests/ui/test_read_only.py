"""A desk opened read-only (another agentdesk holds the cache) takes the cache over when the
other one lets go of it: edits are offered again without a restart."""

from __future__ import annotations

from test_ui_navigation import SIZE, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.forms import NoteForm
from agentdesk.ui.keybar import KeyBar


async def test_a_read_only_desk_becomes_writable_when_the_lock_frees(
        demo_cache: Cache, config: Config) -> None:
    second = Cache.open(demo_cache.root)
    assert second.read_only
    app = AgentDesk(second, config, customer_id="cus_000001")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            topbar = app.screen.query_one("#topbar")
            assert "READ-ONLY" in str(topbar.render())
            demo_cache.close()  # the other agentdesk quits
            await wait_for(lambda: not second.read_only, pilot, timeout=10)
            await wait_for(lambda: "READ-ONLY" not in str(topbar.render()), pilot)
            await pilot.pause()
            shown = app.screen.query_one(KeyBar).render().plain
            assert "Note" in shown and "Sync" in shown
            await pilot.press("n", *"Written after the takeover", "ctrl+s")
            await wait_for(lambda: not isinstance(app.screen, NoteForm), pilot)
        texts = [n.text for n in second.load_profile("cus_000001").notes]
        assert "Written after the takeover" in texts
        assert second.outbox.counts().pending == 1
    finally:
        second.close()
