"""The Customer Details lists' widget, driven through a real Textual app (Pilot)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from agentdesk.ui.row import Row
from agentdesk.ui.row_list import Option, RowList


def heading(text: str) -> Option:
    return Option(Row().text(text, "bold"), disabled=True)


def item(text: str, option_id: str | None = None) -> Option:
    return Option(Row().data(text), id=option_id or text)


class ListApp(App[None]):
    CSS = "RowList { max-height: 6; width: 30; }"

    def __init__(self, options: list[Option]) -> None:
        super().__init__()
        self.options = options
        self.selected: list[tuple[str | None, int]] = []

    def compose(self) -> ComposeResult:
        yield RowList(id="rows")

    def on_mount(self) -> None:
        rows = self.query_one(RowList)
        rows.add_options(self.options)
        rows.focus()

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        assert event.control is self.query_one(RowList)
        self.selected.append((event.option.id, event.index))


def sample() -> list[Option]:
    return [heading("Billing"), item("a"), item("b"), heading("Shipping"), item("c"),
            heading("Empty")]


def rows_of(app: ListApp) -> RowList:
    return app.query_one(RowList)


def line_text(rows: RowList, y: int) -> str:
    return rows.render_line(y).text.rstrip()


async def test_the_cursor_skips_disabled_rows_and_wraps_round() -> None:
    app = ListApp(sample())
    async with app.run_test(size=(40, 12)) as pilot:
        rows = rows_of(app)
        await pilot.pause()
        assert rows.highlighted == 1  # focused: the first enabled row, not the heading
        await pilot.press("j", "j")
        assert rows.highlighted == 4  # past the "Shipping" heading
        await pilot.press("j")
        assert rows.highlighted == 1  # the last enabled row wraps to the first
        await pilot.press("k")
        assert rows.highlighted == 4
        await pilot.press("g")
        assert rows.highlighted == 1
        await pilot.press("G")
        assert rows.highlighted == 4
        await pilot.press("home")
        assert rows.highlighted == 1
        await pilot.press("end")
        assert rows.highlighted == 4


async def test_enter_and_click_select_enabled_rows_only() -> None:
    app = ListApp(sample())
    async with app.run_test(size=(40, 12)) as pilot:
        rows = rows_of(app)
        await pilot.press("enter")  # the focused list highlights its first row: Enter acts
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.selected == [("a", 1), ("b", 2)]
        await pilot.click(RowList, offset=(2, 4))  # row 4, "c"
        await pilot.pause()
        assert app.selected[-1] == ("c", 4) and rows.highlighted == 4
        await pilot.click(RowList, offset=(2, 3))  # the "Shipping" heading
        await pilot.pause()
        assert len(app.selected) == 3 and rows.highlighted == 4


async def test_rows_that_wrap_take_their_lines_and_the_list_sizes_to_them() -> None:
    note = Option(Row().block("A note long enough to wrap twice in thirty cells\nsecond paragraph")
                  .text("\n").data("Jo · 2026-01-05", "dim"), id="note")
    app = ListApp([item("first"), note, item("last")])
    async with app.run_test(size=(40, 20)) as pilot:
        rows = rows_of(app)
        await pilot.pause()
        # 1 + (2 wrapped + 1 paragraph + 1 author) + 1 lines, within max-height 6.
        assert rows.size.height == 6
        assert [line_text(rows, y) for y in range(6)] == [
            "first", "A note long enough to wrap", "twice in thirty cells", "second paragraph",
            "Jo · 2026-01-05", "last"]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.selected == [("note", 1)]


async def test_the_highlight_is_scrolled_into_view_and_pages_move_by_a_screen() -> None:
    app = ListApp([item(f"row {i}") for i in range(30)])
    async with app.run_test(size=(40, 12)) as pilot:
        rows = rows_of(app)
        await pilot.pause()
        assert rows.size.height == 6 and rows.max_scroll_y > 0
        await pilot.press("end")
        assert rows.highlighted == 29
        assert rows.scroll_offset.y == rows.max_scroll_y
        assert line_text(rows, rows.size.height - 1) == "row 29"
        await pilot.press("pageup")
        assert rows.highlighted == 29 - rows.scrollable_content_region.height
        await pilot.press("home")
        assert rows.highlighted == 0 and rows.scroll_offset.y == 0
        await pilot.press("pagedown")
        assert rows.highlighted == rows.scrollable_content_region.height


async def test_highlight_hover_and_disabled_rows_are_drawn_in_their_own_styles() -> None:
    app = ListApp(sample())
    async with app.run_test(size=(40, 12)) as pilot:
        rows = rows_of(app)
        await pilot.pause()  # focused: the first enabled row (1) is highlighted

        def style(y: int):  # type: ignore[no-untyped-def]
            return rows.render_line(y)._segments[0].style

        plain, highlighted, disabled = style(2), style(1), style(0)
        assert highlighted.bgcolor != plain.bgcolor
        assert disabled.color != plain.color and disabled.bold  # its span's bold kept
        await pilot.hover(RowList, offset=(2, 4))
        await pilot.pause()
        assert style(4).bgcolor not in (plain.bgcolor, None)
        assert style(4) != highlighted
        rows.blur()
        await pilot.pause()
        assert style(1) != highlighted  # a list without focus shows its highlight dimmed


async def test_a_refill_keeps_the_highlight_on_the_same_option() -> None:
    app = ListApp(sample())
    async with app.run_test(size=(40, 12)) as pilot:
        rows = rows_of(app)
        await pilot.press("down")  # on "b"
        rows.clear_options()
        rows.add_options([item("new"), *sample()])  # "b" moved one row down
        await pilot.pause()
        assert rows.highlighted == 3 and rows.get_option_at_index(3).id == "b"
        rows.clear_options()
        rows.add_options([item("x"), item("y")])  # "b" is gone: the same place, clamped
        await pilot.pause()
        assert rows.highlighted == 1


async def test_clearing_drops_the_highlight_and_new_rows_draw() -> None:
    app = ListApp(sample())
    async with app.run_test(size=(40, 12)) as pilot:
        rows = rows_of(app)
        await pilot.press("down")
        rows.clear_options()
        assert rows.highlighted is None and rows.option_count == 0
        rows.add_options([item("fresh", "f")])
        await pilot.pause()
        assert line_text(rows, 0) == "fresh" and rows.size.height == 1
        assert rows.get_option("f").prompt.__str__() == "fresh"
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.selected == [("f", 0)]


async def test_a_highlight_set_on_a_heading_moves_to_an_enabled_row() -> None:
    app = ListApp(sample())
    async with app.run_test(size=(40, 12)) as pilot:
        rows = rows_of(app)
        rows.highlighted = 3  # the "Shipping" heading
        await pilot.press("enter")
        await pilot.pause()
        assert rows.highlighted == 4 and app.selected == [("c", 4)]
        rows.highlighted = 5  # the last heading, nothing after it
        assert rows.highlighted == 4
