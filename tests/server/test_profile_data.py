"""Fields, identifiers and subscriptions in the store, on every engine: the source priority
rule for every pair of sources (in both orders of arrival), desk edits and their conflicts,
merge by e-mail."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from agentdesk.model.fields import field_id
from agentdesk.model.protocol import Mutation, MutationKind, MutationStatus, RecordType
from agentdesk.model.records import ContactPoint, Customer
from agentdesk.server.store import Agent, Store, StoreError

AGENT = Agent("agent")
CID = "cus_ada"
T1, T2 = "2026-01-01T10:00:00Z", "2026-02-01T10:00:00Z"

# A value from each source. `desk` arrives as a desk's mutation, the others as the API writes.
SOURCES: dict[str, dict[str, Any]] = {
    "desk": {"value": "from the desk", "source": "desk", "by": "Sam", "at": T1},
    "api": {"value": "from the API", "source": "api", "by": "crm-sync", "at": T1},
    "hubspot (older)": {"value": "from HubSpot", "source": "integration", "integration": "HubSpot", "at": T1},
    "zendesk (newer)": {"value": "from Zendesk", "source": "integration", "integration": "Zendesk", "at": T2},
}
# Which source's value is shown, for every pair: written out, not computed by the rule.
WINNER = {
    frozenset({"desk", "api"}): "desk",
    frozenset({"desk", "hubspot (older)"}): "desk",
    frozenset({"desk", "zendesk (newer)"}): "desk",
    frozenset({"api", "hubspot (older)"}): "api",
    frozenset({"api", "zendesk (newer)"}): "api",
    frozenset({"hubspot (older)", "zendesk (newer)"}): "zendesk (newer)",
}
PAIRS = list(itertools.permutations(SOURCES, 2))


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    s = make_store()
    s.upsert(RecordType.CUSTOMER, Customer(id=CID, name="Ada").model_dump(mode="json"), CID)
    return s


def _write(store: Store, source: str, key: str = "persona") -> None:
    value = SOURCES[source]
    if value["source"] == "desk":
        [result] = store.apply([_set(key, value["value"], base=None)], AGENT)
        assert result.status == MutationStatus.APPLIED, result
        return
    store.upsert(RecordType.FIELD, {"key": key, "type": "text", "group": "property",
                                    "values": [value]}, CID)


def _set(key: str, value: Any, base: Any, mid: str = "mut_1", revision: int | None = None) -> Mutation:
    return Mutation(id=mid, kind=MutationKind.FIELD_SET, customer_id=CID,
                    target=field_id(CID, key), base_revision=revision,
                    data={"key": key, "type": "text", "group": "property", "value": value,
                          "by": "Sam", "base": base}, made_at=T1)


def _field(store: Store, key: str = "persona", customer: str = CID) -> dict[str, Any]:
    rows = store.profile(customer, AGENT)
    found = [r for r in rows if r[2] == "field" and r[3] == field_id(customer, key)]
    assert len(found) == 1, rows
    import json

    return json.loads(found[0][6])


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}-then-{b}" for a, b in PAIRS])
def test_the_source_priority_rule_picks_the_winner_of_every_pair(store: Store, first: str,
                                                                  second: str) -> None:
    _write(store, first)
    _write(store, second)
    values = _field(store)["values"]
    winner = WINNER[frozenset({first, second})]
    loser = first if winner == second else second
    assert [v["value"] for v in values] == [SOURCES[winner]["value"], SOURCES[loser]["value"]]


def test_a_source_replaces_its_own_value_and_keeps_the_others(store: Store) -> None:
    _write(store, "api")
    _write(store, "hubspot (older)")
    store.upsert(RecordType.FIELD, {"key": "persona", "type": "text", "values": [
        {**SOURCES["api"], "value": "scrubbed by the API", "at": T2}]}, CID)
    assert [v["value"] for v in _field(store)["values"]] == ["scrubbed by the API", "from HubSpot"]


def test_a_value_of_the_wrong_type_is_refused_and_nothing_changes(store: Store) -> None:
    store.upsert(RecordType.FIELD, {"key": "orders.count", "type": "number", "values": [
        {"value": 3, "source": "api", "at": T1}]}, CID)
    with pytest.raises(StoreError, match="number"):
        store.upsert(RecordType.FIELD, {"key": "orders.count", "type": "number", "values": [
            {"value": "three", "source": "api", "at": T1}]}, CID)
    [result] = store.apply([Mutation(
        id="mut_bad", kind=MutationKind.FIELD_SET, customer_id=CID,
        target=field_id(CID, "orders.count"), data={"key": "orders.count", "value": "lots",
                                                    "base": None})], AGENT)
    assert result.status == MutationStatus.REJECTED and "number" in result.reason
    assert [v["value"] for v in _field(store, "orders.count")["values"]] == [3]


def test_two_desks_editing_one_field_conflict_and_the_store_keeps_the_first(store: Store) -> None:
    _write(store, "desk")
    [second] = store.apply([_set("persona", "another agent's", base=None, mid="mut_2")], AGENT)
    assert second.status == MutationStatus.CONFLICT and second.conflicts == ["value"]
    [third] = store.apply([_set("persona", "edited on top", base={"value": "from the desk"},
                                mid="mut_3")], AGENT)
    assert third.status == MutationStatus.APPLIED
    assert _field(store)["values"][0]["value"] == "edited on top"


def test_field_remove_deletes_the_field_unless_it_changed_meanwhile(store: Store) -> None:
    _write(store, "api")
    seen = _field(store)
    _write(store, "zendesk (newer)")  # changes the field after the agent saw it
    remove = Mutation(id="mut_rm", kind=MutationKind.FIELD_REMOVE, customer_id=CID,
                      target=seen["id"], base_revision=1, data={"base": seen})
    [result] = store.apply([remove], AGENT)
    assert result.status == MutationStatus.CONFLICT
    again = remove.model_copy(update={"id": "mut_rm2", "data": {"base": _field(store)}})
    [result] = store.apply([again], AGENT)
    assert result.status == MutationStatus.APPLIED
    assert not [r for r in store.profile(CID, AGENT) if r[2] == "field"]


def test_consent_is_changed_by_a_desk_and_conflicts_like_any_field(store: Store) -> None:
    store.upsert(RecordType.IDENTIFIER, {"id": "idn_1", "kind": "email", "value": "ada@example.com"}, CID)

    def consent(mid: str, new: str, old: str) -> Any:
        return store.apply([Mutation(id=mid, kind=MutationKind.IDENTIFIER_CONSENT, customer_id=CID,
                                     target="idn_1", data={"set": {"consent": new},
                                                           "base": {"consent": old}, "by": "Sam"},
                                     made_at=T2)], AGENT)[0]

    assert consent("m1", "opted_in", "unknown").status == MutationStatus.APPLIED
    stale = consent("m2", "opted_out", "unknown")
    assert stale.status == MutationStatus.CONFLICT and stale.conflicts == ["consent"]
    assert stale.current["consent"] == "opted_in" and stale.current["consent_by"] == "Sam"
    assert consent("m3", "bogus", "opted_in").status == MutationStatus.REJECTED


def test_subscriptions_are_added_once_and_removed(store: Store) -> None:
    add = Mutation(id="m_add", kind=MutationKind.SUBSCRIPTION_ADD, customer_id=CID, target="sub_1",
                   data={"id": "sub_1", "kind": "list", "name": "Newsletter"})
    assert store.apply([add], AGENT)[0].status == MutationStatus.APPLIED
    assert store.apply([add.model_copy(update={"id": "m_add2"})], AGENT)[0].status == MutationStatus.APPLIED
    assert len([r for r in store.profile(CID, AGENT) if r[2] == "subscription"]) == 1
    remove = Mutation(id="m_rm", kind=MutationKind.SUBSCRIPTION_REMOVE, customer_id=CID,
                      target="sub_1", data={"base": None})
    assert store.apply([remove], AGENT)[0].status == MutationStatus.APPLIED
    assert not [r for r in store.profile(CID, AGENT) if r[2] == "subscription"]


def test_merge_by_email_keeps_the_first_customer_and_applies_the_rule_to_fields(store: Store) -> None:
    other = "cus_ada2"
    store.upsert(RecordType.CUSTOMER, Customer(id=other, name="Ada L.", created=T2).model_dump(mode="json"), other)
    store.upsert(RecordType.CONTACT, ContactPoint(kind="email", value="ADA@example.com").model_dump(mode="json"), CID)
    store.upsert(RecordType.IDENTIFIER, {"id": "idn_b", "kind": "email", "value": "ada@example.com",
                                         "last_seen": T2, "unsubscribed_at": T2}, other)
    store.upsert(RecordType.IDENTIFIER, {"id": "idn_a", "kind": "email", "value": "ada@example.com",
                                         "last_seen": T1}, CID)
    _write(store, "hubspot (older)")  # on the first customer
    store.upsert(RecordType.FIELD, {"key": "persona", "type": "text", "values": [SOURCES["api"]]}, other)
    store.upsert(RecordType.FIELD, {"key": "plan", "type": "text", "values": [SOURCES["api"]]}, other)
    # Made later than CID: it is the one merged away, whichever is named first.
    store.upsert(RecordType.CUSTOMER, Customer(id=CID, name="Ada", created=T1).model_dump(mode="json"), CID)
    into, merged = store.merge_by_email(" Ada@Example.com ")
    assert (into, merged) == (CID, [other])
    persona = _field(store, "persona")
    assert [v["value"] for v in persona["values"]] == ["from the API", "from HubSpot"]
    assert _field(store, "plan")["values"][0]["value"] == "from the API"
    import json

    identifiers = [json.loads(r[6]) for r in store.profile(CID, AGENT) if r[2] == "identifier"]
    assert len(identifiers) == 1
    assert identifiers[0]["last_seen"].startswith("2026-02-01") and identifiers[0]["unsubscribed_at"]
    with pytest.raises(StoreError, match="fewer than two"):
        store.merge_by_email("ada@example.com")


def test_serve_merge_merges_by_email_from_the_command_line(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from agentdesk.cli import main
    from agentdesk.server.run import open_store

    store = open_store(tmp_path / "srv")
    for cid, created in (("cus_a", T1), ("cus_b", T2)):
        store.upsert(RecordType.CUSTOMER, Customer(id=cid, name=cid, created=created).model_dump(mode="json"), cid)
        store.upsert(RecordType.IDENTIFIER, {"id": f"idn_{cid}", "kind": "email", "value": "x@example.com"}, cid)
    store.close()
    assert main(["serve", "merge", "--email", "x@example.com", "--data", str(tmp_path / "srv")]) == 0
    assert "Merged cus_b into cus_a." in capsys.readouterr().out
    assert main(["serve", "merge", "--email", "x@example.com", "--data", str(tmp_path / "srv")]) == 1
    assert "fewer than two customers" in capsys.readouterr().err
