"""The desk syncing for real: a Textual app (Pilot) against the reference store on loopback.

Sync at start fills an empty cache, `r` brings server-side changes in place without moving the
agent, an edit made offline is kept as pending and arrives once when the store is back, and a
customer that is not cached is found through the store's search and fetched on Enter.
"""

from __future__ import annotations

from support.sync_world import (
    BIG,
    SCOPED_AGENT,
    SCOPED_TOKEN,
    TOKEN,
    World,
)
from test_ui_navigation import SIZE, timeline, wait_for
from textual.widgets import Input, TextArea

from agentdesk.config import Config, Remote
from agentdesk.model.protocol import RecordType
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.search import ResultList, SearchScreen
from agentdesk.ui.sync_bar import SyncBar, render


def desk(w: World, config: Config, token: str = TOKEN, **kwargs) -> AgentDesk:  # type: ignore[no-untyped-def]
    return AgentDesk(w.cache, config, remote=Remote(w.url, token), **kwargs)


def bar_text(app: AgentDesk) -> str:
    return str(app.screen.query_one(SyncBar).render())


async def synced_once(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(lambda: app.sync_view.online is not None and not app.sync_view.syncing, pilot)


async def test_first_sync_fills_an_empty_cache_and_opens_a_profile(world: World, config: Config) -> None:
    app = desk(world, config)
    shown: list[str] = []  # the status line of every state the sync went through
    set_view = app.set_sync_view
    app.set_sync_view = lambda view: (set_view(view), shown.append(str(render(view))))  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        assert any(s.startswith(" ⟳ first sync") and "%" in s and "changes" in s for s in shown)
        assert any("%" in s and "saving customers" in s for s in shown)  # filing the spool
        # The profile is pushed when the sync ends; it is shown once mounted and loaded.
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.profile is not None, pilot)
        assert app.sync_view.online and not app.sync_view.error
        assert "● online" in bar_text(app)
    world.assert_in_sync()


async def test_r_brings_changes_in_place_keeping_the_agents_place(synced: World, config: Config) -> None:
    app = desk(synced, config, customer_id=BIG)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        view = timeline(app)
        view.go_to(300)  # the agent is reading in the middle of a 600-entry history
        await pilot.pause()
        position, _ = view.top_entry()
        chunk, offset = app.screen.timeline.locate(position)
        reading = app.screen.timeline.chunk(chunk)[offset].id
        before = view.total
        # The store gets two new entries: one long before what is on screen, one at the end.
        entries = [e for e in (synced.server_records(BIG, "entry"))]
        first, last = min(entries, key=lambda e: e["at"]), max(entries, key=lambda e: e["at"])
        for n, base in enumerate((first, last)):
            synced.store.upsert(RecordType.ENTRY, {**base, "id": f"ent_new_{n}",
                                                   "body": f"arrived {n}"}, BIG)
        await pilot.press("r")
        await wait_for(lambda: view.total == before + 2, pilot)
        await synced_once(pilot)
        position, _ = view.top_entry()
        chunk, offset = app.screen.timeline.locate(position)
        assert app.screen.timeline.chunk(chunk)[offset].id == reading  # still reading the same
        assert app.screen.changes_since_open == 2
        assert "2 new here since opened" in bar_text(app)
    synced.assert_in_sync()


async def note_with_the_store_down(pilot, w: World, text: str) -> None:  # type: ignore[no-untyped-def]
    """Stop the store, then add a note to the open profile with the keys an agent uses."""
    w.stop_server()
    await pilot.press("n")
    await wait_for(lambda: pilot.app.screen.query(TextArea), pilot)
    pilot.app.screen.query_one(TextArea).insert(text)
    await pilot.press("ctrl+s")


async def test_edit_offline_is_pending_then_arrives_once(synced: World, config: Config) -> None:
    customer = "cus_000002"
    app = desk(synced, config, customer_id=customer)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        await note_with_the_store_down(pilot, synced, "Written while the store was down")
        await wait_for(lambda: app.sync_view.online is False, pilot, timeout=60)
        assert app.sync_view.pending == 1
        assert "offline" in bar_text(app) and "1 pending edit" in bar_text(app)
        assert "pending" in str(app.screen.query_one("#unsynced").get_option_at_index(0).prompt)
        synced.start_server()
        await pilot.press("r")
        await wait_for(lambda: app.sync_view.online and app.sync_view.pending == 0, pilot,
                       timeout=30)
        await synced_once(pilot)
        # The panel hears of the sync's end after the status line does (a signal, then a redraw).
        await wait_for(lambda: not app.screen.query_one("#unsynced").display, pilot)
        # The store's copy of the agent's own note came back with the feed: nothing new.
        assert app.screen.changes_since_open == 0 and "new here" not in bar_text(app)
    texts = [n["text"] for n in synced.server_records(customer, "note")]
    assert texts.count("Written while the store was down") == 1
    synced.assert_in_sync()


async def test_a_sync_asked_for_as_one_ends_is_not_dropped(synced: World, config: Config) -> None:
    """`r` pressed (or an edit saved) just as a failing sync ends, while its thread still
    holds the sync: one more runs then, instead of the request waiting for the interval."""
    customer = "cus_000002"
    app = desk(synced, config, customer_id=customer)
    asked: list[bool] = []
    after_sync = app._after_sync

    def ask_while_it_ends(report) -> None:  # type: ignore[no-untyped-def]
        after_sync(report)  # the failed sync's last step in the desk, its lock still held
        if report is None and not asked:
            asked.append(True)
            synced.start_server()
            app.action_sync()

    app._after_sync = ask_while_it_ends  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        # Saving asks for a sync, which fails: offline.
        await note_with_the_store_down(pilot, synced, "Saved while the store was down")
        await wait_for(lambda: bool(asked), pilot, timeout=60)
        await wait_for(lambda: app.sync_view.online and app.sync_view.pending == 0, pilot,
                       timeout=20)  # the interval is 60 s: only the asked-for sync gets here
    texts = [n["text"] for n in synced.server_records(customer, "note")]
    assert texts.count("Saved while the store was down") == 1


async def test_search_finds_an_uncached_customer_on_the_store_and_fetches_it(
    synced: World, config: Config
) -> None:
    synced.store.set_scope(SCOPED_AGENT, ["cus_000001"])
    scoped = synced.tmp / "scoped-cache"
    from agentdesk.cache.cache import Cache

    synced.cache.close()
    synced.cache = Cache.open(scoped)
    target = synced.server_profile("cus_000004").changes[0].data["name"]
    app = desk(synced, config, token=SCOPED_TOKEN)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        await wait_for(lambda: app.index is not None, pilot)
        assert synced.cache.load_profile("cus_000004") is None  # not in this agent's scope
        await pilot.press("slash")
        await wait_for(lambda: isinstance(app.screen, SearchScreen), pilot)
        app.screen.query_one(Input).value = target
        results = app.screen.query_one(ResultList)
        await wait_for(lambda: "cus_000004" in results.remote, pilot)
        results.cursor = [r.id for r in results.rows].index("cus_000004")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.customer_id == "cus_000004"
                       and app.screen.profile is not None, pilot)
        assert app.screen.profile.customer.name == target
    assert synced.cache.load_profile("cus_000004") is not None  # cached, kept in sync from now


async def test_an_edit_in_progress_survives_a_sync_and_merges(synced: World, config: Config) -> None:
    """The contact form is open; a sync brings the store's new company underneath; saving the
    form sends only what the agent changed, so both edits end up on the store."""
    from agentdesk.ui.forms import ContactForm

    customer = "cus_000005"
    app = desk(synced, config, customer_id=customer)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, ContactForm), pilot)
        form = app.screen
        form.query_one("#name", Input).value = "Typed During The Sync"
        record = synced.server_records(customer, "customer")[0]
        synced.store.upsert(RecordType.CUSTOMER, {**record, "company": "Company From The Store"},
                            customer)
        app.action_sync()  # the interval timer's sync, while the agent types
        await wait_for(lambda: synced.cache.load_profile(customer).customer.company
                       == "Company From The Store", pilot)
        await synced_once(pilot)
        assert app.screen is form
        assert form.query_one("#name", Input).value == "Typed During The Sync"  # untouched
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
        await wait_for(lambda: app.sync_view.pending == 0 and not app.sync_view.syncing, pilot)
    on_store = synced.server_records(customer, "customer")[0]
    assert on_store["name"] == "Typed During The Sync"
    assert on_store["company"] == "Company From The Store"  # not "changed back" by the form
    synced.assert_in_sync()
