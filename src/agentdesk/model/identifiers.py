"""A customer's identifiers (e-mails, phones, push and mobile tokens) with their statuses, and
the lists, subscription categories and segments the customer belongs to."""

from __future__ import annotations

from pydantic import Field as Attr
from pydantic import model_validator

from agentdesk.model.contact_values import normalize_contact
from agentdesk.model.profile_kinds import Consent, IdentifierKind, SubscriptionKind
from agentdesk.model.base import Id, Instant, Model, new_id


class Identifier(Model):
    """One identifier and what the platforms recorded about it.

    `consent` is the agent's to change (synced as `identifier.consent`); the rest is what the
    store learned from events: when it was last seen, whether messages reach it (and why not),
    a blacklisting, a spam report, an unsubscribe, a CCPA opt-out (which blocks marketing to
    the whole customer: see `reachability`).
    """

    id: Id = Attr(default_factory=lambda: new_id("idn"))
    kind: IdentifierKind
    value: str = Attr(min_length=1, max_length=512)
    last_seen: Instant | None = None
    consent: Consent = Consent.UNKNOWN
    consent_at: Instant | None = None
    consent_by: str = Attr(default="", max_length=200)
    deliverable: bool = True
    undeliverable_reason: str = Attr(default="", max_length=500)  # "hard bounce", "malformed"
    blacklisted_at: Instant | None = None
    blacklist_reason: str = Attr(default="", max_length=500)
    spam_report_at: Instant | None = None
    unsubscribed_at: Instant | None = None
    ccpa_opt_out_at: Instant | None = None
    source: str = Attr(default="", max_length=200)

    @model_validator(mode="after")
    def _value(self) -> Identifier:
        if self.kind in (IdentifierKind.EMAIL, IdentifierKind.PHONE):
            value = normalize_contact(self.kind.value, self.value)
            if value != self.value:
                self.__dict__["value"] = value
        return self


class Subscription(Model):
    """A mailing list or subscription category the customer is on."""

    id: Id = Attr(default_factory=lambda: new_id("sub"))
    kind: SubscriptionKind = SubscriptionKind.LIST
    name: str = Attr(min_length=1, max_length=200)
    subscribed_at: Instant | None = None
    by: str = Attr(default="", max_length=200)


class Segment(Model):
    """A segment the customer belongs to (computed by a platform; the desk only shows it)."""

    id: Id = Attr(default_factory=lambda: new_id("seg"))
    name: str = Attr(min_length=1, max_length=200)
    since: Instant | None = None
    source: str = Attr(default="", max_length=200)
