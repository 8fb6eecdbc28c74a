"""Demo customers for what the platforms know beyond contact points (deterministic, no clock).

`everything_profile` is a customer with every kind of field (standard, custom, third-party,
properties, the company, the header's figures), three sources disagreeing on one field,
identifiers of every kind and status (an unsubscribed and a blacklisted address, a CCPA
opt-out), subscriptions and segments. `hostile_profile_data` gives the hostile customer the
same kinds of record, every text in them hostile.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agentdesk.model.fields import Field, field_id
from agentdesk.model.identifiers import Identifier, Segment, Subscription
from agentdesk.model.kinds import Channel, ContactKind, ConversationStatus, CustomerStatus, Direction
from agentdesk.model.records import (
    ContactPoint,
    Conversation,
    Customer,
    Note,
    Profile,
    TimelineEntry,
)

EVERYTHING_ID = "cus_everything"


def _at(epoch: Any, days: int) -> str:
    return (epoch - timedelta(days=days)).isoformat()


def _field(cid: str, key: str, group: str, type: str, *values: tuple[Any, str, str, int],
           epoch: Any, label: str = "") -> Field:
    """A field from (value, source, integration or by, days before the epoch) per source."""
    made = []
    for value, source, who, days in values:
        v: dict[str, Any] = {"value": value, "source": source, "at": _at(epoch, days)}
        if source == "integration":
            v["integration"] = who
        else:
            v["by"] = who
        made.append(v)
    return Field.model_validate({"id": field_id(cid, key), "key": key, "group": group,
                                 "type": type, "label": label, "values": made})


def everything_fields(cid: str, epoch: Any) -> list[Field]:
    def f(key: str, group: str, type: str, *values: tuple[Any, str, str, int], label: str = "") -> Field:
        return _field(cid, key, group, type, *values, epoch=epoch, label=label)

    return [
        # Standard fields.
        f("first_name", "standard", "text", ("Ariana", "desk", "Sam Rivera", 40)),
        f("last_name", "standard", "text", ("Costa", "api", "crm-sync", 300)),
        f("birth_year", "standard", "number", (1988, "integration", "Typeform", 200)),
        f("gender", "standard", "text", ("female", "api", "crm-sync", 300)),
        f("timezone", "standard", "text", ("Europe/Lisbon", "integration", "HubSpot", 12)),
        f("language", "standard", "text", ("pt-PT", "integration", "HubSpot", 12)),
        f("address.city", "standard", "text", ("Lisbon", "api", "crm-sync", 90)),
        f("address.country", "standard", "text", ("Portugal", "api", "crm-sync", 90)),
        # Three sources disagreeing (and a fourth, older integration): the desk's value wins.
        f("persona", "property", "text", ("Power user", "desk", "Alex Kim", 20),
          ("Team lead", "api", "crm-sync", 5), ("Decision maker", "integration", "HubSpot", 30),
          ("Evaluator", "integration", "Delighted", 2)),
        # An API value beats a newer integration's.
        f("cohort", "property", "text", ("2024-Q1", "api", "crm-sync", 100),
          ("2023-Q4", "integration", "Segment", 1)),
        f("billing.plan", "property", "text", ("Business", "integration", "Stripe", 3)),
        f("billing.mrr", "property", "number", (490, "integration", "Stripe", 3), label="MRR"),
        f("product.usage_days_30", "property", "number", (22, "integration", "Segment", 1),
          label="Active days (30 d)"),
        f("company.name", "property", "text", ("Quarry Labs", "integration", "HubSpot", 12)),
        f("company.size", "property", "number", (120, "integration", "HubSpot", 12)),
        f("company.industry", "property", "text", ("Biotech", "integration", "HubSpot", 12)),
        # Custom and third-party fields.
        f("crm.account_manager", "custom", "text", ("Jo Park", "api", "crm-sync", 60),
          label="Account manager"),
        f("preferred_contact_time", "custom", "text", ("after 2 pm", "desk", "Sam Rivera", 40)),
        f("interests", "custom", "list", (["lab software", "APIs"], "api", "crm-sync", 60)),
        f("typeform.last_form", "third_party", "text", ("Onboarding survey", "integration", "Typeform", 200)),
        f("shopify.accepts_marketing", "third_party", "boolean", (False, "integration", "Shopify", 8)),
        # The header's figures.
        f("nps.last_score", "figures", "number", (9, "integration", "Delighted", 2), label="Last NPS"),
        f("nps.next_survey", "figures", "date", ("2026-03-02", "integration", "Delighted", 2),
          label="Next survey"),
        f("nps.campaign", "figures", "text", ("Quarterly NPS", "integration", "Delighted", 2),
          label="NPS campaign"),
        f("orders.lifetime_value", "figures", "number", (4820.5, "integration", "Shopify", 8),
          label="Lifetime value"),
        f("orders.average_value", "figures", "number", (160.68, "integration", "Shopify", 8),
          label="Average order"),
        f("orders.count", "figures", "number", (30, "integration", "Shopify", 8), label="Orders"),
        f("predictions.order_likelihood", "figures", "text", ("high", "integration", "ODP", 1),
          label="Order likelihood"),
        f("predictions.next_order", "figures", "text", ("in 9 days", "integration", "ODP", 1),
          label="Next order"),
        f("predictions.winback_zone", "figures", "text", ("engaged", "integration", "ODP", 1),
          label="Winback zone"),
        f("customer_since", "figures", "date", ("2021-04-12", "api", "crm-sync", 300),
          label="Customer since"),
    ]


def everything_identifiers(epoch: Any) -> list[Identifier]:
    return [
        Identifier(id="idn_e1", kind="email", value="ariana@quarrylabs.example",
                   last_seen=_at(epoch, 1), consent="opted_in", consent_at=_at(epoch, 200),
                   source="web form"),
        Identifier(id="idn_e2", kind="email", value="ariana.costa@mail.example.org",
                   last_seen=_at(epoch, 50), consent="opted_out", consent_at=_at(epoch, 45),
                   unsubscribed_at=_at(epoch, 45), source="import"),
        Identifier(id="idn_e3", kind="email", value="a.costa@oldmail.example",
                   last_seen=_at(epoch, 700), deliverable=False,
                   undeliverable_reason="hard bounce", blacklisted_at=_at(epoch, 650),
                   blacklist_reason="inactive address", spam_report_at=_at(epoch, 660),
                   source="import"),
        Identifier(id="idn_p1", kind="phone", value="+351 912 345 678", last_seen=_at(epoch, 3),
                   ccpa_opt_out_at=_at(epoch, 10), source="order"),
        Identifier(id="idn_t1", kind="push_token", value="fcm:dQw4w9WgXcQ:APA91bH",
                   last_seen=_at(epoch, 1), consent="opted_in", source="mobile app"),
        Identifier(id="idn_m1", kind="mobile_id", value="ios:6F9619FF-8B86-D011-B42D",
                   last_seen=_at(epoch, 1), source="mobile app"),
    ]


def everything_profile(epoch: Any) -> tuple[Profile, list[TimelineEntry]]:
    """A customer with every kind of profile data (see the module's docstring)."""
    cid = EVERYTHING_ID
    customer = Customer(id=cid, name="Ariana Costa", company="Quarry Labs",
                        status=CustomerStatus.VIP, tags=["beta", "nps-promoter"],
                        created=_at(epoch, 1000), updated=_at(epoch, 1), source="subscription form",
                        timezone="Europe/Lisbon")
    contacts = [ContactPoint(id="cp_ev1", kind=ContactKind.EMAIL, value="ariana@quarrylabs.example",
                             label="work", primary=True),
                ContactPoint(id="cp_ev2", kind=ContactKind.PHONE, value="+351 912 345 678",
                             label="mobile", primary=True)]
    conv = Conversation(id="conv_ev1", topic="Plan upgrade", status=ConversationStatus.OPEN,
                        channels=[Channel.EMAIL], started=_at(epoch, 2), assignee="Sam Rivera")
    entries = [
        TimelineEntry(id="ent_ev1", conversation_id=conv.id, at=_at(epoch, 2), channel=Channel.EMAIL,
                      direction=Direction.INBOUND, author="Ariana Costa", subject="Upgrading our plan",
                      body="Hi! We'd like to move the lab to the Business plan. Can you help?"),
        TimelineEntry(id="ent_ev2", conversation_id=conv.id, at=_at(epoch, 1), channel=Channel.EMAIL,
                      direction=Direction.OUTBOUND, author="Sam Rivera",
                      body="Of course: I've prepared the quote and sent it to your work address."),
    ]
    profile = Profile(
        customer=customer, contacts=contacts, conversations=[conv],
        notes=[Note(id="note_ev1", text="Prefers e-mail; CCPA opt-out came in by phone.",
                    author="Sam Rivera", created=_at(epoch, 10), updated=_at(epoch, 10))],
        fields=everything_fields(cid, epoch), identifiers=everything_identifiers(epoch),
        subscriptions=[Subscription(id="sub_ev1", kind="list", name="Product updates",
                                    subscribed_at=_at(epoch, 400)),
                       Subscription(id="sub_ev2", kind="category", name="Promotions",
                                    subscribed_at=_at(epoch, 400))],
        segments=[Segment(id="seg_ev1", name="High value", since=_at(epoch, 100), source="ODP"),
                  Segment(id="seg_ev2", name="NPS promoters", since=_at(epoch, 2), source="Delighted"),
                  Segment(id="seg_ev3", name="Lisbon office", source="HubSpot")],
    )
    return profile, entries


def hostile_profile_data(profile: Profile, epoch: Any) -> Profile:
    """The hostile customer's fields, identifiers, subscriptions and segments: markup,
    escape sequences, C1 and bidi controls in every text."""
    cid = profile.customer.id
    esc = "\x1b"
    profile.fields = [
        _field(cid, "[bold]persona[/bold]", "property", "text",
               (f"{esc}[2J[red]wiped[/red]", "desk", "[i]agent", 1),
               (f"{esc}]52;c;cHduZWQ={esc}\\", "integration", "[link=x]Evil[/link]\x9b31m", 2),
               epoch=epoch, label="\u202eLabel"),
        _field(cid, "company.name", "property", "text", ("\x9d0;title\x9c [/", "api", "\x1b[8m", 3),
               epoch=epoch),
    ]
    profile.identifiers = [Identifier(id="idn_h1", kind="push_token", value=f"tok{esc}[31m[b]x",
                                      deliverable=False, undeliverable_reason="[blink]bounce\x1b[5m",
                                      blacklist_reason="\x9b2J", source="[i]src")]
    profile.subscriptions = [Subscription(id="sub_h1", name="[bold]List\x1b[2J")]
    profile.segments = [Segment(id="seg_h1", name="\u202eSegment [/]")]
    return profile
