"""One customer's profile file, a TinyDB database, while it is being changed.

Tables: `customer` (one document), `contacts`, `relationships`, `notes`, `conversations`, `extra`
(profile-level data of kinds this version does not know, kept as it came), `revisions` (one
document: "type:id" -> the store's revision of that record), `timeline` (one document: where
the entries are, see `cache.timeline`) and `entries` (a timeline short enough to live here).

`Cache.change_profile` is the one door through which every change reaches a profile file: the
agent's edits, records arriving from the store, answers to pushed edits. It yields a
`ProfileFile`, whose operations are TinyDB's (upsert, remove, update by `Query`), and writes
the file once when the change is done.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.cache.database import get_single, put_single

if TYPE_CHECKING:
    from tinydb import TinyDB

    from agentdesk.cache.timeline import TimelineSummary
    from agentdesk.model.records import Profile

# Record type (protocol.RecordType values) -> table.
TABLE_OF: dict[str, str] = {
    "customer": "customer",
    "contact": "contacts",
    "relationship": "relationships",
    "note": "notes",
    "conversation": "conversations",
}
LISTS = ("contacts", "relationships", "notes", "conversations")


class ProfileFile:
    """A profile file's tables, changed through TinyDB."""

    def __init__(self, db: TinyDB, timeline_dir: Path | None = None, *,
                 durable: bool = True) -> None:
        self.db = db
        self.existed = bool(db.storage.read())  # the file held something before this change
        self.changed = False  # anything written since it was opened
        self.timeline_dir = timeline_dir  # where its timeline files are (None: not to be changed)
        self.durable = durable
        # Files and folders to remove once the file is written (timeline files it no longer
        # names): removed before, a crash would leave the profile naming missing files.
        self.obsolete: list[Path] = []

    @property
    def _id(self) -> Any:
        """TinyDB's query on a record's id (made when first needed: creating a file needs none)."""
        from tinydb import Query

        return Query().id

    def is_empty(self) -> bool:
        """No record left (a customer removed): the file should not exist."""
        return not any(self.raw().values())

    def clear(self) -> None:
        """Forget every record (the customer was erased or merged away)."""
        self.db.drop_tables()
        self.changed = True

    # -- records -----------------------------------------------------------------------

    def customer(self) -> dict[str, Any] | None:
        return get_single(self.db, "customer")

    def find(self, table: str, record_id: str) -> dict[str, Any] | None:
        found = self.db.table(table).get(self._id == record_id)
        return dict(found) if found is not None else None

    def all(self, table: str) -> list[dict[str, Any]]:
        return [dict(doc) for doc in self.db.table(table).all()]

    def put(self, table: str, doc: dict[str, Any]) -> None:
        """Insert or replace (by id) one record: the record as a whole, not merged."""
        self.changed = True
        if table == "customer":
            put_single(self.db, table, doc)
            return

        def replace(old: dict[str, Any]) -> None:
            old.clear()
            old.update(doc)

        records = self.db.table(table)
        if not records.update(replace, self._id == doc.get("id")):
            records.insert(doc)

    def update(self, table: str, record_id: str, fields: dict[str, Any]) -> bool:
        """Set some fields of one record; False if it is not there."""
        records = self.db.table(table)
        if table == "customer":
            updated = records.update(fields)
        else:
            updated = records.update(fields, self._id == record_id)
        self.changed = self.changed or bool(updated)
        return bool(updated)

    def remove(self, table: str, record_id: str) -> bool:
        removed = bool(self.db.table(table).remove(self._id == record_id))
        self.changed = self.changed or removed
        return removed

    def create(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Fill a new profile file: the whole database handed to its storage in one write,
        in TinyDB's layout. A first sync creates every customer this way: TinyDB's table
        operations (a dozen per customer, each converting the table's document ids) made it
        miss its target (see benchmarks/README.md); every later change uses them."""
        assert not self.existed, "create() is for a new profile file"
        self.db.storage.write(
            {name: {str(n): doc for n, doc in enumerate(docs, 1)} for name, docs in tables.items()})
        self.changed = True

    def insert_all(self, table: str, docs: Iterable[dict[str, Any]]) -> None:
        """Add records known to be new (a customer the cache did not hold)."""
        self.db.table(table).insert_multiple(docs)
        self.changed = True

    # -- the store's revisions ---------------------------------------------------------

    def revision_of(self, kind: str, record_id: str) -> int | None:
        return (get_single(self.db, "revisions") or {}).get(f"{kind}:{record_id}")

    def set_revisions(self, revisions: dict[str, int | None]) -> None:
        """Record revisions ("type:id" -> revision; None forgets one), in one write."""
        def change(doc: dict[str, Any]) -> None:
            for key, revision in revisions.items():
                if revision is None:
                    doc.pop(key, None)
                else:
                    doc[key] = revision

        self.changed = True
        table = self.db.table("revisions")
        if not table.update(change, doc_ids=[1]):
            doc: dict[str, Any] = {}
            change(doc)
            put_single(self.db, "revisions", doc)

    # -- the timeline ------------------------------------------------------------------

    def timeline_summary(self) -> dict[str, Any]:
        return get_single(self.db, "timeline") or {}

    def inline_entries(self) -> list[dict[str, Any]]:
        return self.all("entries")

    def set_timeline(self, summary: TimelineSummary, inline: list[dict[str, Any]]) -> None:
        """The timeline's new summary, and the entries kept in this file (none when they are
        in timeline files)."""
        self.changed = True
        put_single(self.db, "timeline", summary.to_json())
        self.db.drop_table("entries")
        if inline:
            self.insert_all("entries", inline)

    def file_entries(self, upserts: list[dict[str, Any]], deletes: list[dict[str, Any]]) -> None:
        """Add (or replace, by id) and remove timeline entries (`deletes` need `id` and `at`):
        the chunk they belong to is rewritten, the summary here updated, replaced chunk files
        removed after the write (`obsolete`)."""
        from agentdesk.cache import timeline as timeline_files
        from agentdesk.cache.timeline import TimelineSummary

        if self.timeline_dir is None:
            raise ValueError("this profile file was opened without its timeline")
        summary, inline, obsolete = timeline_files.apply(
            self.timeline_dir, TimelineSummary.from_json(self.timeline_summary()),
            self.inline_entries(), upserts, deletes, durable=self.durable)
        self.set_timeline(summary, inline)
        self.obsolete += obsolete

    def drop_timeline(self) -> None:
        """Forget the timeline (the customer is erased): its folder goes after the write."""
        if self.timeline_dir is not None:
            self.obsolete.append(self.timeline_dir)

    # -- whole profiles ----------------------------------------------------------------

    def replace_profile(self, profile: Profile) -> None:
        """Every record of `profile` replaces what the file held (revisions and timeline
        are kept: they are the store's and the timeline files')."""
        self.changed = True
        put_single(self.db, "customer", profile.customer.model_dump(mode="json"))
        self.db.drop_table("extra")
        if profile.model_extra:  # kinds of profile data this version does not know: keep them
            from pydantic_core import to_jsonable_python

            put_single(self.db, "extra", to_jsonable_python(profile.model_extra))
        for name in LISTS:
            self.db.drop_table(name)
            self.insert_all(name, (item.model_dump(mode="json") for item in getattr(profile, name)))

    def raw(self) -> dict[str, Any]:
        """The file's tables as TinyDB holds them in memory (read, do not change)."""
        return self.db.storage.read() or {}


def docs(tables: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """A table's documents in order, from a file's raw content (readers without TinyDB)."""
    table = tables.get(name) or {}
    return [table[k] for k in sorted(table, key=int)]


def profile_doc(tables: dict[str, Any]) -> dict[str, Any]:
    """The profile as one document (customer, lists, extra fields), from a file's raw content."""
    from agentdesk.cache.files import CacheError

    customers = docs(tables, "customer")
    if not customers:
        raise CacheError("A profile file without its customer record: the cache is damaged.")
    extra = docs(tables, "extra")
    return {
        **(extra[0] if extra else {}),
        "customer": customers[0],
        **{name: docs(tables, name) for name in LISTS},
    }
