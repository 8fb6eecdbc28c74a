"""Turn customer-supplied strings into things Textual draws literally.

Rule: data never becomes markup. Widgets get `Text` objects (never `str`, which some widgets
parse as markup) built from `clean_line` / `clean_text` output, or `Row`s (`ui/row.py`) whose
`data` / `block` do the same, so neither `[bold]` nor an escape sequence in a customer's name
can do anything but show.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from agentdesk.model.sanitize import clean_line, clean_text


def line(value: object, style: str = "") -> Text:
    """One line of data as literal text."""
    return Text(clean_line(str(value)), style=style, no_wrap=False)


def block(value: object, style: str = "") -> Text:
    """Multi-line data as literal text (newlines kept)."""
    return Text(clean_text(str(value)), style=style)


def when(value: datetime | None) -> str:
    """A timestamp as the agent reads it: local time, to the minute."""
    if value is None:
        return ""
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def day(value: datetime | None) -> str:
    return "" if value is None else value.astimezone().strftime("%Y-%m-%d")
