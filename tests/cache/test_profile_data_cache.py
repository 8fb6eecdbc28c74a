"""The agent's edits of fields, consent, subscriptions, status and tags on a real cache on
disk (offline: queued in the outbox, shown at once), and the schema 6 migration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentdesk.cache.cache import Cache
from agentdesk.cache.edits import revert
from agentdesk.cache.files import CacheError, atomic_write_json, read_json
from agentdesk.cache.schema import SCHEMA
from agentdesk.model.demo_profile_data import EVERYTHING_ID
from agentdesk.model.fields import field_id
from agentdesk.model.protocol import MutationKind

CID = EVERYTHING_ID


def _field(cache: Cache, key: str):  # type: ignore[no-untyped-def]
    view, _ = cache.view_profile(CID)
    return next((f for f in view.fields if f.key == key), None)


def _kinds(cache: Cache) -> list[str]:
    return [i.mutation.kind.value for i in cache.outbox.items(CID)]


def test_the_agents_value_wins_at_once_and_the_others_are_kept(demo_cache: Cache) -> None:
    before = [v.value for v in _field(demo_cache, "cohort").values]
    assert before == ["2024-Q1", "2023-Q4"]  # API over a newer integration
    demo_cache.set_field(CID, "cohort", "2025-Q2", author="Sam Rivera")
    field = _field(demo_cache, "cohort")
    assert [(v.value, v.source.value) for v in field.values] == [
        ("2025-Q2", "desk"), ("2024-Q1", "api"), ("2023-Q4", "integration")]
    assert field.values[0].by == "Sam Rivera"
    assert _kinds(demo_cache) == ["field.set"]


def test_a_value_that_does_not_fit_the_fields_type_is_refused_and_nothing_is_queued(
        demo_cache: Cache) -> None:
    with pytest.raises(CacheError, match="number"):
        demo_cache.set_field(CID, "orders.count", "thirty")
    with pytest.raises(CacheError, match="yes or no"):
        demo_cache.set_field(CID, "shopify.accepts_marketing", "maybe")
    with pytest.raises(CacheError, match="YYYY-MM-DD"):
        demo_cache.set_field(CID, "new.day", "tomorrow", type="date")
    assert _kinds(demo_cache) == []
    assert [v.value for v in _field(demo_cache, "orders.count").values] == [30]


def test_a_new_field_is_added_with_its_type_and_removed(demo_cache: Cache) -> None:
    added = demo_cache.set_field(CID, "allergies", "peanuts, shellfish", type="list",
                                 group="custom", author="Sam")
    assert added["id"] == field_id(CID, "allergies")
    assert _field(demo_cache, "allergies").values[0].value == ["peanuts", "shellfish"]
    demo_cache.remove_field(CID, added["id"])
    assert _field(demo_cache, "allergies") is None
    assert _kinds(demo_cache) == ["field.set", "field.remove"]


def test_a_rejected_field_edit_is_undone_to_what_the_store_had(demo_cache: Cache) -> None:
    demo_cache.set_field(CID, "persona", "Champion")
    demo_cache.set_field(CID, "persona", "Champion, again")
    [first, second] = demo_cache.outbox.items(CID)
    assert first.mutation.data["base"]["value"] == "Power user"
    with demo_cache.change_profile(CID) as profile:
        revert(profile, second.mutation)
        revert(profile, first.mutation)
    assert [v.value for v in _field(demo_cache, "persona").values][:2] == ["Power user", "Team lead"]


def test_consent_changes_are_queued_and_shown(demo_cache: Cache) -> None:
    demo_cache.set_consent(CID, "idn_e2", "opted_in", author="Sam")
    view, _ = demo_cache.view_profile(CID)
    changed = next(i for i in view.identifiers if i.id == "idn_e2")
    assert changed.consent == "opted_in" and changed.consent_by == "Sam"
    assert changed.consent_at is not None
    with pytest.raises(CacheError, match="consent"):
        demo_cache.set_consent(CID, "idn_e2", "whatever")
    demo_cache.set_consent(CID, "idn_e2", "opted_in")  # no change: nothing queued
    assert _kinds(demo_cache) == ["identifier.consent"]


def test_subscriptions_are_added_once_and_removed(demo_cache: Cache) -> None:
    added = demo_cache.add_subscription(CID, " Beta programme ", author="Sam")
    assert added["name"] == "Beta programme"
    with pytest.raises(CacheError, match="Already subscribed"):
        demo_cache.add_subscription(CID, "beta PROGRAMME")
    with pytest.raises(CacheError):
        demo_cache.add_subscription(CID, "   ")
    demo_cache.remove_subscription(CID, "sub_ev1")
    view, _ = demo_cache.view_profile(CID)
    assert sorted(s.name for s in view.subscriptions) == ["Beta programme", "Promotions"]
    assert _kinds(demo_cache) == ["subscription.add", "subscription.remove"]


def test_status_and_tags_are_edited(demo_cache: Cache) -> None:
    demo_cache.set_status_and_tags(CID, "churned", ["beta", " at-risk ", "beta", ""])
    view, _ = demo_cache.view_profile(CID)
    assert view.customer.status == "churned" and view.customer.tags == ["beta", "at-risk"]
    with pytest.raises(CacheError):
        demo_cache.set_status_and_tags(CID, "asleep", [])
    [item] = demo_cache.outbox.items(CID)
    assert item.mutation.kind == MutationKind.CUSTOMER_UPDATE
    assert item.mutation.data["base"] == {"status": "vip", "tags": ["beta", "nps-promoter"]}


def _as_schema_5(root: Path) -> None:
    """What a desk of schema 5 left: profile files without the new tables (it skipped those
    records as of an unknown type), a cursor past them."""
    for path in (root / "customers").glob("*/*.json"):
        data = read_json(path)
        for table in ("fields", "identifiers", "subscriptions", "segments"):
            data.pop(table, None)
        atomic_write_json(path, data)
    meta = read_json(root / "meta.json")
    meta["meta"]["1"]["schema"] = 5
    (root / "meta.json").write_text(json.dumps(meta))


def test_a_schema_5_cache_is_migrated_and_reads_the_feed_again(demo_cache: Cache) -> None:
    root = demo_cache.root
    demo_cache.add_note(CID, "queued before the upgrade")
    demo_cache.save_sync_state({"epoch": "e1", "cursor": "c42", "last_success": "x"})
    demo_cache.close()
    _as_schema_5(root)
    with Cache.open(root) as cache:
        assert read_json(root / "meta.json")["meta"]["1"]["schema"] == SCHEMA >= 6
        assert cache.sync_state() == {"last_success": "x"}  # the next sync reads everything
        assert [i.mutation.kind for i in cache.outbox.items(CID)] == [MutationKind.NOTE_ADD]
        view, _ = cache.view_profile(CID)
        assert len(view.fields) == len(view.identifiers) == 0 and view.customer.name == "Ariana Costa"
        assert cache.load_profile(CID).fields == []
