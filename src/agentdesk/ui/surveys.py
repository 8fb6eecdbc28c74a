"""The customer's Responses and Survey outbox (`R` and `O` on the timeline), over the profile.

Responses: every scored or written answer with its campaign, channel and date, filtered by
score band, campaign, period, channel and tag, searched by campaign name. Survey outbox:
every survey sent, with its status, campaign, type, sent date and next scheduled survey, the
same filters (status instead of score and tag), and the Delivery figures.

The surveys are read from the timeline files holding any (the summary counts kinds per file),
in a worker: a 100,000-entry history is many files. Enter on a row goes to its entry in the
timeline, expanded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from agentdesk.cache.timeline import Timeline
from agentdesk.model.sanitize import clean_line
from agentdesk.model.surveys import BANDS, PERIODS, SurveyFilter, SurveyItem, Surveys, band_of
from agentdesk.model.views import StoredRecords
from agentdesk.ui import clock
from agentdesk.ui.row import Row
from agentdesk.ui.row_list import Option, RowList
from agentdesk.ui.safe import day

if TYPE_CHECKING:
    from agentdesk.ui.timeline import TimelineView

RESPONSES, OUTBOX = "responses", "outbox"
SURVEY_KINDS = {"survey", "response"}


def read_surveys(timeline: Timeline, cancelled: Callable[[], bool] = lambda: False) -> Surveys | None:
    """The surveys of a timeline, from the files holding any (file reads only: safe in a
    worker, nothing of the timeline's own state is touched)."""
    bases = [0]
    for size in timeline.summary.chunk_sizes:
        bases.append(bases[-1] + size)
    found = []
    for chunk in timeline.summary.chunks_with(SURVEY_KINDS):
        if cancelled():
            return None
        entries = StoredRecords("entry", timeline.chunk_docs(chunk))
        for offset, kind in enumerate(entries.field("kind")):
            if kind.value in SURVEY_KINDS:
                found.append((bases[chunk] + offset, entries[offset]))
    return Surveys.of(found)


def _cycle(current: str, values: list[str]) -> str:
    """The next of `values` after `current` ("" is everything, first and after the last)."""
    order = ["", *values]
    return order[(order.index(current) + 1) % len(order)] if current in order else ""


class SurveyList(RowList):
    HELP_GROUP = "Surveys"


class SurveysScreen(Screen[None]):
    """Responses and Survey outbox of the customer the timeline shows."""

    HELP_GROUP = "Surveys"
    BINDINGS = [
        Binding("escape", "back", "Back", id="surveys.back"),
        Binding("tab", "switch", "Responses/Outbox", id="surveys.switch"),
        Binding("s", "cycle('band')", "Score", id="surveys.score"),
        Binding("u", "cycle('status')", "Status", id="surveys.status"),
        Binding("c", "cycle('campaign')", "Campaign", id="surveys.campaign"),
        Binding("p", "cycle('period')", "Period", id="surveys.period"),
        Binding("h", "cycle('channel')", "Channel", id="surveys.channel"),
        Binding("t", "cycle('tag')", "Tag", id="surveys.tag"),
        Binding("slash", "search", "Search campaign", id="surveys.search"),
        Binding("x", "clear", "All", id="surveys.clear"),
        Binding("i", "response('toggle_ignored')", "Ignore", id="surveys.ignore"),
        Binding("plus", "response('add_tag')", "Add tag", id="surveys.add_tag"),
        Binding("minus", "response('remove_tag')", "Remove tag", id="surveys.remove_tag"),
        Binding("N", "response('start_conversation')", "Start conversation",
                id="surveys.start_conversation"),
    ]

    def __init__(self, view: TimelineView, name: str, which: str = RESPONSES) -> None:
        super().__init__()
        self.view = view
        self.customer_name = name
        self.which = which
        self.surveys: Surveys | None = None
        self.filters = {RESPONSES: SurveyFilter(), OUTBOX: SurveyFilter()}
        self._items: list[SurveyItem] = []
        self._keep: int | None = None  # the row highlighted when the surveys are read again

    def compose(self) -> ComposeResult:
        with Vertical(id="surveys"):
            yield Static(id="surveys-title", classes="form-title")
            yield Static(id="surveys-delivery")
            yield Static(id="surveys-filter")
            yield Input(placeholder="search by campaign name (enter: done)", id="surveys-search")
            yield SurveyList(id="surveys-list")
            yield Static(id="surveys-keys")

    def on_mount(self) -> None:
        self.query_one("#surveys-search", Input).display = False
        self._show()
        self._read()

    def reread(self) -> None:
        """Read the surveys again (a response was edited), keeping the highlighted row."""
        self._keep = self.query_one(SurveyList).highlighted
        self._read()

    @work(thread=True, exclusive=True, group="surveys")
    def _read(self) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        assert self.view._timeline is not None  # noqa: SLF001
        surveys = read_surveys(self.view._timeline, lambda: worker.is_cancelled)  # noqa: SLF001
        if surveys is not None and not worker.is_cancelled:
            self.app.call_from_thread(self._loaded, surveys)

    def _loaded(self, surveys: Surveys) -> None:
        self.surveys = surveys
        self._show()
        listed = self.query_one(SurveyList)
        if self._keep is not None and listed.option_count:
            listed.highlighted = min(self._keep, listed.option_count - 1)
        self._keep = None
        listed.focus()

    # -- what is shown -----------------------------------------------------------------------

    @property
    def filter(self) -> SurveyFilter:
        return self.filters[self.which]

    def items(self) -> list[SurveyItem]:
        if self.surveys is None:
            return []
        return self.surveys.responses if self.which == RESPONSES else self.surveys.sent

    def _show(self) -> None:
        title = "Responses" if self.which == RESPONSES else "Survey outbox"
        other = "Survey outbox" if self.which == RESPONSES else "Responses"
        self.query_one("#surveys-title", Static).update(
            Text.assemble((f"{title} · ", "bold"), (clean_line(self.customer_name), "bold"),
                          (f"   (tab: {other})", "dim")))
        delivery = self.query_one("#surveys-delivery", Static)
        list_ = self.query_one(SurveyList)
        if self.surveys is None:
            delivery.update(Text("Reading the customer's surveys…", style="dim"))
            list_.clear_options()
            return
        figures = self.surveys.delivery()
        delivery.update(Text.assemble(
            ("Delivery  ", "bold"),
            f"response rate {figures['response_rate']:.0%} · sent {figures['sent']} · "
            f"opened {figures['opened']} · scored {figures['scored']} · "
            f"responded {figures['responded']}"))
        now = clock.now()
        self._items = [i for i in self.items() if self.filter.shows(i, now)]
        self.query_one("#surveys-filter", Static).update(Text.assemble(
            ("Showing ", "dim"), f"{len(self._items)} of {len(self.items())}",
            ("  filter: ", "dim"), self.filter.describe()))
        keys = ("s score · c campaign · p period · h channel · t tag · / search · x all · "
                "i ignore · +/- tag · N conversation · enter: in the timeline · esc") if self.which == RESPONSES else \
            "u status · c campaign · p period · h channel · / search · x all · enter: in the timeline · esc"
        self.query_one("#surveys-keys", Static).update(Text(keys, style="dim"))
        list_.clear_options()
        if not self._items:
            list_.add_options([Option(Row().text("(none)", "dim"), disabled=True)])
            return
        make = self._response_row if self.which == RESPONSES else self._sent_row
        list_.add_options([Option(make(item), str(n)) for n, item in enumerate(self._items)])

    @staticmethod
    def _response_row(item: SurveyItem) -> Row:
        entry, score = item.entry, item.score
        band = band_of(score)
        style = {"detractors": "bold red", "passives": "bold yellow", "promoters": "bold green"}.get(band, "bold")
        row = Row(cut=True).text(f"★ {score if score is not None else '–':>2} ", style)
        row.text(f"{band[:-1] or 'no score':<10}", style).text(f"  {day(entry.at)}  ", "dim")
        row.data(item.campaign or "—", "bold").text(f"  {entry.channel.value}", "dim")
        if item.tags:
            row.text("  [").data(", ".join(item.tags)).text("]")
        if item.ignored:
            row.text("  (ignored)", "italic dim")
        if entry.body:
            row.text("  “").data(entry.body, "italic").text("”")
        return row

    @staticmethod
    def _sent_row(item: SurveyItem) -> Row:
        entry = item.entry
        bad = entry.status.value == "unsubscribed"
        row = Row(cut=True).text(f"□ {entry.status.value.upper():<13}", "bold red" if bad else "bold")
        row.data(item.campaign or "—", "bold")
        row.text(f"  {str(entry.details.get('survey_type') or entry.channel.value):<7}", "dim")
        row.text(f"  sent {day(entry.at)}")
        nxt = entry.details.get("next_survey")
        if nxt:
            row.text("  next ", "dim").data(nxt)
        return row

    # -- keys ----------------------------------------------------------------------------------

    def action_response(self, what: str) -> None:
        """Ignore, or tag, the highlighted response (`ui.survey_actions`)."""
        from agentdesk.ui import survey_actions

        listed = self.query_one(SurveyList)
        if self.which != RESPONSES or listed.highlighted is None:
            return
        option = listed.get_option_at_index(listed.highlighted)
        if option.id is not None:
            getattr(survey_actions, what)(self, self._items[int(option.id)])

    def action_switch(self) -> None:
        self.which = OUTBOX if self.which == RESPONSES else RESPONSES
        self._show()

    def action_cycle(self, name: str) -> None:
        """The next value of one filter (each key goes round its values, then everything)."""
        if self.surveys is None:
            return
        if name in ("band", "tag") and self.which == OUTBOX or name == "status" and self.which == RESPONSES:
            self.notify(f"No {name} filter in this view.", timeout=2)
            return
        values = list(BANDS) if name == "band" else list(PERIODS) if name == "period" else \
            self.surveys.choices(self.items(), name)
        current = getattr(self.filter, name)
        self.filters[self.which] = self.filter.with_(**{name: _cycle(current, values)})
        self._show()

    def action_clear(self) -> None:
        self.filters[self.which] = SurveyFilter()
        search = self.query_one("#surveys-search", Input)
        search.value, search.display = "", False
        self._show()

    def action_search(self) -> None:
        search = self.query_one("#surveys-search", Input)
        search.display = True
        search.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filters[self.which] = self.filter.with_(search=event.value)
        self._show()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(SurveyList).focus()

    def action_back(self) -> None:
        search = self.query_one("#surveys-search", Input)
        if search.has_focus:
            self.query_one(SurveyList).focus()
            return
        self.app.pop_screen()

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        """Enter on a row: its entry in the timeline, marked and expanded."""
        event.stop()
        if event.option.id is None:
            return
        item = self._items[int(event.option.id)]
        view = self.view
        self.app.pop_screen()
        view.show_entry(item.position, item.entry.id)
