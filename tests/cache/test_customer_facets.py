"""Search rows carry the query filters' facts (schema 8), kept in step with the profile files,
and a schema-7 cache gains them when it is opened."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from agentdesk.cache.cache import Cache
from agentdesk.cache.customer_select import by_name, select
from agentdesk.cache.files import read_json
from agentdesk.cache.schema import SCHEMA
from agentdesk.model.customer_query import parse
from agentdesk.model.identifiers import Segment

FACETS = ("status", "tags", "segments", "channels", "last_contact")


def test_rows_hold_what_the_profile_files_say(demo_cache: Cache) -> None:
    for row in demo_cache.index_rows():
        profile = demo_cache.load_profile(row.id)
        assert profile is not None
        assert row.status == profile.customer.status and row.tags == profile.customer.tags
        assert row.segments == [s.name for s in profile.segments]
        assert row.channels == sorted({str(c) for v in profile.conversations for c in v.channels})
        _, timeline = demo_cache.view_profile(row.id)
        if timeline.summary.total:
            newest = max(e.at for n in range(len(timeline.summary.chunk_sizes))
                         for e in timeline.chunk(n))
            assert datetime.fromisoformat(row.last_contact) == newest


def test_a_change_reaches_the_row(demo_cache: Cache) -> None:
    row = next(r for r in demo_cache.index_rows() if not r.segments)
    with demo_cache.change_profile(row.id) as profile:
        profile.put("segments", Segment(name="Trial users").model_dump(mode="json"))
    query = parse('segment:"trial users"')
    now = datetime.now(UTC)
    assert [r.id for r in select(demo_cache.index_rows(), query, now)] == [row.id]


def test_a_schema_7_cache_gains_the_facts(demo_cache: Cache) -> None:
    root = demo_cache.root
    before = by_name(demo_cache.index_rows())
    demo_cache.close()
    for path in (root / "index").glob("*.json"):  # rows as schema 7 wrote them
        data = json.loads(path.read_text())
        for table in data.values():
            for doc in table.values():
                for name in FACETS:
                    (doc.get("row") or doc).pop(name, None)
        path.write_text(json.dumps(data))
    (root / "meta.json").write_text(json.dumps({"meta": {"1": {"schema": 7, "created": "x"}}}))
    with Cache.open(root) as cache:
        assert read_json(root / "meta.json")["meta"]["1"]["schema"] == SCHEMA
        assert by_name(cache.index_rows()) == before
        assert any(r.tags for r in before) and any(r.last_contact for r in before)
