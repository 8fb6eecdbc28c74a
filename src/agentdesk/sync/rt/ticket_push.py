"""A conversation's status and assignee changed in the desk, applied to its RT ticket.

As with users (`push`): read the ticket and its ETag, decide against RT's current values with
the mutation's base values (a field RT changed since the desk saw it keeps RT's value: a
conflict), `PUT` only what changes with `If-Match`, read again on 412. A retried push is
recognised by its effect (the ticket already has the value). RT has four of the desk's five
statuses: pending and snoozed are both RT's "stalled" (RT keeps no snooze time), closed is
"resolved". The other fields (priority, tags, topic) have no place the desk may write in RT:
the edit is rejected, saying so.
"""

from __future__ import annotations

from typing import Any

from agentdesk.model.protocol import Mutation, MutationResult, MutationStatus
from agentdesk.sync.client import NotFound, RemoteError
from agentdesk.sync.rt import records
from agentdesk.sync.rt.http import Changed, RTHttp

ATTEMPTS = 4
# The desk's status -> RT's.
RT_STATUS = {"new": "new", "open": "open", "pending": "stalled", "snoozed": "stalled",
             "closed": "resolved"}
FIELDS = {"status": "Status", "assignee": "Owner"}
NOBODY = "Nobody"


def update_ticket(http: RTHttp, m: Mutation, attempts: int | None = None) -> MutationResult:
    """Apply a `conversation.update` to the ticket it names."""
    tid = records.ticket_id_of(m.target)
    if tid is None:
        return _rejected(m, f"{m.target} is not a ticket of this RT")
    set_, base = m.data.get("set"), m.data.get("base") or {}
    if not isinstance(set_, dict) or not isinstance(base, dict):
        return _rejected(m, "conversation.update needs data.set and data.base objects")
    cannot = sorted(k for k in set_ if k not in FIELDS
                    and not (k == "snoozed_until" and set_.get("status") == "snoozed"))
    if cannot:
        return _rejected(m, f"RT has no place the desk can set a conversation's {', '.join(cannot)}")
    if "status" in set_ and set_["status"] not in RT_STATUS:
        return _rejected(m, f"status: RT has no status for {str(set_['status'])[:40]}")
    for _ in range(ATTEMPTS):
        try:
            ticket, headers = http.request("GET", f"/ticket/{tid}", f"reading RT ticket {tid}")
        except NotFound:
            return _rejected(m, "the ticket is gone from RT")
        if not isinstance(ticket, dict):
            raise RemoteError(f"reading RT ticket {tid}: RT sent something else than a ticket")
        etag = headers.get("etag", "")
        current = records.conversation_data(ticket)
        put: dict[str, str] = {}
        conflicts: list[str] = []
        for name in (k for k in set_ if k in FIELDS):
            value = set_[name]
            if _same(name, value, current[name]):
                continue
            based = (_same(name, base[name], current[name]) if name in base
                     else m.base_revision is not None and m.base_revision == _int(etag.strip('"')))
            if based:
                put[FIELDS[name]] = RT_STATUS[value] if name == "status" else (value or NOBODY)
            else:
                conflicts.append(name)
        if put:
            try:
                http.request("PUT", f"/ticket/{tid}", "saving conversation.update in RT",
                             attempts=attempts, json=put, headers={"If-Match": etag} if etag else {})
            except Changed:
                continue
            after, _ = http.request("GET", f"/ticket/{tid}", f"reading RT ticket {tid}")
            current = records.conversation_data(after)
            refused = [name for name in set_ if name in FIELDS and FIELDS[name] in put
                       and not _same(name, set_[name], current[name])]
            if refused:
                return _rejected(m, "RT did not accept the " + " and ".join(refused)
                                 + (" (is the assignee an RT user who may own tickets?)"
                                    if "assignee" in refused else ""))
        if conflicts:
            return MutationResult(id=m.id, status=MutationStatus.CONFLICT, current=current,
                                  conflicts=conflicts)
        return MutationResult(id=m.id, status=MutationStatus.APPLIED)
    raise RemoteError(f"saving an edit in RT: ticket {tid} kept changing while we wrote "
                      f"({ATTEMPTS} tries); it is sent again on the next sync")


def _same(name: str, desk_value: Any, rt_value: Any) -> bool:
    """Whether RT's value is what the desk's would be there (pending and snoozed are both
    RT's stalled)."""
    if name == "status":
        return RT_STATUS.get(str(desk_value)) == RT_STATUS.get(str(rt_value))
    return (desk_value or "") == (rt_value or "")


def _rejected(m: Mutation, reason: str) -> MutationResult:
    return MutationResult(id=m.id, status=MutationStatus.REJECTED, reason=reason)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
