"""A customer's timeline on disk: entries in chunks of about CHUNK, oldest first.

The profile file keeps a summary (sizes, text volume, last key and first entry of each
conversation per chunk) so the desk can open a 100,000-entry timeline by reading one chunk,
and the sync can file a new entry by rewriting one chunk. Chunks are split when they grow past
2 x CHUNK and dropped when emptied; their file names are listed in the summary, so a split
never renames the files after it.

A timeline written as a single chunk (most customers: a few dozen entries) is kept inside the
profile file, in its `entries` table, and named INLINE in the summary: one file per customer
instead of a folder and two files, which is most of what a first sync costs the file system.

A body longer than 64k characters is kept in a file of its own beside the chunks, the entry
holding its head (`cache.long_bodies`): the view draws from what the chunk holds; finding,
editing and checking read entries whole (`Timeline.chunk_docs`).
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.cache import long_bodies
from agentdesk.cache.files import AtomicJSONStorage, make_private_dir, read_json
from agentdesk.model.views import Stored, StoredRecords

if TYPE_CHECKING:
    from agentdesk.model.records import TimelineEntry

CHUNK = 200  # entries per file: what the timeline reads and lays out at a time
INLINE = ""  # the chunk name of a timeline kept in the profile file's `entries` table

Key = tuple[datetime, str]  # entries are ordered by (time, id)


def default_file(index: int) -> str:
    return f"entries-{index:05d}.json"


ENTRY_FIELDS = ("id", "conversation_id", "at", "channel", "direction", "author", "subject", "body")
# What reading a chunk file raises when it is not what the cache wrote.
DAMAGE = (ValueError, TypeError, KeyError, IndexError, AttributeError, OSError, RecursionError)

@dataclass
class TimelineSummary:
    """Where the timeline's entries are, without reading them."""

    chunk_sizes: list[int] = field(default_factory=list)
    # Per chunk: (lines, characters) of the entries' text: lets the UI estimate the height of
    # chunks it has not read yet.
    chunk_text: list[tuple[int, int]] = field(default_factory=list)
    # Conversation id -> index of its first entry in the whole timeline.
    starts: dict[str, int] = field(default_factory=dict)
    chunk_files: list[str] = field(default_factory=list)
    # Per chunk: (time, id) of its last entry, to find where an arriving entry belongs.
    chunk_last: list[tuple[str, str]] = field(default_factory=list)
    # Per chunk: conversation id -> offset of that conversation's first entry in the chunk.
    chunk_convs: list[dict[str, int]] = field(default_factory=list)
    # Per chunk: entry kind -> how many entries of it the chunk holds (schema 7): the surveys,
    # responses and feedback of a 100,000-entry timeline are read from the chunks holding them.
    chunk_kinds: list[dict[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.chunk_sizes)

    def file(self, index: int) -> str:
        return self.chunk_files[index] if index < len(self.chunk_files) else default_file(index)

    @property
    def complete(self) -> bool:
        """Written by this version (older summaries lack what incremental updates need)."""
        n = len(self.chunk_sizes)
        return (len(self.chunk_files) == len(self.chunk_last) == len(self.chunk_convs)
                == len(self.chunk_kinds) == n)

    def chunks_with(self, kinds: set[str]) -> list[int]:
        """The chunks holding entries of any of `kinds` (every chunk, if not known)."""
        if len(self.chunk_kinds) != len(self.chunk_sizes):
            return list(range(len(self.chunk_sizes)))
        return [i for i, counts in enumerate(self.chunk_kinds) if kinds & counts.keys()]

    def kind_counts(self) -> dict[str, int]:
        """Entries of each kind in the whole timeline."""
        total: dict[str, int] = {}
        for counts in self.chunk_kinds:
            for kind, count in counts.items():
                total[kind] = total.get(kind, 0) + count
        return total

    def to_json(self) -> dict[str, Any]:
        return {
            "chunk_sizes": self.chunk_sizes,
            "chunk_text": [list(x) for x in self.chunk_text],
            "starts": self.starts,
            "chunk_files": self.chunk_files,
            "chunk_last": [list(x) for x in self.chunk_last],
            "chunk_convs": self.chunk_convs,
            "chunk_kinds": self.chunk_kinds,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TimelineSummary:
        return cls(
            chunk_sizes=list(doc.get("chunk_sizes", [])),
            chunk_text=[tuple(x) for x in doc.get("chunk_text", [])],
            starts=dict(doc.get("starts", {})),
            chunk_files=list(doc.get("chunk_files", [])),
            chunk_last=[tuple(x) for x in doc.get("chunk_last", [])],
            chunk_convs=[dict(x) for x in doc.get("chunk_convs", [])],
            chunk_kinds=[dict(x) for x in doc.get("chunk_kinds", [])],
        )

    def add_chunk(self, name: str, docs: list[dict[str, Any]]) -> None:
        """Append the facts of one chunk file holding `docs` (in order, not empty)."""
        text, last, convs, kinds = _chunk_facts(docs)
        self.chunk_sizes.append(len(docs))
        self.chunk_text.append(text)
        self.chunk_files.append(name)
        self.chunk_last.append(last)
        self.chunk_convs.append(convs)
        self.chunk_kinds.append(kinds)

    def copy_chunk(self, other: TimelineSummary, index: int) -> None:
        """Append chunk `index` of `other` unchanged (its file was not rewritten)."""
        self.chunk_sizes.append(other.chunk_sizes[index])
        self.chunk_text.append(other.chunk_text[index])
        self.chunk_files.append(other.chunk_files[index])
        self.chunk_last.append(other.chunk_last[index])
        self.chunk_convs.append(other.chunk_convs[index])
        self.chunk_kinds.append(other.chunk_kinds[index])

    def recompute_starts(self) -> None:
        starts: dict[str, int] = {}
        base = 0
        for size, convs in zip(self.chunk_sizes, self.chunk_convs, strict=True):
            for conv, offset in convs.items():
                if conv not in starts:
                    starts[conv] = base + offset
            base += size
        self.starts = starts


class Timeline:
    """Read access to one customer's timeline, a chunk at a time (recent chunks kept), its
    entries as read-only views (`model.views`), made when first drawn."""

    def __init__(self, folder: Path, summary: TimelineSummary,
                 inline: list[dict[str, Any]] | None = None,
                 on_damage: Callable[[BaseException], Exception] | None = None) -> None:
        self.folder = folder
        self.summary = summary
        self._inline = inline or []
        self._chunks: OrderedDict[int, Sequence[Stored]] = OrderedDict()
        self._bodies: OrderedDict[tuple[str, str], str] = OrderedDict()
        # Makes the error kept when a chunk does not read back (the cache's DamagedProfile,
        # which also asks for the customer's rebuild).
        self._on_damage = on_damage
        # Set when a chunk did not read back: the desk says so and syncs. The chunk reads as
        # placeholders meanwhile, so drawing, scrolling and finding go on (an error raised in
        # the middle of a Textual handler would stop that widget for good).
        self.damage: Exception | None = None
        # Told of `damage` when it is first found, from whichever thread read the file.
        self.on_damaged: Callable[[Exception], None] | None = None

    @property
    def total(self) -> int:
        return self.summary.total

    def chunk_docs(self, index: int) -> list[dict[str, Any]]:
        """The entries of one chunk, whole, as they arrived (long bodies read back from their
        files): for finding and editing them. Placeholders if they do not read back (see
        `damage`)."""
        try:
            return long_bodies.whole(self.folder, self.stored_docs(index))
        except DAMAGE as error:
            return self._placeholders(index, error)

    def stored_docs(self, index: int) -> list[dict[str, Any]]:
        """The entries of one chunk as the file holds them (long bodies cut to their head)."""
        docs = chunk_docs(self.folder, self.summary.file(index), self._inline)
        if not isinstance(docs, list) or len(docs) != self.summary.chunk_sizes[index]:
            raise ValueError(f"chunk {index} holds {len(docs)} entries, not "
                             f"{self.summary.chunk_sizes[index]}")
        if not all(isinstance(d, dict) for d in docs):
            raise ValueError(f"chunk {index} holds something other than entries")
        return docs

    def body_of(self, entry: Stored) -> str:
        """An entry's whole body (read from its file when it was put aside; the last few kept:
        an entry shown in full is drawn more than once). If that file does not read back, the
        head, saying so (and the customer is fetched again: see `damage`)."""
        aside = entry.__dict__.get(long_bodies.ASIDE)
        if aside is None:
            return str(entry.body or "")
        key = (entry.id, aside["file"])  # (checked when its chunk was read)
        if key in self._bodies:
            self._bodies.move_to_end(key)
            return self._bodies[key]
        try:
            text = long_bodies.read_body(self.folder, entry.__dict__)  # its stored fields
        except DAMAGE as error:
            self._damaged(error)
            return f"{entry.body}\n\n[The rest of this text is not readable from the cache: " \
                   "fetched again from the store at the next sync.]"
        self._bodies[key] = text
        if len(self._bodies) > 4:
            self._bodies.popitem(last=False)
        return text

    def chunk(self, index: int) -> Sequence[Stored]:
        if index in self._chunks:
            self._chunks.move_to_end(index)
            return self._chunks[index]
        try:
            docs = self.stored_docs(index)
            long_bodies.check(docs)
            entries = StoredRecords("entry", docs)
            for name in ENTRY_FIELDS:  # a field missing or not converting: here, not mid-draw
                entries.field(name)
        except DAMAGE as error:
            entries = StoredRecords("entry", self._placeholders(index, error))
        self._chunks[index] = entries
        if len(self._chunks) > 16:
            self._chunks.popitem(last=False)
        return entries

    def _placeholders(self, index: int, error: BaseException) -> list[dict[str, Any]]:
        """As many entries as the chunk held, saying it could not be read, at its last time."""
        self._damaged(error)
        last = self.summary.chunk_last[index][0] if index < len(self.summary.chunk_last) else None
        at = last if isinstance(last, str) else "1970-01-01T00:00:00+00:00"
        return [{"id": f"unreadable-{index:05d}-{k:03d}", "conversation_id": "", "at": at,
                 "channel": "note", "direction": "internal", "author": "agentdesk", "subject": "",
                 "body": "Not readable from the cache: fetched again from the store at the next sync."}
                for k in range(self.summary.chunk_sizes[index])]

    def _damaged(self, error: BaseException) -> None:
        if self.damage is None:
            self.damage = error if self._on_damage is None else self._on_damage(error)  # type: ignore[assignment]
            if self.on_damaged is not None:
                self.on_damaged(self.damage)

    def position_of(self, at: datetime, entry_id: str) -> int:
        """Where an entry (by time and id) is now, or where it would be: to keep the agent's
        place when the timeline changes under them."""
        lasts = [(_time(a), i) for a, i in self.summary.chunk_last]
        if not lasts:
            return 0
        chunk = min(bisect_left(lasts, (at, entry_id)), len(lasts) - 1)
        keys = [(e.at, e.id) for e in self.chunk(chunk)]
        return sum(self.summary.chunk_sizes[:chunk]) + min(bisect_left(keys, (at, entry_id)),
                                                          max(0, len(keys) - 1))

    def locate(self, position: int) -> tuple[int, int]:
        """(chunk, offset) of the entry at `position` in the whole timeline."""
        for chunk, size in enumerate(self.summary.chunk_sizes):
            if position < size:
                return chunk, position
            position -= size
        raise IndexError(position)


def read_chunk(path: Path) -> list[dict[str, Any]]:
    return inline_docs(read_json(path) or {})


def inline_docs(tables: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries of a chunk file, or those kept in a profile file's tables, in order."""
    docs = tables.get("entries") or {}
    return [docs[k] for k in sorted(docs, key=int)]


def chunk_docs(folder: Path, name: str, inline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return inline if name == INLINE else read_chunk(folder / name)


def entries_table(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Entries as a TinyDB table (a chunk file's content, or a profile's `entries` table)."""
    return {str(i + 1): d for i, d in enumerate(docs)}


def _key(doc: dict[str, Any]) -> Key:
    return (_time(doc["at"]), str(doc["id"]))


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _chunk_facts(docs: list[dict[str, Any]]
                 ) -> tuple[tuple[int, int], tuple[str, str], dict[str, int], dict[str, int]]:
    if any(long_bodies.ASIDE in d for d in docs):  # counted whole, not their heads
        sizes = [long_bodies.text_size(d) for d in docs]
        text = (sum(lines for lines, _ in sizes), sum(chars for _, chars in sizes))
    else:  # (most chunks: without a call per entry, which a first sync makes 200,000 times)
        text = (sum(str(d.get("body", "")).count("\n") + 1 for d in docs),
                sum(len(str(d.get("body", ""))) for d in docs))
    last = docs[-1]
    convs: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for offset, doc in enumerate(docs):
        conversation = doc.get("conversation_id")
        if conversation:  # entries outside a conversation start none
            convs.setdefault(str(conversation), offset)
        kind = str(doc.get("kind") or "message")
        kinds[kind] = kinds.get(kind, 0) + 1
    return text, (str(last["at"]), str(last["id"])), convs, kinds


def _write_chunk(path: Path, docs: list[dict[str, Any]], durable: bool) -> None:
    """A new timeline file: a TinyDB database of one table, `entries`, oldest first, handed to
    the storage in one write (files are never changed, only replaced by new ones)."""
    AtomicJSONStorage(path, durable=durable).write({"entries": entries_table(docs)})


def write_all(folder: Path, entries: Iterable[TimelineEntry],
              durable: bool) -> tuple[TimelineSummary, list[dict[str, Any]]]:
    """Write a customer's whole timeline (bulk import, demo data): its summary, and the
    entries to keep in the profile file (all of them, when they fit one chunk; the caller
    then removes the chunk files, once the profile no longer names them). Long bodies go to
    files of their own (`long_bodies`); those of an earlier import that it does not name are
    removed."""
    ordered = sorted(entries, key=lambda e: (e.at, e.id))
    summary = TimelineSummary()
    named: set[str] = set()
    if len(ordered) <= CHUNK:
        docs = long_bodies.put_aside(folder, (e.model_dump(mode="json") for e in ordered), durable)
        if docs:
            summary.add_chunk(INLINE, docs)
        summary.recompute_starts()
        _drop_bodies_but(folder, long_bodies.files_named(docs))
        return summary, docs
    make_private_dir(folder)
    for old in folder.glob("entries-*.json"):
        old.unlink()
    for number, start in enumerate(range(0, len(ordered), CHUNK)):
        docs = long_bodies.put_aside(
            folder, (e.model_dump(mode="json") for e in ordered[start : start + CHUNK]), durable)
        name = default_file(number)
        _write_chunk(folder / name, docs, durable)
        summary.add_chunk(name, docs)
        named |= long_bodies.files_named(docs)
    summary.recompute_starts()
    _drop_bodies_but(folder, named)
    return summary, []


def _drop_bodies_but(folder: Path, named: set[str]) -> None:
    bodies = folder / long_bodies.FOLDER
    if bodies.exists():
        for path in bodies.iterdir():
            if path.name not in named:
                path.unlink()


def completed(folder: Path, summary: TimelineSummary,
              inline: list[dict[str, Any]]) -> TimelineSummary:
    """Fill in what an older summary lacks by reading its chunks (once per customer)."""
    if summary.complete:
        return summary
    full = TimelineSummary()
    for name in [summary.file(i) for i in range(len(summary.chunk_sizes))]:
        docs = chunk_docs(folder, name, inline)
        if docs:
            full.add_chunk(name, docs)
    full.recompute_starts()
    return full


def apply(folder: Path, summary: TimelineSummary, inline: list[dict[str, Any]],
          upserts: list[dict[str, Any]], deletes: list[dict[str, Any]], *,
          durable: bool) -> tuple[TimelineSummary, list[dict[str, Any]], list[Path]]:
    """File arriving entries (and remove deleted ones), rewriting only the chunks they touch.

    `inline` is the profile file's `entries` table (as docs). `upserts` are entry records
    (with `id` and `at`); `deletes` need `id` and `at` (the store's tombstones carry the time
    for this). Returns the new summary, the entries the profile file should now keep (empty
    when the timeline is in chunk files) and the files that became obsolete.

    A timeline that ends up as one rewritten chunk is kept in the profile file; otherwise
    changed chunks are written under new names, so until the caller stores the returned
    summary the old one still describes files that exist; the caller then deletes the
    obsolete files.

    Obsolete files include strays: chunk files the stored summary does not name, and temporary
    files, left by a process killed between writing new chunks and saving the profile that
    names them (or before it deleted the files they replaced). Nothing else writes to the
    folder meanwhile (the caller holds the cache's write lock), so they are garbage; without
    this, every crash mid-page would leave them for ever.

    Long bodies of `upserts` are written to their files first (`long_bodies`); those that the
    rewritten chunks named and no longer do are obsolete too.
    """
    upserts = long_bodies.put_aside(folder, upserts, durable)
    summary = completed(folder, summary, inline)
    named = set(summary.chunk_files)
    strays: list[Path] = []
    if folder.exists():  # most timelines have no folder: one stat instead of two listings
        strays = [p for p in folder.glob("entries-*.json") if p.name not in named]
        strays += folder.glob(".*.tmp")
    lasts = [(_time(at), entry_id) for at, entry_id in summary.chunk_last]
    loaded: dict[int, dict[str, dict[str, Any]]] = {}
    bodies: set[str] = set()  # the body files the chunks rewritten named
    appended: dict[str, dict[str, Any]] = {}  # entries for a timeline with no chunks yet

    def chunk_for(doc: dict[str, Any]) -> int | None:
        if not lasts:  # a new timeline (a first sync): no time to parse yet
            return None
        index = min(bisect_left(lasts, _key(doc)), len(lasts) - 1)
        if index not in loaded:
            docs = chunk_docs(folder, summary.file(index), inline)
            bodies.update(long_bodies.files_named(docs))
            docs = long_bodies.put_aside(folder, docs, durable, stored=True)
            loaded[index] = {d["id"]: d for d in docs}
        return index

    for doc in upserts:
        index = chunk_for(doc)
        (appended if index is None else loaded[index])[doc["id"]] = doc
    for doc in deletes:
        index = chunk_for(doc)
        if index is None:
            appended.pop(doc["id"], None)
        else:
            loaded[index].pop(doc["id"], None)

    count = len(summary.chunk_sizes)
    pieces_of: dict[int, list[list[dict[str, Any]]]] = {}
    for index, docs_by_id in loaded.items():
        pieces_of[index] = _split(sorted(docs_by_id.values(), key=_key))
    if count == 0 and appended:
        pieces_of[0] = _split(sorted(appended.values(), key=_key))
        count = 1
    gone = [summary.file(i) for i in pieces_of if i < len(summary.chunk_sizes)]
    obsolete = [folder / name for name in gone if name != INLINE] + strays
    kept = [i for i in range(count) if i not in pieces_of]
    new_pieces = [docs for pieces in pieces_of.values() for docs in pieces]
    if bodies:
        bodies -= {name for docs in new_pieces for name in long_bodies.files_named(docs)}
        obsolete += [folder / long_bodies.FOLDER / name for name in sorted(bodies)]

    new = TimelineSummary()
    if not kept and len(new_pieces) == 1:  # one chunk, rewritten: into the profile file
        new.add_chunk(INLINE, new_pieces[0])
        new.recompute_starts()
        return new, new_pieces[0], obsolete
    keep_inline: list[dict[str, Any]] = []
    written: list[tuple[str, list[dict[str, Any]]]] = []
    for index in range(count):
        if index not in pieces_of:
            new.copy_chunk(summary, index)
            if summary.file(index) == INLINE:
                keep_inline = inline
            continue
        for docs in pieces_of[index]:
            name = f"entries-{uuid.uuid4().hex[:12]}.json"
            new.add_chunk(name, docs)
            written.append((name, docs))
    if written:
        make_private_dir(folder)
    for name, docs in written:
        _write_chunk(folder / name, docs, durable)
    new.recompute_starts()
    return new, keep_inline, obsolete


def _split(docs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    if len(docs) <= 2 * CHUNK:
        return [docs] if docs else []
    return [docs[i : i + CHUNK] for i in range(0, len(docs), CHUNK)]
