"""The customer profile: Customer Details on the left, the conversation timeline on the right."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from agentdesk.cache.cache import Cache, DamagedProfile, Timeline
from agentdesk.model.kinds import ContactKind
from agentdesk.cache.outbox import PENDING
from agentdesk.model.views import StoredProfile
from agentdesk.ui import safe
from agentdesk.ui.details import (
    FEWER,
    MORE,
    RELATED_BY,
    DetailsPanel,
    NoteList,
    SectionList,
)
from agentdesk.ui.first_showing import StyledOnceWhenShown
from agentdesk.ui.keybar import KeyBar
from agentdesk.ui.profile_edits import ProfileEdits
from agentdesk.ui.row_list import RowList
from agentdesk.ui.sync_bar import SyncBar, SyncEffects
from agentdesk.ui.timeline import TimelineView

if TYPE_CHECKING:  # the forms load when first opened, not on the way to the first paint
    from agentdesk.ui.app import AgentDesk  # (and the app imports this module)
    from textual.widget import Widget

    from agentdesk.ui.customer_data import CustomerDataPane

EDITS = frozenset({"new_note", "edit_contact", "delete_note", "conversation", "status_tags",
                   "add_field", "remove_field", "consent", "add_subscription",
                   "remove_subscription", "start_conversation", "relationship"})  # actions a read-only desk hides
NARROW = 80  # below this many columns, details and timeline share the screen by turns


class TopBar(Static):
    """One line: where we are. Our words plus data rendered as literal Text."""


class TimelineUnreadable(Message):
    """A file of the shown timeline did not read back (`Timeline.on_damaged`)."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class ProfileScreen(StyledOnceWhenShown, ProfileEdits, Screen):
    HELP_GROUP = "Customer profile"
    # The timeline has the focus when a profile opens: given it at once, not after Textual's
    # auto-focus gave it to the first list (each change of focus restyles the panes).
    AUTO_FOCUS = "#timeline"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="profile.back",
                tooltip="Back to the customer before this one"),
        Binding("n", "new_note", "Note", id="profile.new_note",
                tooltip="New note about this customer"),
        Binding("e", "edit_contact", "Edit", id="profile.edit_contact",
                tooltip="Edit name, company and contact points"),
        Binding("c", "start_conversation", "Start conversation", show=False,
                id="profile.start_conversation",
                tooltip="Start a conversation: a channel, a topic and the first message"),
        Binding("b", "toggle_details", "Panel", id="profile.toggle_details",
                tooltip="Show or hide the details panel (narrow: panel or timeline)"),
        Binding("t", "focus_timeline", "Timeline", show=False, id="profile.focus_timeline",
                tooltip="Move the focus to the timeline"),
        Binding("p", "toggle_data", "Data", id="profile.customer_data",
                tooltip="Fields, identifiers, subscriptions, segments (in the timeline's place)"),
        Binding("S", "status_tags", "Status", id="profile.status_tags",
                tooltip="Edit the customer's status and tags"),
        # The conversation at the top of the timeline (or highlighted in the panel's list):
        Binding("R", "conversation('reply')", "Reply", id="profile.reply",
                tooltip="Reply to the conversation on its channel"),
        Binding("s", "conversation('status')", "Status", id="profile.conversation_status",
                tooltip="The conversation's status: open, pending, snoozed until, closed"),
        Binding("A", "conversation('assignee')", "Assign", id="profile.conversation_assignee",
                tooltip="Assign the conversation: me, another agent, nobody"),
        Binding("P", "conversation('priority')", "Priority", show=False,
                id="profile.conversation_priority", tooltip="The conversation's priority"),
        Binding("T", "conversation('topic')", "Topic/tags", show=False,
                id="profile.conversation_topic", tooltip="The conversation's topic and tags"),
    ]

    def __init__(self, cache: Cache, customer_id: str, *, conversation_id: str | None = None,
                 from_queue: bool = False) -> None:
        super().__init__()
        self.cache = cache
        self.customer_id = customer_id
        self.start_conversation = conversation_id  # opened at this conversation's start
        self.from_queue = from_queue  # opened from the queue (`N` replaces it)
        self.profile: StoredProfile | None = None  # what is shown; edits load the models
        self.timeline: Timeline | None = None
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
            # The customer data pane (`p`) is mounted beside them when first asked for.
        yield SyncBar()
        yield KeyBar()

    @property
    def closed_before_mount(self) -> bool:
        """Removed before it was mounted (opened and left at once: a screen-pop, then Esc or
        q): its widgets are gone, and its mount and resize have nothing to fill."""
        return not self.query(TimelineView)

    def on_mount(self) -> None:
        if self.closed_before_mount:
            return
        self.query_one(TimelineView).open_at = self.start_conversation
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
        if self.shown_before and self.profile is not None:
            fresh = self._read()
            if fresh is None:  # erased here, or removed by a sync: not "viewed" any more
                return
            self.profile = fresh
            self._show_profile()
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
        me = weakref.ref(self)  # the timeline may outlive this screen: it must not keep it

        def told(error: Exception) -> None:
            if (screen := me()) is not None:
                screen.post_message(TimelineUnreadable(error))

        timeline.on_damaged = told
        return timeline

    def on_timeline_unreadable(self, message: TimelineUnreadable) -> None:
        self.notify(str(message.error), title="Part of this timeline could not be read",
                    severity="warning", timeout=10, markup=False)
        self.desk.repair_soon()

    def refresh_unsynced(self) -> None:
        items = self.cache.outbox.items(self.customer_id) if not self.cache.read_only else []
        self.query_one(DetailsPanel).show_unsynced(items)
        # Replies the store has not confirmed yet are marked in the timeline.
        self.query_one(TimelineView).set_pending(frozenset(
            i.mutation.target for i in items
            if i.status == PENDING and i.mutation.kind == "reply.add"))

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
            shown = any(section.display for section in self.query("#unsynced"))
            if self.cache.outbox.items(self.customer_id) or shown:
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
        if self.has_class("-data-shown") and (pane := self.data_pane()) is not None:
            pane.show(self.profile)  # filled only while shown
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
        if not self.closed_before_mount:
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
            if self.has_class("-data-shown") and (pane := self.data_pane()) is not None:
                pane.focus_first()
            else:
                self.query_one(TimelineView).focus()
        elif self._panel_shown() and (panel or (self.has_class("-narrow") and not inside)):
            self.query_one("#contacts").focus()

    def made_later(self) -> list[type[Widget]]:
        """Widgets made when first asked for, not on the way to the first frame: the help
        screen lists their keys all the same."""
        from agentdesk.ui.customer_data import FieldList, IdentifierList, SubscriptionList
        from agentdesk.ui.timeline_find import FindInput

        return [FindInput, FieldList, IdentifierList, SubscriptionList]

    def data_pane(self) -> CustomerDataPane | None:
        """The customer data pane, once `p` has mounted it (its modules load then, not at
        start-up)."""
        found = self.query("#customer-data")
        return cast("CustomerDataPane", found.first()) if found else None

    def action_toggle_details(self) -> None:
        self.toggle_class("-details-toggled")
        self._focus_what_is_shown(panel=self.has_class("-narrow"))

    def action_focus_timeline(self) -> None:
        self.set_class(False, "-data-shown")  # the timeline back in its place
        self.query_one(TimelineView).focus()

    async def action_toggle_data(self) -> None:
        """The customer data pane in the timeline's place, or the timeline back."""
        if self.profile is None:
            return
        shown = not self.has_class("-data-shown")
        if shown:
            pane = self.data_pane()
            if pane is None:
                from agentdesk.ui.customer_data import CustomerDataPane

                pane = CustomerDataPane(self.cache.panel, id="customer-data")
                await self.query_one("#profile-body").mount(pane)
            await pane.build()
            pane.show(self.profile)
            self.set_class(True, "-data-shown")
            if self.has_class("-narrow"):  # one pane at a time: this one
                self.remove_class("-details-toggled")
            pane.focus_first()
        else:
            self.set_class(False, "-data-shown")
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
        elif list_id == "data-fields":
            self._data_edit("edit_field", option_id)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:  # the default screen, then the first profile
            self.app.pop_screen()
        elif self.profile is None:  # a customer not found at start: Esc goes somewhere
            start = self.cache.start_customer_id()
            self.app.pop_screen()
            if start is None or start == self.customer_id:
                from agentdesk.ui.empty_screen import EmptyScreen

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


__all__ = ["ProfileScreen", "SectionList"]
