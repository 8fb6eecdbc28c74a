"""Search rows carry the winning value of each of the customer's fields (schema 10): kept in
step with the profile file through the one door (an edit, a removal), stored only for the
customers that have fields, and a schema-9 cache gains them when it is opened."""

from __future__ import annotations

import json

from agentdesk.cache.cache import Cache
from agentdesk.cache.customer_table import CustomerTable
from agentdesk.cache.files import read_json
from agentdesk.cache.schema import SCHEMA
from agentdesk.cache.search_index import MAX_FIELDS, MAX_VALUE, IndexRow
from agentdesk.model.demo_profile_data import EVERYTHING_ID
from agentdesk.model.fields import field_id


def _row(cache: Cache, customer_id: str) -> IndexRow:
    return next(r for r in cache.index_rows() if r.id == customer_id)


def _stored_docs(cache: Cache) -> dict[str, dict]:
    """Every row as the index files hold it (shards, then the journal over them)."""
    return {doc["id"]: doc for doc in cache.search_index.docs()}


def test_rows_hold_each_fields_winning_value_as_typed(demo_cache: Cache) -> None:
    view, _ = demo_cache.view_profile(EVERYTHING_ID)
    row = _row(demo_cache, EVERYTHING_ID)
    assert row.fields == {f.key: f.values[0].value for f in view.fields}
    assert row.fields["persona"] == "Power user"  # the desk's value, of four sources
    assert row.fields["orders.count"] == 30 and row.fields["orders.lifetime_value"] == 4820.5
    assert row.fields["interests"] == ["lab software", "APIs"]
    assert row.fields["shopify.accepts_marketing"] is False


def test_a_customer_without_fields_stores_no_fields_key(demo_cache: Cache) -> None:
    docs = _stored_docs(demo_cache)
    plain = [doc for cid, doc in docs.items() if not demo_cache.view_profile(cid)[0].fields]
    assert len(plain) > 40
    assert all("fields" not in doc for doc in plain)
    assert "fields" in docs[EVERYTHING_ID]
    assert all(r.fields is None for r in demo_cache.index_rows() if r.id in {d["id"] for d in plain})


def test_an_edit_and_a_removal_through_the_one_door_reach_the_row(demo_cache: Cache) -> None:
    demo_cache.set_field(EVERYTHING_ID, "persona", "Champion", author="Sam Rivera")
    demo_cache.set_field(EVERYTHING_ID, "seats", "12", type="number")
    row = _row(demo_cache, EVERYTHING_ID)
    assert row.fields is not None
    assert row.fields["persona"] == "Champion" and row.fields["seats"] == 12
    demo_cache.remove_field(EVERYTHING_ID, field_id(EVERYTHING_ID, "seats"))
    assert "seats" not in (_row(demo_cache, EVERYTHING_ID).fields or {})


def test_a_customers_last_field_removed_leaves_no_fields_in_the_shard(demo_cache: Cache) -> None:
    plain = next(r.id for r in demo_cache.index_rows() if r.fields is None)
    demo_cache.set_field(plain, "plan", "Gold")
    demo_cache.search_index.write({}, durable=False, fold=True)  # the journal into the shards
    assert _stored_docs(demo_cache)[plain]["fields"] == {"plan": "Gold"}
    demo_cache.remove_field(plain, field_id(plain, "plan"))
    demo_cache.search_index.write({}, durable=False, fold=True)
    assert "fields" not in _stored_docs(demo_cache)[plain]  # replaced in the shard, not merged
    assert _row(demo_cache, plain).fields is None


def test_long_values_are_cut_and_a_customer_keeps_at_most_max_fields() -> None:
    def field(key: str, value: object) -> dict:
        return {"id": field_id("c", key), "key": key, "values": [{"value": value}]}

    many = [field(f"k{n:03d}", n) for n in range(MAX_FIELDS + 20)]
    tables = {"customer": {"1": {"id": "c", "name": "C"}},
              "fields": {str(n): d for n, d in enumerate(
                  [*many, field("a.long", "x" * 5000), field("a.list", ["y" * 500]),
                   field("a.broken", {"not": "a value"})], 1)}}
    row = IndexRow.of_tables(tables)
    assert row is not None and row.fields is not None
    assert len(row.fields) == MAX_FIELDS  # the first keys by name
    assert row.fields["a.long"] == "x" * MAX_VALUE and row.fields["a.list"] == ["y" * MAX_VALUE]
    assert "a.broken" not in row.fields and row.fields["k000"] == 0


def test_a_schema_9_cache_gains_the_fields_and_the_table_shows_them(demo_cache: Cache) -> None:
    root = demo_cache.root
    demo_cache.close()
    for path in (root / "index").glob("*.json"):  # rows as schema 9 wrote them
        data = json.loads(path.read_text())
        for table in data.values():
            for doc in table.values():
                (doc.get("row") or doc).pop("fields", None)
        path.write_text(json.dumps(data))
    (root / "meta.json").write_text(json.dumps({"meta": {"1": {"schema": 9, "created": "x"}}}))
    with Cache.open(root, create=False) as cache:
        assert read_json(root / "meta.json")["meta"]["1"]["schema"] == SCHEMA >= 10
        table = CustomerTable.load(cache.index_rows(), fields=["billing.plan", "orders.count"])
        row = table.index_of(EVERYTHING_ID)
        assert row is not None
        assert table.values["field:billing.plan"][row] == "Business"
        assert table.values["field:orders.count"][row] == 30
        assert table.field_counts["billing.plan"] == 1
