"""The agent's edits: queued in the outbox, then saved to the profile, through one door.

An edit becomes mutations (`agentdesk.model.mutations`), which go to the outbox (durable)
before the profile file shows them: a crash between the two loses nothing, since the queued
mutation is pushed to the store and comes back with the next sync. `apply` is what a
mutation does to a profile file; the replica uses it too, to keep showing the agent's
still-pending edits on top of what the store sends, and `revert` undoes an edit the store
rejected. So the local copy always reads "store + my pending edits".
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from agentdesk.cache.files import CacheError
from agentdesk.cache.profile_file import ProfileFile, docs, profile_doc
from agentdesk.cache.work_edits import WorkEdits

if TYPE_CHECKING:
    from agentdesk.cache.outbox import Outbox
    from agentdesk.model.protocol import Mutation
    from agentdesk.model.records import ContactPoint, Note, Profile


def apply(profile: ProfileFile, m: Mutation) -> None:
    """Make the edit on the local copy (idempotent: applying twice changes nothing more)."""
    from agentdesk.cache.profile_data_edits import apply_data
    from agentdesk.model.protocol import MutationKind

    if apply_data(profile, m):  # fields, consent, subscriptions
        return
    data = m.data
    match m.kind:
        case MutationKind.NOTE_ADD:
            profile.put("notes", dict(data))
        case MutationKind.NOTE_EDIT:
            fields = dict(data.get("set", {}))
            if m.made_at:
                fields["updated"] = m.made_at.replace("+00:00", "Z")
            profile.update("notes", m.target, fields)
        case MutationKind.NOTE_DELETE:
            profile.remove("notes", m.target)
        case MutationKind.CONTACT_DELETE:
            profile.remove("contacts", m.target)
        case MutationKind.CUSTOMER_UPDATE:
            profile.update("customer", m.target, dict(data.get("set", {})))
        case MutationKind.CONTACT_UPSERT:
            profile.put("contacts", dict(data.get("set", {})))
        case _:
            from agentdesk.cache.work_edits import apply_work

            apply_work(profile, m)


def revert(profile: ProfileFile, m: Mutation) -> None:
    """Undo the edit on the local copy (the store rejected it)."""
    from agentdesk.cache.profile_data_edits import revert_data
    from agentdesk.model.mutations import table_of
    from agentdesk.model.protocol import MutationKind

    if revert_data(profile, m):
        return
    base = m.data.get("base")
    match m.kind:
        case MutationKind.NOTE_ADD:
            profile.remove("notes", m.target)
        case MutationKind.NOTE_EDIT | MutationKind.CUSTOMER_UPDATE:
            if base:
                profile.update(table_of(m), m.target, dict(base))
        case MutationKind.NOTE_DELETE | MutationKind.CONTACT_DELETE | MutationKind.CONTACT_UPSERT:
            if base:
                profile.put(table_of(m), dict(base))
            else:
                profile.remove(table_of(m), m.target)
        case _:
            from agentdesk.cache.work_edits import revert_work

            revert_work(profile, m)


class AgentEdits(WorkEdits):
    """The edits an agent makes in the desk, as methods of the cache (see `Cache`); working
    conversations (replies, status, assignee...) are in `WorkEdits`."""

    if TYPE_CHECKING:  # provided by Cache
        outbox: Outbox

        def change_profile(self, customer_id: str, *, durable: bool = True,
                           rows: dict[str, Any] | None = None
                           ) -> AbstractContextManager[ProfileFile]: ...

    def _edit(self, customer_id: str, build: Callable[[ProfileFile], list[Mutation]]) -> dict[str, Any]:
        """Make an edit: `build` turns the profile into the edit's mutations (raising to
        refuse it, with nothing written); they are queued, then applied to the profile.
        Returns the profile file's tables afterwards."""
        with self.change_profile(customer_id) as profile:
            if profile.customer() is None:
                raise CacheError(f"Customer {customer_id} is not in the cache.")
            changes = build(profile)
            if changes:
                self.outbox.add(changes)
                for m in changes:
                    apply(profile, m)
        return profile.raw()

    def local_changes(self, customer_id: str) -> list[dict[str, Any]]:
        """Edits made here and not yet confirmed by the store, oldest first."""
        return [
            {**i.mutation.model_dump(mode="json"), "status": i.status, "reason": i.reason}
            for i in self.outbox.items(customer_id)
        ]

    def resolve(self, mutation_id: str, *, keep: bool) -> None:
        """The agent's answer to a conflicting or rejected edit.

        keep: send the agent's values again (for a conflict: on top of the store's current
        version, so it applies this time); otherwise discard the edit (the local copy already
        shows the store's version).
        """
        from agentdesk.model import mutations

        item = next((i for i in self.outbox.items() if i.mutation.id == mutation_id), None)
        if item is None:
            raise CacheError("That edit is no longer waiting.")
        if not keep:
            self.outbox.discard(mutation_id)
            return
        if item.status == "conflict":
            new = mutations.reapply(item.mutation, item.current, item.revision, item.conflicts)
        else:
            from agentdesk.model.records import new_id

            new = item.mutation.model_copy(update={"id": new_id("mut")})
        from agentdesk.model.protocol import MutationKind
        from agentdesk.cache.entry_edits import is_entry_edit

        with self.change_profile(new.customer_id) as profile:
            self.outbox.replace(mutation_id, new)
            if profile.customer() is not None or new.kind == MutationKind.CUSTOMER_CREATE:
                apply(profile, new)
        if is_entry_edit(new):  # (made on the timeline files: `entry_edits`)
            self.apply_entry_edit(new)  # type: ignore[attr-defined]  (EntryEdits, of Cache)

    def add_note(self, customer_id: str, text: str, author: str = "") -> Note:
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import Note

        note = Note(text=text, author=author)
        data = note.model_dump(mode="json")
        self._edit(customer_id, lambda _: [
            mutations.make(MutationKind.NOTE_ADD, customer_id, note.id, data, None)
        ])
        return note

    def edit_note(self, customer_id: str, note_id: str, text: str) -> Note:
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import Note, from_stored

        def build(profile: ProfileFile) -> list[Mutation]:
            doc = _existing_note(profile, note_id)
            Note.model_validate({**doc, "text": text})  # refuse what the model would
            return [mutations.make(
                MutationKind.NOTE_EDIT, customer_id, note_id,
                {"set": {"text": text}, "base": {"text": doc.get("text", "")}},
                profile.revision_of("note", note_id),
            )]

        tables = self._edit(customer_id, build)
        return from_stored(Note, next(d for d in docs(tables, "notes") if d["id"] == note_id))

    def delete_note(self, customer_id: str, note_id: str) -> None:
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind

        def build(profile: ProfileFile) -> list[Mutation]:
            return [mutations.make(
                MutationKind.NOTE_DELETE, customer_id, note_id,
                {"base": _existing_note(profile, note_id)}, profile.revision_of("note", note_id),
            )]

        self._edit(customer_id, build)

    def update_details(
        self, customer_id: str, *, name: str, company: str, contacts: list[ContactPoint],
        base: Profile | None = None,
    ) -> Profile:
        """Save the edit-contact form: name, company and the whole list of contact points.

        Values are validated (pydantic, e-mail and phone checks) before anything is written:
        an invalid value raises and the cache is untouched. Only what changed is queued, one
        mutation per record, so the store can merge it with edits made elsewhere. `base` is the
        profile the form was opened on: a field the agent left alone is not "changed back" if a
        sync updated it meanwhile.
        """
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import ContactPoint, Customer, from_stored

        checked = [ContactPoint.model_validate(c.model_dump()) for c in contacts]

        def build(profile: ProfileFile) -> list[Mutation]:
            old = base.customer.model_dump(mode="json") if base else (profile.customer() or {})
            Customer.model_validate({**old, "name": name, "company": company})
            changed = {k: v for k, v in (("name", name), ("company", company)) if old.get(k) != v}
            out: list[Mutation] = []
            if changed:
                out.append(mutations.make(
                    MutationKind.CUSTOMER_UPDATE, customer_id, customer_id,
                    {"set": changed, "base": {k: old.get(k) for k in changed}},
                    profile.revision_of("customer", customer_id),
                ))
            before = {d["id"]: d for d in (
                [c.model_dump(mode="json") for c in base.contacts] if base
                else profile.all("contacts"))}
            for point in checked:
                doc = point.model_dump(mode="json")
                was = before.pop(point.id, None)
                if was != doc:
                    out.append(mutations.make(
                        MutationKind.CONTACT_UPSERT, customer_id, point.id,
                        {"set": doc, "base": was}, profile.revision_of("contact", point.id),
                    ))
            for gone_id, was in before.items():
                out.append(mutations.make(
                    MutationKind.CONTACT_DELETE, customer_id, gone_id, {"base": was},
                    profile.revision_of("contact", gone_id),
                ))
            return out

        from agentdesk.model.records import Profile

        return from_stored(Profile, profile_doc(self._edit(customer_id, build)))


def _existing_note(profile: ProfileFile, note_id: str) -> dict[str, Any]:
    doc = profile.find("notes", note_id)
    if doc is None:
        raise CacheError("That note no longer exists.")
    return doc

