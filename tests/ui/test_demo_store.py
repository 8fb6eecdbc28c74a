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
