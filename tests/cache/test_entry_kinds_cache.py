"""Timeline entries of every kind in the cache: the summary counts kinds per file, the scan
filters by kind, and a cache written before entries had a kind (schema 6) migrates on open
and reads every old entry as a message."""

from __future__ import annotations

import json
from pathlib import Path

from agentdesk.cache.cache import Cache
from agentdesk.cache.files import read_json
from agentdesk.cache.schema import SCHEMA
from agentdesk.cache.timeline_scan import TimelineScan, kind_table, visible_table
from agentdesk.model.demo import BIG_ID
from agentdesk.model.demo_activity import ACTIVITY_ID
from agentdesk.model.kinds import EntryKind, EntryStatus

OLD_FIELDS = ("kind", "status", "details")


def _timeline(cache: Cache, customer_id: str):  # type: ignore[no-untyped-def]
    found = cache.view_profile(customer_id)
    assert found is not None
    return found[1]


def test_the_summary_counts_each_files_kinds(demo_cache: Cache) -> None:
    timeline = _timeline(demo_cache, BIG_ID)
    summary = timeline.summary
    assert len(summary.chunk_kinds) == len(summary.chunk_sizes)
    for index, counts in enumerate(summary.chunk_kinds):
        docs = timeline.chunk_docs(index)
        assert sum(counts.values()) == len(docs)
        assert counts.get("message", 0) == sum(1 for d in docs if d["kind"] == "message")
    totals = summary.kind_counts()
    assert set(totals) == {k.value for k in EntryKind}  # Beatrix's entries mix every kind
    surveys = summary.chunks_with({"survey", "response"})
    assert surveys and all(summary.chunk_kinds[i].keys() & {"survey", "response"} for i in surveys)


def test_the_scan_hides_kinds_with_the_other_filters(demo_cache: Cache) -> None:
    timeline = _timeline(demo_cache, BIG_ID)
    scan = TimelineScan(timeline)
    scan.read_all()
    everything = visible_table((), ())
    only_surveys = kind_table(["conversations", "campaign", "subscription", "e-commerce", "feedback"])
    masks = scan.masks(everything, None, only_surveys)
    shown = [timeline.chunk_docs(c)[i]["kind"] for c, mask in enumerate(masks)
             for i, on in enumerate(mask) if on]
    assert shown and set(shown) == {"survey", "response"}
    assert len(shown) == timeline.summary.kind_counts()["survey"] + timeline.summary.kind_counts()["response"]
    # With a channel hidden too: both apply.
    no_app = scan.masks(visible_table(["app"], ()), None, only_surveys)
    shown_no_app = [timeline.chunk_docs(c)[i] for c, mask in enumerate(no_app)
                    for i, on in enumerate(mask) if on]
    assert shown_no_app and all(d["channel"] != "app" for d in shown_no_app)
    assert len(shown_no_app) < len(shown)
    assert kind_table([]) is None


def test_find_looks_in_an_entrys_details(demo_cache: Cache) -> None:
    scan = TimelineScan(_timeline(demo_cache, ACTIVITY_ID))
    scan.read_all()
    # "mailbox full" is only in an undelivered campaign message's details.
    assert scan.matches("mailbox full")


def _as_schema_6(root: Path) -> None:
    """Rewrite a cache as schema 6 had it: entries with no kind, status or details (all
    messages then), summaries without kind counts."""
    for path in (root / "customers").glob("*/*"):
        if path.is_dir():
            for chunk in path.glob("entries-*.json"):
                data = read_json(chunk)
                entries = data["entries"]
                data["entries"] = {k: {f: v for f, v in d.items() if f not in OLD_FIELDS}
                                   for k, d in entries.items() if d.get("kind") == "message"}
                chunk.write_text(json.dumps(data))
            continue
        data = read_json(path)
        for doc in (data.get("entries") or {}).values():
            for name in OLD_FIELDS:
                doc.pop(name, None)
        for doc in (data.get("timeline") or {}).values():
            doc.pop("chunk_kinds", None)
        path.write_text(json.dumps(data))
    (root / "meta.json").write_text(json.dumps({"meta": {"1": {"schema": 6, "created": "2026-01-01"}}}))


def test_a_schema_6_cache_migrates_and_reads_old_entries_as_messages(demo_cache: Cache) -> None:
    root = demo_cache.root
    customer = "cus_000000"
    before = [e.id for e in _timeline(demo_cache, customer).chunk(0)]
    demo_cache.close()
    _as_schema_6(root)
    with Cache.open(root) as cache:
        assert read_json(root / "meta.json")["meta"]["1"]["schema"] == SCHEMA >= 7
        timeline = _timeline(cache, customer)
        assert timeline.summary.complete
        assert timeline.summary.chunk_kinds == [{"message": len(before)}]
        entries = list(timeline.chunk(0))
        assert [e.id for e in entries] == before
        assert all(e.kind == EntryKind.MESSAGE and e.status == EntryStatus.NONE
                   and e.details == {} for e in entries)
        assert "kind" not in timeline.chunk_docs(0)[0]  # entries are not rewritten
        model = cache.load_profile(customer)
        assert model is not None
        # A big timeline (its files rewritten above with messages only) is counted too.
        big = _timeline(cache, BIG_ID)
        assert big.summary.complete and set(big.summary.kind_counts()) == {"message"}
        assert big.summary.kind_counts()["message"] == sum(big.summary.chunk_sizes)
