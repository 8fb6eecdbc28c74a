"""Checks for values an agent types or a remote store sends: e-mail addresses and phone numbers."""

from __future__ import annotations

import re

PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-./]+(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)


class InvalidContact(ValueError):
    """A contact value that cannot be used; the message is written for the agent."""


def normalize_email(value: str) -> str:
    """Return the address normalized (domain lower-cased, IDNA) or raise InvalidContact."""
    from email_validator import EmailNotValidError, validate_email  # only when an address is checked

    value = value.strip()
    if not value:
        raise InvalidContact("An e-mail address is required.")
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
