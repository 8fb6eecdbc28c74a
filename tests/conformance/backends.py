"""The remotes the conformance suite runs against, behind one small interface: the reference
store (SQLite, served in this process) and a real Request Tracker 5 (the session's RT).

Each says how to reach it (directly or through a fault proxy), how the other side of the
desk changes things (a new customer with a conversation, a new message, a rename), and what
it holds now. `cannot` lists what a remote cannot do, with the reason the test skips with.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from agentdesk.model.protocol import RecordType
from agentdesk.server.run import ServerThread, open_store
from agentdesk.sync.remote import RemoteStore, connect
from support.rt_world import PASSWORD, USER, RTServer, RTStaff
from support.sync_world import fast_retry

TOKEN = "conformance-token-" + "c" * 20
_n = itertools.count(1)


def _later() -> str:
    """A message time after every earlier one (in the order messages are added: a customer's
    messages sort as they were written, however many came before)."""
    at = datetime(2026, 1, 2, tzinfo=timezone.utc) + timedelta(seconds=next(_n))
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class Reference:
    name = "reference"
    prefix = "/v1/"
    write = ("/v1/mutations", "POST")  # where an edit reaches the store
    reply_write = write  # where a reply does
    cannot: dict[str, str] = {}

    def __init__(self, tmp: Path) -> None:
        self.store = open_store(tmp / "srv")
        self.store.add_token(TOKEN, "agent", scoped=False)
        self.server = ServerThread(self.store, port=0).start()
        self.url = f"http://127.0.0.1:{self.server.port}"

    def close(self) -> None:
        self.server.stop()
        self.store.close()

    def remote(self, url: str | None = None, **options: Any) -> RemoteStore:
        options.setdefault("retry", fast_retry())
        return connect(url or self.url, TOKEN, timeout=5.0, **options)

    def desk_url(self, url: str | None = None) -> str:
        return url or self.url

    def env(self) -> dict[str, str]:
        return {"AGENTDESK_TOKEN": TOKEN}

    def new_customer(self, name: str, messages: int = 2) -> str:
        n = next(_n)
        cid, conv = f"cus_conf_{n}_{time.time_ns()}", f"conv_conf_{n}"
        self.store.upsert(RecordType.CUSTOMER, {"id": cid, "name": name,
                                                "created": "2026-01-01T00:00:00Z",
                                                "updated": "2026-01-01T00:00:00Z"}, cid)
        self.store.upsert(RecordType.CONTACT, {"id": f"cp_{n}", "kind": "email",
                                               "value": f"c{n}@example.com"}, cid)
        self.store.upsert(RecordType.CONVERSATION, {"id": conv, "topic": "General",
                                                    "started": "2026-01-01T00:00:00Z"}, cid)
        for i in range(messages):
            self.add_message(cid, f"message {i}", conv=conv)
        return cid

    def add_message(self, cid: str, text: str, conv: str | None = None) -> None:
        conv = conv or next(c.data["id"] for c in self.remote().profile(cid).changes
                            if c.type == RecordType.CONVERSATION and c.data)
        self.store.upsert(RecordType.ENTRY, {
            "id": f"ent_conf_{next(_n)}", "conversation_id": conv,
            "at": _later(), "channel": "email",
            "direction": "inbound", "body": text}, cid)

    def rename(self, cid: str, name: str) -> None:
        current = self.records(cid, "customer")[0]
        self.store.upsert(RecordType.CUSTOMER, {**current, "name": name}, cid)

    def records(self, cid: str, kind: str) -> list[dict[str, Any]]:
        with self.remote() as remote:
            return [c.data or {} for c in remote.profile(cid).changes if c.type == kind]


class RT:
    name = "rt"
    prefix = "/REST/2.0/"
    write = ("/REST/2.0/user/", "PUT")
    reply_write = ("/REST/2.0/ticket/", "POST")  # a Correspond
    cannot = {
        "customer.update status/tags": "RT keeps no status or tags on a user: such an edit is "
                                       "rejected with that reason",
        "per-agent scope": "RT has no per-agent scope of customers (include/evict): every "
                           "agent's desk holds every customer its RT user may see",
        "customer merge": "RT merges tickets, not users: there is no customer merge to follow",
    }

    def __init__(self, server: RTServer) -> None:
        self.server = server
        self.staff = RTStaff(server.url)
        self.url = "rt+" + server.url
        self.tickets: dict[str, int] = {}

    def close(self) -> None:
        self.staff.close()

    def remote(self, url: str | None = None, **options: Any) -> RemoteStore:
        options.setdefault("retry", fast_retry())
        return connect(self.desk_url(url), user=USER, password=PASSWORD, timeout=10.0, **options)

    def desk_url(self, url: str | None = None) -> str:
        return ("rt+" + url) if url else self.url

    def env(self) -> dict[str, str]:
        return {"AGENTDESK_RT_USER": USER, "AGENTDESK_RT_PASSWORD": PASSWORD}

    def new_customer(self, name: str, messages: int = 2) -> str:
        uid = self.staff.user(name)
        ticket = self.staff.ticket(uid, f"Question from {name}", "message 0")
        for i in range(1, messages):
            self.staff.correspond(ticket, f"message {i}")
        cid = f"rt-user-{uid}"
        self.tickets[cid] = ticket
        return cid

    def add_message(self, cid: str, text: str) -> None:
        self.staff.correspond(self.tickets[cid], text)

    def rename(self, cid: str, name: str) -> None:
        self.staff.set_user(int(cid.rsplit("-", 1)[1]), RealName=name)

    def records(self, cid: str, kind: str) -> list[dict[str, Any]]:
        with self.remote() as remote:
            return [c.data or {} for c in remote.profile(cid).changes
                    if c.type == kind and c.op == "upsert"]
