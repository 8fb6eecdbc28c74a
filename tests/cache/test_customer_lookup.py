"""Screen-pop's lookup: an id, an e-mail address or a phone number names one customer, or the
answer says why not (nobody, or several)."""

from __future__ import annotations

from agentdesk.cache.customer_lookup import lookup
from agentdesk.cache.search import CustomerIndex
from agentdesk.cache.search_index import IndexRow


def index() -> CustomerIndex:
    return CustomerIndex([
        IndexRow("cus_a", "Ada Lovelace", "Ada@Example.com", "+44 20 7946 0018",
                 others=[["email", "ada@work.example.org"], ["phone", "020 7946 0999"]]),
        IndexRow("cus_b", "Bo Li", "bo@example.com", "(555) 123-4567"),
        IndexRow("cus_c", "Cy Li", "cy@example.com", "555 123 4567"),  # same line as Bo
        IndexRow("cus_d", "Di Kay", "ada@example.com.au", "555 000 1111"),  # a longer address
    ])


def test_an_id_an_email_or_a_phone_names_one_customer() -> None:
    found = lookup(index(), "cus_a")
    assert (found.customer_id, found.name) == ("cus_a", "Ada Lovelace")
    assert lookup(index(), " ada@example.COM ").customer_id == "cus_a"  # case, spaces
    assert lookup(index(), "ada@work.example.org").customer_id == "cus_a"  # a second e-mail
    assert lookup(index(), "+442079460018").customer_id == "cus_a"
    assert lookup(index(), "02079460999").customer_id == "cus_a"  # a second phone
    assert lookup(index(), "+1 555 000 1111").customer_id == "cus_d"  # with a country code


def test_nobody_or_several_is_said_and_names_no_one() -> None:
    for target, why in [("", "no customer named"), ("cus_z", "no customer has the id cus_z"),
                        ("eve@example.com", "no customer has the e-mail address"),
                        ("example.com", "no customer has the id"),  # a part is not an address
                        ("555 1234", "no customer has the phone number"),
                        ("12345", "no customer has the id"),  # too short to be a number
                        ("x" * 400, "too long")]:
        found = lookup(index(), target)
        assert found.customer_id is None and why in found.error, (target, found)
    both = lookup(index(), "+1 555-123-4567")
    assert both.customer_id is None
    assert both.error.startswith("2 customers have the phone number") and "cus_b, cus_c" in both.error


def test_a_target_is_quoted_as_one_clean_line() -> None:
    found = lookup(index(), "\x1b[2Jeve\x9b@example.com\n")
    assert found.customer_id is None
    assert "\x1b" not in found.error and "\x9b" not in found.error and "\n" not in found.error
