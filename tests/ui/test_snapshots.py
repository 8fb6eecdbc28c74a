"""Snapshot tests of every screen state (SVGs in the top-level snapshots/ folder).

Deterministic: fixed terminal size, times in UTC (conftest), demo data from a fixed seed, no
clock on screen, cursor blink off.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TextArea

from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.cache.cache import Cache
from agentdesk.ui.app import AgentDesk

SIZE = (120, 35)


def steady(pilot) -> None:  # type: ignore[no-untyped-def]
    """No blinking cursors: the picture must not depend on when it is taken."""
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for widget in pilot.app.screen.query(TextArea):
        widget.cursor_blink = False


async def index_loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        if pilot.app.index is not None:
            break
        await pilot.pause(0.05)
    await pilot.pause()


def pressing(*keys: str):  # type: ignore[no-untyped-def]
    """A run_before: wait for the index, press `keys`, then hold every cursor still."""

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press(*keys)
        steady(pilot)
        await pilot.pause()

    return run


def test_profile(snap_compare, demo_cache: Cache, config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"), terminal_size=SIZE,
                        run_before=index_loaded)


def test_after_jump_to_conversation(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def jump(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        conversations = pilot.app.screen.query_one("#conversations")
        conversations.focus()
        # The second topic's newest conversation (not a heading, not a "… more" line).
        conversations.highlighted = next(
            i for i, o in enumerate(conversations.options)
            if i >= 5 and not o.disabled and not o.id.startswith("\0"))
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id=demo.BIG_ID), terminal_size=SIZE,
                        run_before=jump)


def test_search(snap_compare, demo_cache: Cache, config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"), terminal_size=SIZE,
                        run_before=pressing("slash", *"ada"))


def test_help(snap_compare, demo_cache: Cache, config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"), terminal_size=SIZE,
                        run_before=pressing("question_mark"))


def test_edit_form_with_error(snap_compare, demo_cache: Cache, config: Config) -> None:
    async def edit(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("e")
        pilot.app.screen.query_one("#value-0", Input).value = "ada at example"
        await pilot.press("ctrl+s")
        pilot.app.clear_notifications()
        steady(pilot)
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"), terminal_size=SIZE,
                        run_before=edit)


def test_note_form(snap_compare, demo_cache: Cache, config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"), terminal_size=SIZE,
                        run_before=pressing("n", *"Prefers [bold]tea[/]"))


def test_narrow_terminal(snap_compare, demo_cache: Cache, config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"), terminal_size=(60, 20),
                        run_before=index_loaded)


def test_narrow_terminal_details_toggled(snap_compare, demo_cache: Cache, config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"), terminal_size=(40, 12),
                        run_before=pressing("b"))


def test_hostile_content(snap_compare, demo_cache: Cache, config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id=demo.HOSTILE_ID), terminal_size=SIZE,
                        run_before=index_loaded)


def test_empty_state(snap_compare, tmp_path, monkeypatch, config: Config) -> None:
    monkeypatch.chdir(tmp_path)  # the screen names the cache folder: keep it the same every run
    with Cache.open(Path("empty-cache")) as cache:
        assert snap_compare(AgentDesk(cache, config), terminal_size=SIZE)


def test_search_by_address(snap_compare, demo_cache: Cache, config: Config) -> None:
    """Found by a contact point that is not shown by default: the result names the field and
    highlights what matched."""
    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"), terminal_size=SIZE,
                        run_before=pressing("slash", *"harbor 2"))


def test_relationships_both_ways_at_80_columns(snap_compare, demo_cache: Cache, config: Config) -> None:
    """Elena Petrov lists nobody; Kofi Novak and Mateo Haddad list her: both show, the other way
    round. At 80 columns every label/value line is cut with "…", none wraps."""
    async def panel(pilot) -> None:  # type: ignore[no-untyped-def]
        await index_loaded(pilot)
        await pilot.press("tab")
        pilot.app.screen.query_one("#relationships").focus()
        await pilot.pause()

    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000039"), terminal_size=(80, 24),
                        run_before=panel)


def test_wide_terminal(snap_compare, demo_cache: Cache, config: Config) -> None:
    """At 200 columns the panel takes its share and lists everything without inner scrolling."""
    assert snap_compare(AgentDesk(demo_cache, config, customer_id=demo.BIG_ID), terminal_size=(200, 60),
                        run_before=index_loaded)
