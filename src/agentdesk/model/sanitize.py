"""Make customer-supplied text safe to put on a terminal.

Textual writes a widget's text to the terminal as it is: an ESC in a customer's message would
reach the agent's terminal and could clear it, retitle it or write their clipboard (OSC 52).
Everything from data passes through `clean_text` / `clean_line` before it is drawn. Markup is
a separate matter: the UI never parses data as markup at all (it builds `Text`/`Segment`s).
"""

from __future__ import annotations

import re

# Whole escape sequences first, so their parameters don't survive as visible junk:
#   CSI: ESC [ params final   |  OSC/DCS/SOS/PM/APC: ESC ] ... (BEL | ESC \ | end of text)
#   C1 forms of the same introducers (0x9B CSI, 0x9D OSC, 0x90 DCS, ...), other ESC x pairs.
_SEQUENCES = re.compile(
    r"""
      (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?                     # CSI
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)  # OSC, DCS, SOS, PM, APC
    | \x1b[ -/]*[0-~]?                                     # other ESC sequences, lone ESC
    """,
    re.VERBOSE | re.DOTALL,
)
# Remaining control characters: C0 except TAB/LF, DEL, C1, and the bidirectional overrides
# that can make text read differently from what it is ("Trojan Source").
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TAB = "    "
# Invisible format characters (Unicode category Cf, less the bidi controls removed above):
# zero-width space/non-joiner/joiner, word joiner, BOM, soft hyphen, invisible operators, tag
# characters... In a one-line place (a name, a contact, a search result) they are shown as
# U+FFFD, one cell wide, rather than removed: "Ann\u200b" and "Ann" are two customers, and
# removing the mark would make them look the same (and hide that a value will not match what
# the agent types). Bodies keep them: a joiner is part of an emoji or of a word in some
# scripts, and a body is read, not compared.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u2060-\u2064\u206a-\u206f"
    "\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
SHOWN_FOR_INVISIBLE = "\ufffd"


def clean_text(text: str) -> str:
    """Text with escape sequences and control characters removed; newlines kept."""
    if text.isprintable():  # the common case, and fast
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SEQUENCES.sub("", text)
    return _CONTROLS.sub("", text.replace("\t", _TAB))


def clean_field(text: str) -> str:
    """A one-line value the agent edits (a form field): escape sequences and controls removed,
    newlines made spaces, invisible characters kept as they are, so a value the agent leaves
    alone is saved back unchanged (`clean_line` would make them U+FFFD)."""
    if text.isprintable():
        return text
    return clean_text(text).replace("\n", " ")


def clean_line(text: str) -> str:
    """Like `clean_text`, for one-line places (names, subjects): newlines become spaces, and
    invisible format characters are shown (see _INVISIBLE)."""
    if text.isprintable():
        return text
    return _INVISIBLE.sub(SHOWN_FOR_INVISIBLE, clean_text(text).replace("\n", " "))
