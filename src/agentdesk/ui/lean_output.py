"""Fewer bytes to the terminal: a change of style is written as what changes.

Textual writes every run of text as `ESC[<whole style>m text ESC[0m`: the desk's first frame
at 120x35 is ~36 kB (a minimal app's 6 kB), and the terminal takes its time to read that
(tmux: ~18 ms, against 4 ms; over SSH every byte travels). `SgrRewriter` rewrites the
select-graphic-rendition sequences of what Textual writes, keeping the style every cell gets:

* a reset is held back until something is printed in the style it asks for;
* a style then replaces it with only what differs from the style in force, when nothing but
  colours has to be turned off (an attribute to turn off, such as bold, is written as a reset
  and the whole style in one sequence, as before);
* a style equal to the one in force is dropped.

Everything else passes through as written. A sequence it does not understand (an unknown
attribute, one cut between two writes, any escape sequence but a cursor move) makes it write
the next style whole, as Textual does.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from textual.driver import Driver

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_MOVES = re.compile(r"(?:\x1b\[[0-9]*(?:;[0-9]*)?H)+")  # cursor positions (Textual's, per line)
_CUT = re.compile(r"\x1b(\[[0-9;?]*)?$")  # a sequence cut at the end of a write (matched at its ESC)
_ATTRS = {1: "bold", 2: "dim", 3: "italic", 4: "underline", 5: "blink", 6: "blink2",
          7: "reverse", 8: "conceal", 9: "strike", 21: "underline2", 51: "frame",
          52: "encircle", 53: "overline"}
_CODE = {name: code for code, name in _ATTRS.items()}


class Style(NamedTuple):
    attrs: frozenset[str] = frozenset()
    fg: str = ""  # the parameters that set it ("38;5;253", "31"); "" for the default
    bg: str = ""


PLAIN = Style()


@lru_cache(maxsize=4096)  # a screen has a few dozen styles: each pair is worked out once
def parse(params: str, style: Style) -> Style | None:
    """`style` with the SGR parameters applied; None when one is not understood."""
    codes = params.split(";") if params else ["0"]
    attrs, fg, bg = set(style.attrs), style.fg, style.bg
    i = 0
    while i < len(codes):
        if not codes[i].isdigit():
            return None
        code = int(codes[i])
        if code == 0:
            attrs, fg, bg = set(), "", ""
        elif code in _ATTRS:
            attrs.add(_ATTRS[code])
        elif code in (38, 48):
            width = {"5": 3, "2": 5}.get(codes[i + 1] if i + 1 < len(codes) else "")
            if width is None or i + width > len(codes):
                return None
            color = ";".join(codes[i:i + width])
            fg, bg = (color, bg) if code == 38 else (fg, color)
            i += width - 1
        elif 30 <= code <= 37 or 90 <= code <= 97:
            fg = str(code)
        elif 40 <= code <= 47 or 100 <= code <= 107:
            bg = str(code)
        elif code == 39:
            fg = ""
        elif code == 49:
            bg = ""
        else:
            return None
        i += 1
    return Style(frozenset(attrs), fg, bg)


@lru_cache(maxsize=1024)
def whole(style: Style) -> str:
    """A reset and the whole style, in one sequence."""
    return f"\x1b[{';'.join(['0', *_params(*style)])}m" if style != PLAIN else "\x1b[0m"


@lru_cache(maxsize=4096)
def change(old: Style, new: Style) -> str:
    """The shortest sequence taking the terminal from `old` to `new`: what differs, or a
    reset and the whole style when an attribute is to be turned off (or that is shorter)."""
    if new == old:
        return ""
    if not new.attrs >= old.attrs:
        return whole(new)
    params = _params(new.attrs - old.attrs, "" if new.fg == old.fg else new.fg or "39",
                     "" if new.bg == old.bg else new.bg or "49")
    diff = f"\x1b[{';'.join(params)}m"
    return min(diff, whole(new), key=len)


def _params(attrs: frozenset[str], fg: str, bg: str) -> list[str]:
    return [*(str(_CODE[a]) for a in sorted(attrs, key=_CODE.__getitem__)), *filter(None, (fg, bg))]


class SgrRewriter:
    """Rewrites a stream of terminal output written in pieces (see the module's docstring)."""

    def __init__(self) -> None:
        self.shown: Style | None = None  # the terminal's style; None when not known
        self.wanted: Style | None = None  # the style asked for since, not written yet

    def rewrite(self, data: str) -> str:
        # The loop runs once per run of text (~1,500 in a full frame): kept to the bone.
        parts = _SGR.split(data)  # text, parameters, text, parameters, ..., text
        out: list[str] = []
        append = out.append
        shown, wanted = self.shown, self.wanted
        for i in range(0, len(parts), 2):
            text = parts[i]
            if text:
                # Something printed (or erased: an erase fills with the background in force;
                # or a new line, which may scroll) takes the style asked for; a move does not.
                if wanted is not None and not (text[0] == "\x1b" and _MOVES.fullmatch(text)):
                    append(whole(wanted) if shown is None else change(shown, wanted))
                    shown, wanted = wanted, None
                append(text)
                if "\x1b" in text and "\x1b" in _MOVES.sub("", text):
                    shown = None  # another sequence (a style written with colons, a reset...)
            if i + 1 == len(parts):
                break
            params = parts[i + 1]
            base = wanted or shown
            if base is not None:
                new = parse(params, base)
            elif params in ("", "0") or params.startswith("0;"):
                new = parse(params, PLAIN)
            else:
                new = None
            if new is None:  # not understood: written as it is, the style no longer known
                if wanted is not None:
                    append(whole(wanted) if shown is None else change(shown, wanted))
                append(f"\x1b[{params}m")
                shown = wanted = None
            else:
                wanted = new
        if wanted is not None:  # the terminal left as Textual left it, whatever comes next
            append(whole(wanted) if shown is None else change(shown, wanted))
            shown = wanted
        cut = data.rfind("\x1b", max(0, len(data) - 64))
        self.shown = None if cut >= 0 and _CUT.match(data, cut) else shown
        self.wanted = None
        return "".join(out)


def lean(driver_class: type[Driver]) -> type[Driver]:
    """`driver_class`, its output's styles rewritten by an `SgrRewriter`."""

    class LeanDriver(driver_class):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._sgr = SgrRewriter()

        def write(self, data: str) -> None:
            super().write(self._sgr.rewrite(data))

        # The terminal's style is not known after it was given back (a suspend with ctrl+z,
        # the end): the next style is written whole.
        def start_application_mode(self) -> None:
            self._sgr = SgrRewriter()
            super().start_application_mode()

        def stop_application_mode(self) -> None:
            super().stop_application_mode()
            self._sgr = SgrRewriter()

    LeanDriver.__name__ = f"Lean{driver_class.__name__}"
    return LeanDriver
