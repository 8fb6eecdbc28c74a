"""The query language in `/` (issue 18): filters narrow the results; plain text stays the
plain search (nothing more is read for it); a bad filter is named. A real app (Pilot)."""

from __future__ import annotations

from test_ui_navigation import SIZE, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.cache.customer_select import select
from agentdesk.config import Config
from agentdesk.model.customer_query import parse
from agentdesk.ui import clock
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.search import ResultList, SearchScreen

START = "cus_000001"


async def open_search(app: AgentDesk, pilot) -> ResultList:  # type: ignore[no-untyped-def]
    await wait_for(lambda: app.index is not None, pilot)
    await pilot.press("slash")
    await wait_for(lambda: isinstance(app.screen, SearchScreen), pilot)
    return app.screen.query_one(ResultList)


def count_line(app: AgentDesk) -> str:
    return str(app.screen.query_one("#search-count").render())


async def test_filters_narrow_the_results_and_plain_text_reads_nothing_more(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        results = await open_search(app, pilot)
        await pilot.press(*"ada")
        await pilot.pause()
        plain = {r.id for r in results.rows}
        assert plain and app.customer_table is None  # the plain search: nothing read for it
        await pilot.press("ctrl+u", *"tag:vip")
        await wait_for(lambda: app.customer_table is not None
                       and "filtered" in count_line(app), pilot)
        vips = {r.id for r in select(demo_cache.index_rows(), parse("tag:vip"), clock.now())}
        assert {r.id for r in results.rows} == vips
        assert f"{len(vips)} customers" in count_line(app)
        await pilot.press("ctrl+u", *"ada tag:vip")
        await pilot.pause()
        both = {r.id for r in select(demo_cache.index_rows(), parse("ada tag:vip"), clock.now())}
        assert {r.id for r in results.rows} == both == plain & vips
        assert both, "the demo has a VIP named Ada"
        await pilot.press("enter")  # opens the first, as a plain search does
        await wait_for(lambda: not isinstance(app.screen, SearchScreen), pilot)
        assert app.screen.customer_id in both


async def test_a_bad_filter_is_named_and_the_plain_search_stands(demo_cache: Cache,
                                                                config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=START)
    async with app.run_test(size=SIZE) as pilot:
        await open_search(app, pilot)
        await pilot.press(*"colour:red")
        await pilot.pause()
        await pilot.pause()
        assert 'unknown filter "colour:"' in count_line(app)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press("ctrl+u", *"tag:vip last-contact:30")
        await pilot.pause()
        await pilot.pause()
        assert "last-contact takes <Nd or >Nd" in count_line(app)
