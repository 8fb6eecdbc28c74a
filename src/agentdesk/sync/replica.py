"""Applying what the store sends to the cache: feed pages, profile snapshots, push results.

A page is applied customer by customer, each through the cache's one door for changing a
profile (`Cache.change_profile`): the profile file is read once, changed, the desk's
still-pending edits re-applied on top (so the agent keeps seeing them), and written once; its
timeline files likewise. Every record is validated first (`model.changes`); one that fails is
skipped with a reason and the rest of the page applies. Applying the same page twice changes
nothing (records are keyed by id), which is what makes "save the cursor after the page" safe.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdesk.cache import timeline as timeline_files
from agentdesk.cache.cache import Cache, DamagedProfile
from agentdesk.cache.edits import apply as apply_edit
from agentdesk.cache.edits import revert as revert_edit
from agentdesk.cache.entry_edits import is_entry_edit
from agentdesk.cache.outbox import CONFLICT, REJECTED, OutboxItem
from agentdesk.cache.profile_file import TABLE_OF, ProfileFile
from agentdesk.cache.search_index import IndexRow
from agentdesk.cache.timeline import TimelineSummary
from agentdesk.model.changes import (
    CONVERSATION,
    CUSTOMER,
    DELETE,
    ENTRY,
    EVICT,
    INCLUDE,
    MERGE,
    UPSERT,
    BadRecord,
    Rec,
    validate,
)
from agentdesk.model.mutations import record_type_of, table_of
from agentdesk.model.protocol import Mutation, MutationKind, MutationResult, MutationStatus
from agentdesk.model.sanitize import clean_line

log = logging.getLogger("agentdesk.sync")

# What filing a customer may raise on data it did not expect (never a full disk, OSError,
# which stops the sync): that customer is left as it was and fetched whole again.
DATA_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
               RecursionError)


@dataclass
class Fresh:
    """A customer the cache does not hold, built straight from its changes when they are all
    upserts (a first sync's customers): its records by table, their revisions, its entries,
    and how many changes counted."""

    tables: dict[str, list[dict[str, Any]]]
    revisions: dict[str, int]
    entries: list[dict[str, Any]]
    counted: int


def fresh(changes: list[Rec]) -> Fresh | None:
    """What `Replica._changed` would make of a new customer's changes, at a fraction of the
    cost; None unless they are all upserts. A later version of a record replaces an earlier
    one in its place; a record sent again unchanged does not count."""
    by_table: dict[str, dict[str, dict[str, Any]]] = {}
    revisions: dict[str, int] = {}
    entries: dict[str, dict[str, Any]] = {}
    counted = 0
    for change in changes:
        if change.op != UPSERT or change.data is None:
            return None
        key = f"{change.type}:{change.id}"
        if change.type == ENTRY:
            entries[change.id] = change.data
        else:
            table = by_table.setdefault(TABLE_OF[change.type], {})
            if revisions.get(key) == change.revision and table[change.id] == change.data:
                continue
            table[change.id] = change.data
        revisions[key] = change.revision
        counted += 1
    return Fresh({name: list(docs.values()) for name, docs in by_table.items()}, revisions,
                 list(entries.values()), counted)


def file_fresh(profile: ProfileFile, new: Fresh, timeline_dir: Path, *, durable: bool) -> None:
    """Write a new customer's records into its (empty) profile file, and its timeline."""
    tables = {**new.tables, "revisions": [new.revisions]}
    if new.entries:  # obsolete files: none (the customer had none)
        summary, inline, _ = timeline_files.apply(timeline_dir, TimelineSummary(), [], new.entries,
                                                  [], durable=durable)
        tables["timeline"] = [summary.to_json()]
        if inline:
            tables["entries"] = inline
    profile.create(tables)


def file_timeline(timeline_dir: Path, profile: ProfileFile, upserts: list[dict[str, Any]],
                  deletes: list[dict[str, Any]], *, durable: bool) -> list[Path]:
    """Write the timeline files the arriving entries and tombstones change and put the
    timeline's new summary (and entries kept inline) into the profile; the files that became
    obsolete, to delete once the profile is saved."""
    summary, inline, obsolete = timeline_files.apply(
        timeline_dir, TimelineSummary.from_json(profile.timeline_summary()),
        profile.inline_entries(), upserts, deletes, durable=durable
    )
    profile.set_timeline(summary, inline)
    return obsolete


@dataclass
class Applied:
    """What one page (or snapshot) did to the cache."""

    changes: int = 0
    skipped: list[str] = field(default_factory=list)
    customers: dict[str, int] = field(default_factory=dict)  # customer id -> changes applied
    removed: set[str] = field(default_factory=set)
    merged: dict[str, str] = field(default_factory=dict)
    scope: list[tuple[str, str]] = field(default_factory=list)  # ("include"|"evict", id), in order
    damaged: list[str] = field(default_factory=list)  # customers that could not be filed

    def add(self, other: Applied) -> None:
        self.changes += other.changes
        self.skipped += other.skipped
        self.damaged += [c for c in other.damaged if c not in self.damaged]
        for k, v in other.customers.items():
            self.customers[k] = self.customers.get(k, 0) + v
        self.removed |= other.removed
        self.merged.update(other.merged)
        self.scope += other.scope


# What the store changes on a conversation when an entry is added to it (its last line, since
# when the customer waits): that change comes with the entry, which is what is news.
_ENTRY_KEPT = frozenset({"last_line", "waiting_since", "status", "ended", "snoozed_until"})


def _follows_an_entry(profile: ProfileFile, change: Rec) -> bool:
    """A conversation's upsert that changes only what an added entry changes on it (see
    `work_mutations.conversation_after_entry`): not counted as a change of its own."""
    if change.type != CONVERSATION or change.op != UPSERT or change.data is None:
        return False
    held = profile.find("conversations", change.id)
    if held is None or held.get("last_line") == change.data.get("last_line"):
        return False
    return ({k: v for k, v in held.items() if k not in _ENTRY_KEPT}
            == {k: v for k, v in change.data.items() if k not in _ENTRY_KEPT})


class Replica:
    """The cache as a replica of the store."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    # -- applying changes ------------------------------------------------------------------

    def apply(self, raw_changes: Iterable[Any], *, durable: bool = False) -> Applied:
        """Validate and apply a batch of changes. Files are written without fsync unless
        `durable`; the engine syncs the file system once per batch before saving its cursor."""
        records, result = self.check(raw_changes)
        rows: dict[str, IndexRow | None] = {}
        self.apply_records(records, result, rows, durable=durable)
        if rows or self.cache.rows_waiting:
            self.cache.write_index_rows(rows, durable=durable)
        return result

    @staticmethod
    def check(raw_changes: Iterable[Any]) -> tuple[list[Rec], Applied]:
        """The changes that pass validation, and an Applied with the skipped ones' reasons and
        the scope changes (which name a customer but change no file)."""
        result = Applied()
        records: list[Rec] = []
        for raw in raw_changes:
            try:
                change = validate(raw)
            except BadRecord as error:
                log.warning("skipped a record from the store: %s", error)
                result.skipped.append(str(error))
                continue
            if change.op == EVICT or change.op == INCLUDE:
                result.scope.append((change.op, change.customer_id))
            else:
                records.append(change)
        return records, result

    def apply_records(self, records: Iterable[Rec], result: Applied,
                      rows: dict[str, IndexRow | None], *, durable: bool) -> None:
        """Apply checked changes customer by customer; their search rows go into `rows`."""
        self.cache.require_writable()
        groups: dict[str, list[Rec]] = {}
        for change in records:
            groups.setdefault(change.customer_id, []).append(change)
        renames: dict[str, str | None] = {}
        for customer_id, changes in groups.items():
            try:
                self._apply_customer(customer_id, changes, result, rows, renames, durable)
            except (*DATA_ERRORS, DamagedProfile) as error:  # belt and braces: see DATA_ERRORS
                why = (f"customer {clean_line(customer_id[:60])} could not be filed "
                       f"({type(error).__name__}: {clean_line(str(error))[:200]}); it is "
                       "fetched whole from the store")
                log.error("%s", why, exc_info=True)
                result.skipped.append(why)
                result.damaged.append(customer_id)
        self.cache.forget_recent(renames)

    def _apply_customer(self, customer_id: str, changes: list[Rec], result: Applied,
                        rows: dict[str, IndexRow | None], renames: dict[str, str | None],
                        durable: bool) -> None:
        timeline_dir = self.cache.timeline_dir(customer_id)
        obsolete: list[Path] = []
        with self.cache.change_profile(customer_id, durable=durable, rows=rows) as profile:
            new = fresh(changes) if not profile.existed else None
            if new is not None:
                file_fresh(profile, new, timeline_dir, durable=durable)
                result.changes += new.counted
                result.customers[customer_id] = result.customers.get(customer_id, 0) + new.counted
                upserts: list[dict[str, Any]] = []
                deletes: list[dict[str, Any]] = []
            else:
                upserts, deletes, touched = self._changed(customer_id, profile, changes, result,
                                                          renames)
                if not touched:
                    return
            for item in self.cache.outbox.pending(customer_id):  # the agent's unsent edits
                apply_edit(profile, item.mutation)
            if upserts or deletes:
                obsolete = file_timeline(timeline_dir, profile, upserts, deletes, durable=durable)
        for old in obsolete:  # the profile naming their replacements is written
            old.unlink(missing_ok=True)

    def _changed(self, customer_id: str, profile: ProfileFile, changes: list[Rec],
                 result: Applied, renames: dict[str, str | None],
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
        """Apply the changes to a cached customer's profile, entries aside: the arriving ones
        and the tombstones, returned with whether anything changed."""
        upserts: list[dict[str, Any]] = []
        deletes: list[dict[str, Any]] = []
        revisions: dict[str, int | None] = {}
        touched = False
        for change in changes:
            if change.type == CUSTOMER and change.op in (DELETE, MERGE):
                self.cache.remove_customer(customer_id)
                profile.clear()
                upserts, deletes, revisions, touched = [], [], {}, False
                if change.op == MERGE:
                    into = (change.data or {})["into"]
                    result.merged[customer_id] = into
                    renames[customer_id] = into
                    self.cache.outbox.retarget(customer_id, into)
                else:
                    result.removed.add(customer_id)
                    renames[customer_id] = None
                result.changes += 1
                continue
            key = f"{change.type}:{change.id}"
            # A version this desk holds the revision of already: the store's echo of our own
            # edit (the push recorded its revision). Filed when the store added to it (a
            # customer's `updated`), but no news: not counted as a change to the customer.
            # Entries too, upserts and tombstones: the desk's own entry edits (a feedback
            # item reassigned) record the revision their answer gave.
            echo = ((change.op == UPSERT or change.type == ENTRY)
                    and profile.revision_of(change.type, change.id) == change.revision)
            if echo and change.type != ENTRY and profile.find(TABLE_OF[change.type], change.id) == change.data:
                continue  # what the cache holds already
            if not echo and not _follows_an_entry(profile, change):
                result.changes += 1
                result.customers[customer_id] = result.customers.get(customer_id, 0) + 1
            touched = True
            if change.type == ENTRY and change.op == UPSERT:
                upserts.append(change.data or {})
            elif change.type == ENTRY:  # tombstones carry the entry's time
                deletes.append({"id": change.id, "at": (change.data or {})["at"]})
            elif change.op == UPSERT:
                profile.put(TABLE_OF[change.type], dict(change.data or {}))
            else:
                profile.remove(TABLE_OF[change.type], change.id)
            revisions[key] = change.revision if change.op == UPSERT else None
        if revisions:
            profile.set_revisions(revisions)
        return upserts, deletes, touched

    def evict(self, customer_ids: Iterable[str]) -> list[str]:
        """Drop customers that left the agent's scope, except those with unconfirmed edits."""
        keep = self.cache.outbox.customers()
        gone = [c for c in customer_ids if c not in keep]
        with self.cache.write_lock:
            for customer_id in gone:
                self.cache.remove_customer(customer_id)
            self.cache.write_index_rows(dict.fromkeys(gone), durable=False)
            self.cache.forget_recent(dict.fromkeys(gone))
        return gone

    # -- results of pushed edits -----------------------------------------------------------

    def record_result(self, item: OutboxItem, result: MutationResult) -> None:
        """Apply the store's answer to one pushed edit to the outbox and the local copy."""
        m = item.mutation
        outbox = self.cache.outbox
        kind = record_type_of(m)
        # Every record the store wrote for it (a reply's entry and its conversation, a new
        # customer's contacts): their arrival in the feed is this edit's echo, not news.
        revision = ({f"{kind}:{m.target}": result.revision}
                    if result.revision and m.kind != MutationKind.CUSTOMER_ERASE else {})
        revision.update(result.written)
        if result.status == MutationStatus.APPLIED:
            renamed = _filed_elsewhere(m, result)
            with self._held_profile(m.customer_id) as profile:
                if profile is not None and renamed is not None:
                    # (pulled already, before this answer came: the remote's copy stays)
                    pulled = profile.revision_of("entry", renamed["id"]) is not None
                    profile.file_entries([] if pulled else [renamed],
                                         [{"id": m.target, "at": m.data["at"]}])
                if profile is not None and revision:
                    profile.set_revisions(revision)
            outbox.done([m.id])
            return
        if is_entry_edit(m) and result.status != MutationStatus.APPLIED:
            # The entry as it was, or as the store has it now (a conflict).
            self.cache.revert_entry_edit(m, result.current)
            with self._held_profile(m.customer_id) as profile:
                if profile is not None:  # (a conversation started: it goes too)
                    revert_edit(profile, m)
            if result.status == MutationStatus.CONFLICT:
                outbox.mark(m.id, CONFLICT, reason=result.reason, conflicts=result.conflicts,
                            current=result.current, revision=result.revision)
            else:
                outbox.mark(m.id, REJECTED, reason=result.reason or "rejected by the server")
            return
        if result.status == MutationStatus.CONFLICT:
            with self._held_profile(m.customer_id) as profile:
                if profile is not None:  # the store's version, as it is now
                    if result.current is not None:
                        profile.put(table_of(m), dict(result.current))
                    elif table_of(m) != "customer":
                        profile.remove(table_of(m), m.target)
                    if revision:
                        profile.set_revisions(revision)
            outbox.mark(m.id, CONFLICT, reason=result.reason, conflicts=result.conflicts,
                        current=result.current, revision=result.revision)
            return
        with self._held_profile(m.customer_id) as profile:
            if profile is not None:
                revert_edit(profile, m)
        if m.kind == MutationKind.CUSTOMER_ERASE:  # the store keeps the customer: fetch it again
            self.cache.request_repair([m.customer_id])
        outbox.mark(m.id, REJECTED, reason=result.reason or "rejected by the server")

    def park(self, item: OutboxItem, why: str) -> None:
        """An edit the store will not take (see `sync.push`): undone on the local copy and
        kept as rejected, with why, for the agent to send again or discard."""
        if is_entry_edit(item.mutation):
            self.cache.revert_entry_edit(item.mutation)
        with self._held_profile(item.mutation.customer_id) as profile:
            if profile is not None:
                revert_edit(profile, item.mutation)
        self.cache.outbox.mark(item.mutation.id, REJECTED, reason=why)

    @contextmanager
    def _held_profile(self, customer_id: str) -> Iterator[ProfileFile | None]:
        """The customer's profile to change, or None if the cache no longer holds it (removed
        or evicted meanwhile), or it does not read back (it is rebuilt from the store, answer
        included): an answer about it changes no file."""
        with ExitStack() as stack:
            try:
                profile = stack.enter_context(self.cache.change_profile(customer_id))
            except DamagedProfile as damaged:
                log.warning("%s", damaged)
                yield None
                return
            yield profile if profile.existed else None


def _filed_elsewhere(m: Mutation, result: MutationResult) -> dict[str, Any] | None:
    """A reply the remote filed under an id of its own (RT names it by its transaction): the
    entry as filed there, which replaces the desk's pending one, so that its arrival in the
    feed is the reply's echo, not a second entry. None when the id stayed."""
    filed = result.current
    if m.kind != MutationKind.REPLY_ADD or not isinstance(filed, dict) or not m.data.get("at"):
        return None
    if not isinstance(filed.get("id"), str) or filed["id"] == m.target:
        return None
    return filed
