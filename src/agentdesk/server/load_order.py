"""The order a bulk load writes records in, whatever the engine: as the store's history would.

A relationship is written once both of its customers exist, as it would have been made: with
its customer when the other one is already there, else right after the other one arrives. Its
empty `name` is filled with the other customer's (as `demo.fill` does for a cache). Feeds are
read in this order, so a first sync meets each customer's records together instead of
revisiting every customer at the end. The engine gives each record the next seq as it comes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import BaseModel

from agentdesk.model.records import Profile, Relationship, TimelineEntry
from agentdesk.server.search_index import SearchRow, search_row


class BulkLoad:
    """Profiles to load. `names` (customer id -> name) starts with the customers the store
    already has; `records()` yields (type, id, customer_id, model) lazily, and after it is
    spent `count` and `search_rows` say what was loaded."""

    def __init__(self, items: Iterable[tuple[Profile, list[TimelineEntry]]]) -> None:
        self.items = items
        self.names: dict[str, str] = {}
        self.count = 0
        self.search_rows: list[SearchRow] = []

    def records(self) -> Iterator[tuple[str, str, str, BaseModel]]:
        waiting: dict[str, list[tuple[str, Relationship]]] = {}  # other customer -> its links
        for profile, entries in self.items:
            self.count += 1
            c = profile.customer
            cid = c.id
            self.names[cid] = c.name
            yield ("customer", cid, cid, c)
            for kind, records in (("contact", profile.contacts), ("note", profile.notes),
                                  ("conversation", profile.conversations),
                                  ("field", profile.fields), ("identifier", profile.identifiers),
                                  ("subscription", profile.subscriptions),
                                  ("segment", profile.segments), ("entry", entries)):
                for r in records:
                    yield (kind, r.id, cid, r)
            for rel in profile.relationships:
                if rel.customer_id in self.names:
                    yield self._link(cid, rel)
                else:
                    waiting.setdefault(rel.customer_id, []).append((cid, rel))
            for source, rel in waiting.pop(cid, []):
                yield self._link(source, rel)
            self.search_rows.append(search_row(
                c.model_dump(mode="json"), [p.model_dump(mode="json") for p in profile.contacts]))
        for pending in waiting.values():  # the other customer is not in this load
            for source, rel in pending:
                yield self._link(source, rel)

    def _link(self, cid: str, rel: Relationship) -> tuple[str, str, str, BaseModel]:
        if not rel.name and rel.customer_id in self.names:
            rel = rel.model_copy(update={"name": self.names[rel.customer_id]})
        return ("relationship", rel.id, cid, rel)
