"""What the store's customer search matches, whatever its engine.

Each live customer has one search row, rebuilt from its customer and contact records whenever
one of them is written; a query looks for its text in the row's `hay` and, when it looks like
a phone number, for its digits in the row's `digits`. An engine stores the rows and runs the
query; which text goes where is decided here, so every engine finds the same customers.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from agentdesk.model.protocol import RecordType

# Writing a record of these types changes what its customer's search row holds.
SEARCHED = (RecordType.CUSTOMER, RecordType.CONTACT)
PHONEISH = re.compile(r"^[+0-9 ()\-./]+$")


class SearchRow(NamedTuple):
    """One customer's search row, in the column order of the store's search table."""

    customer_id: str
    name: str
    company: str
    email: str  # the primary (else first) e-mail and phone, shown with a hit
    phone: str
    hay: str  # name, company, every e-mail and the id, lowercased, one a line
    digits: str  # the digits of every phone number, one a line


class Query(NamedTuple):
    """A search as the store runs it: `text` in the hay, else `digits` ("" = not a phone)."""

    text: str
    digits: str


def search_row(customer: dict[str, Any], contacts: list[dict[str, Any]]) -> SearchRow:
    """The search row of a customer (its record as JSON) with its live contacts, oldest first."""

    def primary(kind: str) -> str:
        points = [c for c in contacts if c.get("kind") == kind]
        best = next((c for c in points if c.get("primary")), points[0] if points else None)
        return str(best["value"]) if best else ""

    emails = [str(c["value"]) for c in contacts if c.get("kind") == "email"]
    phones = ["".join(ch for ch in str(c["value"]) if ch.isdigit())
              for c in contacts if c.get("kind") == "phone"]
    hay = "\n".join([customer["name"], customer.get("company", ""), *emails, customer["id"]]).lower()
    return SearchRow(customer["id"], customer["name"], customer.get("company", ""),
                     primary("email"), primary("phone"), hay, "\n".join(phones))


def query(q: str) -> Query | None:
    """What to look for, or None for a blank query (which finds nothing). Digits are matched
    only when the query looks like a phone number and has at least three of them."""
    q = q.strip()
    if not q:
        return None
    digits = "".join(ch for ch in q if ch.isdigit())
    use_digits = bool(PHONEISH.match(q)) and len(digits) >= 3
    return Query(q.lower(), digits if use_digits else "")
