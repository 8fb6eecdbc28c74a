"""A focusable list of `Row`s drawn one line at a time: the Customer Details panel's lists.

Textual's `OptionList` draws each option through `Content` and `Visual.to_strips` (link
styles, selection, padding) on a profile's first frame. Drawing a row's strips from its
spans, as the timeline and the search results do, leaves only Textual's own per-line
styling. Rows may take several lines (a
note wraps); disabled rows (topic headings, placeholders) are shown but skipped by the
cursor and the mouse.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from agentdesk.ui.component_styles import StylesByName, StylesOnDemand
from agentdesk.ui.row import Row


@dataclass(eq=False)
class Option:
    prompt: Row
    id: str | None = None
    disabled: bool = False
    heading: bool = False  # a group's title: skipped like a disabled row, drawn to be read

    def __post_init__(self) -> None:
        self.disabled = self.disabled or self.heading


class RowList(StylesOnDemand, ScrollView, can_focus=True):
    """Options (a `Row` each), a highlight the keys and the mouse move, Enter to select."""

    DEFAULT_CSS = """
    RowList {
        height: auto;
        overflow-x: hidden;
        color: $foreground;
        & > .row-list--highlighted {
            color: $foreground;
            background: $block-cursor-blurred-background;
        }
        &:focus > .row-list--highlighted {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        & > .row-list--disabled {
            color: $text-disabled;
        }
        & > .row-list--heading {
            color: $foreground;
        }
        & > .row-list--hover {
            background: $block-hover-background;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"row-list--highlighted", "row-list--disabled",
                                             "row-list--heading", "row-list--hover"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("home,g", "first", "First", show=False, id="list.first"),
        Binding("end,G", "last", "Last", show=False, id="list.last"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="list.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="list.page_up"),
        Binding("enter", "select", "Select", show=False, id="list.select"),
    ]

    highlighted: reactive[int | None] = reactive(None)

    class Selected(Message):
        """Enter (or a click) on an enabled option."""

        def __init__(self, row_list: RowList, option: Option, index: int) -> None:
            self.row_list = row_list
            self.option = option
            self.index = index
            super().__init__()

        @property
        def control(self) -> RowList:
            return self.row_list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._options: list[Option] = []
        self._starts: list[int] = [0]  # first line of each option, then the total
        self._width = -1  # the width `_starts` was worked out for
        self._strips: dict[tuple[int, str], list[Strip]] = {}  # (option, state) at _width
        self._styles: StylesByName | None = None
        self._hover: int | None = None
        # The highlight before the options were replaced, (id, index): put back once refilled.
        self._keep: tuple[str | None, int] | None = None
        self._restoring = False

    # -- options ---------------------------------------------------------------------------

    @property
    def options(self) -> list[Option]:
        return list(self._options)

    @property
    def option_count(self) -> int:
        return len(self._options)

    def get_option_at_index(self, index: int) -> Option:
        return self._options[index]

    def get_option(self, option_id: str) -> Option:
        """The option with this id (KeyError if there is none)."""
        for option in self._options:
            if option.id == option_id:
                return option
        raise KeyError(option_id)

    def clear_options(self) -> RowList:
        if self.highlighted is not None and self._keep is None:
            self._keep = (self._options[self.highlighted].id, self.highlighted)
        self._options = []
        self.highlighted = None
        self._hover = None
        return self._changed()

    def add_options(self, options: list[Option]) -> RowList:
        self._options.extend(options)
        if not self._restoring and self.is_mounted:
            # Once the caller has added them all (a list is filled an option at a time too).
            self._restoring = True
            self.call_later(self._restore_highlight)
        return self._changed()

    def _restore_highlight(self) -> None:
        """After a refill the highlight is where it was (the same option, else the same place),
        and a focused list always has one: Enter and the list's keys act on what is seen."""
        self._restoring = False
        keep, self._keep = self._keep, None
        if self.highlighted is not None:
            return
        if keep is not None:
            option_id, index = keep
            same = next((i for i, o in enumerate(self._options)
                         if option_id is not None and o.id == option_id and not o.disabled), None)
            if same is None and self._options:
                index = min(index, len(self._options) - 1)
                same = self._enabled(index, 1)
                same = same if same is not None else self._enabled(index, -1)
            self.highlighted = same
        elif self.has_focus:
            self.action_first()

    def on_focus(self) -> None:
        if self.highlighted is None:
            self.action_first()

    def set_prompt(self, option_id: str, prompt: Row) -> RowList:
        """Draw the option `option_id` as `prompt` from now on, the highlight untouched (a
        refill moves it back only once the refill is drawn: a key pressed meanwhile would act
        on the first option)."""
        self.get_option(option_id).prompt = prompt
        return self._changed()

    def add_option(self, option: Option) -> RowList:
        return self.add_options([option])

    def _changed(self) -> RowList:
        self._width = -1
        self._strips.clear()
        self.refresh(layout=True)
        return self

    # -- lines -----------------------------------------------------------------------------

    def _lines_at(self, width: int) -> list[int]:
        """The first line of each option at `width` (worked out once per width)."""
        width = max(1, width)
        if width != self._width:
            starts = [0]
            for option in self._options:
                starts.append(starts[-1] + option.prompt.height(width))
            self._starts, self._width = starts, width
            self._strips.clear()
            self.virtual_size = Size(width, starts[-1])
        return self._starts

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._lines_at(width)[-1]

    def _option_at_line(self, line: int, width: int) -> int | None:
        starts = self._lines_at(width)
        if not 0 <= line < starts[-1]:
            return None
        return bisect_right(starts, line) - 1

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None  # focus or theme changed: the highlight's colours too
        self._strips.clear()

    def _state_styles(self) -> StylesByName:
        if self._styles is None:
            # Whole styles, not partial ones: a partial style drops a colour with alpha
            # (the disabled rows' $text-disabled), which needs the background to blend with.
            self._styles = StylesByName(lambda state: self.get_component_rich_style(
                f"row-list--{state}") if state else self.rich_style)
        return self._styles

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = self.scroll_offset.y + y
        index = self._option_at_line(line, width)
        styles = self._state_styles()
        if index is None:
            return Strip.blank(width, styles[""])
        option = self._options[index]
        state = ("heading" if option.heading else "disabled" if option.disabled
                 else "highlighted" if index == self.highlighted
                 else "hover" if index == self._hover else "")
        strips = self._strips.get((index, state))
        if strips is None:
            style = styles[state]
            strips = [strip.adjust_cell_length(width, style)
                      for strip in option.prompt.strips(width, style)]
            self._strips[(index, state)] = strips
        return strips[line - self._starts[index]]

    # -- the highlight ---------------------------------------------------------------------

    def validate_highlighted(self, index: int | None) -> int | None:
        """An option Enter can act on: a disabled row (a heading) passes the highlight on to
        the next enabled one (else the one before)."""
        if index is None or not self._options:
            return None
        index = max(0, min(index, len(self._options) - 1))
        if not self._options[index].disabled:
            return index
        found = self._enabled(index, 1)
        return found if found is not None else self._enabled(index, -1)

    def watch_highlighted(self, index: int | None) -> None:
        if index is not None and self.is_mounted:
            starts = self._lines_at(self.scrollable_content_region.width)
            top, height = starts[index], starts[index + 1] - starts[index]
            self.scroll_to_region(Region(0, top, 1, height), animate=False, immediate=True, force=True)
            self._show_in_parent(top - self.scroll_offset.y, height)
        self.refresh()

    def _show_in_parent(self, top: int, height: int) -> None:
        """A list as tall as its rows (the details panel's) does not scroll: the panel around
        it does, to the highlighted row (and the list's title, for its first lines)."""
        parent = self.parent
        if not isinstance(parent, Widget) or not parent.is_scrollable:
            return
        region = self.virtual_region
        line = region.y + self.styles.gutter.top + top
        if top < 2:  # near the list's start: its title too
            height, line = height + line - region.y, region.y
        parent.scroll_to_region(Region(0, line, 1, height), animate=False, immediate=True)

    def _enabled(self, start: int, step: int) -> int | None:
        """The first enabled option from `start` in direction `step`, if any."""
        index = start
        while 0 <= index < len(self._options):
            if not self._options[index].disabled:
                return index
            index += step
        return None

    def action_cursor_down(self) -> None:
        current = self.highlighted
        found = self._enabled(0 if current is None else current + 1, 1)
        self.highlighted = found if found is not None else self._enabled(0, 1)  # wraps round

    def action_cursor_up(self) -> None:
        current = self.highlighted
        last = len(self._options) - 1
        found = self._enabled(last if current is None else current - 1, -1)
        self.highlighted = found if found is not None else self._enabled(last, -1)

    def action_first(self) -> None:
        self.highlighted = self._enabled(0, 1)

    def action_last(self) -> None:
        self.highlighted = self._enabled(len(self._options) - 1, -1)

    def action_page(self, direction: int) -> None:
        if self.highlighted is None:
            self.action_first() if direction < 0 else self.action_last()
            return
        starts = self._lines_at(self.scrollable_content_region.width)
        line = starts[self.highlighted] + direction * max(1, self.scrollable_content_region.height)
        target = bisect_right(starts, max(0, min(line, starts[-1] - 1))) - 1
        found = self._enabled(target, direction)
        if found is None:
            found = self._enabled(target, -direction)
        if found is not None:
            self.highlighted = found

    def action_select(self) -> None:
        index = self.highlighted
        if index is not None and not self._options[index].disabled:
            self.post_message(self.Selected(self, self._options[index], index))

    # -- the mouse -------------------------------------------------------------------------

    def _index_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        return self._option_at_line(self.scroll_offset.y + offset.y, self.scrollable_content_region.width)

    def on_click(self, event: events.Click) -> None:
        index = self._index_at(event)
        if index is not None and not self._options[index].disabled:
            self.highlighted = index
            self.action_select()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = self._index_at(event)
        if index != self._hover:
            self._hover = index
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()
