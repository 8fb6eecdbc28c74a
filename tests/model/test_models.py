"""Domain models: contact validation, normalisation, unknown fields, Profile.primary()."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from agentdesk.model import demo
from agentdesk.cache.cache import Cache
from agentdesk.model.records import (
    ContactKind,
    ContactPoint,
    LONG_LIST,
    Conversation,
    Customer,
    Note,
    Profile,
    Relationship,
    TimelineEntry,
    from_stored,
)
from agentdesk.model.contact_values import InvalidContact
from support.cache_reading import open_profile

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _contact_error(kind: str, value: str) -> tuple[str, InvalidContact]:
    """The agent-facing message of a rejected contact value, and the original exception."""
    with pytest.raises(ValidationError) as caught:
        ContactPoint(kind=kind, value=value)
    errors = caught.value.errors()
    assert len(errors) == 1
    error = errors[0]["ctx"]["error"]
    assert isinstance(error, InvalidContact)
    # pydantic shows the agent our own sentence, prefixed by "Value error, ".
    assert errors[0]["msg"] == f"Value error, {error}"
    return str(error), error


# -- e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["not-an-email", "ada@", "@example.com", "ada lovelace@example.com", "ada@example..com",
     "ada@@example.com", "ada@exa mple.com", "Ada <ada@example.com>"],
)
def test_bad_email_rejected_with_clear_message(value: str) -> None:
    message, _ = _contact_error("email", value)
    assert message.startswith("Not a valid e-mail address: ")
    assert len(message) > len("Not a valid e-mail address: ")  # says why


@pytest.mark.parametrize("value", ["", "   "])
def test_missing_email_rejected(value: str) -> None:
    message, _ = _contact_error("email", value)
    assert message == "An e-mail address is required."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ada.Lovelace@EXAMPLE.COM", "Ada.Lovelace@example.com"),  # domain lower-cased, local kept
        ("  ada@example.com  ", "ada@example.com"),  # surrounding blanks dropped
        ("ada@BÜCHER.example", "ada@bücher.example"),  # internationalised domain
        ("ada@example.com", "ada@example.com"),
    ],
)
def test_valid_email_normalized(value: str, expected: str) -> None:
    point = ContactPoint(kind=ContactKind.EMAIL, value=value)
    assert point.value == expected
    # Normalising is idempotent: a stored value validates to itself.
    assert ContactPoint.model_validate(point.model_dump()).value == expected


# -- phone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected_message"),
    [
        ("12345", "Not a valid phone number: it has 5 digits, expected 7 to 15."),
        ("+1 234 567 890 123 456", "Not a valid phone number: it has 16 digits, expected 7 to 15."),
        ("555-CALL-NOW", "Not a valid phone number: use digits, spaces, ( ) - . and an optional leading +."),
        ("+1 555 123 4567; rm -rf", "Not a valid phone number: use digits, spaces, ( ) - . and an optional leading +."),
        ("++1 555 123 4567", "Not a valid phone number: use digits, spaces, ( ) - . and an optional leading +."),
        ("", "A phone number is required."),
        ("  \t ", "A phone number is required."),
        # An extension does not count towards the 7 digits.
        ("123 x 4567", "Not a valid phone number: it has 3 digits, expected 7 to 15."),
    ],
)
def test_bad_phone_rejected_with_clear_message(value: str, expected_message: str) -> None:
    message, _ = _contact_error("phone", value)
    assert message == expected_message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  +1   (555) 123-4567 ", "+1 (555) 123-4567"),  # runs of blanks collapse
        ("+1\t555\n123 4567", "+1 555 123 4567"),
        ("555 1234", "555 1234"),  # 7 digits: the minimum
        ("+44 20 7946 0958 ext. 12", "+44 20 7946 0958 ext. 12"),
        ("+1 555 123 4567 x123", "+1 555 123 4567 x123"),
        ("030.1234.5678", "030.1234.5678"),
        ("+123456789012345", "+123456789012345"),  # 15 digits: the maximum
    ],
)
def test_valid_phone_normalized(value: str, expected: str) -> None:
    point = ContactPoint(kind="phone", value=value)
    assert point.value == expected


# -- other kinds, stored data ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["address", "social"])
def test_other_kinds_need_a_value_and_are_kept_as_typed(kind: str) -> None:
    assert ContactPoint(kind=kind, value=" 1 Main St ").value == " 1 Main St "
    message, _ = _contact_error(kind, "  ")
    assert message == f"A {kind} value is required."


def test_unknown_contact_kind_rejected() -> None:
    with pytest.raises(ValidationError):
        ContactPoint(kind="pigeon", value="coo")


def test_stored_data_is_not_checked_again() -> None:
    """Data read back from the cache was validated when written: it is converted, not
    re-checked (a value from an older, laxer version still loads)."""
    raw = {"kind": "email", "value": "legacy value", "id": "cp_1"}
    point = from_stored(ContactPoint, raw)
    assert point.value == "legacy value" and point.kind is ContactKind.EMAIL
    with pytest.raises(ValidationError):
        ContactPoint.model_validate(raw)


def test_from_stored_equals_validated() -> None:
    """The stored-data path builds the same objects as validation (types and extras)."""
    for p, entries in demo.generate(customers=3, big_entries=50, entries_each=(2, 4)):
        doc = p.model_dump(mode="json")
        doc["surveys"] = [{"score": 9}]  # a kind of data this version does not know
        assert from_stored(Profile, doc) == Profile.model_validate(doc)
        for entry in entries:
            assert from_stored(TimelineEntry, entry.model_dump(mode="json")) == entry


def test_long_stored_lists_equal_validated() -> None:
    """A profile with more than LONG_LIST conversations takes the validating path: same result."""
    profile, _ = next(demo.generate(customers=1, big_entries=0, entries_each=(2, 4)))
    doc = profile.model_dump(mode="json")
    base = doc["conversations"][0]
    doc["conversations"] = [{**base, "id": f"conv_{n}"} for n in range(LONG_LIST + 100)]
    loaded = from_stored(Profile, doc)
    assert loaded == Profile.model_validate(doc)
    assert isinstance(loaded.conversations[-1], Conversation)


def test_opening_a_profile_builds_no_schema(demo_cache: Cache) -> None:
    """The desk's first paint reads a profile and a timeline chunk without building a pydantic
    schema (time and memory before the first frame); checked in a fresh interpreter."""
    code = (
        "from pathlib import Path\n"
        "from agentdesk.cache.cache import Cache\n"
        "from agentdesk.model import records as models\n"
        f"cache = Cache.open(Path({str(demo_cache.root)!r}))  # read-only: the test holds it\n"
        "profile = cache.load_profile('cus_000000')\n"
        "cache.view_profile('cus_000000')[1].chunk(0)\n"
        "built = [m.__name__ for m in vars(models).values()\n"
        "         if isinstance(m, type) and issubclass(m, models.Model) and m is not models.Model\n"
        "         and m.__pydantic_complete__]\n"
        "assert profile.customer.name and not built, built\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_stored_views_show_what_the_models_hold(demo_cache: Cache) -> None:
    """The desk shows `stored` views; each field must read as the model's does (a field added
    to a model with a type the views do not convert fails here)."""
    for customer_id in ("cus_000000", "cus_000001", "cus_hostile", "cus_big_timeline"):
        model, timeline = open_profile(demo_cache, customer_id)
        view, shown = demo_cache.view_profile(customer_id)
        assert view.customer.__dict__ == model.customer.model_dump()
        for name in ("contacts", "relationships", "notes", "conversations"):
            assert [v.__dict__ for v in getattr(view, name)] == [m.model_dump() for m in getattr(model, name)]
        assert view.primary(ContactKind.EMAIL).__dict__ == model.primary(ContactKind.EMAIL).model_dump()
        for name in ("id", "topic", "status", "started", "ended", "channels"):  # without views
            assert view.conversations.field(name) == [getattr(c, name) for c in model.conversations]
        assert [e.__dict__ for e in shown.chunk(0)] == [e.model_dump() for e in timeline.chunk(0)]
        seen, modelled = shown.chunk(0)[0].__dict__, timeline.chunk(0)[0].model_dump()
        assert seen.keys() == modelled.keys()
        assert {k: type(v) for k, v in seen.items()} == {k: type(v) for k, v in modelled.items()}


def test_ids_are_bounded_and_client_made_ids_unique() -> None:
    with pytest.raises(ValidationError):
        Customer(id="", name="x")
    with pytest.raises(ValidationError):
        Customer(id="x" * 129, name="x")
    assert Customer(id="x" * 128, name="x").id == "x" * 128
    ids = {Note(text="n").id for _ in range(200)}
    assert len(ids) == 200 and all(i.startswith("note_") for i in ids)


def test_rejected_assignment_leaves_contact_unchanged() -> None:
    point = ContactPoint(kind="email", value="ada@example.com")
    with pytest.raises(ValidationError):
        point.value = "not-an-email"
    assert point.value == "ada@example.com"


# -- unknown fields -------------------------------------------------------------------------


def _profile_with_extras() -> Profile:
    return Profile.model_validate(
        {
            "customer": {"id": "cus_x", "name": "Ada", "created": T0, "updated": T0,
                         "loyalty": {"tier": "gold", "points": 1200}},
            "contacts": [{"id": "cp_1", "kind": "email", "value": "ada@example.com",
                          "verified_at": "2026-01-01T00:00:00Z"}],
            "notes": [{"id": "n1", "text": "hi", "created": T0, "updated": T0, "pinned": True}],
            "conversations": [{"id": "c1", "topic": "Billing", "started": T0, "sla": {"hours": 4}}],
            "surveys": [{"score": 9}],
        }
    )


def test_unknown_fields_kept_on_round_trip() -> None:
    profile = _profile_with_extras()
    assert profile.customer.loyalty == {"tier": "gold", "points": 1200}
    assert profile.contacts[0].verified_at == "2026-01-01T00:00:00Z"
    for dumped in (profile.model_dump(mode="json"), profile.model_dump()):
        again = Profile.model_validate(dumped)
        assert again == profile
        assert again.customer.model_extra == {"loyalty": {"tier": "gold", "points": 1200}}
        assert again.contacts[0].model_extra == {"verified_at": "2026-01-01T00:00:00Z"}
        assert again.notes[0].model_extra == {"pinned": True}
        assert again.conversations[0].model_extra == {"sla": {"hours": 4}}
        assert again.model_extra == {"surveys": [{"score": 9}]}
    via_json = Profile.model_validate_json(profile.model_dump_json())
    assert via_json == profile
    assert via_json.model_dump(mode="json")["customer"]["loyalty"] == {"tier": "gold", "points": 1200}


def test_timeline_entry_keeps_unknown_fields() -> None:
    entry = TimelineEntry(conversation_id="c1", at=T0, channel="chat", direction="inbound",
                          sentiment=-0.4)
    assert TimelineEntry.model_validate_json(entry.model_dump_json()).sentiment == -0.4


def test_enums_and_dates_validated() -> None:
    with pytest.raises(ValidationError):
        Customer(name="x", status="royalty")
    with pytest.raises(ValidationError):
        Conversation(topic="t", started="yesterday")
    conv = Conversation(topic="t", started="2026-01-05T09:00:00Z", channels=["email", "sms"])
    assert conv.started == T0
    assert [c.value for c in conv.channels] == ["email", "sms"]


# -- Profile.primary ------------------------------------------------------------------------


def _point(kind: str, value: str, primary: bool = False, id: str | None = None) -> ContactPoint:
    return ContactPoint(kind=kind, value=value, primary=primary, id=id or f"cp_{value}")


def test_primary_prefers_the_primary_point_of_that_kind() -> None:
    profile = Profile(
        customer=Customer(name="Ada"),
        contacts=[
            _point("email", "first@example.com"),
            _point("phone", "+1 555 000 0000", primary=True),
            _point("email", "main@example.com", primary=True),
            _point("email", "third@example.com"),
        ],
    )
    assert profile.primary(ContactKind.EMAIL).value == "main@example.com"
    assert profile.primary(ContactKind.PHONE).value == "+1 555 000 0000"


def test_primary_falls_back_to_first_of_kind_then_none() -> None:
    profile = Profile(
        customer=Customer(name="Ada"),
        contacts=[
            _point("phone", "+1 555 000 0000", primary=True),  # primary, but another kind
            _point("email", "first@example.com"),
            _point("email", "second@example.com"),
        ],
    )
    assert profile.primary(ContactKind.EMAIL).value == "first@example.com"
    assert profile.primary(ContactKind.ADDRESS) is None
    assert Profile(customer=Customer(name="Nobody")).primary(ContactKind.EMAIL) is None


def _record_variants() -> list[tuple[str, dict[str, object]]]:
    """Valid records of every synced type (from the demo) and broken copies of each."""
    from agentdesk.model.fields import Field
    from agentdesk.model.identifiers import Identifier, Segment, Subscription
    from agentdesk.model.records import RECORD_MODELS

    profile, entries = next(demo.generate(customers=1, big_entries=0, entries_each=(3, 3)))
    samples = {
        "customer": profile.customer, "contact": profile.contacts[0],
        "note": Note(text="x", author="a"), "conversation": profile.conversations[0],
        "entry": entries[0], "relationship": Relationship(customer_id="cus_x", label="spouse"),
        "field": Field.model_validate({"id": "fld_x", "key": "persona", "values": [
            {"value": "x", "source": "desk", "at": "2026-01-05T09:00:00Z"}]}),
        "identifier": Identifier(kind="email", value="a@example.com"),
        "subscription": Subscription(name="Newsletter"), "segment": Segment(name="Loyal"),
    }
    assert set(samples) == set(RECORD_MODELS)
    broken: list[object] = [None, 7, "", "x" * 129, "not a date", "fax", [], {"a": 1}, True]
    variants: list[tuple[str, dict[str, object]]] = []
    for kind, model in samples.items():
        doc = model.model_dump(mode="json")
        variants.append((kind, doc))
        variants.append((kind, {**doc, "unknown_field": [1, 2]}))
        for name in doc:
            variants.append((kind, {k: v for k, v in doc.items() if k != name}))
            variants += [(kind, {**doc, name: value}) for value in broken]
    # Entries of the other kinds: a status each kind may or may not carry, with and without a
    # conversation, details of every value type and broken ones.
    from agentdesk.model.demo_activity import activity

    for entry in activity(3, "v", demo.EPOCH, demo.EPOCH + timedelta(days=30), 12):
        doc = entry.model_dump(mode="json")
        variants.append(("entry", doc))
        variants += [("entry", {**doc, "status": status}) for status in ("scored", "clicked", "x", "")]
        variants += [("entry", {**doc, "kind": kind}) for kind in ("message", "nope", "survey")]
        variants += [("entry", {**doc, "details": value}) for value in
                     ({"a": {"nested": 1}}, {"": 1}, {"k" * 65: 1}, {"tags": [1]}, [], None)]
    return variants


def test_the_replicas_field_check_accepts_and_refuses_what_the_models_do() -> None:
    """The sync checks records without building model objects (model.changes.fields_validator):
    it must accept exactly the records the models accept, with the same first error."""
    from agentdesk.model.records import RECORD_CHECKS, RECORD_MODELS
    from agentdesk.model.changes import fields_validator

    refused = 0
    for kind, doc in _record_variants():
        model = RECORD_MODELS[kind]
        try:
            model.model_validate(doc)
            expected = None
        except ValidationError as error:
            expected = error.errors()[0]
        try:
            fields_validator(model)(doc)
            got = None
            # A check across fields (an entry's kind, status and conversation) comes after.
            why = RECORD_CHECKS[kind](doc) if kind in RECORD_CHECKS else None
            if why:
                got = {"loc": (), "msg": f"Value error, {why}"}
        except ValidationError as error:
            got = error.errors()[0]
        assert (got is None) == (expected is None), (kind, doc, got, expected)
        if got is not None and expected is not None:
            refused += 1
            assert (got["loc"], got["msg"]) == (expected["loc"], expected["msg"]), (kind, doc)
    assert refused > 100  # the broken copies were refused, not all waved through
