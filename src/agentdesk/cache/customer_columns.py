"""The customers table's columns as data: what each shows, how wide, how it sorts.

A column is one entry of `COLUMNS`: its id (also its export field and the name remembered
in the panel state), its title, its width on screen, how to read its value from an index
row, how to show the value and how to sort it. Adding a column (a new `IndexRow` attribute)
is adding one entry here; the table, the column picker, the sort keys and the export follow.

Values are kept as read (`str`, or a tuple of `str` for lists), so the table can share equal
values between rows (`repeats`: statuses, companies, tags) and the export writes them as
`agentdesk export` does (lists stay lists in JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentdesk.cache.search_index import IndexRow
from agentdesk.model.fold import fold

Value = str | tuple[str, ...] | bool | int


def _attr(name: str) -> Callable[[IndexRow], Value]:
    def get(row: IndexRow) -> Value:
        value = getattr(row, name)
        if isinstance(value, list):
            return tuple(value)
        # Yes/no and counts stay themselves: they sort as such and export as `agentdesk export`
        # writes them (true/false, numbers).
        return value if isinstance(value, bool | int) else str(value)
    return get


def _text(value: Value) -> str:
    return ", ".join(value) if isinstance(value, tuple) else value


def _folded(value: Value) -> Any:
    """Text sorts case and accents folded, empty values last (ascending)."""
    text = _text(value)
    return (not text, fold(text))


def _date(value: Value) -> str:
    """An ISO time shown as its date (the table has no room for the time of day)."""
    return str(value)[:10]


def _as_is(value: Value) -> Any:
    return (not value, value)


def _yes_no(value: Value) -> str:
    return "yes" if value else "no"


def _number(value: Value) -> Any:
    return value


@dataclass(frozen=True)
class Column:
    id: str  # the IndexRow attribute and the export field
    title: str
    width: int  # cells on screen (the last column shown takes what is left)
    get: Callable[[IndexRow], Value]
    show: Callable[[Value], str] = _text
    key: Callable[[Value], Any] = _folded
    repeats: bool = False  # few distinct values: rows share them (memory)


def column(id: str, title: str, width: int, **options: Any) -> Column:
    return Column(id, title, width, _attr(id), **options)


COLUMNS: tuple[Column, ...] = (
    column("name", "Name", 22),
    column("company", "Company", 16, repeats=True),
    column("email", "E-mail", 27),
    column("phone", "Phone", 16),
    column("status", "Status", 10, repeats=True),
    column("tags", "Tags", 14, repeats=True),
    column("segments", "Segments", 18, repeats=True),
    column("channels", "Channels", 14, repeats=True),
    column("last_contact", "Last contact", 12, show=_date, key=_as_is),
    column("id", "Id", 12),
    # The chart's facts (schema 9), also offered by `agentdesk export --fields`.
    column("since", "Since", 11, show=_date, key=_as_is),
    column("reachable", "Reachable", 10, show=_yes_no, key=_number, repeats=True),
    column("open_conversations", "Open", 5, show=str, key=_number, repeats=True),
)
BY_ID = {c.id: c for c in COLUMNS}
DEFAULT_SHOWN = ("name", "company", "email", "phone", "status", "tags", "last_contact")
