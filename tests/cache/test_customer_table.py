"""The customers table (cache/customer_table.py): a query selects there what it selects in
`agentdesk export` (customer_select), sorts are stable by name, packed columns read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agentdesk.cache.cache import Cache
from agentdesk.cache.customer_select import by_name, select
from agentdesk.cache.customer_table import CustomerTable
from agentdesk.cache.packed import PackedStrings
from agentdesk.cache.search_index import IndexRow
from agentdesk.model.customer_query import parse
from agentdesk.model.fold import fold

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _rows() -> list[IndexRow]:
    return [
        IndexRow("c1", "Ada Ng", "ada@x.example", "+1 555 0101", "Acme", status="vip",
                 tags=["vip", "beta"], segments=["Trial users"], channels=["sms"],
                 last_contact="2026-02-20T10:00:00+00:00"),
        IndexRow("c2", "ádá Mora", "mora@x.example", "", "", status="churned", tags=["VIP"],
                 channels=["email"], last_contact="2025-01-01T00:00:00Z"),
        IndexRow("c3", "Bo =cmd", "bo@x.example", "555 0199", "Acme", status="active",
                 others=[["address", "1 Rua Nova"]], last_contact=""),
        IndexRow("c4", "Zed\x1b[31m", "z@x.example", "", "Zeta", status="blocked",
                 segments=["Trial users", "Big"], last_contact="not a time"),
        IndexRow("c5", "Cy", "cy@x.example", "", "", status="active", tags=["beta"],
                 channels=["sms", "chat"], last_contact="2026-02-28T23:00:00-05:00"),
    ]


@pytest.mark.parametrize("text", [
    "", "ada", "acme", "0101", "nova", "tag:vip", "-tag:vip", "tag:beta status:active",
    'segment:"trial users"', "channel:sms", "last-contact:<30d", "last-contact:>30d",
    "-last-contact:<1h", "last-contact:<2w ada", "status:blocked", "zzz",
])
def test_a_query_selects_what_the_export_selects(text: str) -> None:
    rows = _rows()
    table = CustomerTable.load(rows)
    query = parse(text)
    expected = [r.id for r in select(rows, query, NOW)]
    got = [table.values["id"][i] for i in table.view(query, NOW, range(len(table)))]
    assert got == expected


def test_the_demo_cache_by_name_and_sorted_both_ways_ties_by_name(demo_cache: Cache) -> None:
    rows = list(demo_cache.index_rows())
    table = CustomerTable.load(rows)
    assert [table.values["id"][i] for i in table.by_name] == [r.id for r in by_name(rows)]
    names = [r.id for r in by_name(rows)]
    for reverse in (False, True):
        got = [table.values["id"][i] for i in table.order("status", reverse)]
        statuses = {r.id: fold(r.status) for r in rows}
        expected = sorted(names, key=lambda cid: statuses[cid], reverse=reverse)
        assert got == expected  # equal statuses stay in name order, either way
    assert len(table) == len(rows)


def test_packed_strings_read_back_and_find_whole_values_only() -> None:
    packed = PackedStrings()
    values = ["cus_10", "cus_1", "", "Ádá ☃", "cus_1x", "\udcff"]
    for value in values:
        packed.append(value)
    assert list(packed) == values and [packed[i] for i in range(len(values))] == values
    assert packed[-1] == "\udcff" and len(packed) == len(values)
    assert packed.index("cus_1") == 1  # not the start of "cus_10"
    assert packed.index("Ádá ☃") == 3 and packed.index("") == 2
    with pytest.raises(ValueError):
        packed.index("cus_")
    with pytest.raises(IndexError):
        packed[len(values)]


def test_every_column_exports_as_agentdesk_export_writes_it(demo_cache: Cache) -> None:
    """The screen's export (the table's values) and `agentdesk export` (the index rows) write
    the same bytes for every column, yes/no and counts included."""
    import io

    from agentdesk.cache.customer_columns import COLUMNS
    from agentdesk.cache.customer_export import write_csv, write_json
    from agentdesk.ui.customers_export import records

    rows = by_name(demo_cache.index_rows())
    table = CustomerTable.load(rows)
    fields = [c.id for c in COLUMNS]
    order = list(table.by_name)
    for write in (write_csv, write_json):
        ours, theirs = io.StringIO(), io.StringIO()
        write(records(table, order, fields), fields, ours)
        write(rows, fields, theirs)
        assert ours.getvalue() == theirs.getvalue()
    assert {table.values["reachable"][i] for i in order} <= {True, False}
