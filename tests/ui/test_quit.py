"""`q` quits at once however many keys wait ahead of it, unless one of them means it is typed.

Keys are posted to the app the way Textual's driver posts them (all at once, before any is
handled), as a held-down key or a paste queues them.
"""

from __future__ import annotations

import asyncio

from test_ui_navigation import SIZE, select_option, timeline, wait_for
from textual import events
from textual.widgets import Input

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model import demo
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.search import SearchScreen


def queue(app: AgentDesk, keys: list[str]) -> None:
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


async def exited(app: AgentDesk, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if not app.is_running:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the desk is still running")


async def test_q_behind_many_moves_quits_without_working_through_them(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    done: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view, screen = timeline(app), app.screen
        view.action_scroll_lines = lambda step: done.append("j")  # type: ignore[method-assign]
        screen.action_toggle_details = lambda: done.append("b")  # type: ignore[method-assign]
        queue(app, ["j"] * 300 + ["tab", "b"] * 100 + ["q"])
        await exited(app)
    # The moves queued ahead of q were dropped, not worked through first.
    assert done.count("j") < 300 and done.count("b") < 100


async def test_q_typed_in_a_field_is_typed_there(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000000")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        assert isinstance(app.screen, SearchScreen)
        queue(app, ["j"] * 5 + ["q"])
        await wait_for(lambda: app.screen.query_one(Input).value == "jjjjjq", pilot)
        assert app.is_running


async def test_q_in_a_dialog_does_not_quit(demo_cache: Cache, config: Config) -> None:
    from agentdesk.ui.forms import ConfirmScreen
    from agentdesk.ui.profile import ProfileScreen

    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        note = demo_cache.load_profile("cus_000001").notes[0]
        await select_option(pilot, "notes", note.id)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        queue(app, ["q"])
        await pilot.pause(0.1)
        assert app.is_running and isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, ProfileScreen)


async def test_keys_read_together_reach_the_app_in_one_hand_over(demo_cache: Cache,
                                                                 config: Config) -> None:
    """What the terminal's driver does with 300 keys and a q read at once while the desk is
    busy: one wake-up of the event loop for all of them (not one each), and q quits."""
    import threading
    import time

    from textual.drivers.headless_driver import HeadlessDriver

    from agentdesk.ui.quitting import batching

    app = AgentDesk(demo_cache, config, customer_id=demo.BIG_ID)
    done: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        timeline(app).action_scroll_lines = lambda step: done.append("j")  # type: ignore[method-assign]
        driver = batching(HeadlessDriver)(app, debug=False, mouse=False, size=SIZE)
        hand_overs: list[int] = []
        hand_over = driver._hand_over

        def counted() -> None:
            hand_overs.append(len(driver._batch))
            hand_over()

        driver._hand_over = counted  # type: ignore[method-assign]
        keys = [events.Key("j", "j")] * 300 + [events.Key("q", "q")]
        sender = threading.Thread(target=lambda: [driver.send_message(k) for k in keys])
        sender.start()
        sender.join()
        time.sleep(0.05)  # the loop is busy meanwhile: nothing is handed over yet
        await exited(app)
    assert hand_overs == [301]
    assert done.count("j") < 300
