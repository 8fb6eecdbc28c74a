"""A reply written in the desk (`reply.add`) sent to RT as a Correspond on its ticket, once
however often the push is retried.

RT has no idempotency key, and a Correspond gets a transaction id of RT's own: a reply cannot
be recognised by its effect as the edits of a user are (the same text may well be sent
twice on purpose). Each reply carries a marker instead, the transaction custom field
*Agentdesk Mutation* set to "<mutation id> <entry id>" in the same request. (REST 2.0 builds
the message's MIME itself from Content, ContentType and Subject: no header of the desk's
reaches it.) A push that may have reached RT already looks the marker up first (TransactionSQL
`CF.{Agentdesk Mutation} = '…'`) and sends the reply again only when RT has no such
transaction: a try after a lost answer inside this push, or an edit the desk's outbox names as
sent before (an earlier run, or one cut by a crash). A first try costs one request.

RT answers with its transaction's id: the result's `current` is the reply as RT files it,
`rt-txn-<id>`, and the desk files its pending entry under that id, so the transaction pulled
next is the reply's echo, not a second entry.

The custom field must exist in RT (scripts/rt-server makes it; on another RT an administrator
makes it once, see docs/request-tracker.md). The connector checks once a session, before its
first reply; without the field a reply is rejected saying so, rather than risk sending it
twice.
"""

from __future__ import annotations

import json

from agentdesk.model.protocol import Mutation, MutationResult, MutationStatus
from agentdesk.model.work_mutations import Refused, check_reply
from agentdesk.sync.client import NotFound, RemoteError
from agentdesk.sync.rt import records
from agentdesk.sync.rt.http import RTHttp, items

MARKER = "Agentdesk Mutation"
MARKER_LOOKUP = "RT::Queue-RT::Ticket-RT::Transaction"  # a custom field of ticket transactions
NO_MARKER = (f"RT has no transaction custom field \"{MARKER}\", which marks each reply so that "
             "a retried push does not send it twice: an RT administrator creates it once (see "
             "docs/request-tracker.md), then send the reply again from Unsynced edits")


class Replies:
    """Replies sent to one RT (remembers whether RT has the marker field)."""

    def __init__(self, http: RTHttp) -> None:
        self.http = http
        self._marker_known = False

    def add(self, m: Mutation, retried: bool, attempts: int | None = None) -> MutationResult:
        try:
            entry = check_reply(m.data, m.target)
        except Refused as why:
            return _rejected(m, str(why))
        tid = records.ticket_id_of(entry.conversation_id)
        if tid is None:
            return _rejected(m, f"{entry.conversation_id} is not a ticket of this RT")
        if not self._marker_exists():
            return _rejected(m, NO_MARKER)
        marker = f"{m.id} {m.target}"
        what = "sending a reply to RT"
        may_have_landed = retried

        def attempt() -> int:
            nonlocal may_have_landed
            if may_have_landed:
                found = self.find(marker)
                if found is not None:
                    return found
            may_have_landed = True  # from here on, a lost answer may hide a Correspond
            _, headers = self.http.once("POST", f"/ticket/{tid}/correspond", what, json={
                "Content": entry.body, "ContentType": "text/plain",
                "TxnCustomFields": {MARKER: marker}})
            return _transaction_of(headers.get("location", ""))

        try:
            txn = self.http.retried(attempt, what, attempts)
        except NotFound:
            return _rejected(m, "the ticket is gone from RT")
        except RemoteError as error:
            if error.status is None:
                raise
            return _rejected(m, str(error))  # RT refused it (a 4xx): sent again, refused again
        filed = {**entry.model_dump(mode="json"), "id": f"{records.ENTRY_PREFIX}{txn}"}
        return MutationResult(id=m.id, status=MutationStatus.APPLIED, current=filed,
                              written={f"entry:{filed['id']}": txn})

    def find(self, marker: str) -> int | None:
        """The id of the transaction carrying `marker`, if RT has one."""
        what = "looking for a reply RT may have received already"
        value = marker.replace("\\", "\\\\").replace("'", "\\'")
        body, _ = self.http.once("GET", "/transactions", what, params={
            "query": f"ObjectType = 'RT::Ticket' AND CF.{{{MARKER}}} = '{value}'",
            "fields": "Type", "per_page": 1})
        found = items(body, what)
        return int(found[0]["id"]) if found else None

    def _marker_exists(self) -> bool:
        if not self._marker_known:
            what = "asking RT for the reply marker field"
            query = json.dumps([{"field": "Name", "value": MARKER},
                                {"field": "LookupType", "value": MARKER_LOOKUP}])
            self._marker_known = bool(items(self.http.get("/customfields", what, query=query),
                                            what))
        return self._marker_known


def _transaction_of(location: str) -> int:
    """RT's transaction id from the Location of its answer (…/transaction/<id>)."""
    tail = location.rstrip("/").rsplit("/", 1)[-1]
    if "/transaction/" not in location or not tail.isdigit():
        raise RemoteError("sending a reply to RT: RT did not say which transaction it made")
    return int(tail)


def _rejected(m: Mutation, reason: str) -> MutationResult:
    return MutationResult(id=m.id, status=MutationStatus.REJECTED, reason=reason)
