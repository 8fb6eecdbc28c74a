"""Fields, identifiers, subscriptions and segments over the real sync: an edit made offline
reaches the store; a change on the store reaches the desk; two desks conflict; a cache an
older desk left (it skipped these records) gets them after its migration."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from agentdesk.cache.cache import Cache
from agentdesk.cache.files import atomic_write_json, read_json
from agentdesk.model.demo_profile_data import EVERYTHING_ID
from agentdesk.model.fields import field_id
from agentdesk.model.protocol import RecordType
from support.sync_world import World

CID = EVERYTHING_ID


def _values(records: list[dict], key: str) -> list[object]:
    field = next(f for f in records if f["key"] == key)
    return [v["value"] for v in field["values"]]


def test_edits_made_offline_reach_the_store(synced: World) -> None:
    synced.stop_server()  # offline
    cache = synced.cache
    cache.set_field(CID, "persona", "Champion", author="Sam Rivera")
    cache.set_field(CID, "allergies", "nuts", type="list", author="Sam Rivera")
    cache.set_consent(CID, "idn_p1", "opted_out", author="Sam Rivera")
    cache.add_subscription(CID, "Beta programme", author="Sam Rivera")
    cache.remove_subscription(CID, "sub_ev2")
    cache.set_status_and_tags(CID, "active", ["beta"])
    cache.remove_field(CID, field_id(CID, "gender"))
    synced.start_server()
    report = synced.sync()
    assert report.outbox.pending == 0 and not report.conflicts and not report.rejected
    fields = synced.server_records(CID, "field")
    assert _values(fields, "persona") == ["Champion", "Team lead", "Evaluator", "Decision maker"]
    assert _values(fields, "allergies") == [["nuts"]]
    assert "gender" not in {f["key"] for f in fields}
    phone = next(i for i in synced.server_records(CID, "identifier") if i["id"] == "idn_p1")
    assert phone["consent"] == "opted_out" and phone["consent_by"] == "Sam Rivera"
    assert sorted(s["name"] for s in synced.server_records(CID, "subscription")) == [
        "Beta programme", "Product updates"]
    [customer] = synced.server_records(CID, "customer")
    assert (customer["status"], customer["tags"]) == ("active", ["beta"])
    synced.assert_in_sync()


def test_changes_on_the_store_reach_the_desk_and_the_rule_still_holds(synced: World) -> None:
    now = datetime.now(UTC).isoformat()
    synced.store.upsert(RecordType.FIELD, {"key": "persona", "type": "text", "group": "property",
                                           "values": [{"value": "Buyer", "source": "integration",
                                                       "integration": "Salesforce", "at": now}]}, CID)
    synced.store.upsert(RecordType.IDENTIFIER, {"id": "idn_new", "kind": "email",
                                                "value": "ariana@newjob.example", "last_seen": now,
                                                "consent": "opted_in"}, CID)
    synced.store.upsert(RecordType.SEGMENT, {"id": "seg_new", "name": "Upsell candidates"}, CID)
    synced.store.delete(RecordType.SUBSCRIPTION, "sub_ev1")
    report = synced.sync()
    assert report.applied.customers.get(CID) == 4
    view, _ = synced.cache.view_profile(CID)
    persona = next(f for f in view.fields if f.key == "persona")
    assert [v.value for v in persona.values][:3] == ["Power user", "Team lead", "Buyer"]
    assert "ariana@newjob.example" in {i.value for i in view.identifiers}
    assert "Upsell candidates" in {s.name for s in view.segments}
    assert "Product updates" not in {s.name for s in view.subscriptions}
    synced.assert_in_sync()


def test_two_desks_editing_one_field_conflict_and_keep_mine_wins(synced: World, tmp_path: Path) -> None:
    other = Cache.open(tmp_path / "other")
    try:
        World(tmp=tmp_path, store=synced.store, cache=other, port=synced.port).sync()
        other.set_field(CID, "persona", "Theirs")
        World(tmp=tmp_path, store=synced.store, cache=other, port=synced.port).sync()
    finally:
        other.close()
    synced.cache.set_field(CID, "persona", "Mine")  # based on "Power user"
    report = synced.sync()
    assert report.conflicts == 1
    [item] = synced.cache.outbox.items(CID)
    assert item.conflicts == ["value"]
    view, _ = synced.cache.view_profile(CID)
    assert next(f for f in view.fields if f.key == "persona").values[0].value == "Theirs"
    synced.cache.resolve(item.mutation.id, keep=True)
    synced.sync()
    assert _values(synced.server_records(CID, "field"), "persona")[0] == "Mine"
    synced.assert_in_sync()


def test_a_cache_an_older_desk_left_gets_the_records_it_skipped(synced: World) -> None:
    """Schema 5 desks skipped these record types and moved their cursor past them."""
    root = synced.cache.root
    synced.cache.close()
    for path in (root / "customers").glob("*/*.json"):
        data = read_json(path)
        for table in ("fields", "identifiers", "subscriptions", "segments"):
            data.pop(table, None)
        atomic_write_json(path, data)
    meta = read_json(root / "meta.json")
    meta["meta"]["1"]["schema"] = 5
    (root / "meta.json").write_text(json.dumps(meta))
    synced.cache = Cache.open(root)
    assert len(synced.cache.view_profile(CID)[0].fields) == 0
    synced.sync()
    view, _ = synced.cache.view_profile(CID)
    assert len(view.fields) == 31 and len(view.identifiers) == 6 and len(view.segments) == 3
    synced.assert_in_sync()


def test_a_merge_by_email_on_the_store_is_followed_by_the_desk(synced: World) -> None:
    from agentdesk.model.records import Customer

    twin = "cus_twin"
    synced.store.upsert(RecordType.CUSTOMER, Customer(id=twin, name="A. Costa").model_dump(mode="json"), twin)
    synced.store.upsert(RecordType.IDENTIFIER, {"id": "idn_twin", "kind": "email",
                                                "value": "ariana@quarrylabs.example",
                                                "last_seen": datetime.now(UTC).isoformat()}, twin)
    synced.store.upsert(RecordType.FIELD, {"key": "persona", "type": "text", "values": [
        {"value": "From the twin's API", "source": "api", "at": datetime.now(UTC).isoformat()}]}, twin)
    synced.sync()
    into, merged = synced.store.merge_by_email("ariana@quarrylabs.example")
    assert (into, merged) == (CID, [twin])
    report = synced.sync()
    assert report.applied.merged == {twin: CID}
    view, _ = synced.cache.view_profile(CID)
    persona = next(f for f in view.fields if f.key == "persona")
    # The desk's value still wins; the twin's API value replaced the older API value.
    assert [v.value for v in persona.values][:2] == ["Power user", "From the twin's API"]
    assert [i.id for i in view.identifiers].count("idn_e1") == 1
    assert "idn_twin" not in [i.id for i in view.identifiers]
    assert synced.cache.view_profile(twin) is None
    synced.assert_in_sync()
