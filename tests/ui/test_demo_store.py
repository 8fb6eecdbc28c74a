"""`agentdesk --demo`: its store is served after the desk's first frame, not before it."""

from __future__ import annotations

from pathlib import Path

from test_ui_navigation import SIZE, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.config import Config, Remote
from agentdesk.model.demo import dataset
from agentdesk.server.demo import DemoStore
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.profile import ProfileScreen


async def test_the_demo_desk_shows_its_cache_then_serves_its_store_and_syncs(
        tmp_path: Path, config: Config) -> None:
    demo = DemoStore(tmp_path / "demo-server")
    assert (tmp_path / "demo-server" / "token").stat().st_mode & 0o777 == 0o600
    served_at_first_paint: list[bool] = []
    try:
        with Cache.open(tmp_path / "cache") as cache:
            cache.import_profiles(dataset(customers=3, big_entries=0))
            app = AgentDesk(cache, config, remote=Remote(demo.url, demo.token),
                            prepare_remote=demo.serve)
            app.call_after_refresh(lambda: served_at_first_paint.append(demo.server is not None))
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(lambda: isinstance(app.screen, ProfileScreen), pilot)
                await wait_for(lambda: app.sync_view.online is True
                               and not app.sync_view.syncing, pilot, timeout=60)
                assert served_at_first_paint == [False]  # the cached profile came first
                assert demo.server is not None and demo.server.url == demo.url
                assert not app.sync_view.error
    finally:
        demo.stop()
    again = DemoStore(tmp_path / "demo-server")  # a second start: the same token, a new port
    try:
        assert again.token == demo.token
    finally:
        again.stop()


def test_the_live_demo_store_holds_todays_work(tmp_path: Path) -> None:
    """The demo's data is written for a fixed January morning; the store `agentdesk --demo`
    serves has it moved to today, every instant by the same minutes, as the tests' clock
    sees the fixed data: the newest conversations are from hours ago, not from months."""
    import json
    from datetime import UTC, datetime, timedelta

    from agentdesk.model.demo import WRITTEN_FOR, generate
    from agentdesk.server.store import Agent

    demo = DemoStore(tmp_path / "demo-server")
    try:
        demo.serve()
        assert demo.server is not None
        now = datetime.now(UTC)
        fixed = {p.customer.id: (p, t) for p, t in generate()}
        for customer_id in ("cus_000001", "cus_000022", "cus_everything"):
            rows = demo.server.store.profile(customer_id, Agent("test"))
            records = {(r[2], r[3]): json.loads(r[6]) for r in rows}
            profile, timeline = fixed[customer_id]
            shifts = {datetime.fromisoformat(records["entry", e.id]["at"]) - e.at
                      for e in timeline}
            shifts.add(datetime.fromisoformat(records["customer", customer_id]["created"])
                       - profile.customer.created)
            assert len(shifts) == 1  # every instant moved by the same amount
            [shift] = shifts
            assert abs(WRITTEN_FOR + shift - now) < timedelta(minutes=5)
        fields = {r[3]: json.loads(r[6]) for r in demo.server.store.profile(
            "cus_everything", Agent("test")) if r[2] == "field"}
        survey = next(f for f in fields.values() if f["key"] == "nps.next_survey")
        assert survey["values"][0]["value"] > now.date().isoformat()  # still ahead
    finally:
        demo.stop()
