"""Checks for values an agent types or a remote store sends: e-mail addresses and phone numbers."""

from __future__ import annotations

import re

PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-./]+(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)


class InvalidContact(ValueError):
    """A contact value that cannot be used; the message is written for the agent."""


# The plainest addresses (an ASCII dot-atom before the @, letters-digits-hyphens labels without
# "--" after it, a top-level domain of letters) are what nearly every record holds, and for them
# email_validator's answer is known without asking it (asking is slow, and a first sync checks
# tens of thousands):
# valid, with the domain lower-cased. Everything else is asked. test_validation compares both.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@((?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+([A-Za-z]{2,63}))"
)
# email_validator.SPECIAL_USE_DOMAIN_NAMES (importing it is slow; a test keeps them equal).
_SPECIAL_USE = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def _plain_email(value: str) -> str | None:
    match = _PLAIN_EMAIL.fullmatch(value)
    if (match is None or len(value) > 254 or value.index("@") > 64
            or match[2].lower() in _SPECIAL_USE
            or max(len(label) for label in match[1].split(".")) > 63):
        return None
    return value[: match.start(1)] + match[1].lower()


def normalize_email(value: str) -> str:
    """Return the address normalized (domain lower-cased, IDNA) or raise InvalidContact."""
    value = value.strip()
    if not value:
        raise InvalidContact("An e-mail address is required.")
    plain = _plain_email(value)
    if plain is not None:
        return plain
    from email_validator import EmailNotValidError, validate_email  # only for unusual addresses

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidContact(f"Not a valid e-mail address: {error}") from None


def normalize_phone(value: str) -> str:
    """Accept international or local numbers with common separators: 7 to 15 digits (E.164)."""
    value = " ".join(value.split())
    if not value:
        raise InvalidContact("A phone number is required.")
    if not PHONE_CHARS.match(value):
        raise InvalidContact(
            "Not a valid phone number: use digits, spaces, ( ) - . and an optional leading +."
        )
    main = re.split(r"(?i)\s*(?:x|ext\.?)\s*[0-9]", value)[0]
    digits = sum(ch.isdigit() for ch in main)
    if not 7 <= digits <= 15:
        raise InvalidContact(f"Not a valid phone number: it has {digits} digits, expected 7 to 15.")
    return value


def normalize_contact(kind: str, value: str) -> str:
    """Normalize a contact value of a kind ("email", "phone", ...) or raise InvalidContact."""
    if kind == "email":
        return normalize_email(value)
    if kind == "phone":
        return normalize_phone(value)
    if not value.strip():
        raise InvalidContact(f"A {kind} value is required.")
    return value
