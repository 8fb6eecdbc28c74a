"""clean_text / clean_line: nothing that a terminal would act on survives; text does."""

from __future__ import annotations

import random

import pytest

from agentdesk.model.sanitize import _INVISIBLE, clean_line, clean_text

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _forbidden(text: str, *, allow_newline: bool) -> list[str]:
    """Characters a terminal could interpret: C0 (but LF if allowed), DEL, C1, bidi controls."""
    bad = []
    for ch in text:
        code = ord(ch)
        if code < 0x20 and not (allow_newline and ch == "\n"):
            bad.append(ch)
        elif 0x7F <= code <= 0x9F or ch in BIDI:
            bad.append(ch)
    return bad


BOTH = pytest.mark.parametrize("clean", [clean_text, clean_line], ids=["clean_text", "clean_line"])


@BOTH
@pytest.mark.parametrize(
    ("dirty", "expected"),
    [
        # CSI: whole sequence, parameters included, goes.
        (f"a{ESC}[2Jb", "ab"),
        (f"{ESC}[31mred{ESC}[0m", "red"),
        (f"x{ESC}[1;31;48;5;200mY", "xY"),
        (f"{ESC}[?1049h{ESC}[Hhome", "home"),
        (f"move{ESC}[10;20H!", "move!"),
        # OSC: window title, hyperlink, clipboard write (OSC 52): BEL, ST or unterminated.
        (f"t{ESC}]0;pwned-title{BEL}ok", "tok"),
        (f"clip {ESC}]52;c;cHduZWQ={BEL} done", "clip  done"),
        (f"clip {ESC}]52;c;cHduZWQ={ST} done", "clip  done"),
        (f"clip {ESC}]52;c;cHduZWQ=", "clip "),  # unterminated: swallowed to the end
        (f"{ESC}]8;;http://evil{ST}link{ESC}]8;;{ST}", "link"),
        # DCS, SOS, PM, APC (7-bit forms).
        (f"a{ESC}Pq#0;2;0;0;0#1{ST}b", "ab"),
        (f"a{ESC}X sos {ST}b{ESC}^pm{ST}c{ESC}_apc{BEL}d", "abcd"),
        # C1 forms: 0x9B CSI, 0x9D OSC ... 0x9C ST, 0x90 DCS, and lone C1 controls.
        ("a\x9b2Jb", "ab"),
        ("a\x9b31mred", "ared"),
        ("a\x9d0;title\x9cb", "ab"),
        ("a\x9d52;c;cHduZWQ=\x07b", "ab"),
        ("a\x90x\x9cb", "ab"),
        ("a\x85b\x84c\x8dd\x8ee\x9a", "abcde"),
        ("a\x98sos\x9cb\x9epm\x9cc\x9fapc\x07d", "abcd"),
        ("C1 bytes: \x9b2J \x9d0;t\x9c \x85 \x90x\x9c end", "C1 bytes:     end"),
        # Other ESC sequences and a lone ESC.
        (f"a{ESC}(Bb{ESC}7c{ESC}8d", "abcd"),
        (f"a{ESC}cb", "ab"),  # RIS: full reset
        (f"end{ESC}", "end"),
        # Other C0 controls and DEL.
        ("a\x00b\x01c\x07d\x08e\x0bf\x0cg\x0eh\x1fi\x7fj", "abcdefghij"),
        # Bidirectional overrides/isolates ("Trojan Source").
        ("@mallory\u202egnp.exe", "@mallorygnp.exe"),
        ("a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068h\u2069i", "abcdefghi"),
    ],
)
def test_escape_sequences_and_controls_removed(clean, dirty: str, expected: str) -> None:
    assert clean(dirty) == expected


@pytest.mark.parametrize(
    "text",
    ["[bold]x[/bold]", "[/", "[USD]", "\\[escaped]", "[link=http://x]Corp[/link]", "[bold red]Mallory[/]",
     "price: [USD] 10 [/] [", "a[31mb", "]52;c;"],
)
@BOTH
def test_markup_looking_text_kept_literally(clean, text: str) -> None:
    assert clean(text) == text
    # also when the slow path runs because something else needed removing
    assert clean(f"{ESC}[0m{text}\x07") == text


@BOTH
@pytest.mark.parametrize(
    "text",
    ["你好世界", "👩💻 🎉🎉", "ｆｕｌｌｗｉｄｔｈ", "Zoë Ångström — “quotes” ½ €", "مرحبا", "שלום", "e\u0301"],
)
def test_cjk_emoji_and_other_scripts_kept(clean, text: str) -> None:
    assert clean(text) == text
    assert clean(f"{ESC}[1m{text}{ESC}[0m") == text


def test_an_emoji_joiner_is_kept_in_text_and_shown_in_a_line() -> None:
    assert clean_text("👩\u200d💻 🎉🎉") == "👩\u200d💻 🎉🎉"
    assert clean_line("👩\u200d💻 🎉🎉") == "👩\ufffd💻 🎉🎉"


def test_clean_text_keeps_newlines_and_normalizes_line_ends() -> None:
    assert clean_text("line 1\nline 2") == "line 1\nline 2"
    assert clean_text("a\r\nb\rc\n") == "a\nb\nc\n"
    assert clean_text(f"red {ESC}[31mline{ESC}[0m\nnext") == "red line\nnext"


def test_clean_line_turns_newlines_into_spaces() -> None:
    assert clean_line("line 1\nline 2") == "line 1 line 2"
    assert clean_line("a\r\nb\rc") == "a b c"
    assert "\n" not in clean_line("subject\n\x1b[2J\nmore")


@BOTH
def test_tabs_become_spaces(clean) -> None:
    assert clean("a\tb") == "a    b"


@BOTH
def test_plain_text_returned_unchanged(clean) -> None:
    text = "Hi, my order #1234 still hasn't arrived."
    assert clean(text) == text


def test_hostile_demo_bodies() -> None:
    from agentdesk.model import demo

    profile, entries = demo.hostile_profile()
    texts = [profile.customer.name, profile.customer.company, *profile.customer.tags]
    texts += [c.value for c in profile.contacts] + [c.label for c in profile.contacts]
    texts += [n.text for n in profile.notes] + [profile.conversations[0].topic]
    texts += [e.body for e in entries] + [e.subject for e in entries] + [e.author for e in entries]
    for text in texts:
        assert not _forbidden(clean_text(text), allow_newline=True), repr(text)
        assert not _forbidden(clean_line(text), allow_newline=False), repr(text)
    assert clean_line(profile.customer.name) == "[bold red]Mallory[/] Evil"
    assert clean_text(profile.notes[0].text) == "Clipboard:  done [bold]x[/bold]"
    assert clean_line(profile.contacts[1].value) == "1 Main St [/"


# -- property-style: random strings ---------------------------------------------------------

_ALPHABET = (
    [chr(c) for c in range(0x00, 0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + list(BIDI)
    + list("[]\\;:?/ 0123456789abcxyzHJmPX^_()ABC~@")
    + [ESC] * 12
    + ["\x9b", "\x9d", "\x9c", "\x90", BEL] * 3
    + list("你好👩‍💻éß\u2028\u200b")
)


def _random_text(rng: random.Random) -> str:
    length = rng.choice([1, 2, 3, 5, 8, 20, 60])
    parts = []
    for _ in range(length):
        roll = rng.random()
        if roll < 0.1:
            parts.append(rng.choice([f"{ESC}[", f"{ESC}]52;c;", f"{ESC}P", ST, "\r\n", "[bold]", "[/"]))
        else:
            parts.append(rng.choice(_ALPHABET))
    return "".join(parts)


def test_random_strings_never_keep_controls() -> None:
    rng = random.Random(20260105)
    for _ in range(20_000):
        text = _random_text(rng)
        cleaned, line = clean_text(text), clean_line(text)
        assert not _forbidden(cleaned, allow_newline=True), (text, cleaned)
        assert not _forbidden(line, allow_newline=False), (text, line)
        # Cleaning is idempotent and never adds characters other than tab expansion.
        assert clean_text(cleaned) == cleaned
        assert clean_line(line) == line
        assert len(cleaned) <= len(text) + 3 * text.count("\t")
        # clean_line is clean_text with newlines as spaces and invisible characters shown.
        assert line == _INVISIBLE.sub("\ufffd", cleaned.replace("\n", " "))


def test_random_printable_strings_pass_through() -> None:
    rng = random.Random(7)
    pool = "abc XYZ 0123 [/]\\ #@!?.,;:'\"-_=+()<>{} 你好 👍 éñ ½ €"
    for _ in range(5_000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 40)))
        assert clean_text(text) == text
        assert clean_line(text) == text


# --- invisible format characters (issue 21, item 8) -------------------------------------------

@pytest.mark.parametrize("mark", ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060"])
def test_zero_width_characters_are_shown_in_one_line_places(mark: str) -> None:
    """Two names that looked the same could differ: in names, contacts and search results an
    invisible character is shown as U+FFFD, one cell wide."""
    assert clean_line(f"Ann{mark}") == "Ann\ufffd" != clean_line("Ann")
    assert clean_line(f"a{mark}@example.com") == "a\ufffd@example.com"


def test_every_invisible_format_character_is_shown_or_removed_in_a_line() -> None:
    import unicodedata

    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) == "Cf":
            assert clean_line(f"a{char}b") in ("a\ufffdb", "ab"), hex(code)


def test_bodies_keep_joiners_that_are_part_of_emoji_and_words() -> None:
    assert clean_text("👩\u200d💻 and \u0645\u200c\u06cc") == "👩\u200d💻 and \u0645\u200c\u06cc"
