"""The desk's edits applied to RT: each at most once, conflicts kept, never overwritten.

An edit of a customer is a change to an RT user: its RealName and Organization, its contact
fields, or the notes kept in its Comments (see `comments`); a conversation's status and
assignee go to its ticket (`ticket_push`), a reply is a Correspond (`reply_push`, which marks
it so that a retry finds it). Each edit of a user is applied as: read the user (and its ETag),
decide against RT's current values with the mutation's base values (the rules of
docs/sync-protocol.md, as the reference store applies them), then `PUT` only the fields that
change, with `If-Match: ETag`.
A 412 means someone changed the user between our read and our write: read again and decide
again.

RT has no idempotency keys; a retried push is recognised by its effect instead. Every one of
these edits says what the record should become (a note with its client-made id, a field's new
value), so when RT already holds that, the edit is answered "applied" without writing: a push
whose answer was lost after RT applied it, sent again, changes nothing. (A PUT that RT applied
and whose answer was lost is retried with the old ETag, gets 412, and the read that follows
finds the edit done.)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agentdesk.model.protocol import Mutation, MutationKind, MutationResult, MutationStatus
from agentdesk.model.records import ContactPoint, Note, utcnow
from agentdesk.sync.client import NotFound, RemoteError
from agentdesk.sync.rt import comments as comments_codec
from agentdesk.sync.rt import records
from agentdesk.sync.rt.feed import Feed
from agentdesk.sync.rt.http import Changed, RTHttp
from agentdesk.sync.rt.reply_push import Replies

ATTEMPTS = 4  # reads and writes of one user before the edit waits for the next sync
MISSING = object()
CUSTOMER_FIELDS = {"name": "RealName", "company": "Organization"}
# The edits kept on an RT user (a conversation's status and assignee: `ticket_push`).
USER_KINDS = frozenset({MutationKind.NOTE_ADD, MutationKind.NOTE_EDIT, MutationKind.NOTE_DELETE,
                        MutationKind.CUSTOMER_UPDATE, MutationKind.CONTACT_UPSERT,
                        MutationKind.CONTACT_DELETE})

# Edits RT has no place for at all, and why (docs/request-tracker.md, "What RT cannot carry").
_NO_LINKS = ("RT has no relationships between users (its links join tickets): there is "
             "nowhere to keep this one")
NOWHERE_IN_RT = {
    MutationKind.RELATIONSHIP_UPSERT: _NO_LINKS,
    MutationKind.RELATIONSHIP_DELETE: _NO_LINKS,
    MutationKind.CUSTOMER_ERASE: "RT's API cannot erase a user (only rt-shredder, an RT "
                                 "administrator's tool, removes one with its history): ask "
                                 "your RT administrator",
}


class Rejected(Exception):
    """Nothing is written; the edit is answered "rejected" with this reason."""


@dataclass
class Decision:
    """What one edit does to one user: the fields to PUT (none: nothing to write), and the
    answer once they are written."""

    put: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    current: dict[str, Any] | None = None


class Pusher:
    def __init__(self, http: RTHttp, feed: Feed) -> None:
        self.http = http
        self.feed = feed
        self.replies = Replies(http)

    def push(self, batch: list[Mutation], attempts: int | None = None,
             retried: Collection[str] = ()) -> list[MutationResult]:
        return [self.one(m, attempts, m.id in retried) for m in batch]

    def one(self, m: Mutation, attempts: int | None = None,
            retried: bool = False) -> MutationResult:
        if m.kind == MutationKind.REPLY_ADD:
            return self.replies.add(m, retried, attempts)
        if m.kind == MutationKind.CONVERSATION_UPDATE:
            from agentdesk.sync.rt.ticket_push import update_ticket

            return update_ticket(self.http, m, attempts)
        if m.kind in NOWHERE_IN_RT:
            return _rejected(m, NOWHERE_IN_RT[m.kind])
        if m.kind not in USER_KINDS:
            return _rejected(m, f"the RT connector does not send {m.kind.value} to RT yet")
        uid = records.user_id_of(m.customer_id)
        if uid is None:
            return _rejected(m, f"{m.customer_id} is not a customer from this RT")
        for _ in range(ATTEMPTS):
            try:
                user, etag = self.feed.user(uid)
            except NotFound:
                return _rejected(m, "the customer is gone from RT")
            try:
                decision = decide(m, user, etag)
            except Rejected as why:
                return _rejected(m, str(why))
            if decision.put:
                try:
                    self.http.request("PUT", f"/user/{uid}", f"saving {m.kind.value} in RT",
                                      attempts=attempts, json=decision.put,
                                      headers={"If-Match": etag})
                except Changed:
                    continue  # changed meanwhile (or our own earlier try landed): decide again
                after, _ = self.feed.user(uid)
                refused = [k for k, v in decision.put.items()
                           if str(after.get(k) or "").strip() != v.strip()]
                if refused:
                    return _rejected(m, "RT did not accept " + ", ".join(refused))
                if decision.conflicts:
                    decision.current = _current(m, after)
            if decision.conflicts:
                return MutationResult(id=m.id, status=MutationStatus.CONFLICT,
                                      current=decision.current, conflicts=decision.conflicts)
            return MutationResult(id=m.id, status=MutationStatus.APPLIED)
        raise RemoteError(f"saving an edit in RT: customer {m.customer_id} kept changing while "
                          f"we wrote ({ATTEMPTS} tries); it is sent again on the next sync")


def decide(m: Mutation, user: dict[str, Any], etag: str) -> Decision:
    """What `m` does to `user` as RT has it now (raises Rejected)."""
    revision = _int(etag.strip('"'))
    parsed = comments_codec.parse(user.get("Comments"))
    if m.kind == MutationKind.CUSTOMER_UPDATE:
        return _customer(m, user, revision)
    if m.kind in (MutationKind.NOTE_ADD, MutationKind.NOTE_EDIT, MutationKind.NOTE_DELETE):
        return _note(m, user, parsed, revision)
    if m.kind in (MutationKind.CONTACT_UPSERT, MutationKind.CONTACT_DELETE):
        return _contact(m, user, parsed, revision)
    # Feedback, survey responses, conversations started here: RT holds none of them.
    raise Rejected(f"RT has no place for {m.kind.value}")


def _customer(m: Mutation, user: dict[str, Any], revision: int) -> Decision:
    set_, base = _parts(m)
    cannot = sorted(set(set_) - set(CUSTOMER_FIELDS))
    if cannot:
        raise Rejected(f"RT has no place for a customer's {', '.join(cannot)}")
    if "name" in set_ and not str(set_["name"]).strip():
        raise Rejected("name: a customer needs a name")
    current = records.customer_data(user)
    out = Decision(current=current)
    for name, value in set_.items():
        if value == current[name]:
            continue
        if _based(m, base, name, current[name], revision):
            out.put[CUSTOMER_FIELDS[name]] = str(value)
        else:
            out.conflicts.append(name)
    return out


def _note(m: Mutation, user: dict[str, Any], parsed: comments_codec.Comments,
          revision: int) -> Decision:
    cid = records.customer_id(user["id"])
    staff_id = f"{cid}-comments"
    existing = {n["id"]: n for n in records.notes_of(user, parsed)}
    note = existing.get(m.target)
    if m.kind == MutationKind.NOTE_ADD:
        if note is not None:
            return Decision()  # there already: this push was sent before
        if m.data.get("id", m.target) != m.target:
            raise Rejected("the note's id must equal the mutation's target")
        try:
            new = Note.model_validate({**m.data, "id": m.target}).model_dump(mode="json")
        except ValidationError as error:
            raise Rejected(str(error.errors()[0].get("msg", "invalid note"))) from None
        parsed.notes.append({k: new[k] for k in ("id", "text", "author", "created", "updated")})
        return Decision(put={"Comments": comments_codec.render(parsed)})
    if m.kind == MutationKind.NOTE_DELETE:
        if note is None:
            return Decision()
        base = m.data.get("base") or {}
        unconditional = m.base_revision is None and "text" not in base
        if not (unconditional or _based(m, base, "text", note["text"], revision)):
            return Decision(conflicts=["text"], current=note)
        if m.target == staff_id:
            parsed.staff = ""
        parsed.notes = [n for n in parsed.notes if n["id"] != m.target]
        return Decision(put={"Comments": comments_codec.render(parsed)})
    set_, base = _parts(m)
    if set(set_) != {"text"} or not isinstance(set_["text"], str):
        raise Rejected("note.edit sets exactly one field: text")
    if note is None:
        raise Rejected("the note was deleted")
    if note["text"] == set_["text"]:
        return Decision()
    if not _based(m, base, "text", note["text"], revision):
        return Decision(conflicts=["text"], current=note)
    if m.target == staff_id:
        parsed.staff = set_["text"]
    for kept in parsed.notes:
        if kept["id"] == m.target:
            kept.update(text=set_["text"], updated=(m.made_at or utcnow().isoformat()))
    return Decision(put={"Comments": comments_codec.render(parsed)})


def _contact(m: Mutation, user: dict[str, Any], parsed: comments_codec.Comments,
             revision: int) -> Decision:
    cid = records.customer_id(user["id"])
    slot = records.slot_of(cid, m.target, parsed.contact_ids)
    contacts, _ = records.contacts_of(user, parsed.contact_ids)
    current = next((c for c in contacts if slot and c["id"] == records.contact_id(
        cid, slot, parsed.contact_ids)), None)
    if m.kind == MutationKind.CONTACT_DELETE:
        if current is None or slot is None:
            return Decision()
        base = m.data.get("base")
        if not ((base is None and m.base_revision is None)
                or _based(m, base or {}, "value", current["value"], revision)):
            return Decision(conflicts=["value"], current=current)
        parsed.contact_ids.pop(slot, None)
        return Decision(put={**records.slot_fields(slot, ""), **_ids(user, parsed)})
    set_, base = m.data.get("set"), m.data.get("base")
    if not isinstance(set_, dict) or not (base is None or isinstance(base, dict)):
        raise Rejected("contact.upsert needs data.set (a contact) and data.base (a contact or null)")
    try:
        wanted = ContactPoint.model_validate({**set_, "id": m.target})
    except ValidationError as error:
        raise Rejected(str(error.errors()[0].get("msg", "invalid contact"))) from None
    if current is None:
        if base is not None:
            return Decision(conflicts=["deleted"])  # RT's value was removed meanwhile
        slot = slot or _free_slot(user, wanted)
        if m.target != f"{cid}-{slot}":
            parsed.contact_ids[slot] = m.target
        return Decision(put={**records.slot_fields(slot, wanted.value), **_ids(user, parsed)})
    assert slot is not None
    if wanted.kind.value != records.SLOTS[slot][0]:
        raise Rejected(f"RT keeps this contact in its {slot} field: it stays a {records.SLOTS[slot][0]}")
    if wanted.value == current["value"]:
        return Decision()
    if not _based(m, base or {}, "value", current["value"], revision):
        return Decision(conflicts=["value"], current=current)
    return Decision(put=records.slot_fields(slot, wanted.value))


def _free_slot(user: dict[str, Any], contact: ContactPoint) -> str:
    kind = contact.kind.value
    slots = [s for s, (k, _, _) in records.SLOTS.items() if k == kind]
    if not slots:
        raise Rejected(f"RT has no field for a {kind} contact")
    slots.sort(key=lambda s: records.SLOTS[s][1] != contact.label)  # the matching label first
    for slot in slots:
        if not records.slot_value(user, slot):
            return slot
    have = {"email": "one e-mail address", "phone": "four phone numbers (work, mobile, home, "
            "pager)", "address": "one address"}[kind]
    raise Rejected(f"RT keeps {have} per user, and this customer's are taken")


def _ids(user: dict[str, Any], parsed: comments_codec.Comments) -> dict[str, str]:
    """The Comments to PUT when the contact ids kept there changed."""
    rendered = comments_codec.render(parsed)
    return {} if rendered == (user.get("Comments") or "") else {"Comments": rendered}


def _current(m: Mutation, user: dict[str, Any]) -> dict[str, Any] | None:
    """The record `m` changes, as RT has it after our write (a conflict's answer)."""
    if m.kind == MutationKind.CUSTOMER_UPDATE:
        return records.customer_data(user)
    return None


def _based(m: Mutation, base: dict[str, Any], name: str, current: Any, revision: int) -> bool:
    """Whether RT still has the value the edit was made on (or, without one, the revision)."""
    if name in base:
        return base[name] == current
    return m.base_revision is not None and m.base_revision == revision


def _parts(m: Mutation) -> tuple[dict[str, Any], dict[str, Any]]:
    set_, base = m.data.get("set"), m.data.get("base") or {}
    if not isinstance(set_, dict) or not isinstance(base, dict):
        raise Rejected(f"{m.kind.value} needs data.set and data.base objects")
    return set_, base


def _rejected(m: Mutation, reason: str) -> MutationResult:
    return MutationResult(id=m.id, status=MutationStatus.REJECTED, reason=reason)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
