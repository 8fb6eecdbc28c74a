"""The desk's terminal output with each change of style written as what changes
(ui/lean_output.py): every cell of every frame gets the style Textual gave it, in fewer bytes.
The frames are the desk's own, rendered as Textual writes them; a small terminal model (its
own reading of SGR, not the rewriter's) says which style each cell gets."""

from __future__ import annotations

import re

import pytest
from textual.driver import Driver

from agentdesk.cache.cache import Cache
from agentdesk.config import Config
from agentdesk.model.demo import HOSTILE_ID
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.lean_output import SgrRewriter, lean

SIZE = (120, 35)
_TOKEN = re.compile(r"\x1b\[([0-9;:?]*)([A-Za-z])|\x1b\][^\x07]*\x07|\x1b.|\n|[^\x1b\n]")


def cells(stream: str) -> dict[tuple[int, int], tuple[str, tuple]]:
    """(row, column) -> (character, style) as a terminal shows `stream`."""
    state: dict[str, object] = {}
    y = x = 0
    shown = {}
    for match in _TOKEN.finditer(stream):
        text = match.group(0)
        if match.group(2) == "m":
            # A code with colons ("4:3" a curly underline) counts as its first number.
            codes = [int(c.split(":")[0] or 0) for c in (match.group(1) or "0").split(";")]
            i = 0
            while i < len(codes):
                code = codes[i]
                if code == 0:
                    state = {}
                elif code in (38, 48):
                    n = 3 if codes[i + 1] == 5 else 5
                    state["fg" if code == 38 else "bg"] = tuple(codes[i:i + n])
                    i += n - 1
                elif code == 39:
                    state.pop("fg", None)
                elif code == 49:
                    state.pop("bg", None)
                elif 30 <= code <= 37 or 90 <= code <= 97:
                    state["fg"] = (code,)
                elif 40 <= code <= 47 or 100 <= code <= 107:
                    state["bg"] = (code,)
                else:
                    state[f"a{code}"] = True
                i += 1
        elif match.group(2) == "H":
            row, _, column = (match.group(1) or "1;1").partition(";")
            y, x = int(row or 1) - 1, int(column or 1) - 1
        elif text == "\n":
            y, x = y + 1, 0
        elif match.group(2) or text.startswith("\x1b"):
            continue  # modes, queries, titles: no cell
        else:
            shown[y, x] = (text, tuple(sorted(state.items())))
            x += 1
    return shown


def rewritten(stream: str, pieces: int = 1) -> str:
    """`stream` through one rewriter, written in `pieces` (cut anywhere, in sequences too)."""
    rewriter = SgrRewriter()
    size = -(-len(stream) // pieces)
    return "".join(rewriter.rewrite(stream[i:i + size]) for i in range(0, len(stream), size))


async def frame(app: AgentDesk, *keys: str) -> str:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
        update = app.screen._compositor.render_update(full=True)  # noqa: SLF001
        return update.render_segments(app.console)


@pytest.mark.parametrize(("customer", "theme", "keys"), [
    ("cus_000001", "", ()),
    (HOSTILE_ID, "", ()),
    ("cus_000001", "", ("question_mark",)),
    ("cus_000001", "textual-light", ("tab",)),
    ("cus_000001", "ansi-dark", ("tab",)),
])
async def test_every_cell_keeps_its_style_in_fewer_bytes(
        demo_cache: Cache, config: Config, customer: str, theme: str, keys: tuple[str, ...]) -> None:
    themed = Config(path=config.path, author=config.author, keymap={}, theme=theme)
    stream = await frame(AgentDesk(demo_cache, themed, customer_id=customer), *keys)
    assert len(cells(stream)) >= SIZE[0] * (SIZE[1] - 1)
    for pieces in (1, 7, 97):
        lean_stream = rewritten(stream, pieces)
        assert cells(lean_stream) == cells(stream)
    assert len(rewritten(stream).encode()) < 0.8 * len(stream.encode())


@pytest.mark.parametrize("stream", [
    "\x1b[1;31mbold red\x1b[0m\x1b[31m red only\x1b[0m plain",  # an attribute turned off
    "\x1b[7mrev\x1b[0m\x1b[7m still\x1b[0m\x1b[m x",  # the same style again; ESC[m is a reset
    "\x1b[38;5;9mA\x1b[58;5;1mB\x1b[0mC\x1b[4mD",  # an underline colour it does not read
    "\x1b[44m  \x1b[0m\x1b[2K\x1b[44m\x1b[0m\n\x1b[2;1Hz",  # an erase uses the background in force
    "start \x1b[1m",  # a style left on at the end of a write stays on
    "\x1b[0mX\x1b[4:3mA\x1b[0m\x1b[31mB",  # a style it does not read (colons), then a reset
])
def test_sequences_it_must_not_get_wrong(stream: str) -> None:
    for pieces in range(1, len(stream) + 1):
        assert cells(rewritten(stream, pieces)) == cells(stream), pieces


async def test_the_desk_writes_through_it(demo_cache: Cache, config: Config) -> None:
    """The desk's terminal driver is the lean one: what Textual writes is rewritten on its
    way out (the test's driver keeps what is written)."""
    driver_class = AgentDesk(demo_cache, config).get_driver_class()
    assert [c.__name__ for c in driver_class.__mro__][:3] == [
        "BatchingLeanLinuxDriver", "LeanLinuxDriver", "LinuxDriver"]
    written: list[str] = []

    class Keeping(Driver):
        def write(self, data: str) -> None:
            written.append(data)

        def start_application_mode(self) -> None: ...
        def disable_input(self) -> None: ...
        def stop_application_mode(self) -> None: ...

    driver = lean(Keeping)(app=None)  # type: ignore[arg-type]
    driver.write("\x1b[0m\x1b[1;31mA\x1b[0m\x1b[1;31mB\x1b[0m\x1b[31mC\x1b[0m")
    assert "".join(written) == "\x1b[0;1;31mAB\x1b[0;31mC\x1b[0m"
    # Suspended (ctrl+z) and resumed: the shell may have left any style; none is assumed.
    driver.write("\x1b[31mD")
    driver.stop_application_mode()
    driver.start_application_mode()
    written.clear()
    driver.write("\x1b[0m\x1b[31mE")
    assert "".join(written) == "\x1b[0;31mE"
