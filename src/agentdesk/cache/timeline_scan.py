"""What finding text in a timeline and filtering it need of every entry, read a chunk file at a
time and kept small.

A timeline of 100,000 entries is never loaded as entries at once: a scan reads its chunk files
one by one (in a worker, newest first) and keeps, per file, the entries' text lower-cased in
one string, and one byte per entry for its channel and direction, and the conversation ids.
Once every file has been read, a new query is a `str.find` over those strings and a filter is
a `bytes.translate` per file: no file is read again. A scan made for a newer version of the
timeline (a sync changed it) keeps what it knows of the files both versions share: the same
name and the same file (every write is a new file renamed into place, so a rewritten file,
even under the same name, has another inode).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agentdesk.cache.timeline import INLINE, Timeline
from agentdesk.model.kinds import GROUP_OF, Channel, Direction, EntryKind

CHANNELS = list(Channel)
DIRECTIONS = list(Direction)
KINDS = list(EntryKind)
_CHANNEL_CODE = {c.value: i for i, c in enumerate(CHANNELS)}
_DIRECTION_CODE = {d.value: i for i, d in enumerate(DIRECTIONS)}
_KIND_CODE = {k.value: i for i, k in enumerate(KINDS)}
_MESSAGE = _KIND_CODE[EntryKind.MESSAGE.value]
SEPARATOR = "\x00"  # between two entries' text: a query never holds one, so never spans two


def code(channel: str, direction: str) -> int:
    """One byte for an entry's channel and direction (unknown values count as the first)."""
    return _CHANNEL_CODE.get(channel, 0) * 4 + _DIRECTION_CODE.get(direction, 0)


def fold(text: str) -> str:
    """Text as find compares it: lower-cased, with no separator in it."""
    return text.lower().replace(SEPARATOR, " ")


@dataclass(frozen=True)
class ChunkFacts:
    """One chunk file, as find and filter need it."""

    text: str  # each entry's subject, body, author and details, folded, joined by SEPARATOR
    starts: array  # where each entry's text starts in `text`
    codes: bytes  # `code(channel, direction)` of each entry
    kinds: bytes  # each entry's kind, its index in KINDS
    conversations: list[str]
    conversation_set: frozenset[str]

    @classmethod
    def of(cls, docs: Iterable[dict]) -> ChunkFacts:
        parts: list[str] = []
        codes = bytearray()
        kinds = bytearray()
        conversations: list[str] = []
        for doc in docs:
            text = f"{doc.get('subject') or ''}\n{doc.get('body') or ''}\n{doc.get('author') or ''}"
            details = doc.get("details")
            if details:  # a campaign's name, an order's items: found as the entry shows them
                text += "\n" + " ".join(" ".join(map(str, v)) if isinstance(v, list) else str(v)
                                         for v in details.values())
            parts.append(text)
            codes.append(code(str(doc.get("channel", "")), str(doc.get("direction", ""))))
            kinds.append(_KIND_CODE.get(doc.get("kind") or "", _MESSAGE))
            conversations.append(str(doc.get("conversation_id", "")))
        starts = array("q")
        at = 0
        for part in parts:
            starts.append(at)
            at += len(part) + 1
        return cls(fold(SEPARATOR.join(parts)), starts, bytes(codes), bytes(kinds),
                   conversations, frozenset(conversations))

    def matches(self, needle: str) -> list[int]:
        """Offsets of the entries whose text holds `needle` (folded), each once, in order."""
        found: list[int] = []
        text, starts = self.text, self.starts
        at = text.find(needle)
        while at >= 0:
            entry = bisect_right(starts, at) - 1
            found.append(entry)
            # Go on from the next entry: one match per entry is all find needs.
            if entry + 1 >= len(starts):
                break
            at = text.find(needle, starts[entry + 1])
        return found


def visible_table(hidden_channels: Iterable[str], hidden_directions: Iterable[str]) -> bytes:
    """A `bytes.translate` table turning each entry's code into 1 (shown) or 0 (hidden)."""
    channels = {_CHANNEL_CODE[c] for c in hidden_channels if c in _CHANNEL_CODE}
    directions = {_DIRECTION_CODE[d] for d in hidden_directions if d in _DIRECTION_CODE}
    return bytes(0 if (b // 4 in channels or b % 4 in directions) else 1 for b in range(256))


def kind_table(hidden_groups: Iterable[str]) -> bytes | None:
    """A `bytes.translate` table turning each entry's kind into 1 (shown) or 0 (hidden) by
    the kind filter's groups; None when no group is hidden."""
    hidden = set(hidden_groups)
    if not hidden:
        return None
    shown = [0 if GROUP_OF[kind].value in hidden else 1 for kind in KINDS]
    return bytes(shown) + bytes(256 - len(shown))


def _both(a: bytes, b: bytes) -> bytes:
    """1 where both masks hold 1: one AND of two integers, not a loop over the entries."""
    return (int.from_bytes(a, "big") & int.from_bytes(b, "big")).to_bytes(len(a), "big")


class TimelineScan:
    """The facts of a timeline's chunk files, read on demand or all in one pass."""

    def __init__(self, timeline: Timeline, previous: TimelineScan | None = None) -> None:
        self.timeline = timeline
        summary = timeline.summary
        self.bases: list[int] = [0]  # global position of each chunk's first entry, then total
        for size in summary.chunk_sizes:
            self.bases.append(self.bases[-1] + size)
        self._facts: list[ChunkFacts | None] = [None] * len(summary.chunk_sizes)
        self._files: list[tuple[int, int, int] | None] = [None] * len(summary.chunk_sizes)
        if previous is not None:  # keep what is known of the files both versions share
            known = {previous.timeline.summary.file(i): (previous._files[i], f)
                     for i, f in enumerate(previous._facts) if f is not None and previous._files[i]}
            for i in range(len(self._facts)):
                file, facts = known.get(summary.file(i), (None, None))
                if file is not None and file == self._file(i):
                    self._facts[i], self._files[i] = facts, file
        self._counts: dict[int, int] | None = None
        self._kind_counts: dict[str, int] | None = None

    def _file(self, chunk: int) -> tuple[int, int, int] | None:
        """Which file a chunk is (inode, mtime, size), for files of their own."""
        name = self.timeline.summary.file(chunk)
        if name == INLINE:
            return None
        try:
            st = (self.timeline.folder / name).stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    @property
    def chunks(self) -> int:
        return len(self._facts)

    @property
    def complete(self) -> bool:
        return all(f is not None for f in self._facts)

    def known(self, chunk: int) -> ChunkFacts | None:
        return self._facts[chunk]

    def facts(self, chunk: int) -> ChunkFacts:
        """The facts of one chunk, reading its file if they are not known yet."""
        facts = self._facts[chunk]
        if facts is None:
            # Which file first: if it is replaced meanwhile, what was read is of a newer file
            # than the one noted, and a later scan reads it again rather than trust it.
            self._files[chunk] = self._file(chunk)
            facts = self._facts[chunk] = ChunkFacts.of(self.timeline.chunk_docs(chunk))
        return facts

    def missing(self) -> list[int]:
        """Chunks not read yet, newest first (where the desk opens, and what is asked about
        most)."""
        return [i for i in range(len(self._facts) - 1, -1, -1) if self._facts[i] is None]

    def read_all(self, progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] = lambda: False, every: int = 25) -> bool:
        """Read every chunk not read yet (in a worker thread: each slot is written once, and
        readers only look at slots already filled). Returns whether it finished."""
        todo = self.missing()
        for done, chunk in enumerate(todo, 1):
            if cancelled():
                return False
            self.facts(chunk)
            if progress is not None and (done % every == 0 or done == len(todo)):
                progress(done, len(todo))
        return True

    # -- find and filter -------------------------------------------------------------------

    def matches(self, query: str, chunks: Iterable[int] | None = None) -> dict[int, list[int]]:
        """Per chunk read so far (or of `chunks`), the offsets of the entries matching."""
        needle = fold(query)
        out: dict[int, list[int]] = {}
        for chunk in range(len(self._facts)) if chunks is None else chunks:
            facts = self._facts[chunk]
            if facts is not None:
                found = facts.matches(needle)
                if found:
                    out[chunk] = found
        return out

    def masks(self, table: bytes, conversation: str | None = None,
              kinds: bytes | None = None) -> list[bytes]:
        """Per chunk, one byte per entry: 1 if the filter shows it (every chunk must be read).
        `kinds` (a `kind_table`) hides kinds too."""
        out: list[bytes] = []
        for facts in self._facts:
            assert facts is not None, "filter before the scan is complete"
            mask = facts.codes.translate(table)
            if kinds is not None:
                mask = _both(mask, facts.kinds.translate(kinds))
            if conversation is not None:
                if conversation not in facts.conversation_set:
                    mask = bytes(len(mask))
                else:
                    mask = bytes(m if c == conversation else 0
                                 for m, c in zip(mask, facts.conversations, strict=True))
            out.append(mask)
        return out

    def kind_counts(self) -> dict[str, int]:
        """How many entries of each kind (of the chunks read so far; kept once all are: the
        filter's panel shows them after every toggle)."""
        if self._kind_counts is not None:
            return self._kind_counts
        counts = dict.fromkeys((k.value for k in KINDS), 0)
        for facts in self._facts:
            if facts is not None:
                for value in set(facts.kinds):
                    counts[KINDS[value].value] += facts.kinds.count(value)
        if self.complete:
            self._kind_counts = counts
        return counts

    def code_counts(self) -> dict[int, int]:
        """How many entries have each (channel, direction) code: for the filter's choices."""
        if self._counts is None:
            counts: dict[int, int] = {}
            for facts in self._facts:
                if facts is None:
                    continue
                for value in set(facts.codes):
                    counts[value] = counts.get(value, 0) + facts.codes.count(value)
            if self.complete:
                self._counts = counts
            return counts
        return self._counts
