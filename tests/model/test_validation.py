"""E-mail checks: the fast path for plain addresses agrees with email_validator everywhere."""

from __future__ import annotations

import itertools
import random

import pytest
from email_validator import EmailNotValidError, validate_email

from agentdesk.model import demo
from agentdesk.model.contact_values import _SPECIAL_USE, InvalidContact, _plain_email, normalize_email

LOCALS = ["a", "John.Doe", "a..b", ".a", "a.", "x" * 64, "x" * 65, "ü", "a b", '"q"', "a+b",
          "a_b", "-a", "a-", "A%B", "o'neil", "a.b.c", "UPPER", "1", "a@b"]
DOMAINS = ["Example.COM", "x-y.com", "-x.com", "x-.com", "xn--bcher-kva.com", "a--b.com",
           "foo.test", "foo.TEST", "localhost", "x.localhost", "1.2.3.4", "x.c0m", "x.123",
           "x" * 63 + ".com", "x" * 64 + ".com", "mail.example", ("abcdefghij." * 24) + "com",
           "ß.de", "bücher.de", "x.co", "x.c", "x.onion", "a.arpa", "sub.Domain.Org", "x..com",
           ".x.com", "x.com.", "[127.0.0.1]", "x_y.com", "x.Invalid", "x.local"]


def _slow(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _addresses() -> list[str]:
    rng = random.Random(7)
    made = [f"{local}@{domain}" for local, domain in itertools.product(LOCALS, DOMAINS)]
    alphabet = "abcXYZ019.-_+@ü"
    made += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16))) for _ in range(3000)]
    made += [p.model_dump()["value"] for prof, _ in demo.generate(customers=30, big_entries=0)
             for p in prof.contacts if p.kind == "email"]
    return made


def test_the_fast_path_never_disagrees_with_email_validator() -> None:
    fast_answers = 0
    for value in _addresses():
        fast = _plain_email(value)
        if fast is not None:
            fast_answers += 1
            assert _slow(value) == fast, value
        slow = _slow(value)
        if slow is None:
            with pytest.raises(InvalidContact):
                normalize_email(value)
        else:
            assert normalize_email(value) == slow, value
    assert fast_answers > 100  # it does answer for the plain ones


def test_the_fast_path_knows_email_validators_special_use_names() -> None:
    import email_validator

    assert _SPECIAL_USE == set(email_validator.SPECIAL_USE_DOMAIN_NAMES)


def test_plain_addresses_take_the_fast_path() -> None:
    assert _plain_email("John.Doe@Example.COM") == "John.Doe@example.com"
    assert _plain_email("a+tag@sub.x-y.org") == "a+tag@sub.x-y.org"
    for unusual in ("a@xn--bcher-kva.com", "a@bücher.de", "a@foo.test", '"q"@x.com', "a@x.123"):
        assert _plain_email(unusual) is None, unusual
