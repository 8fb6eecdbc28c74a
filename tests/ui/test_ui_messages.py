"""The app publishes, open screens subscribe: sync state, what a sync changed, the index.

Every screen on the stack follows the app's signals, not only the one on top; a screen that is
closed is no longer called, and the app lets go of it.
"""

from __future__ import annotations

import gc
import weakref

from support.sync_world import TOKEN, World
from test_ui_navigation import SIZE, wait_for
from textual.widgets import Input

from agentdesk.cache.cache import Cache
from agentdesk.config import Config, Remote
from agentdesk.model.protocol import RecordType
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.forms import NoteForm
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.search import ResultList, SearchScreen
from agentdesk.ui.sync_bar import SyncBar, SyncView

OFFLINE = SyncView(configured=True, online=False, error="the store is unreachable", pending=3)
ONLINE = SyncView(configured=True, online=True, last_success="09:30")


def bar_text(screen: ProfileScreen) -> str:
    return str(screen.query_one(SyncBar).render())


async def two_profiles(pilot) -> tuple[ProfileScreen, ProfileScreen]:  # type: ignore[no-untyped-def]
    """cus_000000 opened, then cus_000001 on top of it."""
    app = pilot.app
    await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
    first = app.screen
    app.open_customer("cus_000001")
    await wait_for(lambda: app.screen is not first and isinstance(app.screen, ProfileScreen)
                   and app.screen.profile is not None, pilot)
    return first, app.screen


async def test_a_status_change_reaches_every_screen_under_a_modal(demo_cache: Cache,
                                                                  config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        first, second = await two_profiles(pilot)
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, NoteForm), pilot)
        app.set_sync_view(OFFLINE)
        for screen in (first, second):  # neither is on top
            await wait_for(lambda: "● offline" in bar_text(screen), pilot)
            assert "3 pending edits" in bar_text(screen)
        assert isinstance(app.screen, NoteForm)


async def test_a_closed_screen_is_let_go_and_no_longer_called(demo_cache: Cache,
                                                               config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        first, second = await two_profiles(pilot)
        closed, closed_bar = weakref.ref(second), weakref.ref(second.query_one(SyncBar))
        del second
        await pilot.press("escape")
        await wait_for(lambda: app.screen is first, pilot)
        # Before anything is published again (without a store nothing may be): the signals it
        # subscribed to do not keep the closed screen, or its status line, alive.
        gc.collect()
        assert closed() is None and closed_bar() is None
        app.set_sync_view(OFFLINE)
        app.apply_sync(None)  # what a failed sync publishes: the closed screen is not called
        await wait_for(lambda: "● offline" in bar_text(first), pilot)
        app.set_sync_view(ONLINE)
        await wait_for(lambda: "● online" in bar_text(first), pilot)


async def test_an_open_search_gets_the_index_when_it_loads(demo_cache: Cache,
                                                           config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.index is not None, pilot)
        await pilot.press("slash")
        await wait_for(lambda: isinstance(app.screen, SearchScreen), pilot)
        search = app.screen
        search.query_one(Input).value = "Quenby Zoltowski"
        results = search.query_one(ResultList)
        await pilot.pause()
        assert results.rows == []
        # The cache changes underneath (as a sync does) and the index is read again.
        profile = demo_cache.load_profile("cus_000007")
        assert profile is not None
        demo_cache.update_details("cus_000007", name="Quenby Zoltowski",
                                  company=profile.customer.company, contacts=profile.contacts)
        app.load_index()
        await wait_for(lambda: [r.id for r in results.rows] == ["cus_000007"], pilot)
        assert app.screen is search


async def test_a_sync_updates_a_profile_under_a_modal_in_place(synced: World,
                                                               config: Config) -> None:
    customer = "cus_000002"
    app = AgentDesk(synced.cache, config, customer_id=customer, remote=Remote(synced.url, TOKEN))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.sync_view.online is not None and not app.sync_view.syncing,
                       pilot)
        profile = app.screen
        assert isinstance(profile, ProfileScreen) and profile.changes_since_open == 0
        before = profile.timeline.total if profile.timeline else 0
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, NoteForm), pilot)
        last = max(synced.server_records(customer, "entry"), key=lambda e: e["at"])
        synced.store.upsert(RecordType.ENTRY, {**last, "id": "ent_under_the_form",
                                               "body": "arrived while a form was open"}, customer)
        app.action_sync()
        await wait_for(lambda: profile.changes_since_open == 1, pilot, timeout=30)
        await wait_for(lambda: "1 new here since opened" in bar_text(profile), pilot)
        assert profile.timeline is not None and profile.timeline.total == before + 1
        assert isinstance(app.screen, NoteForm)  # the agent's form is left alone


async def test_an_index_read_begun_earlier_never_replaces_one_begun_later(
        demo_cache: Cache, config: Config) -> None:
    """The start's read and a sync's read of the search index (or of the queue) can overlap:
    whichever finishes last, the desk keeps the one that began last."""
    from agentdesk.cache.search import CustomerIndex

    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.index is not None and app.work.rows is not None, pilot)
        newer = CustomerIndex(demo_cache.index_rows())
        older = CustomerIndex([])
        app._index_read(1_000_001, newer)  # noqa: SLF001 - the reads' hand-over, as a worker calls it
        app._index_read(1_000_000, older)  # noqa: SLF001 - begun before, finished after
        assert app.index is newer
        rows = list(app.work.rows)
        app._queue_read(1_000_003, rows, app.work.me, "")  # noqa: SLF001
        app._queue_read(1_000_002, [], app.work.me, "")  # noqa: SLF001
        assert app.work.rows == rows
