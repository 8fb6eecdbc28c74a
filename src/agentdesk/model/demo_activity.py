"""The demo's timeline entries outside conversations: surveys sent and answered, campaign and
transactional messages with their delivery status, list subscriptions, shopping events,
orders and feedback from three other tools. Deterministic (a seed, no clock).

`activity` mixes them for any customer and period; the demo gives one customer a year of them
(`ACTIVITY_ID`) and mixes them into the big customer's 10,000 entries.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from agentdesk.model.kinds import Channel, Direction, EntryKind, EntryStatus
from agentdesk.model.records import TimelineEntry

ACTIVITY_ID = "cus_activity"
SURVEY_CAMPAIGNS = ["Quarterly NPS", "Post-purchase NPS", "Onboarding check-in"]
CAMPAIGNS = ["Spring sale", "New rain jackets", "Loyalty points reminder", "Weekly picks",
             "Back in stock: grinders", "Winter clearance"]
CAMPAIGN_STATUSES = [EntryStatus.DELIVERED, EntryStatus.READ, EntryStatus.CLICKED,
                     EntryStatus.UNDELIVERED, EntryStatus.UNSUBSCRIBED]
SURVEY_STATUSES = [EntryStatus.RESPONDED, EntryStatus.SCORED, EntryStatus.OPENED, EntryStatus.SENT,
                   EntryStatus.RESPONDED, EntryStatus.UNSUBSCRIBED, EntryStatus.QUEUED,
                   EntryStatus.SENDING]
COMMENTS = {
    "detractor": ["Delivery took far too long and nobody told me why.",
                  "The jacket fell apart after two washes."],
    "passive": ["Fine overall, but the website is slow on my phone.",
                "Good products, returns could be simpler."],
    "promoter": ["Great service, the support team sorted my order in minutes!",
                 "Love the new delivery slots. Recommended to friends."],
}
RESPONSE_TAGS = ["delivery", "support", "pricing", "product quality", "website"]
PRODUCTS = [("Rain jacket", 89.0), ("Coffee grinder", 129.0), ("Wool socks", 12.5),
            ("Travel mug", 19.0), ("Hiking boots", 149.0), ("Green scarf", 29.0)]
PAGES = ["/", "/jackets/rain", "/kitchen/grinders", "/sale", "/account/orders", "/help/returns"]
LISTS = ["Newsletter", "Product updates", "SMS offers"]
FEEDBACK = [  # (tool, what kind of document, text)
    ("Typeform", "Product survey", "I'd pay more for a jacket with a hood that stays up."),
    ("Delighted", "NPS survey", "Support is brilliant, checkout is clunky."),
    ("Trustpilot", "Review", "Fast delivery, well packed. Four stars because of the price."),
]
TRANSACTIONAL = ["Order confirmation", "Your order has shipped", "Password reset"]
# (kind, weight): what a customer's history is made of, roughly.
MIX = [(EntryKind.EVENT, 36), (EntryKind.CAMPAIGN, 20), (EntryKind.SURVEY, 10),
       (EntryKind.ORDER, 9), (EntryKind.TRANSACTIONAL, 9), (EntryKind.FEEDBACK, 6),
       (EntryKind.SUBSCRIPTION, 4)]


def activity(seed: int, prefix: str, start: datetime, end: datetime,
             count: int) -> list[TimelineEntry]:
    """About `count` entries between `start` and `end` (a survey answered adds its response;
    campaign statuses, survey statuses and feedback tools each go round all of theirs)."""
    rng = random.Random(seed)
    span = max(60.0, (end - start).total_seconds())
    times = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(count))
    kinds = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX], k=count)
    turn: dict[EntryKind, int] = {}
    out: list[TimelineEntry] = []
    for n, (at, kind) in enumerate(zip(times, kinds, strict=True)):
        i = turn[kind] = turn.get(kind, -1) + 1
        out += _made(rng, kind, i, f"{prefix}_{n}", at)
    return out


def monthly_surveys(seed: int, prefix: str, start: datetime, months: int) -> list[TimelineEntry]:
    """A survey a month from `start` (every status in turn; those answered, with their
    response): a year of a customer's surveys."""
    rng = random.Random(seed)
    out: list[TimelineEntry] = []
    for i in range(months):
        out += _survey(rng, i, f"{prefix}_{i}", start + timedelta(days=30 * i, hours=i))
    return out


def _entry(entry_id: str, kind: EntryKind, at: datetime, channel: Channel, direction: Direction,
           **fields: object) -> TimelineEntry:
    return TimelineEntry(id=entry_id, conversation_id="", at=at, channel=channel,
                         direction=direction, kind=kind, **fields)  # type: ignore[arg-type]


def _made(rng: random.Random, kind: EntryKind, i: int, entry_id: str,
          at: datetime) -> list[TimelineEntry]:
    if kind == EntryKind.SURVEY:
        return _survey(rng, i, entry_id, at)
    if kind == EntryKind.CAMPAIGN:
        name = CAMPAIGNS[i % len(CAMPAIGNS)]
        status = CAMPAIGN_STATUSES[i % len(CAMPAIGN_STATUSES)]
        channel = (Channel.EMAIL, Channel.EMAIL, Channel.SMS, Channel.APP)[i % 4]
        details: dict = {"campaign": name, "message": f"{name} ({channel.value})"}
        if status == EntryStatus.UNDELIVERED:
            details["reason"] = "mailbox full" if channel == Channel.EMAIL else "number unreachable"
        if status == EntryStatus.CLICKED:
            details["link"] = "https://shop.example.com/sale"
        if status == EntryStatus.UNSUBSCRIBED:
            details["reason"] = "unsubscribed from the campaign's list"
        return [_entry(entry_id, kind, at, channel, Direction.OUTBOUND, status=status,
                       author="Marketing", subject=name, details=details)]
    if kind == EntryKind.TRANSACTIONAL:
        name = TRANSACTIONAL[i % len(TRANSACTIONAL)]
        status = (EntryStatus.DELIVERED, EntryStatus.READ, EntryStatus.CLICKED)[i % 3]
        return [_entry(entry_id, kind, at, Channel.EMAIL, Direction.OUTBOUND, status=status,
                       author="Shop", subject=name, details={"template": name.lower()})]
    if kind == EntryKind.SUBSCRIPTION:
        name = LISTS[i % len(LISTS)]
        joined = i % 3 != 2
        return [_entry(entry_id, kind, at, Channel.WEB, Direction.INBOUND,
                       subject=f"{'Subscribed to' if joined else 'Left'} the list {name}",
                       details={"list": name, "consent": "explicit opt-in" if joined else "opt-out",
                                "source": ("subscription form", "account page", "import")[i % 3]})]
    if kind == EntryKind.EVENT:
        product, price = PRODUCTS[rng.randrange(len(PRODUCTS))]
        what = ("page", "page", "cart", "cart_removed")[i % 4]
        if what == "page":
            page = PAGES[rng.randrange(len(PAGES))]
            return [_entry(entry_id, kind, at, Channel.WEB, Direction.INBOUND,
                           subject=f"Viewed {page}", details={"event": "page viewed", "page": page,
                                                              "session": f"s{rng.randrange(10**6):06d}"})]
        added = what == "cart"
        return [_entry(entry_id, kind, at, Channel.WEB, Direction.INBOUND,
                       subject=f"{'Added' if added else 'Removed'} {product} {'to' if added else 'from'} the cart",
                       details={"event": "added to cart" if added else "removed from cart",
                                "product": product, "price": price, "quantity": 1 + i % 2})]
    if kind == EntryKind.ORDER:
        items = rng.sample(PRODUCTS, 1 + i % 3)
        total = round(sum(p for _, p in items), 2)
        number = 20000 + rng.randrange(80000)
        return [_entry(entry_id, kind, at, Channel.WEB, Direction.INBOUND,
                       subject=f"Order #{number}: {len(items)} item{'s' if len(items) > 1 else ''}, ${total:.2f}",
                       details={"order": f"#{number}", "items": [n for n, _ in items],
                                "total": total, "currency": "USD",
                                "payment": ("card", "PayPal", "gift card")[i % 3]})]
    tool, document, text = FEEDBACK[i % len(FEEDBACK)]
    return [_entry(entry_id, EntryKind.FEEDBACK, at, Channel.WEB, Direction.INBOUND, author=tool,
                   subject=f"{document} via {tool}", body=text,
                   details={"source": tool, "document": document,
                            "rating": (4, 9, 4)[i % len(FEEDBACK)]})]


def _survey(rng: random.Random, i: int, entry_id: str, at: datetime) -> list[TimelineEntry]:
    campaign = SURVEY_CAMPAIGNS[i % len(SURVEY_CAMPAIGNS)]
    status = SURVEY_STATUSES[i % len(SURVEY_STATUSES)]
    channel = Channel.EMAIL if i % 3 else Channel.APP
    survey_type = "e-mail" if channel == Channel.EMAIL else "in-app"
    nxt = (at + timedelta(days=90)).date().isoformat()
    sent = _entry(entry_id, EntryKind.SURVEY, at, channel, Direction.OUTBOUND, status=status,
                  author=campaign, subject=f"{campaign} survey",
                  details={"campaign": campaign, "survey_type": survey_type, "next_survey": nxt})
    if status not in (EntryStatus.RESPONDED, EntryStatus.SCORED):
        return [sent]
    score = (9, 3, 7, 10, 6, 8)[(i + rng.randrange(6)) % 6]
    band = "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"
    comment = COMMENTS[band][i % 2] if status == EntryStatus.RESPONDED else ""
    tags = sorted(rng.sample(RESPONSE_TAGS, i % 3))
    answered = _entry(f"{entry_id}_r", EntryKind.RESPONSE, at + timedelta(hours=rng.randint(1, 48)),
                      channel, Direction.INBOUND, author=campaign,
                      subject=f"Score {score} · {campaign}", body=comment,
                      details={"score": score, "campaign": campaign, "survey": entry_id,
                               "tags": tags, "ignored": False})
    return [sent, answered]
