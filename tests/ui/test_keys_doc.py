"""README.md's key table lists what the help screen shows: the same ids with the same keys,
and the same keys that no id remaps ("(fixed)")."""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text

from test_ui_navigation import SIZE, wait_for

from agentdesk.cache.cache import Cache
from agentdesk.cache.outbox import REJECTED, OutboxItem
from agentdesk.config import Config
from agentdesk.model import mutations
from agentdesk.model.protocol import MutationKind
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.customer_erase import EraseScreen
from agentdesk.ui.forms import ConfirmScreen, NoteForm
from agentdesk.ui.help import HelpScreen
from agentdesk.ui.relationship_edit import Other, RelationshipForm
from agentdesk.ui.search import SearchScreen
from agentdesk.ui.survey_actions import TagPrompt
from agentdesk.ui.timeline_goto import DatePrompt, EventPicker
from agentdesk.ui.unsynced import ResolveScreen
from agentdesk.ui.canned import CannedPicker
from agentdesk.ui.composer import ReplyComposer
from agentdesk.ui.conversation_actions import ChoiceScreen, SnoozeUntilScreen, TopicForm
from agentdesk.ui.queue import QueueScreen
from agentdesk.ui.customers import CustomersScreen
from agentdesk.ui.customers_export import ExportForm
from agentdesk.ui.customers_picker import ColumnPicker
from agentdesk.ui.customer_chart_screen import CustomerChartScreen

README = Path(__file__).resolve().parents[2] / "README.md"
FIXED = "(fixed)"


def readme_keys() -> list[tuple[str, frozenset[str]]]:
    """(id, keys) per binding in the README's key table (the one whose header has an id)."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| where | keys | does | id |"):].split("\n\n")[0]
    rows: list[tuple[str, frozenset[str]]] = []
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        ids, keys = cells[3].split(" / "), cells[1].split(" / ")
        assert len(ids) == len(keys), f"README row {line!r}: {len(keys)} key groups, {len(ids)} ids"
        for binding_id, group in zip(ids, keys, strict=True):
            rows.append((binding_id, frozenset(re.findall(r"`([^`]+)`", group))))
    return rows


async def help_rows(app: AgentDesk, pilot) -> set[tuple[str, frozenset[str]]]:  # type: ignore[no-untyped-def]
    help_screen = HelpScreen(app.screen)
    await app.push_screen(help_screen)
    await pilot.pause()
    rows = {(binding_id or FIXED, frozenset(keys.split(", ")))
            for _group, keys, _does, binding_id in help_screen.rows}
    app.pop_screen()
    await pilot.pause()
    return rows


async def test_the_readme_key_table_matches_the_help_screen(demo_cache: Cache,
                                                            config: Config) -> None:
    app = AgentDesk(demo_cache, config, customer_id="cus_000001")
    shown: set[tuple[str, frozenset[str]]] = set()
    rejected = OutboxItem(seq=1, status=REJECTED, reason="why", mutation=mutations.make(
        MutationKind.NOTE_ADD, "cus_000001", "note_x", {"text": "x"}, None))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown |= await help_rows(app, pilot)  # the profile, its lists and timeline
        await pilot.press("p")  # the customer data pane: fields, identifiers, subscriptions
        await pilot.pause()
        for list_id in ("data-fields", "data-identifiers", "data-subscriptions"):
            app.screen.query_one(f"#{list_id}").focus()
            await pilot.pause()
            shown |= await help_rows(app, pilot)
        await pilot.press("p")
        await pilot.press("t", "ctrl+f")  # the timeline's find bar, then its filter panel
        await pilot.pause()
        shown |= await help_rows(app, pilot)
        await pilot.press("escape", "t", "f")
        await pilot.pause()
        shown |= await help_rows(app, pilot)
        await pilot.press("escape")
        await pilot.press("t", "O")  # the customer's survey responses and outbox
        await pilot.pause()
        shown |= await help_rows(app, pilot)
        await pilot.press("escape")
        other = Other("cus_000002", "Rosa Kaur")
        for screen in (SearchScreen(app.index), NoteForm(), ConfirmScreen(""),
                       ResolveScreen(rejected), QueueScreen(),
                       ReplyComposer(heading=Text(""), known={}, canned=[]), CannedPicker([]),
                       ChoiceScreen(Text(""), []), SnoozeUntilScreen(), TopicForm("", []),
                       RelationshipForm(other, None), EraseScreen("cus_000001", "Chiara Silva"),
                       TagPrompt("tag", []), DatePrompt(), EventPicker(app.screen.timeline),
                       CustomersScreen(), ColumnPicker(["name"]), ExportForm(1),
                       CustomerChartScreen()):
            await app.push_screen(screen)
            await wait_for(lambda: app.screen is screen, pilot)
            shown |= await help_rows(app, pilot)
            app.pop_screen()
            await pilot.pause()
        await app.push_screen(HelpScreen(app.screen))
        await pilot.pause()
        shown |= await help_rows(app, pilot)  # the help screen's own keys
    documented = readme_keys()
    ids_shown = {binding_id for binding_id, _ in shown if binding_id != FIXED}
    for binding_id, keys in documented:
        assert (binding_id, keys) in shown, f"README: {binding_id} {sorted(keys)} is not in help"
    for binding_id, keys in shown:
        assert (binding_id, keys) in documented, f"help: {binding_id} {sorted(keys)} not in README"
    assert ids_shown >= {"app.quit", "profile.new_note", "form.discard", "help.down"}
