"""The change feed and profiles, read from RT: transactions after a cursor, in RT's order.

A page is one search of transactions (`id > cursor`, tickets' and users' only, by id), then
what they need, in a few requests whatever the page's size: the tickets they belong to (one
TicketSQL search), the text of their messages (one search of attachments by transaction id),
and the users they changed (one GET each: RT's REST 2.0 does not search users by id). Users'
changes come through the same feed: RT records a transaction for every change to a user.
"""

from __future__ import annotations

import json
from urllib.parse import quote
from typing import Any

from agentdesk.sync.client import NotFound, RemoteError
from agentdesk.sync.rt import records
from agentdesk.sync.rt.http import MAX_PER_PAGE, RTHttp, items

TXN_FIELDS = "Type,Creator,Created,ObjectId,ObjectType,Field,OldValue,NewValue"
TICKET_PARAMS = {
    "fields": "Subject,Status,Owner,Queue,Priority,Requestor,Created,Resolved,EffectiveId",
    "fields[Queue]": "Name", "fields[Requestor]": "id,Name", "fields[Owner]": "Name",
}
KNOWN_USERS = 50_000  # users remembered between pages (then forgotten, and read again)
OBJECTS = "(ObjectType = 'RT::Ticket' OR ObjectType = 'RT::User')"


class Feed:
    def __init__(self, http: RTHttp) -> None:
        self.http = http
        self._names: dict[str, str] = {}  # user id -> name, for Owner changes
        self._known: dict[int, tuple[dict[str, Any], int]] = {}  # user id -> (user, its ETag)
        self._staff_requestors: set[int] = set()

    # -- the feed ------------------------------------------------------------------------

    def head(self) -> int:
        body = self.http.get("/transactions", "asking RT for its latest transaction",
                             query=f"id > 0 AND {OBJECTS}", orderby="id", order="DESC",
                             per_page=1)
        found = items(body, "asking RT for its latest transaction")
        return int(found[0]["id"]) if found else 0

    def page(self, cursor: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
        """(changes, the new cursor, whether more transactions follow)."""
        what = "reading RT's transactions"
        per_page = max(1, min(limit, MAX_PER_PAGE))
        body = self.http.get("/transactions", what, query=f"id > {cursor} AND {OBJECTS}",
                             orderby="id", order="ASC", per_page=per_page, fields=TXN_FIELDS)
        txns = sorted(items(body, what), key=lambda t: int(t["id"]))
        if not txns:
            return [], cursor, False
        more = int(body.get("total") or 0) > len(txns)
        return self.changes_of(txns), int(txns[-1]["id"]), more

    def changes_of(self, txns: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The feed changes a run of transactions (in id order) makes."""
        ticket_ids = sorted({int(t["ObjectId"]) for t in txns if t.get("ObjectType") == "RT::Ticket"})
        tickets = self.tickets(ticket_ids)
        messages = [t for t in txns if t.get("ObjectType") == "RT::Ticket"
                    and t.get("Type") in records.MESSAGE_TYPES]
        bodies = self.bodies(messages)
        changed: dict[int, int] = {}  # user id -> the last transaction about it in this run
        old_comments: dict[int, list[str]] = {}
        requestors: dict[int, int] = {}  # first requestor -> the ticket creation naming it
        for t in txns:
            oid = int(t["ObjectId"])
            if t.get("ObjectType") == "RT::User":
                changed[oid] = int(t["id"])
                if t.get("Field") == "Comments":
                    old_comments.setdefault(oid, []).append(str(t.get("OldValue") or ""))
            elif t.get("Type") == "Create" and oid in tickets:
                for uid in records.requestor_ids(tickets[oid])[:1]:
                    requestors[uid] = int(t["id"])
        people = self.users({**requestors, **changed})
        # Customers first: a page's conversations and entries then find their customer filed.
        # An end user's records come with its own transactions; staff who request a ticket
        # become customers with it (and their later changes come too).
        out: list[dict[str, Any]] = []
        for uid, seq in sorted({**requestors, **changed}.items(), key=lambda item: item[1]):
            user = people.get(uid)
            if user is None:
                continue
            if not records.is_customer(user) and uid in requestors:
                self._staff_requestors.add(uid)
            if uid in changed and (records.is_customer(user) or uid in self._staff_requestors) \
                    or uid in requestors and not records.is_customer(user):
                out += records.user_changes(seq, user, old_comments.get(uid, []))
        last_of_ticket = {int(t["ObjectId"]): int(t["id"]) for t in txns
                          if t.get("ObjectType") == "RT::Ticket"}
        for t in txns:
            seq, oid = int(t["id"]), int(t["ObjectId"])
            if t.get("ObjectType") != "RT::Ticket" or oid not in tickets:
                continue  # a user's (filed above), or a ticket gone from RT (shredded)
            ticket = tickets[oid]
            owner = self._owner_of(ticket)
            if owner is None:
                continue  # a ticket without requestor: no customer to file it under
            entry = records.entry_data(t, ticket, bodies.get(seq), self._names)
            if entry is not None:
                out.append(records.change(seq, "upsert", "entry", entry["id"], owner, entry))
            if t.get("Type") == "AddLink" and t.get("Field") == "MergedInto" and _merged(ticket):
                out += self._moved(seq, ticket, owner)
            if last_of_ticket[oid] == seq:
                out += self._conversation(seq, ticket, owner)
        return out

    def _moved(self, seq: int, ticket: dict[str, Any], owner: str) -> list[dict[str, Any]]:
        """A ticket merged into another: its earlier transactions become entries of the
        surviving ticket's conversation (the ids stay: the desk moves them). Merges are rare,
        so each message's text is read on its own."""
        history = self.http.pages("/transactions", "reading a merged ticket's history", {
            "query": f"ObjectType = 'RT::Ticket' AND ObjectId = {int(ticket['id'])} AND id < {seq}",
            "orderby": "id", "fields": TXN_FIELDS})
        out = []
        for t in sorted(history, key=lambda t: int(t["id"])):
            body = self._body_of(int(t["id"])) if t.get("Type") in records.MESSAGE_TYPES else None
            entry = records.entry_data(t, ticket, body, self._names)
            if entry is not None:
                out.append(records.change(seq, "upsert", "entry", entry["id"], owner, entry))
        return out

    def _body_of(self, txn: int) -> tuple[str, str] | None:
        for part in self.http.pages(f"/transaction/{txn}/attachments", "reading a message",
                                    {"fields": "Content,ContentType,Subject"}):
            if str(part.get("ContentType") or "").startswith("text/plain"):
                return str(part.get("Subject") or ""), str(part.get("Content") or "")
        return None

    def _conversation(self, seq: int, ticket: dict[str, Any], owner: str) -> list[dict[str, Any]]:
        rid = f"{records.TICKET_PREFIX}{ticket['id']}"
        if ticket.get("Status") == "deleted" or _merged(ticket):
            return [records.change(seq, "delete", "conversation", rid, owner, None)]
        return [records.change(seq, "upsert", "conversation", rid, owner,
                               records.conversation_data(ticket))]

    @staticmethod
    def _owner_of(ticket: dict[str, Any]) -> str | None:
        ids = records.requestor_ids(ticket)
        return records.customer_id(ids[0]) if ids else None

    # -- what a page needs ---------------------------------------------------------------

    def tickets(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), MAX_PER_PAGE):
            chunk = ids[start:start + MAX_PER_PAGE]
            query = " OR ".join(f"id = {i}" for i in chunk)
            for ticket in self.http.pages("/tickets", "reading RT's tickets",
                                          {"query": query, **TICKET_PARAMS}):
                found[int(ticket["id"])] = ticket
        for missing in [i for i in ids if i not in found]:  # deleted or merged: not searched
            try:
                ticket = self.http.get(f"/ticket/{missing}", f"reading RT ticket {missing}",
                                       **TICKET_PARAMS)
            except NotFound:
                continue
            ticket = self._as_searched(ticket)
            if str(ticket["id"]) != str(missing):  # RT answers for a merged ticket with the one
                ticket = {**ticket, "id": missing, "EffectiveId": str(ticket["id"])}  # it is in
            found[missing] = ticket
        for ticket in found.values():
            owner = ticket.get("Owner")
            if isinstance(owner, dict) and "Name" in owner:
                self._names[str(owner.get("id"))] = str(owner["Name"])
        return found

    def _as_searched(self, ticket: dict[str, Any]) -> dict[str, Any]:
        """A ticket read alone, shaped like one from a search: there RT names the requestors
        and the effective ticket by reference, not by number."""
        effective = ticket.get("EffectiveId")
        if isinstance(effective, dict):
            ticket["EffectiveId"] = str(effective.get("id") or ticket["id"])
        people = []
        for person in ticket.get("Requestor") or []:
            if isinstance(person, dict) and not str(person.get("id", "")).isdigit():
                try:
                    user, _ = self.user(str(person.get("id")))
                except NotFound:
                    continue
                person = {**person, "id": user["id"], "Name": user.get("Name")}
            people.append(person)
        ticket["Requestor"] = people
        return ticket

    def bodies(self, txns: list[dict[str, Any]]) -> dict[int, tuple[str, str]]:
        """Each message's (subject, text): its first text/plain part."""
        if not txns:
            return {}
        ids = sorted(int(t["id"]) for t in txns)
        query = json.dumps([
            {"field": "TransactionId", "operator": ">=", "value": ids[0]},
            {"field": "TransactionId", "operator": "<=", "value": ids[-1], "entry_aggregator": "AND"},
            {"field": "ContentType", "value": "text/plain", "entry_aggregator": "AND"},
        ])
        wanted, out = set(ids), {}
        subjects: dict[int, str] = {}
        for part in self.http.pages("/attachments", "reading RT's messages",
                                    {"query": query, "orderby": "id",
                                     "fields": "TransactionId,Content,Subject"}):
            txn = _int(part.get("TransactionId"))
            if txn in wanted and txn not in out:
                subjects[txn] = str(part.get("Subject") or "")
                out[txn] = (subjects[txn], str(part.get("Content") or ""))
        return out

    def users(self, wanted: dict[int, int]) -> dict[int, dict[str, Any]]:
        """The users, each as of now or later than the transaction it is wanted for. A user
        read once in this sync is read again only for a transaction newer than its ETag: a
        first sync meets each requestor at every ticket it opened."""
        found = {}
        for uid, seq in sorted(wanted.items()):
            known = self._known.get(uid)
            if known is not None and known[1] >= seq:
                found[uid] = known[0]
                continue
            try:
                user, etag = self.user(uid)
            except NotFound:
                continue
            if len(self._known) >= KNOWN_USERS:
                self._known.clear()
            self._known[uid] = (user, _int(etag.strip('"')))
            found[uid] = user
        return found

    def user(self, uid: int | str) -> tuple[dict[str, Any], str]:
        """(the user, its ETag), by number (or by Name)."""
        path = f"/user/{quote(str(uid), safe='')}"
        body, headers = self.http.request("GET", path, f"reading RT user {uid}",
                                          params={"fields[CustomFields]": "name,values"})
        if not isinstance(body, dict) or "id" not in body:
            raise RemoteError(f"reading RT user {uid}: RT sent something else than a user")
        if not str(body["id"]).isdigit():
            raise RemoteError(f"reading RT user {uid}: RT sent a user without its number")
        body["id"] = int(body["id"])
        self._names[str(body["id"])] = str(body.get("Name") or uid)
        return body, headers.get("etag", "")

    # -- one customer ----------------------------------------------------------------------

    def profile(self, uid: int) -> list[dict[str, Any]]:
        """Every record of one customer: the user, and the tickets it requested with their
        transactions."""
        user, etag = self.user(uid)
        seq = _int(etag.strip('"')) or 1
        out = records.user_changes(seq, user)
        name = str(user.get("Name") or "").replace("'", "\\'")
        tickets = self.http.pages("/tickets", "reading the customer's tickets",
                                  {"query": f"Requestor.Name = '{name}'", "fields": "id"})
        for ticket in tickets:
            txns = self.http.pages("/transactions", "reading a ticket's history", {
                "query": f"ObjectType = 'RT::Ticket' AND ObjectId = {int(ticket['id'])}",
                "orderby": "id", "fields": TXN_FIELDS})
            out += [c for c in self.changes_of(sorted(txns, key=lambda t: int(t["id"])))
                    if c["customer_id"] == records.customer_id(uid) and c["type"] != "customer"
                    and c["type"] not in ("contact", "note")]
        return out


def _merged(ticket: dict[str, Any]) -> bool:
    return str(ticket.get("EffectiveId") or ticket["id"]) != str(ticket["id"])


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
