"""Issue 15's customer actions against the reference store on 127.0.0.1: each made in the desk
while the store is down, kept as pending, then sent when the store is back; the store holds it
once and the cache and the store agree (digests equal)."""

from __future__ import annotations

import pytest
from support.sync_world import World
from test_customer_actions import on_profile, type_in
from test_ui_navigation import SIZE, select_option, wait_for
from test_ui_sync import desk, synced_once

from agentdesk.config import Config
from agentdesk.model.protocol import MutationKind
from agentdesk.sync.client import NotFound
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.conversation_start import StartConversationForm
from agentdesk.ui.customer_erase import EraseScreen, erase_customer
from agentdesk.ui.customer_new import NewCustomerForm, new_customer
from agentdesk.ui.forms import ConfirmScreen
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.relationship_edit import RelationshipForm
from agentdesk.ui.search import SearchScreen

CUSTOMER = "cus_000002"


async def offline(pilot, w: World) -> None:  # type: ignore[no-untyped-def]
    """The store goes down; the desk finds out at its next sync (saving asks for one)."""
    w.stop_server()


async def back_and_sent(pilot, w: World, pending: int) -> None:  # type: ignore[no-untyped-def]
    """The edits wait as pending while the store is down; it comes back, `r`, they are sent."""
    app: AgentDesk = pilot.app
    await wait_for(lambda: app.sync_view.online is False, pilot, timeout=60)
    assert app.sync_view.pending == pending
    w.start_server()
    await pilot.press("r")
    await wait_for(lambda: app.sync_view.online and app.sync_view.pending == 0
                   and not app.sync_view.syncing, pilot, timeout=30)
    assert app.sync_view.rejected == 0 and app.sync_view.conflicts == 0


async def test_a_conversation_started_offline_reaches_the_store_once(synced: World,
                                                                     config: Config) -> None:
    app = desk(synced, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        await wait_for(lambda: on_profile(app, CUSTOMER), pilot)
        await offline(pilot, synced)
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, StartConversationForm), pilot)
        await pilot.press(*"Started while the store was down")
        await type_in(pilot, "#first-message", "First words, sent once.")
        await pilot.press("ctrl+s")
        await wait_for(lambda: on_profile(app, CUSTOMER), pilot)
        await back_and_sent(pilot, synced, pending=1)
    conversations = [c for c in synced.server_records(CUSTOMER, "conversation")
                     if c["topic"] == "Started while the store was down"]
    assert len(conversations) == 1
    assert conversations[0]["channels"] == ["email"]
    entries = [e for e in synced.server_records(CUSTOMER, "entry")
               if e["body"] == "First words, sent once."]
    assert len(entries) == 1 and entries[0]["conversation_id"] == conversations[0]["id"]
    assert entries[0]["direction"] == "outbound"
    synced.assert_in_sync()


async def test_a_customer_created_offline_reaches_the_store_once(synced: World,
                                                                 config: Config) -> None:
    app = desk(synced, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        await offline(pilot, synced)
        app.call_later(new_customer, app, "+44 20 7946 0321")  # as the palette runs it
        await wait_for(lambda: isinstance(app.screen, NewCustomerForm), pilot)
        await type_in(pilot, "#name", "Nell Offline")
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ProfileScreen)
                       and app.screen.customer_id != CUSTOMER
                       and app.screen.profile is not None, pilot)
        new_id = app.screen.customer_id
        await back_and_sent(pilot, synced, pending=1)
    snapshot = synced.server_profile(new_id)
    customers = [c.data for c in snapshot.changes if c.type == "customer"]
    assert [c["name"] for c in customers] == ["Nell Offline"]
    assert [(c["kind"], c["value"], c["primary"])
            for c in synced.server_records(new_id, "contact")] == [
        ("phone", "+44 20 7946 0321", True)]
    synced.assert_in_sync()


async def test_relationships_changed_offline_reach_the_store_once_each(synced: World,
                                                                       config: Config) -> None:
    app = desk(synced, config, customer_id=CUSTOMER)
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        await wait_for(lambda: on_profile(app, CUSTOMER) and app.index is not None, pilot)
        other = synced.server_records("cus_000005", "customer")[0]["name"]
        before = len(synced.server_records(CUSTOMER, "relationship"))
        await offline(pilot, synced)
        app.screen.query_one("#relationships").focus()
        await pilot.press("a")
        await wait_for(lambda: isinstance(app.screen, SearchScreen), pilot)
        await pilot.press(*"cus_000005", "enter")
        await wait_for(lambda: isinstance(app.screen, RelationshipForm), pilot)
        await pilot.press(*"godparent", "ctrl+s")
        await wait_for(lambda: on_profile(app, CUSTOMER), pilot)
        rel = next(r for r in app.screen.profile.relationships if r.label == "godparent")
        await select_option(pilot, "relationships", rel.id)  # and changed, still offline
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, RelationshipForm), pilot)
        await pilot.press(*" (legal)", "ctrl+s")
        await wait_for(lambda: on_profile(app, CUSTOMER), pilot)
        await back_and_sent(pilot, synced, pending=2)
        held = [r for r in synced.server_records(CUSTOMER, "relationship") if r["id"] == rel.id]
        assert [(r["customer_id"], r["label"], r["name"]) for r in held] == [
            ("cus_000005", "godparent (legal)", other)]
        assert len(synced.server_records(CUSTOMER, "relationship")) == before + 1
        synced.assert_in_sync()

        await offline(pilot, synced)
        await select_option(pilot, "relationships", rel.id)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await wait_for(lambda: on_profile(app, CUSTOMER)
                       and all(r.id != rel.id for r in app.screen.profile.relationships), pilot)
        await back_and_sent(pilot, synced, pending=1)
    assert all(r["id"] != rel.id for r in synced.server_records(CUSTOMER, "relationship"))
    assert len(synced.server_records(CUSTOMER, "relationship")) == before
    synced.assert_in_sync()


async def test_a_customer_erased_offline_is_erased_in_the_store(synced: World,
                                                                config: Config) -> None:
    name = synced.server_records(CUSTOMER, "customer")[0]["name"]
    app = desk(synced, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await synced_once(pilot)
        app.open_customer(CUSTOMER)
        await wait_for(lambda: on_profile(app, CUSTOMER), pilot)
        await offline(pilot, synced)
        app.call_later(erase_customer, app.screen)
        await wait_for(lambda: isinstance(app.screen, EraseScreen), pilot)
        await pilot.press(*name, "enter")
        await wait_for(lambda: on_profile(app, "cus_000001"), pilot)
        assert [i.mutation.kind for i in synced.cache.outbox.items(CUSTOMER)] == [
            MutationKind.CUSTOMER_ERASE]
        await back_and_sent(pilot, synced, pending=1)
        assert synced.cache.load_profile(CUSTOMER) is None  # the feed's tombstone: still gone
    with pytest.raises(NotFound):
        synced.server_profile(CUSTOMER)
    synced.assert_in_sync()
