"""Customers written out as CSV or JSON, from their search index rows (no I/O but the stream).

Both formats clean every value the way the desk cleans what it shows (`sanitize.clean_text`:
escape sequences and control characters removed, newlines kept), so a file opened in a
terminal or a spreadsheet does nothing the customer's text asks. CSV cells starting with
`=`, `+`, `-`, `@` (or a tab or carriage return) get a leading `'`, as spreadsheet programs
expect, so a value is never run as a formula (OWASP "CSV injection"); quotes and newlines are
the csv module's (RFC 4180, quoted as needed). JSON is one array of objects, written a row at a
time: what `json.load` and every tool reads as "a JSON file", and what the desk's screen
export will write too; lists stay lists there.

Any field of the customers is an export field too, `field:<key>` (the winning value the
index row keeps, `IndexRow.fields`): a customer without it gets an empty cell (CSV) or null
(JSON); a number or yes/no is written as itself, text as any other text.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from agentdesk.cache.customer_columns import FIELD, field_key
from agentdesk.cache.search_index import IndexRow
from agentdesk.model.sanitize import clean_text

DEFAULT_FIELDS = ("id", "name", "company", "email", "phone", "status", "tags", "segments",
                  "channels", "last_contact")
# Offered by --fields (schema 9): CSV writes the yes/no as true/false, JSON as itself.
FACTS = ("since", "reachable", "open_conversations")
FIELDS = DEFAULT_FIELDS + FACTS
_LISTS = {"tags", "segments", "channels"}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """Bad export options (an unknown field); the message names it."""


def fields_of(text: str | None) -> tuple[str, ...]:
    """The `--fields` list (comma-separated), checked; all fields when None. Any
    `field:<key>` is taken: a key no customer has is an empty column, as a key only some
    have is for the others."""
    if text is None:
        return DEFAULT_FIELDS
    wanted = tuple(FIELD + f[len(FIELD):].strip() if f.startswith(FIELD) else f
                   for f in (f.strip() for f in text.split(",")) if f)
    unknown = [f for f in wanted if f not in FIELDS and field_key(f) is None]
    named = ", ".join((*FIELDS, FIELD + "<key>"))
    if unknown:
        raise ExportError(f'unknown field "{unknown[0]}" (fields: {named})')
    if not wanted:
        raise ExportError(f"--fields names no field (fields: {named})")
    return wanted


def safe_cell(text: str) -> str:
    """A CSV cell's text: cleaned, and never read as a formula."""
    cleaned = clean_text(text)
    return "'" + cleaned if text.startswith(_FORMULA) or cleaned.startswith(_FORMULA) else cleaned


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _json_value(value: object) -> object:
    return clean_text(value) if isinstance(value, str) else value


def _json_field(value: object) -> object:
    return [clean_text(str(v)) for v in value] if isinstance(value, list) else _json_value(value)


def _field_cell(value: object) -> str:
    """A customer field's CSV cell: a number as itself (never a formula, "-5" included),
    text and lists cleaned and neutralised as every other cell."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return _text(value)
    return safe_cell("; ".join(value) if isinstance(value, list) else str(value))


def _kinds(fields: Sequence[str]) -> list[int]:
    """Per export field: 0 a value of the row, 1 a list of the row, 2 a customer field."""
    return [2 if field_key(f) is not None else 1 if f in _LISTS else 0 for f in fields]


def _field_positions(fields: Sequence[str]) -> list[tuple[int, str]]:
    return [(n, key) for n, f in enumerate(fields) if (key := field_key(f)) is not None]


def write_csv(rows: Iterable[IndexRow], fields: Sequence[str], out: IO[str]) -> int:
    """The rows as CSV with a header line; how many rows were written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([clean_text(f) for f in fields])  # a field's key is the customers' text
    count = 0
    customer_fields = _field_positions(fields)
    kinds = _kinds(fields)
    for row in rows:
        values = row.__dict__
        # A customer field's cell is filled below, past the cleaning meant for text.
        cells = ["; ".join(values[f]) if kind == 1 else _text(values[f]) if kind == 0 else ""
                 for f, kind in zip(fields, kinds, strict=True)]
        # Nearly every row is printable: one test for the row instead of a clean per cell.
        if "".join(cells).isprintable():
            cells = ["'" + c if c.startswith(_FORMULA) else c for c in cells]
        else:
            cells = [safe_cell(c) for c in cells]
        if customer_fields:
            held = row.fields or {}
            for n, key in customer_fields:
                cells[n] = _field_cell(held.get(key))
        writer.writerow(cells)
        count += 1
    return count


def write_json(rows: Iterable[IndexRow], fields: Sequence[str], out: IO[str]) -> int:
    """The rows as one JSON array of objects, written a row at a time; how many rows."""
    count = 0
    out.write("[")
    kinds = _kinds(fields)
    keys = [field_key(f) for f in fields]
    names = [clean_text(f) for f in fields]  # a field's key is the customers' text
    any_field = 2 in kinds
    for row in rows:
        values = row.__dict__
        held = (row.fields or {}) if any_field else {}
        doc = {name: _json_value(values[f]) if kind == 0 else
               [clean_text(v) for v in values[f]] if kind == 1 else _json_field(held.get(key))
               for f, name, kind, key in zip(fields, names, kinds, keys, strict=True)}
        out.write(("\n" if count == 0 else ",\n") + json.dumps(doc, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def private_file(path: Path) -> IO[str]:
    """`path` opened for writing, readable by its owner only (also when it existed): every
    export holds personal data (`agentdesk export -o`, the customers screen's export)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return open(fd, "w", encoding="utf-8", newline="")  # noqa: SIM115 (returned to a with)


SERIES_HEADER = ("date", "total", "reachable", "unreachable", "monthly_active")


def write_series_csv(days: Iterable[Any], out: IO[str]) -> int:
    """Customers over time (`model.customer_stats.Day`s) as CSV: a header line, then a line
    a day, oldest first. Numbers and ISO days only: no cell can start a formula. How many
    days were written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SERIES_HEADER)
    count = 0
    for d in days:
        writer.writerow((d.day.isoformat(), d.total, d.reachable, d.unreachable, d.monthly_active))
        count += 1
    return count


def new_private_file(folder: Path, stem: str, suffix: str) -> tuple[Path, IO[str]]:
    """A new file `stem<suffix>` in `folder` (`stem-2<suffix>`... when taken: an earlier
    export is never overwritten), readable by its owner only, opened for writing."""
    for n in range(1, 1000):
        path = folder / f"{stem}{'' if n == 1 else f'-{n}'}{suffix}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.fchmod(fd, 0o600)  # whatever the umask
        return path, open(fd, "w", encoding="utf-8", newline="")  # noqa: SIM115 (returned)
    raise FileExistsError(f"{folder / stem}{suffix} and 998 more exist already")
