"""RT's users, tickets and transactions as the desk's records (feed changes). No I/O.

Ids: customer `rt-user-<user id>`, conversation `rt-ticket-<ticket id>`, timeline entry
`rt-txn-<transaction id>`, contact `rt-user-<id>-<slot>` (or the id the desk gave it, see
`comments`), staff's own comments `rt-user-<id>-comments`. A record's revision, and each
change's seq, is the id of the RT transaction it comes from: RT numbers transactions in one
sequence, so the feed is ordered like the reference store's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agentdesk.sync.rt import comments as comments_codec

CUSTOMER_PREFIX, TICKET_PREFIX, ENTRY_PREFIX = "rt-user-", "rt-ticket-", "rt-txn-"
NEVER = "1970-01-01T00:00:00Z"  # how RT writes a date that is not set
INTERNAL_USERS = frozenset({"RT_System", "Nobody"})
# RT's fixed contact fields: slot -> (kind, label, RT fields). An address is RT's six fields
# joined with ", "; the desk writes an address back into Address1 and clears the rest.
SLOTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "email": ("email", "", ("EmailAddress",)),
    "workphone": ("phone", "work", ("WorkPhone",)),
    "mobilephone": ("phone", "mobile", ("MobilePhone",)),
    "homephone": ("phone", "home", ("HomePhone",)),
    "pagerphone": ("phone", "pager", ("PagerPhone",)),
    "address": ("address", "", ("Address1", "Address2", "City", "State", "Zip", "Country")),
}
USER_FIELDS = ("Name,EmailAddress,RealName,Organization,WorkPhone,HomePhone,MobilePhone,"
               "PagerPhone,Address1,Address2,City,State,Zip,Country,Comments,Created,"
               "LastUpdated,Disabled,Privileged,CustomFields")
# RT lifecycle statuses -> the desk's; "deleted" removes the conversation.
STATUSES = {"new": "new", "open": "open", "stalled": "pending", "resolved": "closed",
            "rejected": "closed"}
MESSAGE_TYPES = frozenset({"Create", "Correspond", "Comment"})
# Transactions that are RT's bookkeeping of something another transaction already says.
SILENT_TYPES = frozenset({"EmailRecord", "CommentEmailRecord", "SetWatcher", "Told",
                          "AddReminder", "OpenReminder", "ResolveReminder"})


def customer_id(user_id: int | str) -> str:
    return f"{CUSTOMER_PREFIX}{user_id}"


def user_id_of(customer: str) -> int | None:
    match = re.fullmatch(r"rt-user-(\d+)", customer)
    return int(match.group(1)) if match else None


def ticket_id_of(conversation: str) -> int | None:
    match = re.fullmatch(r"rt-ticket-(\d+)", conversation)
    return int(match.group(1)) if match else None


def change(seq: int, op: str, kind: str, rid: str, cid: str, data: dict[str, Any] | None) -> dict[str, Any]:
    return {"seq": seq, "op": op, "type": kind, "id": rid, "customer_id": cid, "revision": seq,
            "data": data}


def when(value: Any, default: str | None = None) -> str | None:
    text = str(value or "")
    return default if not text or text == NEVER else text


def is_customer(user: dict[str, Any]) -> bool:
    """RT's end users (unprivileged) are customers; staff are not, nor RT's own users."""
    return str(user.get("Name")) not in INTERNAL_USERS and not _true(user.get("Privileged"))


def slot_value(user: dict[str, Any], slot: str) -> str:
    parts = [str(user.get(name) or "").strip() for name in SLOTS[slot][2]]
    return ", ".join(p for p in parts if p)


def slot_fields(slot: str, value: str) -> dict[str, str]:
    """The RT fields to PUT for a slot's new value ("" clears it)."""
    names = SLOTS[slot][2]
    return {name: (value if index == 0 else "") for index, name in enumerate(names)}


def contact_id(cid: str, slot: str, ids: dict[str, str]) -> str:
    return ids.get(slot) or f"{cid}-{slot}"


def slot_of(cid: str, contact: str, ids: dict[str, str]) -> str | None:
    for slot, desk_id in ids.items():
        if desk_id == contact and slot in SLOTS:
            return slot
    prefix = cid + "-"
    if contact.startswith(prefix) and contact[len(prefix):] in SLOTS:
        return contact[len(prefix):]
    return None


def customer_data(user: dict[str, Any]) -> dict[str, Any]:
    cid = customer_id(user["id"])
    name = str(user.get("RealName") or "").strip() or str(user.get("EmailAddress") or "").strip() \
        or str(user.get("Name") or cid)
    fields = {str(cf.get("name")): ", ".join(str(v) for v in cf.get("values") or [])
              for cf in user.get("CustomFields") or [] if isinstance(cf, dict) and cf.get("name")}
    data: dict[str, Any] = {
        "id": cid, "name": name, "company": str(user.get("Organization") or ""),
        "status": "churned" if _true(user.get("Disabled")) else "active", "tags": [],
        "created": when(user.get("Created"), NEVER), "updated": when(user.get("LastUpdated"), NEVER),
        "source": "rt", "rt_name": str(user.get("Name") or ""),
    }
    if fields:
        data["fields"] = fields
    return data


def contacts_of(user: dict[str, Any], ids: dict[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """(the contact points RT holds, the ids of empty slots: tombstones for the desk)."""
    cid = customer_id(user["id"])
    out, empty = [], []
    for slot, (kind, label, _) in SLOTS.items():
        value = slot_value(user, slot)
        rid = contact_id(cid, slot, ids)
        if not value:
            empty.append(rid)
            continue
        out.append({"id": rid, "kind": kind, "value": value, "label": label,
                    "primary": slot in ("email", "workphone", "address")})
    return out, empty


def notes_of(user: dict[str, Any], parsed: comments_codec.Comments) -> list[dict[str, Any]]:
    cid = customer_id(user["id"])
    created = when(user.get("Created"), NEVER)
    updated = when(user.get("LastUpdated"), NEVER)
    notes = []
    staff = comments_codec.staff_note_text(parsed)
    if staff:
        notes.append({"id": f"{cid}-comments", "text": staff, "author": "RT",
                      "created": created, "updated": updated})
    for note in parsed.notes:
        notes.append({"id": note["id"], "text": note["text"], "author": str(note.get("author") or ""),
                      "created": when(note.get("created"), created),
                      "updated": when(note.get("updated"), updated)})
    return notes


def user_changes(seq: int, user: dict[str, Any],
                 old_comments: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Every record of one customer as of now, and tombstones for what is gone (empty contact
    slots; notes that earlier Comments held, `old_comments`, and the current ones do not)."""
    cid = customer_id(user["id"])
    parsed = comments_codec.parse(user.get("Comments"))
    out = [change(seq, "upsert", "customer", cid, cid, customer_data(user))]
    contacts, empty = contacts_of(user, parsed.contact_ids)
    out += [change(seq, "upsert", "contact", c["id"], cid, c) for c in contacts]
    out += [change(seq, "delete", "contact", rid, cid, None) for rid in empty]
    notes = notes_of(user, parsed)
    out += [change(seq, "upsert", "note", n["id"], cid, n) for n in notes]
    live = {n["id"] for n in notes}
    gone_notes: set[str] = set()
    gone_contacts: set[str] = set()
    for text in old_comments:
        old = comments_codec.parse(text)
        gone_notes |= {n["id"] for n in old.notes} - live
        if comments_codec.staff_note_text(old) and f"{cid}-comments" not in live:
            gone_notes.add(f"{cid}-comments")
        gone_contacts |= {i for s, i in old.contact_ids.items() if parsed.contact_ids.get(s) != i}
    out += [change(seq, "delete", "note", rid, cid, None) for rid in sorted(gone_notes)]
    out += [change(seq, "delete", "contact", rid, cid, None) for rid in sorted(gone_contacts)]
    return out


def conversation_data(ticket: dict[str, Any]) -> dict[str, Any]:
    status = str(ticket.get("Status") or "new")
    queue = ticket.get("Queue")
    owner = ticket.get("Owner")
    owner_name = str(owner.get("Name") or owner.get("id") or "") if isinstance(owner, dict) else ""
    closed = STATUSES.get(status) == "closed"
    return {
        "id": f"{TICKET_PREFIX}{ticket['id']}",
        "topic": str(queue.get("Name") or "") if isinstance(queue, dict) else "",
        "status": STATUSES.get(status, "open"),
        "channels": ["email"],
        "started": when(ticket.get("Created"), NEVER),
        "ended": when(ticket.get("Resolved")) if closed else None,
        "assignee": "" if owner_name == "Nobody" else owner_name,
        "subject": str(ticket.get("Subject") or ""),
        "priority": priority_of(_int(ticket.get("Priority"))),
        "rt_priority": _int(ticket.get("Priority")),
        "rt_status": status,
    }


def priority_of(rt_priority: int) -> str:
    """RT's 0-99 priority as the desk's four: 0 (RT's "not set") is normal."""
    if rt_priority >= 90:
        return "urgent"
    if rt_priority >= 67:
        return "high"
    if 1 <= rt_priority < 34:
        return "low"
    return "normal"


def requestor_ids(ticket: dict[str, Any]) -> list[int]:
    found = []
    for person in ticket.get("Requestor") or []:
        if isinstance(person, dict) and str(person.get("id", "")).isdigit():
            found.append(int(person["id"]))
    return found


def requestor_names(ticket: dict[str, Any]) -> set[str]:
    return {str(p.get("Name")) for p in ticket.get("Requestor") or [] if isinstance(p, dict)}


def entry_data(txn: dict[str, Any], ticket: dict[str, Any], body: tuple[str, str] | None,
               names: dict[str, str]) -> dict[str, Any] | None:
    """A ticket transaction as a timeline entry, or None for RT's bookkeeping. `body` is the
    transaction's (subject, text); `names` turns user ids (in Owner changes) into names."""
    kind = str(txn.get("Type") or "")
    if kind in SILENT_TYPES:
        return None
    creator = txn.get("Creator")
    author = str(creator.get("id") or "") if isinstance(creator, dict) else str(creator or "")
    entry: dict[str, Any] = {
        "id": f"{ENTRY_PREFIX}{txn['id']}",
        "conversation_id": f"{TICKET_PREFIX}{ticket.get('EffectiveId') or ticket['id']}",
        "at": when(txn.get("Created"), NEVER), "author": author, "rt_type": kind,
    }
    subject, text = body or ("", "")
    if kind in ("Create", "Correspond"):
        inbound = author in requestor_names(ticket)
        entry.update(channel="email", direction="inbound" if inbound else "outbound",
                     subject=subject or (str(ticket.get("Subject") or "") if kind == "Create" else ""),
                     body=text)
    elif kind == "Comment":
        entry.update(channel="note", direction="internal", subject=subject, body=text)
    else:
        entry.update(channel="note", direction="internal", subject=_event(txn, names), body="")
    return entry


def _event(txn: dict[str, Any], names: dict[str, str]) -> str:
    """A line saying what a non-message transaction did ("Status: open → resolved")."""
    kind, fld = str(txn.get("Type") or ""), str(txn.get("Field") or "")
    old, new = str(txn.get("OldValue") or ""), str(txn.get("NewValue") or "")
    if fld == "Owner":
        old, new = names.get(old, old), names.get(new, new)
    if kind in ("AddLink", "DeleteLink"):  # RT names the other ticket by URI: say "#4"
        target = re.sub(r"^fsck\.com-rt://[^/]*/ticket/(\d+)$", r"#\1", new or old)
        return f"{'' if kind == 'AddLink' else 'removed '}{fld} {target}".strip()
    if kind in ("Status", "Set") or (old or new) and fld:
        return f"{fld or kind}: {old or '—'} → {new or '—'}"
    return f"{kind} {fld} {new}".strip()


def _true(value: Any) -> bool:
    return str(value or "0") not in ("0", "", "false")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
