"""The agent working conversations: replies, status and assignee, new conversations and
customers, relationships, erasure; as edits of the cache, queued like notes.

Each method checks the edit first (`model.work_mutations`, the checks the store makes too: a
bad value raises CacheError and nothing is written), queues it in the outbox (durable), then
applies it to the profile through `Cache.change_profile` (`apply_work`), so the desk shows it
at once and a crash loses nothing. `revert_work` undoes one the store rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from agentdesk.cache.files import CacheError
from agentdesk.cache.profile_file import ProfileFile

if TYPE_CHECKING:
    from agentdesk.cache.outbox import Outbox
    from agentdesk.model.protocol import Mutation
    from agentdesk.model.records import AgentInfo, ContactPoint, Relationship


def apply_work(profile: ProfileFile, m: Mutation) -> None:
    """Make one of these edits on the local copy (idempotent, as `edits.apply`)."""
    from agentdesk.model.protocol import MutationKind
    from agentdesk.model.work_mutations import conversation_after_entry

    data = m.data
    match m.kind:
        case MutationKind.CONVERSATION_UPDATE:
            profile.update("conversations", m.target, dict(data.get("effect") or data.get("set") or {}))
        case MutationKind.REPLY_ADD:
            entry = dict(data)
            profile.file_entries([entry], [])
            conv = profile.find("conversations", str(entry.get("conversation_id")))
            if conv is not None:
                profile.update("conversations", conv["id"], conversation_after_entry(conv, entry))
        case MutationKind.CONVERSATION_START:
            conv, entry = dict(data["conversation"]), dict(data["entry"])
            if profile.find("conversations", m.target) is None:
                profile.put("conversations", {**conv, **conversation_after_entry(conv, entry)})
            profile.file_entries([entry], [])
        case MutationKind.CUSTOMER_CREATE:
            if profile.customer() is None:
                profile.put("customer", dict(data["customer"]))
                for contact in data.get("contacts") or []:
                    profile.put("contacts", dict(contact))
        case MutationKind.RELATIONSHIP_UPSERT:
            profile.put("relationships", dict(data.get("set") or {}))
        case MutationKind.RELATIONSHIP_DELETE:
            profile.remove("relationships", m.target)
        case MutationKind.CUSTOMER_ERASE:
            if profile.existed or profile.changed:
                profile.drop_timeline()
                profile.clear()


def revert_work(profile: ProfileFile, m: Mutation) -> None:
    """Undo one of these edits on the local copy (the store rejected it). An erasure cannot
    be undone here: the replica has the customer fetched again."""
    from agentdesk.model.protocol import MutationKind

    data = m.data
    match m.kind:
        case MutationKind.CONVERSATION_UPDATE:
            base = data.get("base_effect") or data.get("base")
            if base:
                profile.update("conversations", m.target, dict(base))
        case MutationKind.REPLY_ADD:
            if data.get("at"):
                profile.file_entries([], [{"id": m.target, "at": data["at"]}])
        case MutationKind.CONVERSATION_START:
            profile.remove("conversations", m.target)
            entry = data.get("entry") or {}
            if entry.get("id") and entry.get("at"):
                profile.file_entries([], [{"id": entry["id"], "at": entry["at"]}])
        case MutationKind.CUSTOMER_CREATE:
            profile.drop_timeline()
            profile.clear()
        case MutationKind.RELATIONSHIP_UPSERT | MutationKind.RELATIONSHIP_DELETE:
            base = data.get("base")
            if base:
                profile.put("relationships", dict(base))
            else:
                profile.remove("relationships", m.target)


class WorkEdits:
    """The conversation work of an agent, as methods of the cache (see `Cache`)."""

    if TYPE_CHECKING:  # provided by Cache and AgentEdits
        outbox: Outbox

        def change_profile(self, customer_id: str, *, durable: bool = True,
                           rows: dict[str, Any] | None = None
                           ) -> AbstractContextManager[ProfileFile]: ...

        def _edit(self, customer_id: str,
                  build: Callable[[ProfileFile], list[Mutation]]) -> dict[str, Any]: ...

        def agents(self) -> list[AgentInfo]: ...

        def me(self) -> str: ...

        def forget_recent(self, renames: dict[str, str | None]) -> None: ...

    def pending_targets(self, customer_id: str) -> set[str]:
        """Ids of the records this desk's unconfirmed edits of the customer make or change
        (a reply's entry id among them: the timeline marks those entries pending)."""
        return {i.mutation.target for i in self.outbox.items(customer_id) if i.status == "pending"}

    def update_conversation(self, customer_id: str, conversation_id: str, **fields: Any) -> None:
        """Change a conversation's status (with `snoozed_until` when snoozing), assignee,
        topic, tags or priority. Only fields that change are sent; the store merges them field
        by field with other agents' changes (a conflicting field keeps the store's value and
        the agent's goes under Unsynced edits). Raises CacheError for a value the store would
        reject (an assignee the store does not list, a snooze without a future time...)."""
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import utcnow
        from agentdesk.model.work_mutations import Refused, conversation_after_update

        set_ = {k: _json(v) for k, v in fields.items()}
        assignee = set_.get("assignee")
        if assignee:
            known = {a.name for a in self.agents()}
            if known and assignee not in known:
                raise CacheError(f"No agent named {assignee[:60]!r} is known to the store.")

        def build(profile: ProfileFile) -> list[Mutation]:
            current = _conversation(profile, conversation_id)
            try:
                effect = conversation_after_update(current, set_, utcnow())
            except Refused as error:
                raise CacheError(str(error)) from None
            changed = {k: v for k, v in effect.items() if k in set_ and current.get(k) != v}
            if not changed:
                return []
            effect = {k: v for k, v in effect.items() if current.get(k) != v}
            return [mutations.make(
                MutationKind.CONVERSATION_UPDATE, customer_id, conversation_id,
                {"set": changed, "base": {k: current.get(k) for k in changed},
                 # What the desk shows meanwhile (the fields that follow, such as `ended`),
                 # and what undoes it: the store works them out again itself.
                 "effect": effect, "base_effect": {k: current.get(k) for k in effect}},
                profile.revision_of("conversation", conversation_id),
            )]

        self._edit(customer_id, build)

    def add_reply(self, customer_id: str, conversation_id: str, body: str, author: str,
                  *, note: bool = False) -> str:
        """Reply to the customer on the conversation's channel: an outbound entry, shown at
        once (pending until the store confirms it: its id is a pending outbox target). With
        `note`, an internal note on the conversation instead (the note channel, internal:
        the customer never sees it), queued and shown the same way. Returns the entry's id."""
        from agentdesk.model import mutations
        from agentdesk.model.kinds import Channel, Direction
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import TimelineEntry, new_id, utcnow
        from agentdesk.model.work_mutations import Refused, check_reply, reply_channel

        entry_id = new_id("ent")

        def build(profile: ProfileFile) -> list[Mutation]:
            conv = _conversation(profile, conversation_id)
            channel = Channel.NOTE if note else reply_channel(conv)
            entry = TimelineEntry.model_construct(
                id=entry_id, conversation_id=conversation_id, at=utcnow(), channel=channel,
                direction=Direction.INTERNAL if note else Direction.OUTBOUND, author=author,
                body=body,
                subject=f"Re: {conv.get('topic', '')}" if channel == Channel.EMAIL else "")
            try:
                checked = check_reply(entry.model_dump(mode="json"), entry_id)
            except Refused as error:
                raise CacheError(str(error)) from None
            return [mutations.make(MutationKind.REPLY_ADD, customer_id, entry_id,
                                   checked.model_dump(mode="json"), None)]

        self._edit(customer_id, build)
        return entry_id

    def start_conversation(self, customer_id: str, topic: str, channel: str, body: str,
                           author: str) -> str:
        """A new conversation with the customer, on `channel`, opened by the agent's first
        message; assigned to this agent (as the store knows them), pending the customer's
        answer. Returns the conversation's id."""
        from agentdesk.model import mutations
        from agentdesk.model.kinds import ConversationStatus, Direction
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import new_id, utcnow
        from agentdesk.model.work_mutations import Refused, check_start

        conversation_id, now = new_id("conv"), utcnow()
        data = {
            "conversation": {"id": conversation_id, "topic": topic.strip(),
                             "status": ConversationStatus.PENDING.value, "channels": [channel],
                             "started": now, "assignee": self.me()},
            "entry": {"id": new_id("ent"), "conversation_id": conversation_id, "at": now,
                      "channel": channel, "direction": Direction.OUTBOUND.value,
                      "author": author, "subject": topic.strip() if channel == "email" else "",
                      "body": body},
        }
        try:
            conv, entry = check_start(data, conversation_id)
        except Refused as error:
            raise CacheError(str(error)) from None
        checked = {"conversation": conv.model_dump(mode="json"),
                   "entry": entry.model_dump(mode="json")}
        self._edit(customer_id, lambda _: [mutations.make(
            MutationKind.CONVERSATION_START, customer_id, conversation_id, checked, None)])
        return conversation_id

    def create_customer(self, name: str, company: str, contacts: list[ContactPoint]) -> str:
        """A new customer (a name and at least one valid contact point), in the cache at once
        and created in the store at the next sync. Returns the customer's id."""
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import new_id
        from agentdesk.model.work_mutations import Refused, check_new_customer

        customer_id = new_id("cus")
        data = {"customer": {"id": customer_id, "name": name.strip(), "company": company.strip()},
                "contacts": [c.model_dump(mode="json") for c in contacts]}
        try:
            customer, points = check_new_customer(data, customer_id)
        except Refused as error:
            raise CacheError(str(error)) from None
        m = mutations.make(MutationKind.CUSTOMER_CREATE, customer_id, customer_id, {
            "customer": customer.model_dump(mode="json"),
            "contacts": [p.model_dump(mode="json") for p in points]}, None)
        with self.change_profile(customer_id) as profile:
            if profile.existed:
                raise CacheError("A customer with that id exists already.")
            self.outbox.add([m])
            apply_work(profile, m)
        return customer_id

    def put_relationship(self, customer_id: str, relationship: Relationship) -> None:
        """Add or change a relationship (label, other customer) of the customer."""
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.work_mutations import Refused, check_relationship

        def build(profile: ProfileFile) -> list[Mutation]:
            base = profile.find("relationships", relationship.id)
            doc = relationship.model_dump(mode="json")
            try:
                rel = check_relationship({"set": doc, "base": base}, relationship.id, customer_id)
            except Refused as error:
                raise CacheError(str(error)) from None
            new = rel.model_dump(mode="json")
            if base == new:
                return []
            return [mutations.make(MutationKind.RELATIONSHIP_UPSERT, customer_id, relationship.id,
                                   {"set": new, "base": base},
                                   profile.revision_of("relationship", relationship.id))]

        self._edit(customer_id, build)

    def delete_relationship(self, customer_id: str, relationship_id: str) -> None:
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind

        def build(profile: ProfileFile) -> list[Mutation]:
            base = profile.find("relationships", relationship_id)
            if base is None:
                raise CacheError("That relationship no longer exists.")
            return [mutations.make(MutationKind.RELATIONSHIP_DELETE, customer_id, relationship_id,
                                   {"base": base},
                                   profile.revision_of("relationship", relationship_id))]

        self._edit(customer_id, build)

    def erase_customer(self, customer_id: str, confirm_name: str) -> None:
        """Erase a customer (a privacy request): `confirm_name` must be the customer's name as
        the agent sees it. The customer leaves this cache at once; the store erases them at
        the next sync (the outbox keeps the erasure until then)."""
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.work_mutations import names_match

        def build(profile: ProfileFile) -> list[Mutation]:
            name = str((profile.customer() or {}).get("name", ""))
            if not names_match(confirm_name, name):
                raise CacheError("The name typed is not the customer's name: nothing was erased.")
            return [mutations.make(MutationKind.CUSTOMER_ERASE, customer_id, customer_id,
                                   {"confirm": confirm_name.strip()}, None)]

        self._edit(customer_id, build)
        self.forget_recent({customer_id: None})


def _conversation(profile: ProfileFile, conversation_id: str) -> dict[str, Any]:
    doc = profile.find("conversations", conversation_id)
    if doc is None:
        raise CacheError("That conversation is not in this customer's profile.")
    return doc


def _json(value: Any) -> Any:
    """A field value as JSON holds it (times as ISO text, enums as their value)."""
    from datetime import datetime
    from enum import Enum

    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value
