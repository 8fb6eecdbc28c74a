"""A customer's fields reach their search row (the customers table's field columns) over the
real sync: a field the store changed, and the fields of a customer merged into another."""

from __future__ import annotations

from support.sync_world import World

from agentdesk.model.fields import Field, field_id
from agentdesk.model.protocol import RecordType


def _fields(world: World, customer_id: str) -> dict[str, object] | None:
    row = next((r for r in world.cache.index_rows() if r.id == customer_id), None)
    assert row is not None, customer_id
    return row.fields


def test_a_field_the_store_changed_reaches_the_row(synced: World) -> None:
    cid = "cus_000005"
    field = Field.model_validate({"id": field_id(cid, "billing.plan"), "key": "billing.plan",
                                  "values": [{"value": "Gold", "source": "api", "by": "crm",
                                              "at": "2026-02-01T00:00:00Z"}]})
    synced.store.upsert(RecordType.FIELD, field.model_dump(mode="json"), cid)
    synced.sync()
    assert (_fields(synced, cid) or {}).get("billing.plan") == "Gold"


def test_a_merged_customers_fields_move_to_the_row_kept(synced: World) -> None:
    a, b = "cus_000008", "cus_000012"
    synced.cache.set_field(a, "seats", "7", type="number")
    synced.sync()  # pushed
    synced.store.merge_customers(a, b)
    synced.sync()
    assert a not in {r.id for r in synced.cache.index_rows()}
    assert (_fields(synced, b) or {}).get("seats") == 7
    synced.assert_in_sync()
