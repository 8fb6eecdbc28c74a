"""Placeholders in a reply: `{customer.first_name}`, `{customer.name}`, `{agent.name}`,
`{conversation.topic}`. Known ones with a value are filled in; any other (a typo, a name the
desk does not know, one with no value here) is left as typed, found by `unresolved`, shown
highlighted, and the reply is not sent until it is fixed: never sent silently empty."""

from __future__ import annotations

import re

from agentdesk.model.sanitize import clean_line

PATTERN = re.compile(r"\{([A-Za-z_]+\.[A-Za-z_]+)\}")
KNOWN = ("customer.first_name", "customer.name", "agent.name", "conversation.topic")


def values(customer_name: str, agent_name: str, topic: str) -> dict[str, str]:
    """What each known placeholder stands for (an empty value counts as unresolved)."""
    name = clean_line(customer_name).strip()
    return {"customer.first_name": name.split()[0] if name else "", "customer.name": name,
            "agent.name": clean_line(agent_name).strip(), "conversation.topic": clean_line(topic).strip()}


def fill(text: str, known: dict[str, str]) -> str:
    """`text` with every placeholder that has a value replaced by it."""
    return PATTERN.sub(lambda m: known.get(m.group(1)) or m.group(0), text)


def unresolved(text: str, known: dict[str, str]) -> list[tuple[int, int, str]]:
    """(start, end, name) of each placeholder in `text` that has no value."""
    return [(m.start(), m.end(), m.group(1)) for m in PATTERN.finditer(text)
            if not known.get(m.group(1))]
