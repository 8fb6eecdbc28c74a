"""The desk's parsed styles are kept on disk from one start to the next (ui/kept_css.py):
the second start parses no source, draws with the same rules, and a file that is not what
the desk wrote is parsed again, never obeyed."""

from __future__ import annotations

import pickle
import stat
from pathlib import Path

import pytest
from textual.css import stylesheet as stylesheet_module

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.ui.app import AgentDesk


@pytest.fixture
def css_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache" / "agentdesk" / "css"


async def started(cache: Cache, config: Config) -> tuple[list[str], int]:
    """The rules a desk drew its profile with, and how many sources it had to parse."""
    app = AgentDesk(cache, config, customer_id="cus_000000")
    parsed = 0
    original = stylesheet_module.parse  # what Stylesheet calls to parse one source

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal parsed
        parsed += 1
        return original(*args, **kwargs)

    stylesheet_module.parse = counting
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            # (Layouts compare by identity: their repr says which.)
            rules = [repr((rule.selectors, rule.styles.get_rules(), rule.is_default_rules,
                           rule.tie_breaker)) for rule in app.stylesheet.rules]
    finally:
        stylesheet_module.parse = original
    return rules, parsed


async def test_a_second_start_parses_nothing_and_draws_the_same(
        demo_cache: Cache, config: Config, css_folder: Path) -> None:
    first, parsed_first = await started(demo_cache, config)
    assert parsed_first > 0
    [kept] = list(css_folder.glob("rules-*.pickle"))
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(css_folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(css_folder.parent.stat().st_mode) == 0o700

    second, parsed_second = await started(demo_cache, config)
    assert parsed_second == 0
    assert second == first


async def test_a_file_naming_other_code_is_parsed_again_not_obeyed(
        demo_cache: Cache, config: Config, css_folder: Path, tmp_path: Path) -> None:
    first, _ = await started(demo_cache, config)
    [kept] = list(css_folder.glob("rules-*.pickle"))
    marker = tmp_path / "obeyed"

    class Hostile:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            import os
            return (os.system, (f"touch {marker}",))

    kept.write_bytes(pickle.dumps({"key": Hostile()}))
    again, parsed = await started(demo_cache, config)
    assert not marker.exists()
    assert parsed > 0 and again == first
    # Written again, whole: the next start reads it.
    assert (await started(demo_cache, config))[1] == 0


async def test_a_damaged_file_is_parsed_again(demo_cache: Cache, config: Config,
                                             css_folder: Path) -> None:
    first, _ = await started(demo_cache, config)
    [kept] = list(css_folder.glob("rules-*.pickle"))
    kept.write_bytes(kept.read_bytes()[:1000])
    again, parsed = await started(demo_cache, config)
    assert parsed > 0 and again == first


async def test_each_theme_has_its_own_file(demo_cache: Cache, config: Config,
                                           css_folder: Path) -> None:
    await started(demo_cache, config)
    light = Config(path=config.path, author=config.author, keymap={}, theme="textual-light")
    rules, parsed = await started(demo_cache, light)
    assert parsed > 0
    assert len(list(css_folder.glob("rules-*.pickle"))) == 2
    assert (await started(demo_cache, light)) == (rules, 0)
