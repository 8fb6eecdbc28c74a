"""`agentdesk export --fields ...,field:<key>`: any field of the customers, read from the index
rows, through the real command; CSV parsed back, numbers as numbers, text neutralised."""

from __future__ import annotations

import json

from test_export import export, parsed_csv

from agentdesk.cache.cache import Cache
from agentdesk.model.demo_profile_data import EVERYTHING_ID


def test_field_columns_are_exported_from_the_index(demo_cache: Cache) -> None:
    demo_cache.set_field("cus_000004", "billing.plan", "=HYPERLINK(\"http://x\")")
    demo_cache.set_field("cus_000004", "seats", "-3", type="number")
    wanted = "id,field:billing.plan,field:seats,field:interests,field:shopify.accepts_marketing"
    rows = {r["id"]: r for r in parsed_csv(export(demo_cache, "--fields", wanted).stdout)}
    docs = {d["id"]: d for d in json.loads(
        export(demo_cache, "--fields", wanted, "--format", "json").stdout)}
    assert len(rows) == len(docs) == len(list(demo_cache.index_rows()))
    assert rows[EVERYTHING_ID] == {"id": EVERYTHING_ID, "field:billing.plan": "Business",
                                   "field:seats": "", "field:interests": "lab software; APIs",
                                   "field:shopify.accepts_marketing": "false"}
    assert rows["cus_000004"]["field:billing.plan"] == "'=HYPERLINK(\"http://x\")"  # no formula
    assert rows["cus_000004"]["field:seats"] == "-3"  # a number stays one
    assert docs[EVERYTHING_ID]["field:interests"] == ["lab software", "APIs"]
    assert docs[EVERYTHING_ID]["field:shopify.accepts_marketing"] is False
    assert docs["cus_000004"]["field:seats"] == -3 and docs["cus_000004"]["field:interests"] is None


def test_a_hostile_field_key_is_written_inert(demo_cache: Cache) -> None:
    key = "\u202egnp.exe \x1b[31m[b]x"  # bidi and an escape (a damaged file; keys are checked)
    done = export(demo_cache, "--fields", f"id,field:{key}")
    header = done.stdout.splitlines()[0]
    assert header.startswith("id,field:") and "\u202e" not in header and "\x1b" not in header
    docs = json.loads(export(demo_cache, "--fields", f"id,field:{key}", "--format", "json").stdout)
    assert all("\u202e" not in k and "\x1b" not in k for d in docs for k in d)


def test_a_field_column_without_a_key_is_named() -> None:
    from agentdesk.cache.customer_export import ExportError, fields_of

    assert fields_of("name, field:plan ") == ("name", "field:plan")
    try:
        fields_of("name,field:")
    except ExportError as error:
        assert 'unknown field "field:"' in str(error) and "field:<key>" in str(error)
    else:
        raise AssertionError("field: without a key was taken")
