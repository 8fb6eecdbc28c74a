"""Which customer a phone system or a script means: an id, an e-mail address or a phone number.

Screen-pop (`agentdesk open ...`) names a customer the way the caller knows them. An id is
taken as it is; an e-mail address or a phone number is looked up in the search index, and
must name one customer: a search ranks many near matches, a screen-pop must open the one
whose contact point it is, or say why not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agentdesk.cache.search import CustomerIndex
from agentdesk.cache.search_index import IndexRow
from agentdesk.model.sanitize import clean_line

MAX_TARGET = 320  # characters: the longest e-mail address is 254; an id is far shorter
MIN_DIGITS = 7  # a phone number has at least this many digits (as the contact check says)
_PHONE = re.compile(r"\+?[0-9 ()\-./]+")
_NOT_DIGITS = re.compile(r"\D+")


@dataclass(frozen=True)
class Lookup:
    """A customer found (`customer_id`, `name`), or why none was (`error`, for the caller)."""

    customer_id: str | None
    name: str = ""
    error: str = ""


def shown(target: str) -> str:
    """The target as an answer may quote it: one clean line, cut."""
    text = clean_line(target)
    return text if len(text) <= 60 else text[:59] + "…"


def _digits(text: str) -> str:
    return _NOT_DIGITS.sub("", text)


def _emails(row: IndexRow) -> list[str]:
    return [v for v in [row.email, *(v for k, v in row.others if k == "email")] if v]


def _phones(row: IndexRow) -> list[str]:
    return [v for v in [row.phone, *(v for k, v in row.others if k == "phone")] if v]


def _one(rows: list[IndexRow], what: str, target: str) -> Lookup:
    if not rows:
        return Lookup(None, error=f"no customer has the {what} {shown(target)}")
    if len(rows) > 1:
        ids = ", ".join(shown(r.id) for r in rows[:5]) + (", …" if len(rows) > 5 else "")
        return Lookup(None, error=f"{len(rows)} customers have the {what} {shown(target)} "
                      f"({ids}): open one by its id")
    return Lookup(rows[0].id, rows[0].name)


def lookup(index: CustomerIndex, target: str) -> Lookup:
    """The customer `target` names in `index`: by id, else by e-mail address (case ignored),
    else by phone number (its digits; a number given with a country code also matches one
    stored without it, and the other way round)."""
    target = target.strip()
    if not target:
        return Lookup(None, error="no customer named: give an id, an e-mail address or a phone number")
    if len(target) > MAX_TARGET:
        return Lookup(None, error=f"that is too long to name a customer ({len(target)} characters)")
    row = index.get(target)
    if row is not None:
        return Lookup(row.id, row.name)
    if "@" in target:
        wanted = target.casefold()
        hits = index.search(target, limit=50).rows
        return _one([r for r in hits if any(e.casefold() == wanted for e in _emails(r))],
                    "e-mail address", target)
    digits = _digits(target)
    if _PHONE.fullmatch(target) and len(digits) >= MIN_DIGITS:
        # The search finds every row holding the digits; the tail match below needs the
        # shorter form, so search by the last MIN_DIGITS digits (rows holding fewer are cut).
        hits = index.search(digits[-MIN_DIGITS:], limit=200).rows
        exact = [r for r in hits if any(_digits(p) == digits for p in _phones(r))]
        if exact:
            return _one(exact, "phone number", target)

        def same_number(phone: str) -> bool:
            held = _digits(phone)
            short, long = sorted((held, digits), key=len)
            return len(short) >= MIN_DIGITS and long.endswith(short)

        return _one([r for r in hits if any(same_number(p) for p in _phones(r))],
                    "phone number", target)
    return Lookup(None, error=f"no customer has the id {shown(target)} (an e-mail address or a "
                  "phone number is looked up too)")
