"""The customer query language: parsing (table-driven), bad queries named, filters matched."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from agentdesk.model.customer_query import Filter, Query, QueryError, parse

NOW = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("typed", "text", "filters"), [
    ("", "", ()),
    ("ada lovelace", "ada lovelace", ()),
    ("tag:vip", "", (Filter("tag", "vip"),)),
    ("TAG:VIP", "", (Filter("tag", "vip"),)),
    ("ada tag:vip status:churned", "ada", (Filter("tag", "vip"), Filter("status", "churned"))),
    ('segment:"Trial users"', "", (Filter("segment", "trial users"),)),
    ('segment:"Trial users" ada', "ada", (Filter("segment", "trial users"),)),
    ("channel:SMS last-contact:<30d", "",
     (Filter("channel", "sms"), Filter("last-contact", "<30d"))),
    ("last-contact:>2w", "", (Filter("last-contact", ">2w"),)),
    ("-tag:test", "", (Filter("tag", "test", negated=True),)),
    ("tag:a tag:b", "", (Filter("tag", "a"), Filter("tag", "b"))),
    ('"colour:red" x', "colour:red x", ()),  # quoted: text, not a filter
    ('"Ada Lovelace"', "Ada Lovelace", ()),
    ("+1 (555) 123-4567", "+1 (555) 123-4567", ()),  # a phone stays text
    ("ada@example.com", "ada@example.com", ()),
    ("  spaced   out  ", "spaced out", ()),
    ("tag:élan", "", (Filter("tag", "elan"),)),  # accents folded, as the search folds them
])
def test_a_query_is_parsed(typed: str, text: str, filters: tuple[Filter, ...]) -> None:
    assert parse(typed) == Query(text, filters)


@pytest.mark.parametrize(("typed", "message"), [
    ("colour:red", 'unknown filter "colour:"'),
    ("ada -colour:red", 'unknown filter "colour:"'),
    ("http://example.com", 'unknown filter "http:"'),
    ("tag:", "tag: needs a value (e.g. tag:vip)"),
    ('segment:""', "segment: needs a value"),
    ("last-contact:30", 'last-contact takes <Nd or >Nd (e.g. <30d; also h and w), not "30"'),
    ("last-contact:<30", 'not "<30"'),
    ("last-contact:<30y", 'not "<30y"'),
    ("last-contact:=30d", 'not "=30d"'),
    ("status:gone", 'unknown status "gone" (active, vip, prospect, churned, blocked)'),
    ("channel:pigeon", 'unknown channel "pigeon" (email, chat, sms'),
    ('segment:"Trial users', 'unclosed quote: "Trial users'),
])
def test_a_bad_query_names_the_bad_part(typed: str, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse(typed)
    assert message in str(raised.value)


@dataclass
class Facts:
    status: str = "active"
    tags: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    last_contact: str = ""


ADA = Facts("vip", ["VIP", "beta"], ["Trial users"], ["sms", "email"], "2026-01-01T09:00:00Z")
NEVER = Facts("churned")


@pytest.mark.parametrize(("typed", "ada", "never"), [
    ("", True, True),
    ("tag:vip", True, False),
    ("tag:beta tag:vip", True, False),
    ("tag:vi", False, False),  # a tag is matched whole
    ("-tag:vip", False, True),
    ("status:churned", False, True),
    ('segment:"trial USERS"', True, False),
    ("channel:sms", True, False),
    ("channel:voice", False, False),
    ("last-contact:<7d", True, False),  # 5 days before NOW
    ("last-contact:<4d", False, False),
    ("last-contact:>4d", True, True),  # never contacted: not contacted for 4 days either
    ("last-contact:>7d", False, True),
    ("last-contact:<200h", True, False),
    ("-last-contact:<7d", False, True),
])
def test_filters_hold_or_not(typed: str, ada: bool, never: bool) -> None:
    query = parse(typed)
    assert (query.holds(ADA, NOW), query.holds(NEVER, NOW)) == (ada, never)
