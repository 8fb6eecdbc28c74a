"""Snapshots of the sync status line and of unsynced edits on a profile.

The conflict and the rejection are real: produced by the reference store over loopback. The
status line is given a fixed `SyncView` (no clock, no network timing), so the pictures are
deterministic.
"""

from __future__ import annotations

from agentdesk.config import Config
from agentdesk.model.protocol import RecordType
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.sync_bar import SyncView
from support.sync_world import World
from test_snapshots import SIZE, index_loaded, steady

CUSTOMER = "cus_000003"
OFFLINE = ("cannot reach the server at http://127.0.0.1:8799: connection refused "
           "(tried 6 times)")


def showing(view: SyncView, *keys: str):  # type: ignore[no-untyped-def]
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        pilot.app.set_sync_view(view)
        await pilot.press(*keys)
        steady(pilot)
        await pilot.pause()

    return run


def test_status_first_sync_with_progress(snap_compare, synced: World, config: Config) -> None:
    view = SyncView(configured=True, syncing=True, first=True, progress=0.42, changes=4_213)
    assert snap_compare(AgentDesk(synced.cache, config, customer_id=CUSTOMER),
                        terminal_size=SIZE, run_before=showing(view))


def test_status_offline_with_pending_edits(snap_compare, synced: World, config: Config) -> None:
    synced.stop_server()
    profile = synced.cache.load_profile(CUSTOMER)
    assert profile is not None
    relabelled = [c.model_copy(update={"label": "edited offline"}) if i == 0 else c
                  for i, c in enumerate(profile.contacts)]
    synced.cache.update_details(CUSTOMER, name="Renamed On The Train", company="No Signal Ltd",
                                contacts=relabelled)
    pending = synced.cache.outbox.counts().pending
    assert pending == 2  # the customer's fields, and one contact point
    view = SyncView(configured=True, online=False, error=OFFLINE, last_success="09:30",
                    pending=pending)
    assert snap_compare(AgentDesk(synced.cache, config, customer_id=CUSTOMER),
                        terminal_size=SIZE, run_before=showing(view))


def test_conflict_and_rejected_edit_on_the_profile(snap_compare, synced: World,
                                                   config: Config) -> None:
    cache, store = synced.cache, synced.store
    profile = cache.load_profile(CUSTOMER)
    assert profile is not None and profile.notes
    # The store renames the customer and deletes a note while the desk is editing both.
    store.upsert(RecordType.CUSTOMER, {**profile.customer.model_dump(mode="json"),
                                       "name": "Name Set On The Store"}, CUSTOMER)
    note = profile.notes[0]
    store.delete(RecordType.NOTE, note.id)
    cache.update_details(CUSTOMER, name="Name Typed At The Desk", company=profile.customer.company,
                         contacts=profile.contacts)
    cache.edit_note(CUSTOMER, note.id, "An edit to a note the store deleted")
    report = synced.sync()
    assert (report.conflicts, report.rejected) == (1, 1)
    counts = cache.outbox.counts()
    assert cache.load_profile(CUSTOMER).customer.name == "Name Set On The Store"  # store wins
    view = SyncView(configured=True, online=True, last_success="09:30",
                    conflicts=counts.conflicts, rejected=counts.rejected)
    assert snap_compare(AgentDesk(cache, config, customer_id=CUSTOMER),
                        terminal_size=SIZE, run_before=showing(view))
