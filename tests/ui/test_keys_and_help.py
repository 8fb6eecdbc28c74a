"""The key bar keeps the keys that matter at any width and only offers what works; help says
what each key does in words, scrolls with j/k, says how to close it and how to remap keys."""

from __future__ import annotations

from test_ui_navigation import SIZE

from agentdesk.cache.cache import Cache
from agentdesk.cli import parser
from agentdesk.config import Config
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.help import HelpScreen
from agentdesk.ui.keybar import KeyBar


def bar(app: AgentDesk) -> str:
    return app.screen.query_one(KeyBar).render().plain


async def test_at_80_columns_the_keys_that_matter_stay(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = bar(app)
        for hint in ("? Help", "r Sync", "^p Commands", "q Quit", "/ Search", "n Note", "e Edit"):
            assert hint in shown, hint
        assert len(shown) <= 80
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        shown = bar(app)
        assert "? Help" in shown and len(shown) <= 40  # what help lists is always reachable


async def test_a_read_only_desk_does_not_offer_edits(demo_cache: Cache, config: Config) -> None:
    second = Cache.open(demo_cache.root)
    assert second.read_only
    app = AgentDesk(second, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = bar(app)
        assert "Note" not in shown and "Edit" not in shown and "Sync" not in shown
        assert "Search" in shown
        app.screen.query_one("#notes").focus()
        await pilot.pause()
        assert "Delete" not in bar(app)


async def test_help_speaks_words_scrolls_and_says_how_to_close_and_remap(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        actions = {does for _group, _keys, does, _id in help_screen.rows}
        assert not any("_" in does for does in actions), actions  # no raw action names
        title = str(help_screen.query_one("#help-title").render())
        assert "esc" in title and "closes" in title
        note = str(help_screen.query_one("#help-keymap").render())
        assert "[keymap]" in note and str(config.path) in note and "agentdesk config" in note
        view = help_screen.query_one("#help")
        await pilot.press("j", "j", "j")
        assert view.scroll_offset.y == 3
        await pilot.press("k")
        assert view.scroll_offset.y == 2
        await pilot.press("G")
        assert view.scroll_offset.y == view.max_scroll_y > 0
        assert "Close" in bar(app) and "Note" not in bar(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


def test_agentdesk_help_explains_keymaps() -> None:
    text = parser().format_help()
    assert "[keymap]" in text and '"profile.new_note" = "a"' in text and "agentdesk config" in text
