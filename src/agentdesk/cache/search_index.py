"""The search rows of every customer on disk: 256 index shards and a small journal.

A row is what the customer search knows of one customer (name, contact points, company, whom
they list as related). The
rows are kept in `index/<shard>.json` (by the same shard as the customer's files) and, when
they changed recently, in `index/journal.json`: a sync of a hundred changes would otherwise
rewrite most of the 256 shards. Readers overlay the journal on the shards. All are TinyDB databases.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.cache.database import changing
from agentdesk.cache.files import flush_to_disk, read_json
from agentdesk.cache.layout import shard_of
from agentdesk.cache.profile_file import docs
from agentdesk.model import customer_facts as facts
from agentdesk.model.kinds import ContactKind

if TYPE_CHECKING:
    from agentdesk.model.records import Profile
    from agentdesk.model.views import StoredProfile

JOURNAL = "journal.json"
JOURNAL_MAX = 2000  # past this, the whole journal is folded into the shards
JOURNAL_SOFT = 1000  # past this, each write also folds its fullest shards (see _fold_some)

Journal = dict[str, dict[str, Any] | None]  # customer id -> row (None: customer removed)


MAX_VALUE = 200  # characters of one value the index keeps: a 1 MB address is searched by its start
MAX_OTHERS = 20  # contact points kept beyond the primary e-mail and phone
MAX_RELATED = 50  # relationships kept (for the other customer's "… of" line)
MAX_FIELDS = 100  # field keys kept per customer (by key): the table's columns, not a store

# A field's winning value as a row keeps it: text cut to MAX_VALUE, a list of cut texts,
# a number, a yes/no (so a column of them sorts as numbers, yes/no or text).
FieldValue = str | int | float | bool | list[str]


def _cut(value: object) -> str:
    return str(value)[:MAX_VALUE]


@dataclass
class IndexRow:
    """What the customer search knows of one customer: the fields shown in the results, every
    other contact point (secondary e-mails and phones, addresses, social handles: searched
    too), and whom the customer lists as related (so the other customer's profile can show
    the link the other way round without reading every profile file)."""

    id: str
    name: str
    email: str = ""
    phone: str = ""
    company: str = ""
    others: list[list[str]] = field(default_factory=list)  # [kind, value]
    related: list[list[str]] = field(default_factory=list)  # [customer id, label]
    # What the query filters read (`model.customer_query`, schema 8): kept here so a query
    # or an export over 100,000 customers reads the 256 index shards, not every profile file.
    status: str = ""
    tags: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)  # their names
    channels: list[str] = field(default_factory=list)  # of the customer's conversations
    last_contact: str = ""  # ISO time of the newest timeline entry; "" for none
    # What the customers-over-time chart counts (`model.customer_facts`, schema 9).
    since: str = ""  # ISO day the customer was created; "" when not known
    reachable: bool = False  # `model.reachability.reachable` over the identifiers
    open_conversations: int = 0  # conversations not closed
    active: list[int] = field(default_factory=list)  # runs of activity (`customer_facts`)
    # The winning value of each of the customer's fields (`model.fields`; schema 10), by key:
    # what the customers table shows as a field column and `agentdesk export` writes. None
    # for a customer without fields (nearly all of them), and then not stored at all: rows
    # without fields stay as they were, and making 100,000 rows at start-up makes no dict.
    fields: dict[str, FieldValue] | None = None

    @classmethod
    def of(cls, profile: Profile | StoredProfile, last_contact: str = "",
           active: list[int] | None = None) -> IndexRow:
        """The row of a profile in memory. Its timeline is not there: what it tells
        (`last_contact`, `active` runs) is given, or left empty (the row the cache writes
        comes from `of_tables`, which reads it)."""
        created = getattr(profile.customer, "created", None)
        identifiers = [{name: getattr(i, name, None) for name in _IDENTIFIER_FACTS}
                       for i in getattr(profile, "identifiers", ())]
        return cls._make(
            {"id": profile.customer.id, "name": profile.customer.name,
             "company": profile.customer.company, "status": str(profile.customer.status),
             "tags": list(profile.customer.tags),
             "created": created.isoformat() if created else None},
            [{"id": c.id, "kind": c.kind.value, "value": c.value, "primary": c.primary}
             for c in profile.contacts],
            [{"customer_id": r.customer_id, "label": r.label} for r in profile.relationships],
            [{"name": s.name} for s in getattr(profile, "segments", ())],
            [{"channels": [str(c) for c in v.channels], "status": str(v.status)}
             for v in profile.conversations],
            last_contact, identifiers, [],
            [(f.key, f.values[0].value) for f in getattr(profile, "fields", ()) if f.values],
        ) if active is None else replace(cls.of(profile, last_contact), active=list(active))

    @classmethod
    def of_tables(cls, tables: dict[str, Any]) -> IndexRow | None:
        """The row of a profile file's raw tables (None without a customer), no models."""
        customers = docs(tables, "customer")
        if not customers:
            return None
        conversations = docs(tables, "conversations")
        return cls._make(customers[0], docs(tables, "contacts"), docs(tables, "relationships"),
                         docs(tables, "segments"), conversations, _last_contact(tables),
                         docs(tables, "identifiers"), _active_days(tables, conversations),
                         _winning_values(docs(tables, "fields")))

    @classmethod
    def _make(cls, customer: dict[str, Any], contacts: list[dict[str, Any]],
              relationships: list[dict[str, Any]], segments: list[dict[str, Any]],
              conversations: list[dict[str, Any]], last_contact: str,
              identifiers: list[dict[str, Any]], active_days: list[int],
              fields: list[tuple[Any, Any]]) -> IndexRow:
        shown: list[dict[str, Any]] = []
        for kind in (ContactKind.EMAIL.value, ContactKind.PHONE.value):
            points = [d for d in contacts if d.get("kind") == kind]
            chosen = next((d for d in points if d.get("primary")), points[0] if points else None)
            shown.append(chosen or {})
        email, phone = shown
        others = [[str(d.get("kind", "")), _cut(d.get("value", ""))] for d in contacts
                  if d is not email and d is not phone][:MAX_OTHERS]
        related = [[str(d.get("customer_id", "")), _cut(d.get("label", ""))]
                   for d in relationships][:MAX_RELATED]
        return cls(
            id=str(customer.get("id", "")),
            name=_cut(customer.get("name", "")),
            email=_cut(email.get("value", "")),
            phone=_cut(phone.get("value", "")),
            company=_cut(customer.get("company", "")),
            others=others,
            related=related,
            status=str(customer.get("status") or "active"),
            tags=[_cut(t) for t in customer.get("tags") or []][:MAX_RELATED],
            segments=[_cut(d.get("name", "")) for d in segments][:MAX_RELATED],
            channels=sorted({str(c) for d in conversations for c in d.get("channels") or []}),
            last_contact=last_contact,
            since=facts.since(customer),
            reachable=facts.reachable_of(identifiers),
            open_conversations=facts.open_count(conversations),
            active=facts.active_runs(active_days),
            fields=_kept_fields(fields),
        )

    def stored(self) -> dict[str, Any]:
        """The row as the index files keep it: without `fields` when it has none."""
        doc = self.__dict__.copy()
        if not self.fields:
            del doc["fields"]
        return doc


def _winning_values(fields: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """(key, winning value) of a profile file's field records: the first of `values`."""
    out = []
    for doc in fields:
        values = doc.get("values")
        if isinstance(values, list) and values and isinstance(values[0], dict):
            out.append((doc.get("key"), values[0].get("value")))
    return out


def _kept_fields(pairs: list[tuple[Any, Any]]) -> dict[str, FieldValue] | None:
    """The values a row keeps, by key (the first MAX_FIELDS keys by name); None for none.
    A value of no field type (a damaged file) is left out rather than kept as something
    the table cannot sort."""
    kept: dict[str, FieldValue] = {}
    for key, value in sorted((p for p in pairs if isinstance(p[0], str) and p[0]),
                             key=lambda p: p[0]):
        if len(kept) == MAX_FIELDS:
            break
        if isinstance(value, str):
            kept[key] = _cut(value)
        elif isinstance(value, bool | int | float):
            kept[key] = value
        elif isinstance(value, list):
            kept[key] = [_cut(v) for v in value][:MAX_RELATED]
    return kept or None


_IDENTIFIER_FACTS = ("kind", "consent", "deliverable", "blacklisted_at", "unsubscribed_at",
                     "spam_report_at", "ccpa_opt_out_at")


def _active_days(tables: dict[str, Any], conversations: list[dict[str, Any]]) -> list[int]:
    """The days (`customer_facts.day_number`) the customer did something: the days of their
    own entries (`customer_facts.is_activity`), for a timeline kept in the profile file
    (nearly every customer).
    The entries of a longer timeline are in chunk files, which a row must not read (every
    change of the profile makes its row again): for those, the days conversations started
    and each chunk's last entry stand for them."""
    summary = next(iter((tables.get("timeline") or {}).values()), None)
    files = summary.get("chunk_files") if isinstance(summary, dict) else None
    if not files or files == [""]:  # no timeline, or kept inline
        times = [d.get("at") for d in (tables.get("entries") or {}).values()
                 if isinstance(d, dict) and facts.is_activity(d)]
    else:
        times = [d.get("started") for d in conversations]
        times += [last[0] for last in summary.get("chunk_last") or []
                  if isinstance(last, list | tuple) and last]
    days: set[int] = set()
    seen: dict[str, int | None] = {}
    for at in times:
        if not isinstance(at, str):
            continue
        key = at[:10] if at.endswith(("Z", "+00:00")) else at
        if key not in seen:
            day = facts.utc_day(key)
            seen[key] = facts.day_number(day) if day else None
        if (number := seen[key]) is not None:
            days.add(number)
    return sorted(days)


def _last_contact(tables: dict[str, Any]) -> str:
    """The time of the newest timeline entry, from the timeline summary (its last chunk's
    last entry), so no entry is read."""
    summary = next(iter((tables.get("timeline") or {}).values()), None)
    if not isinstance(summary, dict):
        return ""
    lasts = summary.get("chunk_last") or []
    times = [str(last[0]) for last in lasts if isinstance(last, list | tuple) and last]
    return max(times, default="")


class SearchIndexFiles:
    """The index folder of one cache: rows written through the journal, read back whole."""

    def __init__(self, folder: Path, *, read_only: bool) -> None:
        self.folder = folder
        self.read_only = read_only
        self._lock = threading.Lock()
        self._journal_rows: Journal | None = None

    def forget(self) -> None:
        """The folder was wiped (a rebuilt cache): read it again."""
        with self._lock:
            self._journal_rows = None

    # -- reading -------------------------------------------------------------------------

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob("[0-9a-f][0-9a-f].json")) if self.folder.exists() else []

    def journal(self) -> Journal:
        """Rows changed since the shards were last written."""
        if not self.read_only and self._journal_rows is not None:
            return self._journal_rows
        try:
            table = (read_json(self.folder / JOURNAL) or {}).get("rows", {})
            rows = {doc["id"]: doc["row"] for doc in table.values()}
        except (ValueError, OSError, KeyError, TypeError, AttributeError):
            rows = {}
        if not self.read_only:
            self._journal_rows = rows
        return rows

    def rows(self) -> Iterator[IndexRow]:
        """Every customer's row (reads all shards: for the in-memory search index)."""
        for doc in self.docs():
            yield IndexRow(**doc)

    def docs(self) -> Iterator[dict[str, Any]]:
        """Every customer's row as stored (a dict of IndexRow's fields): for a reader that
        takes a few of them from 100,000 rows without making an IndexRow of each."""
        journal = self.journal()
        for path in self._shards():
            for doc in (read_json(path) or {}).get("customers", {}).values():
                if doc["id"] not in journal:
                    yield doc
        for doc in journal.values():
            if doc is not None:
                yield doc

    def first_customer_id(self) -> str | None:
        """Some customer, by name (reads one shard)."""
        journal = self.journal()
        for doc in journal.values():
            if doc is not None:
                return str(doc["id"])
        for path in self._shards():
            found = [d for d in (read_json(path) or {}).get("customers", {}).values()
                     if d["id"] not in journal]
            if found:
                return min(found, key=lambda d: d["name"].casefold())["id"]
        return None

    # -- writing -------------------------------------------------------------------------

    def write(self, rows: dict[str, IndexRow | None], *, durable: bool, fold: bool = False) -> None:
        """Add, replace or (for None) remove rows.

        They go to the journal first (one write, however many customers changed). Past
        JOURNAL_SOFT rows each write also folds the fullest shards' rows into them, so the
        journal stays small without a sync now and then rewriting all 256 at once; past
        JOURNAL_MAX, or for bulk loads (`fold`), it is folded whole and emptied. Shards are
        written before the journal that no longer holds their rows, and readers overlay the
        journal on the shards, so a crash between the two leaves the same rows either way.
        """
        with self._lock:
            journal = dict(self.journal())
            journal.update({cid: (row.stored() if row else None) for cid, row in rows.items()})
            if not fold and len(journal) <= JOURNAL_MAX:
                if len(journal) > JOURNAL_SOFT:
                    journal = self._fold_some(journal, 2 * len(rows), durable)
                self._write_journal(journal, durable)
                return
            self._write_shards({cid: IndexRow(**doc) if doc else None
                                for cid, doc in journal.items()}, durable)
            if not durable:  # the shards reach the disk before the journal holding their rows goes
                flush_to_disk(self.folder)
            (self.folder / JOURNAL).unlink(missing_ok=True)
            self._journal_rows = {}

    def _write_journal(self, journal: Journal, durable: bool) -> None:
        with changing(self.folder / JOURNAL, durable=durable) as db:
            db.drop_table("rows")
            db.table("rows").insert_multiple({"id": cid, "row": row} for cid, row in journal.items())
        self._journal_rows = journal

    def _fold_some(self, journal: Journal, at_least: int, durable: bool) -> Journal:
        """Write the journal's rows of its fullest shards into them, `at_least` rows' worth
        (twice what the write added: the journal shrinks as fast as it grows, each shard
        rewrite taking as many rows as it can); the journal without those rows."""
        by_shard: dict[str, list[str]] = {}
        for cid in journal:
            by_shard.setdefault(shard_of(cid), []).append(cid)
        folded: dict[str, IndexRow | None] = {}
        for ids in sorted(by_shard.values(), key=len, reverse=True):
            if len(folded) >= at_least:
                break
            folded.update({cid: IndexRow(**doc) if (doc := journal[cid]) else None for cid in ids})
        self._write_shards(folded, durable)
        if not durable:  # as in write: shards on disk before the shorter journal
            flush_to_disk(self.folder)
        return {cid: doc for cid, doc in journal.items() if cid not in folded}

    def _write_shards(self, rows: dict[str, IndexRow | None], durable: bool) -> None:
        by_shard: dict[str, dict[str, IndexRow | None]] = {}
        for customer_id, row in rows.items():
            by_shard.setdefault(shard_of(customer_id), {})[customer_id] = row
        for shard, shard_rows in by_shard.items():
            with changing(self.folder / f"{shard}.json", durable=durable) as db:
                _merge_rows(db.table("customers"), shard_rows)


def _merge_rows(table: Any, rows: dict[str, IndexRow | None]) -> None:
    """Replace, add and remove one shard's rows in three TinyDB operations (a Query per row
    would scan the shard once per row)."""
    held = {doc["id"]: doc.doc_id for doc in table.all()}
    gone = [held[cid] for cid, row in rows.items() if row is None and cid in held]
    if gone:
        table.remove(doc_ids=gone)
    replaced = {cid: row for cid, row in rows.items() if row is not None and cid in held}
    if replaced:
        def replace(doc: dict[str, Any]) -> None:
            doc.pop("fields", None)  # a customer whose last field went: `stored` omits the key
            doc.update(replaced[doc["id"]].stored())
        table.update(replace, doc_ids=[held[cid] for cid in replaced])
    added = [row.stored() for cid, row in rows.items() if row is not None and cid not in held]
    if added:
        table.insert_multiple(added)
