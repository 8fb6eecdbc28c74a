"""Search rows carry what the customers-over-time chart counts (schema 9): since when the
customer exists, whether they are reachable, open conversations and runs of activity; kept in
step with the profile files, and a schema-8 cache gains them when it is opened."""

from __future__ import annotations

import json

from agentdesk.cache.cache import Cache
from agentdesk.cache.customer_select import by_name
from agentdesk.cache.files import read_json
from agentdesk.cache.schema import SCHEMA
from agentdesk.model.customer_facts import active_runs, day_number
from agentdesk.model.identifiers import Identifier
from agentdesk.model.reachability import reachable

CHART_FACTS = ("since", "reachable", "open_conversations", "active")


def test_rows_hold_what_the_profile_files_say(demo_cache: Cache) -> None:
    checked_activity = 0
    for row in demo_cache.index_rows():
        profile = demo_cache.load_profile(row.id)
        assert profile is not None
        assert row.since == profile.customer.created.date().isoformat()
        assert row.reachable == reachable(profile.identifiers)
        assert row.open_conversations == sum(1 for v in profile.conversations
                                             if v.status != "closed")
        _, timeline = demo_cache.view_profile(row.id)
        if timeline.summary.chunk_files == [""]:  # kept in the profile file: every entry read
            days = [day_number(e.at.date()) for e in timeline.chunk(0)
                    if str(e.direction) == "inbound"
                    and str(e.kind) != "subscription"]
            assert row.active == active_runs(days)
            checked_activity += bool(days)
    assert checked_activity > 10
    rows = list(demo_cache.index_rows())
    assert any(r.open_conversations for r in rows)  # (no demo customer is reachable)


def test_a_long_timeline_is_active_without_reading_its_chunk_files(demo_cache: Cache) -> None:
    long = [r for r in demo_cache.index_rows()
            if demo_cache.view_profile(r.id)[1].summary.chunk_files not in ([], [""])]
    assert long and all(r.active for r in long)


def test_a_change_reaches_the_row(demo_cache: Cache) -> None:
    row = next(r for r in demo_cache.index_rows() if not r.reachable)
    with demo_cache.change_profile(row.id) as profile:
        profile.put("identifiers", Identifier(kind="email", value="new@example.com",
                                              consent="opted_in").model_dump(mode="json"))
    assert next(r for r in demo_cache.index_rows() if r.id == row.id).reachable


def test_a_schema_8_cache_gains_the_facts(demo_cache: Cache) -> None:
    root = demo_cache.root
    before = by_name(demo_cache.index_rows())
    demo_cache.close()
    for path in (root / "index").glob("*.json"):  # rows as schema 8 wrote them
        data = json.loads(path.read_text())
        for table in data.values():
            for doc in table.values():
                for name in CHART_FACTS:
                    (doc.get("row") or doc).pop(name, None)
        path.write_text(json.dumps(data))
    (root / "meta.json").write_text(json.dumps({"meta": {"1": {"schema": 8, "created": "x"}}}))
    with Cache.open(root) as cache:
        assert read_json(root / "meta.json")["meta"]["1"]["schema"] == SCHEMA >= 10
        assert by_name(cache.index_rows()) == before
        assert any(r.active for r in before) and any(r.since for r in before)
