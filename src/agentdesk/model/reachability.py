"""Whether marketing can reach a customer, from its identifiers (no pydantic, no I/O).

Works on models and on the desk's stored views alike (attributes `kind`, `consent`,
`deliverable`, ...). A customer is reachable when at least one messaging identifier is
deliverable and has consent, and no identifier opted the customer out under CCPA.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from agentdesk.model.profile_kinds import MESSAGING, Consent


def ccpa_opted_out(identifiers: Iterable[Any]) -> bool:
    """Any identifier opted out under CCPA: that blocks marketing to the whole customer."""
    return any(getattr(i, "ccpa_opt_out_at", None) for i in identifiers)


def deliverable(identifier: Any) -> bool:
    """Messages reach it: not marked undeliverable, not blacklisted, not unsubscribed."""
    return bool(identifier.deliverable and not identifier.blacklisted_at
                and not identifier.unsubscribed_at and not identifier.spam_report_at)


def consented(identifier: Any, *, implicit_consent: bool = False) -> bool:
    """Opted in; or, where the account counts it, consent never given either way."""
    return identifier.consent == Consent.OPTED_IN or (
        implicit_consent and identifier.consent == Consent.UNKNOWN)


def reachable(identifiers: Sequence[Any], *, implicit_consent: bool = False) -> bool:
    """At least one deliverable messaging identifier with consent, and no CCPA opt-out."""
    if ccpa_opted_out(identifiers):
        return False
    return any(i.kind in MESSAGING and deliverable(i) and consented(i, implicit_consent=implicit_consent)
               for i in identifiers)


def why_unreachable(identifiers: Sequence[Any], *, implicit_consent: bool = False) -> str:
    """Why `reachable` says no, in a few words ("" when it says yes)."""
    if ccpa_opted_out(identifiers):
        return "CCPA opt-out: no marketing to any identifier"
    messaging = [i for i in identifiers if i.kind in MESSAGING]
    if not messaging:
        return "no messaging identifier"
    if not any(deliverable(i) for i in messaging):
        return "no deliverable identifier"
    if not any(deliverable(i) and consented(i, implicit_consent=implicit_consent) for i in messaging):
        return "no deliverable identifier with consent"
    return ""


def last_seen_ids(identifiers: Iterable[Any]) -> set[str]:
    """The id of the most recently seen identifier of each kind (the one a campaign goes to)."""
    best: dict[str, Any] = {}
    for i in identifiers:
        if i.last_seen is None:
            continue
        top = best.get(i.kind)
        if top is None or i.last_seen > top.last_seen:
            best[i.kind] = i
    return {i.id for i in best.values()}


def newest_first(identifiers: Iterable[Any]) -> list[Any]:
    """By kind, the most recently seen first (never seen: last)."""
    def key(i: Any) -> tuple[str, int, float]:
        seen = i.last_seen
        return (str(i.kind), 0 if seen else 1, -seen.timestamp() if seen else 0.0)
    return sorted(identifiers, key=key)
