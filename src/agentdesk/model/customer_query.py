"""The customer query language: free text plus filters, parsed and checked (no I/O).

    ada tag:vip status:churned segment:"Trial users" channel:sms last-contact:<30d -tag:test

Terms are separated by spaces and all must hold (AND). A filter is `name:value`; a value with
spaces is quoted (`segment:"Trial users"`); `-` before a filter negates it. Whatever is not a
filter is free text, matched as the `/` search matches it (every word somewhere in the name,
a contact point, the company or the id). Text that looks like a filter but is meant as text is
quoted: `"colour:red"`.

Every mistake is a `QueryError` naming the part at fault, so the agent can fix the query
instead of wondering why nothing matched: `unknown filter "colour:"`, `last-contact takes <Nd
or >Nd (e.g. <30d), not "30"`, `unknown status "gone" (active, vip, ...)`.

A query is matched against a customer's *facts* (`Facts`): any object with the attributes it
names (the cache's search rows have them), so this module needs neither the cache nor models.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from agentdesk.model.fold import fold
from agentdesk.model.kinds import Channel, CustomerStatus


class QueryError(ValueError):
    """A query that cannot be run; the message names the bad part."""


class Facts(Protocol):
    """What a filter reads of one customer."""

    status: str
    tags: Sequence[str]
    segments: Sequence[str]
    channels: Sequence[str]
    last_contact: str  # ISO 8601 time of the newest timeline entry; "" for none


_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_AGE = re.compile(r"([<>])(\d{1,6})([hdw])")
_FILTER = re.compile(r"(-?)([A-Za-z][A-Za-z_-]*):(.*)", re.DOTALL)


@dataclass(frozen=True)
class Filter:
    """One `name:value` term; `value` is folded (case and accents ignored), except for ages."""

    name: str
    value: str
    negated: bool = False

    def holds(self, facts: Facts, now: datetime) -> bool:
        return _CHECKS[self.name](self.value, facts, now) != self.negated


@dataclass(frozen=True)
class Query:
    text: str = ""  # the free text, as typed (the search folds it)
    filters: tuple[Filter, ...] = field(default_factory=tuple)

    def holds(self, facts: Facts, now: datetime) -> bool:
        """Every filter holds for these facts (the free text is the caller's to match)."""
        return all(f.holds(facts, now) for f in self.filters)


def _in(values: Sequence[str], wanted: str) -> bool:
    return any(fold(v) == wanted for v in values)


def _age(value: str, facts: Facts, now: datetime) -> bool:
    """`<Nd`: contacted within N days; `>Nd`: not contacted for N days (never counts)."""
    match = _AGE.fullmatch(value)
    assert match is not None  # checked by `parse`
    limit = now - int(match[2]) * _UNITS[match[3]]
    last = _time(facts.last_contact)
    if match[1] == "<":
        return last is not None and last >= limit
    return last is None or last < limit


def _time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


_CHECKS = {
    "tag": lambda v, f, now: _in(f.tags, v),
    "status": lambda v, f, now: fold(f.status) == v,
    "segment": lambda v, f, now: _in(f.segments, v),
    "channel": lambda v, f, now: _in(f.channels, v),
    "last-contact": _age,
}
FILTERS = tuple(_CHECKS)
_CHOICES = {"status": [s.value for s in CustomerStatus], "channel": [c.value for c in Channel]}


def _split(text: str) -> list[tuple[str, bool]]:
    """Terms separated by spaces, quotes removed; each with whether any part was quoted
    (a quoted term is never a filter name: `"colour:red"` is text)."""
    terms: list[tuple[str, bool]] = []
    current: list[str] = []
    quoted = in_term = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError(f"unclosed quote: {text[i:]!s}")
            current.append(text[i + 1 : end])
            # Only a quote opening the term makes it text; `segment:"Trial users"` stays a filter.
            quoted = quoted or not current[:-1]
            in_term, i = True, end + 1
            continue
        if ch.isspace():
            if in_term:
                terms.append(("".join(current), quoted))
            current, quoted, in_term = [], False, False
        else:
            current.append(ch)
            in_term = True
        i += 1
    if in_term:
        terms.append(("".join(current), quoted))
    return terms


def parse(text: str) -> Query:
    """The query typed; `QueryError` naming the first bad part."""
    words: list[str] = []
    filters: list[Filter] = []
    for term, quoted in _split(text):
        match = None if quoted else _FILTER.fullmatch(term)
        if match is None:
            words.append(term)
            continue
        negated, name, value = bool(match[1]), match[2].lower(), match[3].strip()
        if name not in _CHECKS:
            raise QueryError(f'unknown filter "{name}:" (filters: '
                             f'{", ".join(n + ":" for n in FILTERS)}; quote text that has a colon)')
        if not value:
            raise QueryError(f'{name}: needs a value (e.g. {_example(name)})')
        if name == "last-contact":
            if not _AGE.fullmatch(value):
                raise QueryError(f'last-contact takes <Nd or >Nd (e.g. <30d; also h and w), '
                                 f'not "{value}"')
            filters.append(Filter(name, value, negated))
            continue
        value = fold(value)
        choices = _CHOICES.get(name)
        if choices is not None and value not in choices:
            raise QueryError(f'unknown {name} "{match[3].strip()}" ({", ".join(choices)})')
        filters.append(Filter(name, value, negated))
    return Query(" ".join(words), tuple(filters))


def _example(name: str) -> str:
    return {"tag": "tag:vip", "status": "status:churned", "segment": 'segment:"Trial users"',
            "channel": "channel:sms", "last-contact": "last-contact:<30d"}[name]
