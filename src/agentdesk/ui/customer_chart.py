"""The customers-over-time chart, drawn with block characters (▁▂▃▄▅▆▇█): a column per day
(or per group of days when the period is wider than the chart), eight steps per line.

Our own drawing rather than a plotting library: the bars are exact to an eighth of a line,
the same on every terminal that shows the desk at all, and nothing is imported before the
screen opens. Two views: customers (reachable at the bottom of each bar, unreachable above
it: the bar is the total) and monthly active. Values in the bars are counts, never text from
a customer: nothing here is untrusted.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from agentdesk.model.customer_stats import Day, Series
from agentdesk.ui.component_styles import StylesOnDemand

BLOCKS = " ▁▂▃▄▅▆▇█"
CUSTOMERS, ACTIVE = "customers", "active"


def short(n: int) -> str:
    """A count in at most 6 characters: 9,999 · 12k · 1.2M."""
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


def nice_top(value: int) -> int:
    """The axis' top: the value rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if value <= m * step:
                return m * step
        step *= 10


def days_per_column(days: Sequence[Day], width: int) -> tuple[list[int], int]:
    """The day (its index) each column shows, for a group of days its last (the figures are
    levels), and how many columns one takes (more than one when the days are fewer than the
    columns)."""
    n = len(days)
    if n == 0 or width <= 0:
        return [], 1
    if n <= width:
        return list(range(n)), width // n
    return [((c + 1) * n) // width - 1 for c in range(width)], 1


def _eighths(value: int, top: int, height: int) -> int:
    if value <= 0:
        return 0
    return max(1, round(value / top * height * 8))


def _cell(low: int, high: int, line: int, lower: Style, upper: Style,
          blank: Style) -> tuple[str, Style]:
    """The character and style of line `line` (0: the bottom one) of a bar whose lower part
    reaches `low` eighths and whole bar `high`."""
    lo = min(max(low - 8 * line, 0), 8)
    hi = min(max(high - 8 * line, 0), 8)
    if hi == 0:
        return " ", blank
    if lo == 8:
        return BLOCKS[8], lower
    if lo == 0:
        return BLOCKS[hi], upper
    if hi == 8:  # the lower part's top: its block over the upper part's colour
        return BLOCKS[lo], lower + Style(bgcolor=upper.color)
    # Both parts end in this cell and a cell has two colours, one of them the background: the
    # bar keeps its height (the total) in the colour of the larger part.
    return BLOCKS[hi], lower if lo >= hi - lo else upper


def draw(series: Series, view: str, width: int, height: int, *, lower: Style, upper: Style,
         axis: Style, blank: Style) -> list[Text]:
    """The chart as `height` lines of `width` cells: the y axis' labels, the bars, the x
    axis and the period's first, middle and last days under it."""
    if width < 12 or height < 4:
        return [Text("(too small for the chart)", style=axis, no_wrap=True, overflow="crop")
                ][:max(height, 0)]
    bars_height = height - 2
    if view == ACTIVE:
        lows, highs = series.column("monthly_active"), series.column("monthly_active")
    else:
        lows, highs = series.column("reachable"), series.column("total")
    top = nice_top(max(highs, default=0))
    labels = {0: short(top), bars_height // 2: short(top // 2) if top % 2 == 0 else "",
              bars_height - 1: "0"}
    if bars_height < 5:
        labels = {0: short(top), bars_height - 1: "0"}
    label_width = max(len(v) for v in labels.values()) + 1
    plot = width - label_width - 1
    shown, each = days_per_column(series.days, plot)
    columns = [(_eighths(lows[i], top, bars_height), _eighths(highs[i], top, bars_height))
               for i in shown]
    lines: list[Text] = []
    for row in range(bars_height):
        line = Text(no_wrap=True, overflow="crop")
        line.append(labels.get(row, "").rjust(label_width - 1) + " ", axis)
        line.append("│", axis)
        level = bars_height - 1 - row
        for low, high in columns:
            char, style = _cell(low, high, level, lower, upper, blank)
            line.append(char * each, style)
        line.append(" " * (plot - len(columns) * each), blank)
        lines.append(line)
    lines.append(Text(" " * label_width + "└" + "─" * plot, axis, no_wrap=True, overflow="crop"))
    lines.append(Text(" " * (label_width + 1) + _dates(series, plot), axis, no_wrap=True,
                      overflow="crop"))
    return lines


def _dates(series: Series, width: int) -> str:
    """The period's first and last days at the ends of the axis, its middle one between
    when there is room."""
    first, last = series.period.start.isoformat(), series.period.end.isoformat()
    if width < len(first) + len(last) + 1:
        return last.rjust(width)[:width]
    line = first + " " * (width - len(first) - len(last)) + last
    middle = series.days[len(series.days) // 2].day.isoformat() if series.days else ""
    at = (width - len(middle)) // 2
    if middle and width >= 3 * len(first) + 4 and middle not in (first, last):
        line = line[:at] + middle + line[at + len(middle):]
    return line


class CustomerChart(StylesOnDemand, Widget):
    """The chart of a `Series` (none yet: a line saying it is being counted)."""

    COMPONENT_CLASSES = {"chart--reachable", "chart--unreachable", "chart--active",
                         "chart--axis"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.series: Series | None = None
        self.view = CUSTOMERS

    def show(self, series: Series | None, view: str) -> None:
        self.series, self.view = series, view
        self.refresh()

    def render(self) -> Text:
        size = self.content_size
        axis = self.get_component_rich_style("chart--axis")
        if self.series is None:
            return Text("Counting customers…", style=axis)
        if self.view == ACTIVE:
            lower = upper = self.get_component_rich_style("chart--active")
        else:
            lower = self.get_component_rich_style("chart--reachable")
            upper = self.get_component_rich_style("chart--unreachable")
        lines = draw(self.series, self.view, size.width, size.height, lower=lower,
                     upper=upper, axis=axis, blank=self.rich_style)
        return Text("\n", no_wrap=True, overflow="crop").join(lines)
