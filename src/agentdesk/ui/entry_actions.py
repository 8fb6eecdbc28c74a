"""What the agent does to timeline entries from the timeline: assign a feedback item to
another customer (found by search) or unlink it (`A`, `U`). The entry acted on is the marked
one (a jump, find, the event picker) if it is a feedback item on screen, else the first
feedback item on screen. The edits are the cache's (`cache.entry_edits`), synced like every
edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from agentdesk.cache.files import CacheError
from agentdesk.model.kinds import EntryKind
from agentdesk.ui import safe
from agentdesk.ui.search import SearchScreen

if TYPE_CHECKING:
    from agentdesk.ui.profile import ProfileScreen
    from agentdesk.ui.timeline import TimelineView


def on_screen(view: TimelineView, kind: EntryKind) -> tuple[int, Any] | None:
    """(position, entry) of the entry of `kind` an action applies to, if one is on screen."""
    top, lines = view.scroll_offset.y, view.blocks.lines
    first = None
    for line in range(top + 1, min(top + view.scrollable_content_region.height, lines)):
        found = view.entry_at(line)
        if found is None:
            continue
        _, layout, i = found
        position = layout.positions[i]
        entry = view.entry(position)
        if entry.kind != kind:
            continue
        if position == view.mark:
            return position, entry
        first = first or (position, entry)
    return first


class CustomerPickScreen(SearchScreen):
    """The customer search, choosing a customer instead of opening it."""

    def __init__(self, index: Any, title: str) -> None:
        super().__init__(index)
        self.title_text = title

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#search-title").update(Text(f" {self.title_text}", style="bold"))

    def on_result_list_opened(self, event: Any) -> None:
        event.stop()
        event.prevent_default()  # (not the search's own: opening the customer)
        self.dismiss(event.customer_id)


def _profile(view: TimelineView) -> ProfileScreen | None:
    from agentdesk.ui.profile import ProfileScreen

    screen = view.screen
    if not isinstance(screen, ProfileScreen) or screen._refuse_if_read_only():  # noqa: SLF001
        return None
    return screen


def _feedback(view: TimelineView, what: str) -> tuple[int, Any] | None:
    found = on_screen(view, EntryKind.FEEDBACK)
    if found is None:
        view.notify(f"No feedback item on screen to {what} (keys 1-6 show or hide kinds).", timeout=3)
    return found


def edit(screen: ProfileScreen, write: Any) -> None:
    """Make an entry edit, then show the timeline as it now is."""
    try:
        write()
    except CacheError as error:
        screen.notify(f"Not done: {error}", severity="error", markup=False)
        return
    screen.desk.outbox_changed()
    screen.timeline_edited()
    screen.refresh_unsynced()
    screen.notify(screen.desk.saved_message(), timeout=3)
    if screen.desk.remote is not None:
        screen.desk.action_sync()


def reassign(view: TimelineView) -> None:
    screen = _profile(view)
    found = _feedback(view, "assign to another customer") if screen else None
    if screen is None or found is None:
        return
    position, entry = found
    doc = screen.cache.entry_doc(screen.customer_id, position)

    def chosen(customer_id: str | None) -> None:
        if customer_id:
            edit(screen, lambda: screen.cache.reassign_feedback(screen.customer_id, doc, customer_id))

    title = f"Assign the feedback “{safe.line(entry.subject).plain[:40]}” to: find the customer"
    screen.app.push_screen(CustomerPickScreen(screen.desk.index, title), chosen)


def unlink(view: TimelineView) -> None:
    screen = _profile(view)
    found = _feedback(view, "unlink") if screen else None
    if screen is None or found is None:
        return
    position, entry = found
    doc = screen.cache.entry_doc(screen.customer_id, position)
    question = Text("Unlink this feedback item from the customer? It leaves the timeline "
                    "(the tool it came from keeps it).\n\n")
    question.append_text(safe.line(entry.subject, "bold"))

    def answer(yes: bool | None) -> None:
        if yes:
            edit(screen, lambda: screen.cache.unlink_feedback(screen.customer_id, doc))

    from agentdesk.ui.forms import ConfirmScreen

    screen.app.push_screen(ConfirmScreen(question), answer)
