"""Snapshots of where the focus is, and of the desk in a light theme, in the terminal's own
ANSI colours (Textual 8 names that theme `ansi-dark`; older versions called it
`textual-ansi`) and with NO_COLOR set: readable in each, the focused pane marked in each."""

from __future__ import annotations

import pytest
from test_snapshots import SIZE, pressing

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.ui.app import AgentDesk


def themed(config: Config, theme: str) -> Config:
    return Config(path=config.path, author=config.author, keymap={}, theme=theme)


def test_focused_list_at_80_columns(snap_compare, demo_cache: Cache, config: Config) -> None:
    assert snap_compare(AgentDesk(demo_cache, config, customer_id="cus_000000"),
                        terminal_size=(80, 24), run_before=pressing("tab"))


@pytest.mark.parametrize("theme", ["textual-light", "ansi-dark"])
def test_theme(snap_compare, demo_cache: Cache, config: Config, theme: str) -> None:
    app = AgentDesk(demo_cache, themed(config, theme), customer_id="cus_000000")
    assert app.theme == theme
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing("tab"))


def test_no_color(snap_compare, demo_cache: Cache, config: Config,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    assert app.no_color
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing("tab"))
