"""Customers over time (`H` from anywhere): the chart of total, reachable, unreachable and
monthly active customers by day, with the current values and their change over 30 days
beside it; channel (`c`) and period (`p`) switched by keys, `m` between the customers and
monthly active, `x` writes the chart's data as CSV.

Nothing of it loads before the screen opens. The search rows are read once, in a worker
thread, into the few facts the counts need (`customer_stats.facts_of`), and every count runs
in a worker too: the screen keeps answering keys while 100,000 customers are counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static

from agentdesk.cache.collector import collector_paused
from agentdesk.model.customer_stats import CHANNELS, Facts, Period, Series, facts_of, period_of, series
from agentdesk.ui import clock
from agentdesk.ui.customer_chart import ACTIVE, CUSTOMERS, CustomerChart
from agentdesk.ui.first_showing import StyledOnceWhenShown
from agentdesk.ui.keybar import KeyBar

if TYPE_CHECKING:
    from agentdesk.cache.cache import Cache
    from agentdesk.ui.app import AgentDesk
    from agentdesk.ui.sync_bar import SyncEffects

PERIODS = (30, 90, 180, 365)  # days, in the order `p` goes through them
DEFAULT_PERIOD = 90
NARROW = 90  # columns: below this the figures go under the chart
LABELS = (("total", "Total", ""), ("reachable", "Reachable", "chart--reachable"),
          ("unreachable", "Unreachable", "chart--unreachable"),
          ("monthly_active", "Monthly active", "chart--active"))


def _read_facts(cache: Cache) -> list[Facts]:
    """The chart's facts of every customer. The cyclic collector is paused meanwhile: the
    100,000 parsed rows and their facts hold no cycles, and a collection of the desk's whole
    heap every few thousand of them was most of the time taken."""
    with collector_paused():
        return facts_of(cache.search_index.docs())


class CustomerChartScreen(StyledOnceWhenShown, Screen):
    """The chart, its figures, the keys."""

    HELP_GROUP = "Customers over time"
    BINDINGS = [
        Binding("escape", "back", "Back", id="chart.back"),
        Binding("c", "cycle_channel", "Channel", id="chart.channel",
                tooltip="Only customers with a conversation on a channel: all, email, chat..."),
        Binding("p", "cycle_period", "Period", id="chart.period",
                tooltip="The last 30, 90, 180 or 365 days"),
        Binding("m", "toggle_view", "Customers/active", id="chart.view",
                tooltip="Chart customers (reachable, unreachable) or monthly active"),
        Binding("x", "export", "Export CSV", id="chart.export",
                tooltip="Write the chart's daily figures as CSV (0600), in the current folder"),
    ]

    def __init__(self, export_folder: Path | None = None) -> None:
        super().__init__()
        self.channel: str | None = None
        self.days = DEFAULT_PERIOD
        self.view = CUSTOMERS
        self.series: Series | None = None
        self.export_folder = export_folder  # None: the folder the desk was started in
        self._facts: list[Facts] | None = None
        self._read = 0  # bumped when a sync changed customers: the facts are read again
        self._wanted: tuple[str | None, Period] = (None, self.period)  # what is being counted

    @property
    def desk(self) -> AgentDesk:
        return cast("AgentDesk", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="chart-title")
        with Horizontal(id="chart-body"):
            yield CustomerChart(id="chart")
            yield Static(id="chart-figures")
        yield KeyBar()

    def on_mount(self) -> None:
        self._narrow(self.size.width)
        self.desk.sync_applied.subscribe(self, self._synced)
        self._recount()

    def on_unmount(self) -> None:
        self.desk.sync_applied.unsubscribe(self)  # see SyncBar.on_unmount

    def _synced(self, effects: SyncEffects | None) -> None:
        if effects is not None and (effects.customers or effects.gone or effects.merged):
            self._read += 1
            self._facts = self.desk.chart_facts = None
            self._recount()

    def on_resize(self, event: events.Resize) -> None:
        self._narrow(event.size.width)

    def _narrow(self, width: int) -> None:
        self.query_one("#chart-body").set_class(width < NARROW, "narrow")

    @property
    def period(self) -> Period:
        return period_of(clock.now().date(), days=self.days)

    @property
    def counting(self) -> bool:
        """A count is under way (the chart shown meanwhile is the previous one, if any)."""
        return self.series is None or (self.series.channel, self.series.period) != self._wanted

    def _recount(self) -> None:
        self._wanted = (self.channel, self.period)  # the day is taken once: midnight may pass
        self._show()
        self._count(*self._wanted)

    @work(thread=True, exclusive=True, group="chart")
    def _count(self, channel: str | None, period: Period) -> None:
        read, facts = self._read, self._facts
        if facts is None:
            index, kept = self.desk.index, self.desk.chart_facts
            if kept is not None and kept[0] is index:  # an earlier chart's, nothing changed
                facts = kept[1]
            else:
                facts = _read_facts(self.desk.cache)
                self.app.call_from_thread(self._keep, read, index, facts)
            if read == self._read:  # not read before a sync that changed them: kept
                self._facts = facts
        found = series(facts, period, channel)
        self.app.call_from_thread(self._counted, found)

    def _keep(self, read: int, index: object, facts: list[Facts]) -> None:
        """The facts kept on the desk for the next `H`, while the customers stay as read
        (the search index they were read beside; an edit or a sync lets them go)."""
        if read == self._read and self.desk.index is index:
            self.desk.chart_facts = (index, facts)

    def _counted(self, found: Series) -> None:
        if (found.channel, found.period) == self._wanted:  # not an earlier count
            self.series = found
            self._show()

    def _show(self) -> None:
        period = self._wanted[1]
        title = Text()
        title.append(" Customers over time ", style="bold reverse")
        title.append(" ")
        title.append(f"channel {self.channel}" if self.channel else "all channels", style="bold")
        title.append(" ")
        title.append(f"· last {self.days} days, {period.start.isoformat()} to "
                     f"{period.end.isoformat()}")
        title.append(" · monthly active" if self.view == ACTIVE
                     else " · customers: reachable and unreachable")
        if self.counting:
            title.append(" · counting…", style="italic")
        self.query_one("#chart-title", Static).update(title)
        self.query_one(CustomerChart).show(self.series, self.view)
        self.query_one("#chart-figures", Static).update(self._figures())

    def _figures(self) -> Text:
        """The current values and their change, each metric beside its colour in the chart."""
        text = Text(no_wrap=True, overflow="crop")
        if self.series is None:
            return text
        chart = self.query_one(CustomerChart)
        trends = {t.metric: t for t in self.series.trends()}
        back = trends["total"].days
        text.append(f"On {self.series.current.day.isoformat()}\n", style="bold")
        text.append(" " * 18)
        text.append("now", style="dim")
        text.append(" " * 3)
        text.append(f"{back} days\n".rjust(10), style="dim")
        for metric, label, component in LABELS:
            trend = trends[metric]
            if component:
                text.append("█", style=chart.get_component_rich_style(component))
                text.append(" ")
            else:
                text.append("  ")
            text.append(f"{label:15}{trend.value:>7,}")
            arrow = "▲" if trend.change > 0 else "▼" if trend.change < 0 else " "
            change = f"{trend.change:+,}" if trend.change else "0"
            text.append(" " * max(1, 9 - len(change)))
            text.append(change + arrow, style="" if trend.change else "dim")
            text.append("\n")
        return text

    def action_cycle_channel(self) -> None:
        options = (None, *CHANNELS)
        self.channel = options[(options.index(self.channel) + 1) % len(options)]
        self._recount()

    def action_cycle_period(self) -> None:
        self.days = PERIODS[(PERIODS.index(self.days) + 1) % len(PERIODS)]
        self._recount()

    def action_toggle_view(self) -> None:
        self.view = ACTIVE if self.view == CUSTOMERS else CUSTOMERS
        self._show()

    def action_export(self) -> None:
        if self.series is None or self.counting:
            self.notify("Still counting the customers…", timeout=2)
            return
        self._export(self.series, self.export_folder or Path.cwd())

    @work(thread=True, group="chart-export")
    def _export(self, found: Series, folder: Path) -> None:
        from agentdesk.cache.customer_export import new_private_file, write_series_csv

        stem = (f"agentdesk-customers-{found.channel or 'all'}-{found.period.start.isoformat()}"
                f"-{found.period.end.isoformat()}")
        try:
            path, out = new_private_file(folder, stem, ".csv")
            with out:
                count = write_series_csv(found.days, out)
        except OSError as error:
            self.app.call_from_thread(self.notify, f"The chart's data was not written: {error}",
                                      severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, f"{count} days written to {path}", markup=False,
                                  timeout=8)

    def action_back(self) -> None:
        self.app.pop_screen()
