"""The agent's edits from a profile: notes, contact details, customer data, conversations,
relationships; each saved through the cache (outbox first) with what the agent sees after.
Methods of `ProfileScreen` (a mixin: the screen keeps its bindings and its layout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from agentdesk.cache.cache import Cache, Timeline
from agentdesk.cache.drafts import details_key, note_key
from agentdesk.cache.files import CacheError
from agentdesk.model.views import StoredProfile
from agentdesk.ui import safe
from agentdesk.ui.details import (
    NoteList,
    RelationshipList,
)
from agentdesk.ui.timeline import TimelineView

if TYPE_CHECKING:  # the forms load when first opened, not on the way to the first paint
    from agentdesk.ui.app import AgentDesk  # (and the app imports this module)
    from agentdesk.ui.customer_data import DataList
    from agentdesk.ui.forms import DetailsEdit



class ProfileEdits:
    """The edit actions of `ProfileScreen`."""

    if TYPE_CHECKING:  # provided by ProfileScreen
        cache: Cache
        customer_id: str
        profile: StoredProfile | None
        timeline: Timeline | None

        @property
        def desk(self) -> AgentDesk: ...

        def reload(self) -> None: ...

        def refresh_unsynced(self) -> None: ...

        def _show_profile(self) -> None: ...

    def show_saved(self, *, to_end: bool = False) -> None:
        """Show what an edit of this desk just wrote: the panel, and the timeline in place (at
        its newest entries with `to_end`: a reply just sent)."""
        loaded = self.cache.view_profile(self.customer_id)
        if loaded is None:
            return
        self.profile, self.timeline = loaded
        self._show_profile()
        timeline = self.query_one(TimelineView)
        if to_end:
            timeline.show(self.timeline, self.profile.conversations)
        else:  # the same entries: what was marked (the conversation acted on) stays marked
            mark = timeline.mark
            timeline.replace(self.timeline, self.profile.conversations)
            timeline.mark = mark

    def on_data_list_edit(self, event: DataList.Edit) -> None:
        event.stop()
        self._data_edit(event.what, event.record_id)

    def _data_edit(self, what: str, record_id: str | None) -> None:
        from agentdesk.ui.profile_data_actions import data_edit

        data_edit(self, what, record_id)

    def action_status_tags(self) -> None:
        from agentdesk.ui.profile_data_actions import data_edit

        data_edit(self, "status_tags", None)

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

    def _refuse_if_read_only(self) -> bool:
        if self.cache.read_only:
            self.notify("This cache is read-only (another agentdesk has it open).", severity="warning")
        return self.cache.read_only

    def action_conversation(self, what: str) -> None:
        """Reply, status, assignee, priority, topic: ui/conversation_actions.py."""
        from agentdesk.ui import conversation_actions

        conversation_actions.ACTIONS[what](self)

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

    def action_start_conversation(self) -> None:
        from agentdesk.ui.conversation_start import start_conversation

        start_conversation(self)

    def show_started(self, conversation_id: str) -> None:
        """A conversation started here: shown at once, its first message at the top."""
        loaded = self.cache.view_profile(self.customer_id)
        if loaded is None:
            return
        self.profile, self.timeline = loaded
        self._show_profile()
        view = self.query_one(TimelineView)
        view.show(self.timeline, self.profile.conversations)
        view.call_after_refresh(view.scroll_to_conversation, conversation_id)
        view.focus()

    def on_relationship_list_requested(self, event: RelationshipList.Requested) -> None:
        event.stop()
        from agentdesk.ui.relationship_edit import edit_relationship

        edit_relationship(self, event.what, event.option_id)

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


