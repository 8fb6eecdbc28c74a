"""The command palette offers the desk's actions once each, with their keys; theme switching
stays and the chosen theme is remembered in the config file."""

from __future__ import annotations

from pathlib import Path

from test_ui_navigation import SIZE, wait_for
from textual.command import CommandList, CommandPalette

from agentdesk.cache.cache import Cache
from agentdesk.config import Config, load_config
from agentdesk.ui.app import AgentDesk


async def palette_entries(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_for(lambda: isinstance(app.screen, CommandPalette)
                   and app.screen.query_one(CommandList).option_count > 0, pilot)
    await pilot.pause(0.2)
    found = app.screen.query_one(CommandList)
    return [str(found.get_option_at_index(i).prompt).split("\n")[0]
            for i in range(found.option_count)]


async def test_each_command_once_with_its_key_and_no_generic_ones(demo_cache: Cache,
                                                                  tmp_path: Path) -> None:
    config = Config(path=tmp_path / "c.toml", author="x", keymap={"profile.new_note": "a"})
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        entries = await palette_entries(pilot)
    titles = [e.rsplit("   ", 1)[0] for e in entries]
    assert len(titles) == len(set(titles)), titles  # no "Quit" twice
    for generic in ("Keys", "Maximize", "Screenshot", "Minimize", "Theme"):
        assert generic not in titles
    assert "Change theme" in titles and "Quit" in titles and "Help: every key" in titles
    shown = dict(e.rsplit("   ", 1) for e in entries if "   " in e)
    assert shown["New note"] == "a"  # the key in force, remapped
    assert shown["Quit"] == "q" and shown["Search customers"] == "/"
    # Every other with a key; erasing has none on purpose (one key press from a privacy
    # erasure is too near), nor creating a customer (a palette entry, and ctrl+n in search).
    palette_only = ("Change theme", "New customer", "Erase customer…")
    assert all(t in shown for t in titles if t not in palette_only)
    assert shown["Start a conversation"] == "c" and shown["Add a relationship"] == "a"


async def test_the_chosen_theme_is_remembered(demo_cache: Cache, tmp_path: Path) -> None:
    config = Config(path=tmp_path / "config.toml", author="x")
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        entries = await palette_entries(pilot)
        assert "Change theme" in entries
        await pilot.press(*"change theme", "enter")
        await wait_for(lambda: isinstance(app.screen, CommandPalette), pilot)
        await pilot.pause(0.2)
        await pilot.press(*"textual-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(lambda: app.theme == "textual-light", pilot)
        await wait_for(lambda: config.path.exists(), pilot)
    assert load_config(config.path).theme == "textual-light"
    again = AgentDesk(demo_cache, load_config(config.path), customer_id="cus_000001")
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "textual-light"
    broken = Config(path=tmp_path / "config.toml", author="x", theme="no-such-theme")
    assert AgentDesk(demo_cache, broken).theme != "no-such-theme"  # ignored, not a crash


async def test_queue_reply_and_conversation_actions_are_in_the_palette(demo_cache: Cache,
                                                                      config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        entries = await palette_entries(pilot)
        shown = dict(e.rsplit("   ", 1) for e in entries if "   " in e)
        assert shown["My queue"] == "i" and shown["Next in queue"] == "N"
        assert shown["Reply"] == "R" and shown["Conversation status"] == "s"
        assert shown["Assign conversation"] == "A" and shown["Conversation priority"] == "P"
        assert shown["Conversation topic and tags"] == "T"
        await pilot.press(*"my queue", "enter")
        from agentdesk.ui.queue import QueueScreen

        await wait_for(lambda: isinstance(app.screen, QueueScreen), pilot)
