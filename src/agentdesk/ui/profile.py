"""The customer profile: Customer Details on the left, the conversation timeline on the right."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from agentdesk.cache.cache import Cache, DamagedProfile, Timeline
from agentdesk.cache.drafts import details_key, note_key
from agentdesk.model.kinds import ContactKind
from agentdesk.cache.files import CacheError
from agentdesk.model.views import StoredProfile
from agentdesk.ui import safe
from agentdesk.ui.details import FEWER, MORE, RELATED_BY, DetailsPanel, NoteList, SectionList
from agentdesk.ui.keybar import KeyBar
from agentdesk.ui.row_list import RowList
from agentdesk.ui.sync_bar import SyncBar, SyncEffects
from agentdesk.ui.timeline import TimelineView
from agentdesk.ui.timeline_find import FindBar

if TYPE_CHECKING:  # the forms load when first opened, not on the way to the first paint
    from agentdesk.ui.app import AgentDesk  # (and the app imports this module)
    from agentdesk.ui.forms import DetailsEdit

EDITS = frozenset({"new_note", "edit_contact", "delete_note"})  # actions a read-only desk hides
NARROW = 80  # below this many columns, details and timeline share the screen by turns


class TopBar(Static):
    """One line: where we are. Our words plus data rendered as literal Text."""


class TimelineUnreadable(Message):
    """A file of the shown timeline did not read back (`Timeline.on_damaged`)."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class ProfileScreen(Screen):
    HELP_GROUP = "Customer profile"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="profile.back",
                tooltip="Back to the customer before this one"),
        Binding("n", "new_note", "Note", id="profile.new_note",
                tooltip="New note about this customer"),
        Binding("e", "edit_contact", "Edit", id="profile.edit_contact",
                tooltip="Edit name, company and contact points"),
        Binding("b", "toggle_details", "Panel", id="profile.toggle_details",
                tooltip="Show or hide the details panel (narrow: panel or timeline)"),
        Binding("t", "focus_timeline", "Timeline", show=False, id="profile.focus_timeline",
                tooltip="Move the focus to the timeline"),
    ]

    def __init__(self, cache: Cache, customer_id: str) -> None:
        super().__init__()
        self.cache = cache
        self.customer_id = customer_id
        self.profile: StoredProfile | None = None  # what is shown; edits load the models
        self.timeline: Timeline | None = None
        self._shown_once = False
        self.damaged = False  # its files did not read back: shown again after the next sync
        self.changes_since_open = 0  # shown on the sync line

    @property
    def desk(self) -> AgentDesk:
        return cast("AgentDesk", self.app)

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Horizontal(id="profile-body"):
            yield DetailsPanel(id="details")
            yield TimelineView(id="timeline")  # its heading is its border title
        yield FindBar()
        yield SyncBar()
        yield KeyBar()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(TimelineView).focus()
        self._apply_width(self.app.size.width)
        self.desk.sync_applied.subscribe(self, self._sync_ended)
        self.desk.index_loaded.subscribe(self, self._index_loaded)

    def on_unmount(self) -> None:
        self.desk.sync_applied.unsubscribe(self)  # see SyncBar.on_unmount
        self.desk.index_loaded.unsubscribe(self)

    def on_screen_resume(self) -> None:
        """Shown, or back from another profile or a form: the customer may have been edited
        there; and this is the customer viewed last (going back is viewing too)."""
        if self._shown_once and self.profile is not None:
            self.profile = self._read() or self.profile
            self._show_profile()
        self._shown_once = True
        if self.profile is not None:
            self.desk.viewed(self.customer_id)

    def _index_loaded(self, index: object) -> None:
        """Related customers' names, and who lists this customer, come from the index."""
        if self.profile is not None:
            self.query_one(DetailsPanel).show_relationships(
                self.profile, self._related_names(), self.desk.related_to(self.customer_id))

    def reload(self) -> None:
        """Read the profile from the cache and show it (timeline reads only what is on screen)."""
        loaded = self._view()
        if loaded is None and self.damaged:
            return
        if loaded is None:
            message = Text(" This customer is not in the cache: ")
            message.append_text(safe.line(self.customer_id, "bold"))
            first = len(self.app.screen_stack) <= 2  # opened at start (--customer)
            message.append("  (esc: the last customer viewed, /: search)" if first
                           else "  (esc: back, /: search)")
            self.query_one("#topbar", TopBar).update(message)
            return
        profile, timeline = loaded
        self.timeline = self._watch(timeline)
        self.profile = profile
        self._show_profile()
        self.query_one(TimelineView).show(self.timeline, profile.conversations, profile.customer)

    def _read(self) -> StoredProfile | None:
        loaded = self._view()
        return loaded[0] if loaded else None

    def _view(self) -> tuple[StoredProfile, Timeline] | None:
        try:
            return self.cache.view_profile(self.customer_id)
        except DamagedProfile as error:
            self.show_damaged(error)
            self.desk.repair_soon()
            return None

    def show_damaged(self, error: DamagedProfile) -> None:
        """This customer's profile file does not read back: say so where the profile was; the
        next sync rebuilds it (the cache asked for that) and `_sync_ended` shows it again.
        Unsent edits stay in the outbox."""
        self.damaged = True
        self.profile, self.timeline = None, None
        self.query_one(TimelineView).forget()
        self.query_one(DetailsPanel).display = False
        message = Text(" ")
        message.append_text(safe.line(str(error), "bold"))
        self.query_one("#topbar", TopBar).update(message)

    def _watch(self, timeline: Timeline) -> Timeline:
        """Be told when one of the timeline's files does not read back (it shows placeholders
        there until the sync asked for brings the customer again: `sync_changed`). The file
        may be read by the find/filter scan's thread: a message comes back to this one."""
        timeline.on_damaged = lambda error: self.post_message(TimelineUnreadable(error))
        return timeline

    def on_timeline_unreadable(self, message: TimelineUnreadable) -> None:
        self.notify(str(message.error), title="Part of this timeline could not be read",
                    severity="warning", timeout=10, markup=False)
        self.desk.repair_soon()

    def refresh_unsynced(self) -> None:
        items = self.cache.outbox.items(self.customer_id) if not self.cache.read_only else []
        self.query_one(DetailsPanel).show_unsynced(items)

    def _sync_ended(self, effects: SyncEffects | None) -> None:
        if effects is None:  # failed: nothing applied, but edits may have moved in the outbox
            self.refresh_unsynced()
            return
        if self.damaged:  # rebuilt by this sync (or still not: then it says so again)
            self.damaged = False
            self.query_one(DetailsPanel).display = True
            self.reload()
            return
        self.sync_changed(effects.customers.get(self.customer_id, 0),
                          removed=self.customer_id in effects.gone,
                          merged_into=effects.merged.get(self.customer_id),
                          repaired=self.customer_id in effects.repaired)

    def sync_changed(self, count: int, *, removed: bool = False,
                     merged_into: str | None = None, repaired: bool = False) -> None:
        """A sync changed this customer: update in place, keeping the agent's place."""
        if merged_into:
            self.notify("This customer was merged into another one; showing that one.", timeout=5)
            self.customer_id = merged_into
            self.reload()
            return
        if removed:
            message = Text(" This customer was removed from the store (or left your scope): ",
                           style="bold")
            message.append_text(safe.line(self.customer_id))
            self.query_one("#topbar", TopBar).update(message)
            return
        if not count:
            if self.cache.outbox.items(self.customer_id) or self.query_one("#unsynced").display:
                # Edits answered: a conflict or a rejection put the store's values back.
                self.profile = self._read() or self.profile
                if self.profile is not None:
                    self._show_profile()
                    self.timeline_edited()  # an entry edit undone is in the timeline files
            self.refresh_unsynced()
            return
        # News for the agent: changes made elsewhere to a profile already on screen (not the
        # first sync, nor the profile arriving; the agent's own edits do not come back counted).
        if self.profile is not None and not self.desk.sync_view.first and not repaired:
            self.changes_since_open += count
        loaded = self._view()
        if loaded is None:
            return
        lists = {w.id: w.highlighted for w in self.query(SectionList)}
        self.profile, self.timeline = loaded[0], self._watch(loaded[1])
        self._show_profile()
        for widget in self.query(SectionList):
            if lists.get(widget.id) is not None and widget.option_count:
                widget.highlighted = min(lists[widget.id], widget.option_count - 1)
        self.query_one(TimelineView).replace(self.timeline, self.profile.conversations)
        for bar in self.query(SyncBar):
            bar.new_here = self.changes_since_open
            bar.show(self.desk.sync_view)

    def timeline_edited(self) -> None:
        """The timeline's files changed here (an entry edit, or one undone): show the new
        version where the agent was."""
        loaded = self.cache.view_profile(self.customer_id)
        if loaded is not None:
            self.profile, self.timeline = loaded
            self.query_one(TimelineView).replace(self.timeline, self.profile.conversations)

    def _related_names(self) -> dict[str, str]:
        assert self.profile is not None
        return {rel.customer_id: self.desk.customer_name(rel.customer_id) or rel.name
                for rel in self.profile.relationships}

    def _show_profile(self) -> None:
        assert self.profile is not None
        self.query_one(DetailsPanel).show(self.profile, self._related_names(),
                                          self.desk.related_to(self.customer_id))
        self.refresh_unsynced()
        bar = Text()
        bar.append(" agentdesk ", style="bold reverse")
        bar.append(" ")
        bar.append_text(safe.line(self.profile.customer.name, "bold"))
        email = self.profile.primary(ContactKind.EMAIL)
        if email:
            bar.append("  ")
            bar.append_text(safe.line(email.value, "dim"))
        depth = len(self.app.screen_stack) - 1
        if depth > 1:
            bar.append(f"   ‹ esc back ({depth - 1})", style="dim")
        if self.cache.read_only:
            bar.append("   READ-ONLY: another agentdesk has this cache", style="bold red")
        self.query_one("#topbar", TopBar).update(bar)

    # -- layout ----------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._apply_width(self.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < NARROW, "-narrow")
        self._focus_what_is_shown()

    def _panel_shown(self) -> bool:
        return self.has_class("-narrow") == self.has_class("-details-toggled")

    def _focus_what_is_shown(self, *, panel: bool = False) -> None:
        """Keys go to a pane the agent can see: never to one `b` or a narrow screen hid."""
        details = self.query_one(DetailsPanel)
        focused = self.focused
        inside = focused is not None and details in focused.ancestors
        if not self._panel_shown() and (inside or focused is None):
            self.query_one(TimelineView).focus()
        elif self._panel_shown() and (panel or (self.has_class("-narrow") and not inside)):
            self.query_one("#contacts").focus()

    def action_toggle_details(self) -> None:
        self.toggle_class("-details-toggled")
        self._focus_what_is_shown(panel=self.has_class("-narrow"))

    def action_focus_timeline(self) -> None:
        self.query_one(TimelineView).focus()

    # -- panel actions ---------------------------------------------------------------------

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        event.stop()
        list_id, option_id = event.row_list.id, event.option.id
        if option_id is None or self.profile is None:
            return
        if list_id == "conversations" and option_id.startswith(MORE):
            self.query_one(DetailsPanel).expand(option_id[len(MORE):])
        elif list_id == "conversations" and option_id.startswith(FEWER):
            self.query_one(DetailsPanel).expand(option_id[len(FEWER):], expanded=False)
        elif list_id == "conversations":
            timeline = self.query_one(TimelineView)
            if timeline.scroll_to_conversation(option_id):
                if self.has_class("-narrow"):
                    self.remove_class("-details-toggled")
                timeline.focus()
        elif list_id == "relationships" and option_id.startswith(RELATED_BY):
            self.desk.open_customer(option_id[len(RELATED_BY):])
        elif list_id == "relationships":
            rel = next((r for r in self.profile.relationships if r.id == option_id), None)
            if rel is not None:
                self.desk.open_customer(rel.customer_id)
        elif list_id == "contacts":
            self.action_edit_contact(focus=option_id)
        elif list_id == "notes":
            self._edit_note(option_id)
        elif list_id == "unsynced":
            self._resolve(option_id)

    def _resolve(self, mutation_id: str) -> None:
        from agentdesk.ui.unsynced import ResolveScreen

        item = next((i for i in self.cache.outbox.items(self.customer_id)
                     if i.mutation.id == mutation_id), None)
        if item is None or item.status == "pending" or self._refuse_if_read_only():
            return

        def answer(keep: bool | None) -> None:
            if keep is None:
                return
            try:
                self.cache.resolve(mutation_id, keep=keep)
            except CacheError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            self.desk.outbox_changed()
            self.profile = self._read() or self.profile
            self._show_profile()
            if keep:
                self.desk.action_sync()

        self.app.push_screen(ResolveScreen(item), answer)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:  # the default screen, then the first profile
            self.app.pop_screen()
        elif self.profile is None:  # a customer not found at start: Esc goes somewhere
            start = self.cache.start_customer_id()
            self.app.pop_screen()
            if start is None or start == self.customer_id:
                self.app.push_screen(EmptyScreen(self.cache))
            else:
                self.desk.open_customer(start)

    def writable_now(self) -> None:
        """The cache stopped being read-only: edits are offered, READ-ONLY goes."""
        if self.profile is not None:
            self._show_profile()
        self.refresh_bindings()
        for notes in self.query(NoteList):
            notes.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Edits are not offered (nor shown in the key bar) while the cache is read-only."""
        return not (self.cache.read_only and action in EDITS)

    def _refuse_if_read_only(self) -> bool:
        if self.cache.read_only:
            self.notify("This cache is read-only (another agentdesk has it open).", severity="warning")
        return self.cache.read_only

    def action_new_note(self) -> None:
        if self.profile is None or self._refuse_if_read_only():
            return

        key = note_key(self.customer_id)

        def save(text: str | None) -> None:
            if text:
                self._save(lambda: self.cache.add_note(self.customer_id, text, self.desk.author),
                           draft=key)

        from agentdesk.ui.forms import NoteForm

        self.app.push_screen(NoteForm(drafts=self.cache.drafts, draft_key=key), save)

    def _edit_note(self, note_id: str) -> None:
        note = next((n for n in self.profile.notes if n.id == note_id), None) if self.profile else None
        if note is None or self._refuse_if_read_only():
            return

        key = note_key(self.customer_id, note_id)

        def save(text: str | None) -> None:
            if text:
                self._save(lambda: self.cache.edit_note(self.customer_id, note_id, text), draft=key)

        from agentdesk.ui.forms import NoteForm

        self.app.push_screen(NoteForm(note.text, title="Edit note", drafts=self.cache.drafts,
                                      draft_key=key), save)

    def on_note_list_delete_requested(self, event: NoteList.DeleteRequested) -> None:
        note = next((n for n in self.profile.notes if n.id == event.note_id), None) if self.profile else None
        if note is None or self._refuse_if_read_only():
            return
        question = Text("Delete this note?\n\n")
        question.append_text(safe.block(note.text, "italic"))

        def answer(yes: bool | None) -> None:
            if yes:
                self._save(lambda: self.cache.delete_note(self.customer_id, event.note_id))

        from agentdesk.ui.forms import ConfirmScreen

        self.app.push_screen(ConfirmScreen(question), answer)

    def action_edit_contact(self, focus: str | None = None) -> None:
        """The details form, on the name (`e`) or on the contact point `focus` (Enter on it)."""
        if self.profile is None or self._refuse_if_read_only():
            return
        # The form edits models (validated as typed), read now: the latest this cache has.
        opened_on = self.cache.load_profile(self.customer_id)
        if opened_on is None:
            return

        key = details_key(self.customer_id)

        def save(edit: DetailsEdit | None) -> None:
            if edit is not None:
                self._save(lambda: self.cache.update_details(
                    self.customer_id, name=edit.name, company=edit.company, contacts=edit.contacts,
                    base=opened_on), draft=key)

        from agentdesk.ui.forms import ContactForm

        self.app.push_screen(ContactForm(opened_on, focus=focus, drafts=self.cache.drafts,
                                         draft_key=key), save)

    def _save(self, write, draft: str | None = None) -> None:  # type: ignore[no-untyped-def]
        """Write to the cache; a failure is shown and nothing is half-saved (the form's draft
        stays for another try).

        Runs as the form's result callback, before this screen resumes: `on_screen_resume`
        then shows the saved profile.
        """
        try:
            result = write()
        except CacheError as error:
            self.notify(f"Not saved (your text is kept as a draft): {error}", severity="error",
                        markup=False)
            return
        if draft is not None:
            self.cache.drafts.drop(draft)
        self.desk.outbox_changed()
        if hasattr(result, "customer"):  # details edited: the search index must follow
            self.desk.index_changed(result)
        self.notify(self.desk.saved_message(), timeout=3)
        if self.desk.remote is not None:
            self.desk.action_sync()


class EmptyScreen(Screen):
    """Shown instead of a blank desk when the cache has no customers."""

    def __init__(self, cache: Cache) -> None:
        super().__init__()
        self.cache = cache

    @property
    def desk(self) -> AgentDesk:
        return cast("AgentDesk", self.app)

    def on_mount(self) -> None:
        self.desk.sync_applied.subscribe(self, self._sync_ended)

    def on_unmount(self) -> None:
        self.desk.sync_applied.unsubscribe(self)  # see SyncBar.on_unmount

    def _sync_ended(self, effects: SyncEffects | None) -> None:
        """Customers arrived while this screen is shown: open the first one in its place."""
        if effects is None or self is not self.app.screen:
            return
        customer_id = self.cache.start_customer_id()
        if customer_id is not None:
            self.app.pop_screen()
            self.desk.open_customer(customer_id)

    def compose(self) -> ComposeResult:
        message = Text()
        message.append("No customers in this cache yet\n\n", style="bold")
        message.append("The cache at ")
        message.append_text(safe.line(str(self.cache.root), "italic"))
        message.append(" is empty.\n\n")
        message.append("To try the desk on demo data, quit (q) and run:\n\n")
        message.append("    agentdesk --demo\n\n", style="bold")
        message.append("Customers arrive here when the desk syncs from your team's remote store, "
                       "or when another cache folder is chosen with --cache DIR or AGENTDESK_CACHE.\n\n")
        message.append("?  help    q  quit", style="dim")
        yield Static(message, id="empty-message")
        yield SyncBar()
        yield KeyBar()


__all__ = ["ProfileScreen", "EmptyScreen", "SectionList"]
