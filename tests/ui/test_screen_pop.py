"""Screen-pop: `agentdesk open <id | e-mail | phone>` reaches the running desk over its Unix
socket (private folder and socket, no network port) and brings the customer up; a line that is
not JSON, or names nobody, is answered clearly and the desk stays as it was."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import sys
from pathlib import Path

from test_ui_navigation import SIZE, wait_for

from agentdesk import cli
from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.forms import NoteForm
from agentdesk.ui.help import HelpScreen
from agentdesk.ui.profile import ProfileScreen
from agentdesk.ui.screen_pop import ask_desk, socket_path
from agentdesk.ui.screen_pop_desk import DeskScreenPop


def shown_customer(app: AgentDesk) -> str | None:
    screen = app.screen
    return screen.customer_id if isinstance(screen, ProfileScreen) else None


async def serving(app: AgentDesk, pilot) -> Path:  # type: ignore[no-untyped-def]
    await wait_for(lambda: app.screen_pop is not None and app.screen_pop.server is not None
                   and app.index is not None, pilot)
    return socket_path(app.cache.root)


def raw(path: Path, payload: bytes) -> dict:
    """Send bytes as they are (not through ask_desk, which always sends valid JSON)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    assert data.endswith(b"\n") and data.count(b"\n") == 1, data  # one JSON line
    return json.loads(data)


async def test_open_by_id_email_or_phone_brings_the_customer_up(demo_cache: Cache,
                                                                config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        path = await serving(app, pilot)
        for target, expected in (("cus_000002", "cus_000002"),
                                 ("KOFI.NOVAK0@example.com", "cus_000000"),  # case ignored
                                 ("kofi0@mail.example.org", "cus_000000"),  # a second e-mail
                                 ("+1 (555) 356-1605", "cus_000003"),  # however it is written
                                 ("5553561605", "cus_000003")):  # without the country code
            answer = await asyncio.to_thread(ask_desk, path, target)
            assert answer is not None and answer["ok"], (target, answer)
            assert answer["customer"] == expected
            await wait_for(lambda: shown_customer(app) == expected  # noqa: B023
                           and app.screen.profile is not None, pilot)
        assert answer["name"] == "Quinn Silva"
        # Asked again for the customer on screen: nothing piles up.
        depth = len(app.screen_stack)
        answer = await asyncio.to_thread(ask_desk, path, "cus_000003")
        await pilot.pause()
        assert answer is not None and answer["ok"] and len(app.screen_stack) == depth
        # Esc goes back through the customers popped, as after opening them by hand.
        await pilot.press("escape")
        await wait_for(lambda: shown_customer(app) == "cus_000000", pilot)


async def test_bad_lines_and_nobody_get_a_clear_answer_and_change_nothing(
        demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        path = await serving(app, pilot)
        stack = list(app.screen_stack)
        hostile = "\x1b]52;c;cHduZWQ=\x07[bold red]x[/]\x9b2J@example.com"
        cases = [
            (b"open cus_000002\n", "not valid JSON"),
            (b"\xff\xfe\n", "not valid JSON"),
            (b'["open", "cus_000002"]\n', 'expected one JSON line like {"open"'),
            (b'{"open": 42}\n', 'expected one JSON line like {"open"'),
            (b'{"open": "   "}\n', 'expected one JSON line like {"open"'),
            (b'{"open": "cus_nobody"}\n', "no customer has the id cus_nobody"),
            (b'{"open": "nobody@example.com"}\n', "no customer has the e-mail address"),
            (b'{"open": "+44 20 7946 0000"}\n', "no customer has the phone number"),
            (json.dumps({"open": hostile}).encode() + b"\n", "no customer has the e-mail"),
            (b'{"open": "' + b"x" * 9000 + b'"}\n', "longer than 4096 bytes"),
            (b'{"open": "cus_000002"}', None),  # no newline: the line is what was sent
        ]
        for payload, expected in cases:
            answer = await asyncio.to_thread(raw, path, payload)
            if expected is None:
                assert answer["ok"] and answer["customer"] == "cus_000002"
                continue
            assert answer["ok"] is False and expected in answer["error"], (payload[:40], answer)
            await pilot.pause()
            assert app.screen_stack == stack  # the desk stays as it was
        # The hostile target is quoted inert: no escape, no C1 control, markup left as text.
        answer = await asyncio.to_thread(raw, path, json.dumps({"open": hostile}).encode() + b"\n")
        error = answer["error"]
        assert "\x1b" not in error and "\x9b" not in error and "\x07" not in error
        assert "[bold red]x[/]" in error


async def test_the_socket_is_private_and_goes_away_with_the_desk(demo_cache: Cache,
                                                                 config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        path = await serving(app, pilot)
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        info = os.lstat(path)
        assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
        assert path.parent == Path(os.environ["XDG_RUNTIME_DIR"]) / "agentdesk"
        assert list(path.parent.iterdir()) == [path]  # no temporary name left behind
    assert not path.exists()


async def test_a_stale_socket_is_replaced_and_a_live_one_is_left_to_its_desk(
        demo_cache: Cache, config: Config, runtime_dir: Path) -> None:
    path = socket_path(demo_cache.root)
    path.parent.mkdir(mode=0o755)  # made too open by someone: tightened
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # a desk that was killed: its socket file stays, no one listens
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await serving(app, pilot)
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        # A second desk on the same cache (read-only) finds this one answering: it does not
        # take the socket over, and `agentdesk open` keeps reaching the first desk.
        second = AgentDesk(Cache.open(demo_cache.root), config, customer_id="cus_000002")
        assert second.cache.read_only
        pop = DeskScreenPop(second)  # what the second desk makes after its first frame
        await pop.start()
        assert pop.server is None
        answer = await asyncio.to_thread(ask_desk, path, "cus_000004")
        assert answer is not None and answer["ok"]
        await wait_for(lambda: shown_customer(app) == "cus_000004", pilot)
        second.cache.close()


async def test_help_closes_and_a_form_stays_under_the_popped_customer(demo_cache: Cache,
                                                                      config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        path = await serving(app, pilot)
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, NoteForm), pilot)
        await pilot.press(*"half a note")
        form = app.screen
        app.action_help()  # help over the form
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        answer = await asyncio.to_thread(ask_desk, path, "cus_000005")
        assert answer is not None and answer["ok"]
        await wait_for(lambda: shown_customer(app) == "cus_000005", pilot)
        assert not any(isinstance(s, HelpScreen) for s in app.screen_stack)
        await pilot.press("escape")  # back to the note being written, as it was
        await wait_for(lambda: app.screen is form, pilot)
        assert form.fields() == {"text": "half a note"}


async def agentdesk_open(cache: Cache, target: str) -> tuple[int, str, str]:
    """`agentdesk open` run as the phone system runs it: another process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agentdesk.cli", "open", "--cache", str(cache.root), target,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_agentdesk_open_reaches_the_running_desk(demo_cache: Cache, config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    async with app.run_test(size=SIZE) as pilot:
        await serving(app, pilot)
        code, out, _ = await agentdesk_open(demo_cache, "rosa.kaur2@example.com")
        assert (code, out) == (0, "Opened Rosa Kaur (cus_000002) in the running desk.\n")
        await wait_for(lambda: shown_customer(app) == "cus_000002", pilot)
        code, out, err = await agentdesk_open(demo_cache, "nobody@example.com")
        assert (code, out) == (1, "")
        assert err == ("agentdesk open: no customer has the e-mail address nobody@example.com\n")
        assert shown_customer(app) == "cus_000002"


def test_with_no_desk_running_open_starts_the_desk_on_that_customer(demo_cache: Cache) -> None:
    """Nothing answers on the socket: the command names the customer to start the desk on,
    found in the cache's own index; nobody matching starts nothing."""
    from agentdesk.cli import customer_to_start_on, parser

    args = parser().parse_args(["open", "--cache", str(demo_cache.root), "+1 555 225 2889"])
    assert cli.ask_running_desk(args) is None
    assert customer_to_start_on(demo_cache, args.target) == "cus_000001"
    assert customer_to_start_on(demo_cache, "nobody@example.com") == 1


def test_the_socket_folder_must_be_a_private_folder_of_this_user(
        runtime_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A symlink put where the folder goes (it could lead to a folder someone else reads) is
    refused; without $XDG_RUNTIME_DIR the folder is a per-user one in the temporary folder."""
    import pytest

    from agentdesk.ui.screen_pop import ScreenPopError, private_folder, socket_folder

    elsewhere = runtime_dir / "elsewhere"
    elsewhere.mkdir()
    (runtime_dir / "agentdesk").symlink_to(elsewhere)
    with pytest.raises(ScreenPopError, match="not a folder of this user"):
        private_folder(socket_folder())
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert socket_folder().name == f"agentdesk-{os.getuid()}"
