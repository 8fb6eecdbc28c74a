"""A column of strings kept as one UTF-8 buffer and the offsets where each value ends.

A `str` costs 49 bytes of header before its first character; 100,000 e-mails, names, ids
and times are half a million such objects. Packed, a value costs its bytes and four more,
and is decoded only when read (a drawn cell, a sort key worked out once, an exported row).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator


class PackedStrings:
    """An append-only sequence of `str` (what a list of them would answer, read-only)."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("I")

    def append(self, value: str) -> None:
        self._data += value.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> str:
        if i < 0:
            i += len(self._ends)
        end = self._ends[i]  # IndexError past the end, as a list
        start = self._ends[i - 1] if i else 0
        return self._data[start:end].decode("utf-8", "surrogatepass")

    def __iter__(self) -> Iterator[str]:
        data, start = self._data, 0
        for end in self._ends:
            yield data[start:end].decode("utf-8", "surrogatepass")
            start = end

    def index(self, value: str) -> int:
        """The first position holding exactly `value` (ValueError if none): a search of the
        buffer, then a check that the hit is a whole value."""
        wanted = value.encode("utf-8", "surrogatepass")
        if not wanted:  # an empty value ends where the one before it ends
            for i, end in enumerate(self._ends):
                if end == (self._ends[i - 1] if i else 0):
                    return i
            raise ValueError("'' is not in the column")
        pos = self._data.find(wanted)
        while pos >= 0:
            i = bisect_right(self._ends, pos)  # the first value ending past the hit: its own
            start = self._ends[i - 1] if i else 0
            if start == pos and i < len(self._ends) and self._ends[i] == pos + len(wanted):
                return i
            pos = self._data.find(wanted, pos + 1)
        raise ValueError(f"{value!r} is not in the column")

    def nbytes(self) -> int:
        return len(self._data) + self._ends.itemsize * len(self._ends)
