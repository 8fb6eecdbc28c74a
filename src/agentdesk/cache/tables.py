"""A profile file's tables as plain dicts: {table: {doc_id: doc}} (TinyDB's JSON layout).

The cache, the replica (records arriving from the store) and local edits all change profiles in
this form, so one read and one atomic write cover a whole change, and no pydantic objects are
built for records that are only stored.
"""

from __future__ import annotations

from typing import Any

Tables = dict[str, dict[str, Any]]

# Record type (protocol.RecordType, a str enum) -> table. Plain strings: this module is on the
# start-up path, which should not build the protocol's models.
TABLE_OF: dict[str, str] = {
    "customer": "customer",
    "contact": "contacts",
    "relationship": "relationships",
    "note": "notes",
    "conversation": "conversations",
}


def docs(tables: Tables, name: str) -> list[dict[str, Any]]:
    table = tables.get(name) or {}
    return [table[k] for k in sorted(table, key=int)]


def find(tables: Tables, name: str, record_id: str) -> dict[str, Any] | None:
    for doc in (tables.get(name) or {}).values():
        if doc.get("id") == record_id:
            return doc
    return None


def put(tables: Tables, name: str, doc: dict[str, Any]) -> None:
    """Insert or replace (by id) one record; a profile has one customer doc."""
    table = tables.setdefault(name, {})
    if name == "customer":
        table.clear()
        table["1"] = doc
        return
    for key, old in table.items():
        if old.get("id") == doc.get("id"):
            table[key] = doc
            return
    table[str(max((int(k) for k in table), default=0) + 1)] = doc


def remove(tables: Tables, name: str, record_id: str) -> bool:
    table = tables.get(name) or {}
    for key, old in list(table.items()):
        if old.get("id") == record_id:
            del table[key]
            return True
    return False


def revisions(tables: Tables) -> dict[str, int]:
    """The store's revision of each record ("type:id" -> revision); created if missing."""
    table = tables.setdefault("revisions", {})
    return table.setdefault("1", {})


def revision_of(tables: Tables, kind: str, record_id: str) -> int | None:
    return ((tables.get("revisions") or {}).get("1") or {}).get(f"{kind}:{record_id}")


def customer(tables: Tables) -> dict[str, Any] | None:
    found = docs(tables, "customer")
    return found[0] if found else None
