"""The Customer Details list rows: exact heights, wrapping that loses nothing, inert data."""

from __future__ import annotations

import random

import pytest
from rich.cells import cell_len
from textual.style import Style

from agentdesk.ui.row import Row, _line_ranges


def lines_of(row: Row, width: int) -> list[str]:
    return [strip.text for strip in row.render_strips(width, None, Style(), None)]  # type: ignore[arg-type]


def contact_row() -> Row:
    return (Row().text("  ").text("address ", "dim").data("215 Harbor Street, Portland, OR 97201")
            .text(" ").data("(shipping)", "dim"))


def test_a_row_that_fits_is_one_line_with_its_spans_styled() -> None:
    row = contact_row()
    assert str(row) == "  address 215 Harbor Street, Portland, OR 97201 (shipping)"
    assert row.get_height({}, 80) == 1
    assert row.get_optimal_width({}, 80) == len(str(row))
    [strip] = row.render_strips(80, None, Style(), None)  # type: ignore[arg-type]
    assert strip.text == str(row)
    styles = {seg.text: seg.style for seg in strip}
    assert styles["address "] is not None and styles["address "].dim
    assert not styles["215 Harbor Street, Portland, OR 97201"].dim


def test_a_long_row_wraps_at_spaces() -> None:
    assert lines_of(contact_row(), 40) == ["  address 215 Harbor Street, Portland,", "OR 97201 (shipping)"]
    assert lines_of(contact_row(), 10) == ["  address", "215 Harbor", "Street,", "Portland,", "OR 97201",
                                           "(shipping)"]


def test_a_word_longer_than_the_line_is_cut_inside_and_kept_whole() -> None:
    row = Row().data("x" * 25)
    assert lines_of(row, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_wide_characters_move_to_the_next_line_rather_than_straddle_it() -> None:
    row = Row().data("日本語日本語x")
    lines = lines_of(row, 3)
    assert lines == ["日", "本", "語", "日", "本", "語x"]
    assert lines_of(row, 1) == ["日", "本", "語", "日", "本", "語", "x"]  # too wide: a line each


@pytest.mark.parametrize("seed", range(40))
def test_height_matches_what_is_drawn_and_nothing_is_lost(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ["a", "b", " ", " ", "日", "😀", "é", "-", "Ω"]
    row = Row()
    for _ in range(rng.randint(0, 6)):
        row.text("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))), rng.choice(["", "dim", "bold"]))
    plain = str(row)
    for width in (1, 2, 3, 7, 20, 200):
        strips = row.render_strips(width, None, Style(), None)  # type: ignore[arg-type]
        assert row.get_height({}, width) == len(strips)
        for strip in strips:
            # A line is never wider than the row, except a wide character alone on a 1-cell line.
            assert strip.cell_length <= width or (width == 1 and cell_len(strip.text) == 2
                                                  and len(strip.text) == 1)
        # Lines put back together with the spaces they broke at give the text again.
        ranges = _line_ranges(plain, max(1, width))
        assert [plain[a:b] for a, b in ranges] == [s.text for s in strips]
        assert all(b <= a2 for (_, b), (a2, _) in zip(ranges, ranges[1:]))
        dropped = "".join(plain[b:a2] for (_, b), (a2, _) in zip(ranges, ranges[1:]))
        assert set(dropped) <= {" "} and len(dropped) <= len(ranges)


def test_an_empty_row_is_one_blank_line_at_any_width() -> None:
    for width in (-3, 0, 1, 10):
        assert Row().get_height({}, width) == 1
    assert lines_of(Row(), 5) == [""]


def test_customer_text_is_inert() -> None:
    hostile = "[bold]x[/bold] [/ \x1b[2J\x1b]52;c;ZXZpbA==\x07 \x9b31m end\nnext"
    row = Row().data(hostile, "bold")
    text = str(row)
    assert "[bold]x[/bold] [/" in text  # markup shows as typed
    assert not any(ch in text for ch in "\x1b\x07\x9b\n")  # no control character survives
    for width in (5, 80):
        for strip in row.render_strips(width, None, Style(), None):  # type: ignore[arg-type]
            assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in strip.text)
