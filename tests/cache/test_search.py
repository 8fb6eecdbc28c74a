"""CustomerIndex: what matches, in which order, and how edits show up."""

from __future__ import annotations

import random

import pytest

from agentdesk.model import demo
from agentdesk.cache.cache import Cache, IndexRow
from agentdesk.cache.search import SCAN_LIMIT, CustomerIndex, matched_field, query_words, span_of
from agentdesk.model.fold import fold

FIRST = ["Ada", "Bruno", "Chiara", "Dmitri", "Elena", "Farah", "Gustav", "Hana", "Ivan", "Jun",
         "Kofi", "Lena", "Mateo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tomoko",
         "Zoë", "Ólafur", "Jürgen", "Åsa"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Haddad", "Silva", "Kowalski",
        "Nakamura", "Osei", "Rossi", "Petrov", "Schmidt", "Alvarez", "Ibrahim", "Dubois",
        "Straße", "O'Brien", "van Dijk", "Ng"]
COMPANIES = ["Northwind Traders", "Blue Harbor Hotels", "Kettle & Co", "Alder Logistics",
             "Pinecrest Clinic", "Moonlight Bakery", "Quarry Labs", ""]

# Rows placed in the synthetic set on purpose.
SPECIAL = [
    IndexRow("cus_special_1", "Ada Chen", "ada.chen@example.com", "+1 555 123 4567", "Zebra Works"),
    IndexRow("cus_special_2", "Chen Adams", "c.adams@example.com", "+44 20 7946 0958", "Zebra Works"),
    IndexRow("cus_special_3", "Bo Chen", "bo@example.net", "(555) 123-4000", ""),
    IndexRow("cus_special_4", "Wolfgang Straße", "w.strasse@example.de", "+49 30 1234 5678", "Brauhaus"),
    IndexRow("cus_special_5", "Yusuf Quixotic", "yq@example.org", "555.987.6543", "Xylophone Inc"),
]


def _synthetic(count: int = 20_000, seed: int = 99) -> list[IndexRow]:
    rng = random.Random(seed)
    rows = []
    for n in range(count - len(SPECIAL)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"{first}.{last}{n}".lower().replace(" ", "").replace("'", "")
        rows.append(IndexRow(
            id=f"cus_{n:06d}",
            name=f"{first} {last}",
            email=f"{handle}@example.com" if rng.random() < 0.9 else "",
            phone=f"+1 {rng.randint(200, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
            if rng.random() < 0.8 else "",
            company=rng.choice(COMPANIES),
        ))
    rows += SPECIAL
    rng.shuffle(rows)
    return rows


@pytest.fixture(scope="module")
def rows() -> list[IndexRow]:
    return _synthetic()


@pytest.fixture(scope="module")
def shared_index(rows: list[IndexRow]) -> CustomerIndex:
    return CustomerIndex(rows)


@pytest.fixture
def index(shared_index: CustomerIndex) -> CustomerIndex:
    """The 20,000-row index, for tests that only search (and may set `recent`)."""
    shared_index.recent = []
    assert not shared_index._changed
    return shared_index


@pytest.fixture
def fresh_index(rows: list[IndexRow]) -> CustomerIndex:
    """A 20,000-row index of its own, for tests that edit it."""
    return CustomerIndex(rows)


@pytest.fixture
def demo_index(demo_cache: Cache) -> CustomerIndex:
    return CustomerIndex(demo_cache.index_rows())


def _oracle(rows: list[IndexRow], query: str) -> set[str]:
    """Rows where every word of the query is in a field, or in the phone number's digits."""
    words = fold(query).split()
    found = set()
    for row in rows:
        fields = [row.name, row.email, row.phone, "".join(c for c in row.phone if c.isdigit()),
                  row.company, row.id]
        fields = [fold(f) for f in fields]
        if all(any(w in f for f in fields) for w in words):
            found.add(row.id)
    return found


def _ids(index: CustomerIndex, query: str, limit: int = 5_000) -> list[str]:
    return [r.id for r in index.search(query, limit=limit).rows]


# -- matching -------------------------------------------------------------------------------


def test_size_and_get(index: CustomerIndex, rows: list[IndexRow]) -> None:
    assert len(index) == 20_000
    for row in rows[:50] + SPECIAL:
        assert index.get(row.id) == row
    assert index.get("cus_nope") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Ada Chen", "cus_special_1"),  # name
        ("ada.chen@example.com", "cus_special_1"),  # e-mail
        ("5551234567", "cus_special_1"),  # phone digits only
        ("5551234", "cus_special_1"),  # "+1 555 123 4567" by its digits
        ("+1 555 123 4567", "cus_special_1"),  # as written
        ("2079460958", "cus_special_2"),
        ("5551234000", "cus_special_3"),  # "(555) 123-4000"
        ("5559876543", "cus_special_5"),  # "555.987.6543"
        ("Xylophone", "cus_special_5"),  # company
        ("cus_special_4", "cus_special_4"),  # id
        ("w.strasse", "cus_special_4"),
    ],
)
def test_finds_by_each_field(index: CustomerIndex, query: str, expected: str) -> None:
    assert expected in _ids(index, query)


def test_phone_digits_ignore_separators(demo_index: CustomerIndex, demo_cache: Cache) -> None:
    profile = demo_cache.load_profile("cus_000007")
    phone = profile.primary(demo.ContactKind.PHONE).value  # "+1 555 ddd dddd"
    digits = "".join(c for c in phone if c.isdigit())
    assert "cus_000007" in _ids(demo_index, digits[1:8])  # e.g. "5551234"
    assert "cus_000007" in _ids(demo_index, digits)
    assert "cus_000007" in _ids(demo_index, phone)


@pytest.mark.parametrize(
    "query",
    ["chen", "zebra works", "ada chen", "okafor ada", "lindqvist kettle", "example.de",
     "5551", "o'brien", "van dijk", "åsa moreau", "cus_0123", "nakamura 99",
     "straße tomoko", "STRASSE TOMOKO", "ZOË", "jürgen pinecrest 7", "quarry labs silva", "nomatchatall", "kettle 1234"],
)
def test_matches_equal_every_word_anywhere(index: CustomerIndex, rows: list[IndexRow], query: str) -> None:
    expected = _oracle(rows, query)
    assert len(expected) <= SCAN_LIMIT  # queries chosen to stay under the ranking limit
    result = index.search(query, limit=5_000)
    assert {r.id for r in result.rows} == expected
    assert result.total == len(expected)
    assert not result.more
    assert len(result.rows) == len({r.id for r in result.rows})  # no duplicates


def test_multi_word_is_and(index: CustomerIndex, rows: list[IndexRow]) -> None:
    both = set(_ids(index, "zebra chen"))
    assert both == {"cus_special_1", "cus_special_2"}
    assert set(_ids(index, "zebra adams")) == {"cus_special_2"}
    assert _ids(index, "zebra quixotic") == []
    # word order and repeated blanks do not matter
    assert set(_ids(index, "  chen   zebra ")) == both


def test_case_insensitive(index: CustomerIndex) -> None:
    for query in ("ADA CHEN", "ada chen", "aDa cHeN"):
        assert set(_ids(index, query)) == set(_ids(index, "Ada Chen"))
    assert "cus_special_4" in _ids(index, "STRASSE")  # case folding: ß == ss
    assert "cus_special_4" in _ids(index, "W.STRASSE@EXAMPLE.DE")


def test_broad_query_stops_counting_at_the_scan_limit(index: CustomerIndex, rows: list[IndexRow]) -> None:
    assert len(_oracle(rows, "a")) > SCAN_LIMIT
    result = index.search("a", limit=50)
    assert result.total == SCAN_LIMIT
    assert result.more
    assert len(result.rows) == 50


def test_limit(index: CustomerIndex) -> None:
    result = index.search("chen", limit=2)
    assert len(result.rows) == 2
    assert result.total == 3


def test_demo_rows(demo_index: CustomerIndex) -> None:
    assert len(demo_index) == len(demo.dataset())
    assert _ids(demo_index, "beatrix") == [demo.BIG_ID]
    assert _ids(demo_index, "longhistory BEATRIX") == [demo.BIG_ID]
    assert demo.HOSTILE_ID in _ids(demo_index, "mallory")
    assert demo.HOSTILE_ID in _ids(demo_index, "[usd]")  # markup-looking company, literally
    assert _ids(demo_index, "cus_000042") == ["cus_000042"]
    for row_id in _ids(demo_index, "northwind"):
        assert demo_index.get(row_id).company == "Northwind Traders"


# -- ranking --------------------------------------------------------------------------------


def test_recently_viewed_first(index: CustomerIndex) -> None:
    index.recent = ["cus_special_3", "cus_special_2"]
    assert _ids(index, "chen") == ["cus_special_3", "cus_special_2", "cus_special_1"]
    # recent customers that do not match stay out
    assert _ids(index, "ada.chen") == ["cus_special_1"]


def test_name_prefix_before_others_then_by_name(index: CustomerIndex) -> None:
    # "Chen Adams" starts with the query: before "Ada Chen" and "Bo Chen", which follow by name.
    assert _ids(index, "chen") == ["cus_special_2", "cus_special_1", "cus_special_3"]
    found = index.search("nakamura", limit=5_000).rows
    names = [fold(r.name) for r in found]
    assert names == sorted(names)  # nobody's name starts with it: by name
    found = index.search("osk", limit=5_000).rows
    prefix = [fold(r.name).startswith("osk") for r in found]
    assert prefix == sorted(prefix, reverse=True)
    assert any(prefix)


def test_recent_before_prefix(index: CustomerIndex) -> None:
    index.recent = ["cus_special_1"]
    assert _ids(index, "chen") == ["cus_special_1", "cus_special_2", "cus_special_3"]


def test_multi_word_query_prefers_names_starting_with_it(index: CustomerIndex) -> None:
    assert _ids(index, "ada chen")[:1] == ["cus_special_1"]
    assert _ids(index, "chen ad") == ["cus_special_2", "cus_special_1"]


def test_recent_customer_first_even_for_broad_query(index: CustomerIndex, rows: list[IndexRow]) -> None:
    last = max((r for r in rows if "a" in fold(r.name)), key=lambda r: (fold(r.name), r.id))
    index.recent = [last.id]
    assert _ids(index, "a", limit=10)[0] == last.id


# -- edits ----------------------------------------------------------------------------------


def test_update_reflects_edits(fresh_index: CustomerIndex) -> None:
    index = fresh_index
    old = index.get("cus_special_1")
    index.update(IndexRow("cus_special_1", "Quentin Zylberstein", "qz@example.com", "+1 555 000 1111", ""))
    assert _ids(index, "zylberstein") == ["cus_special_1"]
    assert _ids(index, "5550001111") == ["cus_special_1"]
    assert "cus_special_1" not in _ids(index, old.name)
    assert "cus_special_1" not in _ids(index, "zebra")
    assert "cus_special_1" not in _ids(index, "ada.chen@example.com")
    assert set(_ids(index, "chen")) == {"cus_special_2", "cus_special_3"}
    assert index.get("cus_special_1").name == "Quentin Zylberstein"
    assert len(index) == 20_000
    # a second edit replaces the first
    index.update(IndexRow("cus_special_1", "Ada Chen-Okafor", "", "", "Zebra Works"))
    assert _ids(index, "zylberstein") == []
    assert "cus_special_1" in _ids(index, "chen-okafor")
    index.recent = ["cus_special_1"]
    assert _ids(index, "zebra")[0] == "cus_special_1"


def test_update_adds_new_customer(fresh_index: CustomerIndex) -> None:
    index = fresh_index
    index.update(IndexRow("cus_brand_new", "Xavier Newcomer", "", "", ""))
    assert len(index) == 20_001
    assert _ids(index, "newcomer") == ["cus_brand_new"]
    assert index.get("cus_brand_new").name == "Xavier Newcomer"


def test_edit_through_cache_and_fresh_index(demo_cache: Cache) -> None:
    before = CustomerIndex(demo_cache.index_rows())
    old_name = before.get("cus_000010").name
    profile = demo_cache.load_profile("cus_000010")
    # (the social handle is made of the name too: searching the old name would find it)
    contacts = [c for c in profile.contacts if c.kind not in (demo.ContactKind.EMAIL, demo.ContactKind.SOCIAL)]
    contacts.append(demo.ContactPoint(kind="email", value="griselda@example.com", primary=True))
    updated = demo_cache.update_details("cus_000010", name="Griselda Fairweather",
                                        company=profile.customer.company, contacts=contacts)
    after = CustomerIndex(demo_cache.index_rows())
    assert _ids(after, "fairweather") == ["cus_000010"]
    assert _ids(after, "griselda@example") == ["cus_000010"]
    assert "cus_000010" not in _ids(after, old_name)
    assert after.get("cus_000010").name == "Griselda Fairweather"
    # the live index, told about the edit, agrees with a freshly built one
    from agentdesk.cache.cache import IndexRow as Row

    before.update(Row.of(updated))
    for query in ("fairweather", old_name, "example.com", "griselda", "555"):
        assert _ids(before, query) == _ids(after, query)


def test_empty_query_listing_reflects_updates(demo_cache: Cache) -> None:
    live = CustomerIndex(demo_cache.index_rows())
    profile = demo_cache.load_profile("cus_000010")
    updated = demo_cache.update_details("cus_000010", name="Aaron Aardvark",
                                        company=profile.customer.company, contacts=profile.contacts)
    live.update(IndexRow.of(updated))
    live.update(IndexRow("cus_added", "Abigail Added"))
    listed = _ids(live, "", limit=100)
    assert "cus_added" in listed
    # By name: "aaron aardvark" < "abigail added" < every other demo name but the hostile
    # "[bold red]mallory..." ("[" sorts before letters).
    assert listed[:3] == ["cus_hostile", "cus_000010", "cus_added"]
    names = [fold(live.get(i).name) for i in listed]
    assert names == sorted(names)


# -- empty query ----------------------------------------------------------------------------


def test_empty_query_lists_recent_first_then_by_name(demo_index: CustomerIndex) -> None:
    everyone = demo_index.search("", limit=100)
    assert everyone.total == len(demo.dataset()) and not everyone.more
    names = [fold(r.name) for r in everyone.rows]
    assert names == sorted(names)
    demo_index.recent = ["cus_000005", "cus_gone", demo.BIG_ID]
    result = demo_index.search("   ", limit=100)
    ids = [r.id for r in result.rows]
    assert ids[:2] == ["cus_000005", demo.BIG_ID]  # unknown ids skipped
    assert len(ids) == len(set(ids)) == len(demo.dataset())
    rest = [fold(demo_index.get(i).name) for i in ids[2:]]
    assert rest == sorted(rest)
    assert [r.id for r in demo_index.search("", limit=3).rows][:2] == ["cus_000005", demo.BIG_ID]
    assert len(demo_index.search("", limit=3).rows) == 3


def test_empty_query_on_large_index_is_limited(index: CustomerIndex) -> None:
    index.recent = ["cus_special_5"]
    result = index.search("", limit=200)
    assert len(result.rows) == 200
    assert result.rows[0].id == "cus_special_5"
    assert result.total == 20_000


# -- odd ids --------------------------------------------------------------------------------


def test_odd_ids_round_trip_through_the_index() -> None:
    odd = ["a/b", "../x", "x" * 128, "ü-id", "[bold]id[/]"]
    index = CustomerIndex(IndexRow(i, f"Name {n}") for n, i in enumerate(odd))
    for n, customer_id in enumerate(odd):
        assert index.get(customer_id).name == f"Name {n}"
        assert _ids(index, f"name {n}") == [customer_id]


def test_ids_with_whitespace_round_trip_through_the_index() -> None:
    index = CustomerIndex([IndexRow("ext  42", "Spacey Id"), IndexRow("tab\tid", "Tabby Id")])
    assert _ids(index, "spacey") == ["ext  42"]
    assert index.get("tab\tid") is not None
    index.update(IndexRow("ext  42", "Renamed"))
    assert _ids(index, "spacey") == []


def test_a_phone_typed_as_written_matches_its_digits(index: CustomerIndex, rows: list[IndexRow]) -> None:
    """"555 123" or "+1 (555) 123" is a phone number being typed, not two words: it matches
    phones holding those digits in a row, however they are spaced."""
    expected = {r.id for r in rows if "555123" in "".join(c for c in r.phone if c.isdigit())}
    assert expected
    for query in ("555 123", "555-123", "(555) 123", "555123"):
        assert {r.id for r in index.search(query, limit=5_000).rows} == expected, query


# -- every contact point, accents, where it matched, who is related --------------------------


CONTACTED = [
    IndexRow("cus_c1", "Ada Lovelace", "ada@work.example", "+44 20 1111 2222", "Analytical",
             others=[["email", "countess@home.example"], ["phone", "+44 7700 900123"],
                     ["address", "12 St James's Square, London"], ["social", "@enchantress"]],
             related=[["cus_c2", "colleague"]]),
    IndexRow("cus_c2", "Charles Babbage", "cb@engine.example", "", "",
             related=[["cus_c1", "mentor"], ["cus_c3", "friend"]]),
    IndexRow("cus_c3", "Zoë Adámková", "zoe@example.cz", "", "Čokoláda s.r.o."),
]


def test_every_contact_point_is_searched() -> None:
    index = CustomerIndex(CONTACTED)
    assert [index.get(r.id) for r in CONTACTED] == CONTACTED  # what is kept once reads back whole
    for query in ("countess@home", "7700 900123", "+44 7700", "james's square", "enchantress",
                  "london ada"):
        assert _ids(index, query) == ["cus_c1"], query


def test_accents_are_folded_on_both_sides() -> None:
    index = CustomerIndex(CONTACTED)
    assert _ids(index, "zoe adamkova") == ["cus_c3"]
    assert _ids(index, "ZOË ADÁMKOVÁ") == ["cus_c3"]
    assert _ids(index, "ádá") == ["cus_c1", "cus_c3"]  # Ada; Adámková
    assert _ids(index, "cokolada") == ["cus_c3"]
    index.update(IndexRow("cus_c4", "Åsa Öberg"))  # edited rows fold the same way
    assert _ids(index, "asa ob") == ["cus_c4"]


def test_which_field_matched() -> None:
    ada = CONTACTED[0]
    assert matched_field(ada, query_words("ada")) is None  # the name says it
    assert matched_field(ada, query_words("countess")) == ("email", "countess@home.example")
    assert matched_field(ada, query_words("square")) == ("address", "12 St James's Square, London")
    assert matched_field(ada, query_words("+44 20 1111")) == ("phone", "+44 20 1111 2222")
    assert matched_field(ada, query_words("ada @enchant")) == ("social", "@enchantress")
    assert span_of("Zoë Adámková", query_words("ADAM")[0]) == (4, 8)
    assert span_of("+44 20 1111 2222", query_words("2011")[0]) == (4, 9)


def test_who_lists_a_customer_as_related() -> None:
    index = CustomerIndex(CONTACTED)
    assert [(r.id, label) for r, label in index.related_to("cus_c1")] == [("cus_c2", "mentor")]
    assert [(r.id, label) for r, label in index.related_to("cus_c3")] == [("cus_c2", "friend")]
    assert index.related_to("cus_c") == []  # a whole id, not a prefix
    index.update(IndexRow("cus_c2", "Charles Babbage", related=[["cus_c3", "rival"]]))
    assert index.related_to("cus_c1") == []  # the edit took the link away
    assert [(r.id, label) for r, label in index.related_to("cus_c3")] == [("cus_c2", "rival")]


def test_a_huge_value_is_indexed_by_its_start(demo_cache: Cache) -> None:
    profile = demo_cache.load_profile("cus_000001")
    huge = "Harbor Street " + "x" * 1_000_000
    contacts = [*profile.contacts, demo.ContactPoint(kind="address", value=huge)]
    demo_cache.update_details("cus_000001", name=profile.customer.name, company="", contacts=contacts)
    row = next(r for r in demo_cache.index_rows() if r.id == "cus_000001")
    assert ["address", huge[:200]] in row.others
    assert "cus_000001" in _ids(CustomerIndex(demo_cache.index_rows()), "harbor street xxx")
