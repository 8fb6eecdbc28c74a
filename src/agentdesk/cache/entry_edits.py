"""The agent's edits of timeline entries: reassigning or unlinking a feedback item, ignoring
or tagging a survey response. Queued in the outbox like every edit, then made on the timeline
files (the profile file's other edits are `edits.apply`, which does not touch them).

What the local copy shows: the edit at once. If the store sends that entry again before the
edit is confirmed (it is pushed before the next pull, so only an entry changed elsewhere
meanwhile), the store's version shows until the edit's own change arrives; a rejected edit
is undone (`revert`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.cache import timeline as timeline_files
from agentdesk.cache.files import CacheError
from agentdesk.cache.timeline import TimelineSummary

if TYPE_CHECKING:
    from agentdesk.cache.outbox import Outbox
    from agentdesk.cache.profile_file import ProfileFile
    from agentdesk.model.protocol import Mutation

ENTRY_KINDS = ("feedback.reassign", "feedback.unlink", "response.update")


def is_entry_edit(m: Mutation) -> bool:
    return m.kind.value in ENTRY_KINDS


def file_entries(folder: Path, profile: ProfileFile, upserts: list[dict[str, Any]],
                 deletes: list[dict[str, Any]], *, durable: bool) -> list[Path]:
    """Write the timeline files `upserts` and `deletes` change; the files now obsolete."""
    summary, inline, obsolete = timeline_files.apply(
        folder, TimelineSummary.from_json(profile.timeline_summary()), profile.inline_entries(),
        upserts, deletes, durable=durable)
    profile.set_timeline(summary, inline)
    return obsolete


class EntryEdits:
    """Edits of timeline entries, as methods of the cache (see `Cache`)."""

    if TYPE_CHECKING:  # provided by Cache
        outbox: Outbox

        def change_profile(self, customer_id: str, *, durable: bool = True,
                           rows: dict[str, Any] | None = None
                           ) -> AbstractContextManager[ProfileFile]: ...

        def timeline_dir(self, customer_id: str) -> Path: ...

        def view_profile(self, customer_id: str) -> Any: ...

        def me(self) -> str: ...

        def _edit(self, customer_id: str, build: Callable[[ProfileFile], list[Mutation]]
                  ) -> dict[str, Any]: ...

    def entry_doc(self, customer_id: str, position: int) -> dict[str, Any]:
        """The stored entry at a position of a customer's timeline, as the file holds it."""
        loaded = self.view_profile(customer_id)
        if loaded is None:
            raise CacheError(f"Customer {customer_id} is not in the cache.")
        timeline = loaded[1]
        try:
            chunk, offset = timeline.locate(position)
        except IndexError:
            raise CacheError("That entry is no longer in the timeline.") from None
        return dict(timeline.chunk_docs(chunk)[offset])

    def _entry_edit(self, customer_id: str, entry: dict[str, Any],
                    make: Callable[[], Mutation]) -> Mutation:
        """Queue an edit of `entry` (as stored), then make it on the local copy."""
        m = make()
        with self.change_profile(customer_id) as profile:
            if profile.customer() is None:
                raise CacheError(f"Customer {customer_id} is not in the cache.")
            self.outbox.add([m])
        self.apply_entry_edit(m)
        return m

    def reassign_feedback(self, customer_id: str, entry: dict[str, Any], to: str) -> Mutation:
        """Move a feedback item to another customer (found by search): it leaves this
        customer's timeline, and joins the other's (at once if that customer is cached)."""
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import new_id

        if entry.get("kind") != "feedback":
            raise CacheError("Only feedback items can be assigned to another customer.")
        if to == customer_id:
            raise CacheError("The feedback item is this customer's already.")
        return self._entry_edit(customer_id, entry, lambda: mutations.make(
            MutationKind.FEEDBACK_REASSIGN, customer_id, entry["id"],
            {"to": to, "new_id": new_id("ent"), "base": entry}, None))

    def unlink_feedback(self, customer_id: str, entry: dict[str, Any]) -> Mutation:
        """Unlink a feedback item from the customer: it leaves the timeline (the tool it
        came from keeps it)."""
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind

        if entry.get("kind") != "feedback":
            raise CacheError("Only feedback items can be unlinked.")
        return self._entry_edit(customer_id, entry, lambda: mutations.make(
            MutationKind.FEEDBACK_UNLINK, customer_id, entry["id"], {"base": entry}, None))

    def update_response(self, customer_id: str, entry: dict[str, Any], **fields: Any) -> Mutation:
        """Ignore a survey response (or count it again), or set its tags."""
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind

        if entry.get("kind") != "response":
            raise CacheError("Only survey responses can be ignored or tagged.")
        details = entry.get("details") or {}
        base = {k: details.get(k) for k in fields}
        return self._entry_edit(customer_id, entry, lambda: mutations.make(
            MutationKind.RESPONSE_UPDATE, customer_id, entry["id"],
            {"set": dict(fields), "base": base, "entry": entry}, None))

    def start_conversation_from_response(self, customer_id: str, response: dict[str, Any],
                                         author: str) -> Mutation:
        """Start a conversation from a survey response: a new open conversation whose first
        entry is an internal note quoting the response (the agent writes to the customer
        from there). The same `conversation.start` as any other (`WorkEdits`), through the
        same door: its profile shows it at once, the timeline its note."""
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import Conversation, TimelineEntry, utcnow
        from agentdesk.model.work_mutations import Refused, check_start

        if response.get("kind") != "response":
            raise CacheError("A conversation is started from a survey response.")
        details = response.get("details") or {}
        campaign = str(details.get("campaign") or "survey")
        now = utcnow()
        conversation = Conversation(topic=f"Survey response: {campaign}"[:200], started=now,
                                    status="open", channels=[response.get("channel") or "email"],
                                    assignee=self.me())  # as the store knows this agent
        score = details.get("score")
        quote = "\n".join(f"> {line}" for line in [
            f"Score {score} · {campaign}" if score is not None else campaign,
            *str(response.get("body") or "").splitlines()])
        note = TimelineEntry(conversation_id=conversation.id, at=now, channel="note",
                             direction="internal", author=author,
                             body=f"Started from the customer's survey response:\n{quote}")
        data = {"conversation": conversation.model_dump(mode="json"),
                "entry": note.model_dump(mode="json")}
        try:
            check_start(data, conversation.id)
        except Refused as error:
            raise CacheError(str(error)) from None
        m = mutations.make(MutationKind.CONVERSATION_START, customer_id, conversation.id, data, None)
        self._edit(customer_id, lambda _: [m])
        return m

    # -- the local copy ------------------------------------------------------------------------

    def _change_entries(self, customer_id: str, upserts: list[dict[str, Any]],
                        deletes: list[dict[str, Any]]) -> None:
        obsolete: list[Path] = []
        with self.change_profile(customer_id) as profile:
            if profile.customer() is None:
                return  # not cached (a reassign to a customer this desk does not hold)
            obsolete = file_entries(self.timeline_dir(customer_id), profile, upserts, deletes,
                                    durable=True)
        for old in obsolete:  # the profile naming their replacements is written
            old.unlink(missing_ok=True)

    def apply_entry_edit(self, m: Mutation) -> None:
        """Make an entry edit on the local copy (applying it twice changes nothing more)."""
        kind, data = m.kind.value, m.data
        entry = data.get("base") if kind != "response.update" else data.get("entry")
        if not isinstance(entry, dict):
            return
        gone = {"id": m.target, "at": entry["at"]}
        if kind == "feedback.unlink":
            self._change_entries(m.customer_id, [], [gone])
        elif kind == "feedback.reassign":
            self._change_entries(m.customer_id, [], [gone])
            self._change_entries(str(data["to"]), [{**entry, "id": data["new_id"]}], [])
        elif kind == "response.update":
            details = {**(entry.get("details") or {}), **(data.get("set") or {})}
            self._change_entries(m.customer_id, [{**entry, "details": details}], [])

    def revert_entry_edit(self, m: Mutation, current: dict[str, Any] | None = None) -> None:
        """Undo an entry edit the store did not take: the entry as it was (or as the store
        has it now, `current`, after a conflict)."""
        kind, data = m.kind.value, m.data
        entry = current or (data.get("base") if kind != "response.update" else data.get("entry"))
        if not isinstance(entry, dict):
            return
        if kind == "feedback.reassign":
            self._change_entries(str(data["to"]), [], [{"id": data["new_id"], "at": entry["at"]}])
        self._change_entries(m.customer_id, [entry], [])
