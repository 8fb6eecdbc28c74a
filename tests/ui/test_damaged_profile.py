"""A customer whose cached files do not read back (damaged on disk) is not a crash: the desk
says so where the profile was, syncs, and shows the rebuilt customer; unsent edits stay.

Found three ways: opening the profile (its own file), scrolling the timeline into a damaged
chunk, and the find/filter scan reading every chunk in a worker."""

from __future__ import annotations

from support.sync_world import BIG, TOKEN, World
from test_ui_navigation import SIZE, timeline, wait_for

from agentdesk.config import Config, Remote
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.profile import ProfileScreen


def desk(w: World, config: Config, customer_id: str) -> AgentDesk:
    return AgentDesk(w.cache, config, remote=Remote(w.url, TOKEN), customer_id=customer_id)


def topbar(app: AgentDesk) -> str:
    return str(app.screen.query_one("#topbar").render())


async def test_a_damaged_profile_file_is_named_then_rebuilt_with_unsent_edits_kept(
        synced: World, config: Config) -> None:
    w = synced
    note = w.cache.add_note(BIG, "written before the file broke")
    w.cache.profile_path(BIG).write_bytes(b'{"customer": {"1": {"id": "cus_')
    app = desk(w, config, BIG)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ProfileScreen)
        # Either still damaged (the sync has not ended) or already rebuilt: never a crash.
        await wait_for(lambda: screen.profile is not None and not screen.damaged, pilot)
        assert app.is_running
        assert any(n.id == note.id for n in screen.profile.notes)
    assert app.return_code in (None, 0)
    w.assert_in_sync()


def told(app: AgentDesk) -> list[str]:
    """What the desk tells the agent in notifications, from now on."""
    seen: list[str] = []
    notify = app.notify
    app.notify = lambda message, *a, **k: (seen.append(f"{k.get('title')}: {message}"),  # type: ignore[method-assign]
                                           notify(message, *a, **k))
    return seen


async def test_a_damaged_timeline_chunk_met_while_scrolling_is_told_then_rebuilt(
        synced: World, config: Config) -> None:
    w = synced
    app = desk(w, config, BIG)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ProfileScreen)
        await wait_for(lambda: screen.profile is not None and not app.sync_view.syncing, pilot)
        assert screen.timeline is not None
        damaged = screen.timeline
        (damaged.folder / damaged.summary.file(0)).write_text('{"entries": {"1": 5}}')  # the oldest
        seen = told(app)
        await pilot.press("t", "g")  # to the oldest entries: the damaged file is read
        await wait_for(lambda: bool(seen), pilot)
        assert "could not be read" in seen[0] and BIG in seen[0]
        # Placeholders stood in for its entries, and the keys still work.
        await pilot.press("j", "G", "g")
        assert app.is_running
        # The sync it asked for rebuilt the customer: a new timeline from the store, readable.
        await wait_for(lambda: screen.timeline is not damaged and not app.sync_view.syncing, pilot)
        assert screen.timeline is not None and screen.timeline.damage is None
        assert [e.id for e in screen.timeline.chunk(0)][:1] != ["unreadable-00000-000"]
        assert w.cache.repair_requests() == []
        assert screen.changes_since_open == 0  # the same customer again: not news
    w.assert_in_sync()


async def test_a_damaged_chunk_read_by_find_is_told_and_find_goes_on(
        synced: World, config: Config) -> None:
    w = synced
    app = desk(w, config, BIG)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ProfileScreen)
        await wait_for(lambda: screen.profile is not None and not app.sync_view.syncing, pilot)
        assert screen.timeline is not None
        damaged = screen.timeline
        middle = len(damaged.summary.chunk_sizes) // 2
        (damaged.folder / damaged.summary.file(middle)).write_bytes(b"\x00not json")
        seen = told(app)
        await pilot.press("t", "ctrl+f", "o", "k")  # finding reads every file
        await wait_for(lambda: bool(seen), pilot)
        assert BIG in seen[0]
        await pilot.press("up", "up", "escape")
        await wait_for(lambda: screen.timeline is not damaged and not app.sync_view.syncing, pilot)
        assert app.is_running
