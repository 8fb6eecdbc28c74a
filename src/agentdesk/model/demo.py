"""A deterministic, realistic demo data set (same seed, same data, no clock).

~50 customers with relationships, multi-channel conversations on several topics, notes, and
their e-mail and phone as identifiers with consent (some reachable by marketing, some not);
one customer with 10,000 timeline entries of every kind; one with a year of surveys, campaign
messages in every status, a shopping history and feedback from three tools
(`demo_activity`); one whose every field is hostile text. The same generator makes the large
caches the benchmarks use.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from agentdesk.model.demo_activity import ACTIVITY_ID, activity, monthly_surveys
from agentdesk.model.fields import Field
from agentdesk.model.fold import fold
from agentdesk.model.identifiers import Identifier
from agentdesk.model.profile_kinds import Consent, FieldType, IdentifierKind
from agentdesk.model.kinds import Priority
from agentdesk.model.work_mutations import conversation_after_entry
from agentdesk.model.records import (
    AgentInfo,
    CannedReply,
    Channel,
    ContactKind,
    ContactPoint,
    Conversation,
    ConversationStatus,
    Customer,
    CustomerStatus,
    Direction,
    Note,
    Profile,
    Relationship,
    TimelineEntry,
)

EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BIG_ID = "cus_big_timeline"
HOSTILE_ID = "cus_hostile"

FIRST = "Ada Bruno Chiara Dmitri Elena Farah Gustav Hana Ivan Jun Kofi Lena Mateo Nia Oskar Priya " \
    "Quinn Rosa Sven Tomoko Uma Victor Wen Ximena Yusuf Zofia Zoë Jürgen Ólafur Adèle".split()
LAST = "Okafor Lindqvist Moreau Tanaka Novak Haddad Silva Kowalski Nakamura Osei Rossi Petrov " \
    "Schmidt Alvarez Ibrahim Chen Dubois Kaur Jensen Mensah".split()
COMPANIES = ["Northwind Traders", "Blue Harbor Hotels", "Kettle & Co", "Alder Logistics",
             "Pinecrest Clinic", "Moonlight Bakery", "Quarry Labs", ""]
TOPICS = ["Billing", "Shipping delay", "Return request", "Account access", "Product question",
          "Warranty claim", "Subscription change", "Feedback"]
TAGS = ["vip", "wholesale", "newsletter", "beta", "churn-risk", "spanish", "allergy"]
AGENTS = ["Sam Rivera", "Alex Kim", "Jo Park", "Max Weber"]
# The statuses a demo conversation's status is drawn from (four, as the draws always were,
# so the rest of the demo stays as it was).
DRAWN_STATUSES = [ConversationStatus.NEW, ConversationStatus.OPEN, ConversationStatus.PENDING,
                  ConversationStatus.CLOSED]
# What each side says, by topic: customers write the customer lines, agents the agent lines,
# internal notes are agents' notes to each other. A conversation follows its topic's lines in
# order (a long one goes round again with the follow-ups), so it reads like the real thing.
SCRIPTS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "Billing": (
        ["I was charged twice for order #{n}. Can you refund the duplicate?",
         "It's the card ending {card}. Both charges are on the same day.",
         "Thanks. Will I get an e-mail when the refund goes through?"],
        ["Sorry about that! I can see both charges for order #{n}; one of them is a duplicate.",
         "I've refunded the duplicate charge. It should show on your card within 3-5 business days.",
         "Yes, a confirmation e-mail goes out as soon as the bank processes it."],
        ["Duplicate charge confirmed in the payment log; refund issued.",
         "Billing team notified: second duplicate this month from the same checkout bug."],
    ),
    "Shipping delay": (
        ["Hi, my order #{n} still hasn't arrived. Can you check where it is?",
         "The tracking page hasn't changed since Monday.",
         "OK, thanks. I need it before the weekend if at all possible."],
        ["Thanks for reaching out! The parcel left our warehouse on Monday; let me check with the courier.",
         "The courier says it's at the local depot and out for delivery tomorrow.",
         "I've asked the courier to prioritise it. If it isn't there by Friday, we'll send a replacement by express."],
        ["Courier ticket #{n} opened for the stuck parcel.",
         "Depot confirmed the parcel is on tomorrow's van."],
    ),
    "Return request": (
        ["I'd like to return the jacket from order #{n}; it's too small.",
         "Do I need to print the label, or can I just bring it to the post office?",
         "Dropped it off this morning."],
        ["No problem! I've sent a prepaid return label to your e-mail.",
         "You can just show the QR code in the e-mail at the post office; no printing needed.",
         "Thanks! We'll refund you as soon as the warehouse receives it, usually within 5 days."],
        ["Return authorised; outside the 30 days by two days but approved as a courtesy.",
         "Warehouse received the return; refund released."],
    ),
    "Account access": (
        ["The app logs me out every time I switch networks.",
         "I tried that, and it still happens on my phone.",
         "That worked, thank you!"],
        ["Sorry for the trouble! Please sign out on all devices, then sign in again.",
         "Thanks for trying. I've reset your sessions on our side; please update the app to the latest version and sign in once more.",
         "Great to hear! Let us know if it happens again."],
        ["Known issue with app versions before 4.2 on network change; engineering ticket linked.",
         "Sessions reset from the admin console."],
    ),
    "Product question": (
        ["Is the large size of the rain jacket back in stock? I'd like two.",
         "Does it come in green as well?",
         "Perfect, please reserve two green ones."],
        ["We restocked this morning, so the large size is available again.",
         "It does: green and navy are both in stock in large.",
         "Done: two green large jackets are reserved for you for 48 hours."],
        ["Reserved two units in the stock system under the customer's account."],
    ),
    "Warranty claim": (
        ["My coffee grinder stopped working after four months. It's still under warranty, right?",
         "The serial number is SN-{n}. I bought it in your shop.",
         "Great, thanks for the quick help."],
        ["I'm sorry to hear that! Yes, it's covered for two years. Could you send me the serial number?",
         "Thanks. I've verified the serial number and approved a replacement; it ships today.",
         "You're welcome! No need to send the old one back."],
        ["Serial number verified, purchase found in the shop system; replacement approved.",
         "Second grinder failure this quarter with the same batch: flagged to quality."],
    ),
    "Subscription change": (
        ["Can I switch my subscription from monthly to yearly?",
         "Will I lose the months I've already paid for?",
         "Sounds good, please go ahead."],
        ["Of course! The yearly plan is 15% cheaper than paying monthly.",
         "Not at all: the unused part of this month is credited to the yearly plan.",
         "Done: you're on the yearly plan from today. The invoice is in your account."],
        ["Plan changed to yearly; proration credit applied."],
    ),
    "Feedback": (
        ["Just wanted to say the new delivery slots are really handy.",
         "One thing: it would be great to choose a slot for returns too."],
        ["Thank you, that's lovely to hear! I'll pass it on to the team.",
         "Good idea! I've added it to our feature requests."],
        ["Feature request logged: pick-up slots for returns."],
    ),
}
FOLLOW_UPS = (  # what a long conversation goes on with, each side's lines in turn
    ["Any update on this?", "Thanks for the help so far.", "Just checking in again on order #{n}.",
     "Sorry, one more question: can you send me that in writing?",
     "I'm travelling next week, so e-mail is best.", "Got it, thanks."],
    ["Thanks for your patience; I'm still on it and will update you by tomorrow.",
     "I've escalated this to my team lead to speed things up.",
     "Here's the latest: everything is on track, and I'll confirm once it's done.",
     "Of course, I've just sent you a summary by e-mail.",
     "Noted: we'll keep to e-mail while you're away.", "You're welcome! Anything else I can help with?"],
)
SHIFT_NOTES = [  # internal notes once a topic's own are used up
    "Handover to the next shift: the customer expects an update today.",
    "Waiting on the customer's reply before closing.",
    "Checked the order history: nothing else open for this customer.",
]
RELATION_LABELS = ["spouse", "assistant", "manager", "colleague", "parent", "child"]


def _profile(rng: random.Random, number: int, customer_id: str | None = None,
             name: tuple[str, str] | None = None, days: tuple[int, int] = (30, 900)) -> Profile:
    first, last = name or (rng.choice(FIRST), rng.choice(LAST))
    name = f"{first} {last}"
    handle = fold(f"{first}.{last}{number}")  # "Zoë" writes zoe@ in her e-mail
    created = EPOCH - timedelta(days=rng.randint(*days))
    customer = Customer(
        id=customer_id or f"cus_{number:06d}",
        name=name,
        company=rng.choice(COMPANIES),
        status=rng.choice(list(CustomerStatus)),
        tags=sorted(rng.sample(TAGS, rng.randint(0, 3))),
        created=created,
        updated=created + timedelta(days=rng.randint(0, 29)),
        source=rng.choice(["web form", "import", "phone", "api", "chat widget"]),
    )
    contacts = [
        ContactPoint(id=f"cp_{number}_1", kind=ContactKind.EMAIL, value=f"{handle}@example.com",
                     label="work", primary=True),
        ContactPoint(id=f"cp_{number}_2", kind=ContactKind.PHONE,
                     value=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                     label="mobile", primary=True),
    ]
    if rng.random() < 0.5:
        contacts.append(ContactPoint(id=f"cp_{number}_3", kind=ContactKind.EMAIL,
                                     value=f"{fold(first)}{number}@mail.example.org", label="home"))
    if rng.random() < 0.6:
        contacts.append(ContactPoint(id=f"cp_{number}_4", kind=ContactKind.ADDRESS,
                                     value=f"{rng.randint(1, 400)} Harbor Street, Portland, OR 97201",
                                     label="shipping"))
    if rng.random() < 0.4:
        contacts.append(ContactPoint(id=f"cp_{number}_5", kind=ContactKind.SOCIAL,
                                     value=f"@{handle.replace('.', '_')}", label="twitter"))
    notes = [
        Note(id=f"note_{number}_{i}", text=text, author=rng.choice(AGENTS),
             created=created + timedelta(days=i), updated=created + timedelta(days=i))
        for i, text in enumerate(rng.sample([
            "Prefers e-mail over phone calls.", "Allergic to peanuts: never send the gift box.",
            "Likes the colour green.", "Works nights; call after 2 pm.",
            "Speaks Spanish and English.", "Asked not to be contacted on weekends.",
        ], rng.randint(0, 3)))
    ]
    # Known for customers with an address (all in Portland) and for some others: chosen by
    # number, not drawn, so the rest of the demo stays as it was.
    if any(c.kind == ContactKind.ADDRESS for c in contacts):
        customer.timezone = "America/Los_Angeles"
    else:
        customer.timezone = ("America/New_York", "America/Chicago", "")[number % 3]
    return Profile(customer=customer, contacts=contacts, notes=notes)


def _identifiers(profile: Profile, number: int) -> list[Identifier]:
    """What the platforms know of the customer's primary e-mail and phone: consent given,
    refused or never asked, now and then a bounce or a CCPA opt-out, so that some customers
    are reachable and the chart has something to count. A generator of its own: the rest of
    the demo stays as it was."""
    rng = random.Random(1_000_003 * (number + 1))
    seen = profile.customer.created + timedelta(days=rng.randint(0, 30))
    identifiers = []
    for point, kind, consents in (
            (0, IdentifierKind.EMAIL, (Consent.OPTED_IN,) * 11 + (Consent.OPTED_OUT,) * 3
             + (Consent.UNKNOWN,) * 6),
            (1, IdentifierKind.PHONE, (Consent.OPTED_IN,) * 3 + (Consent.UNKNOWN,) * 7)):
        consent = rng.choice(consents)
        bounced = kind == IdentifierKind.EMAIL and rng.random() < 0.08
        identifiers.append(Identifier(
            id=f"idn_{number}_{point}", kind=kind, value=profile.contacts[point].value,
            last_seen=seen, consent=consent,
            consent_at=None if consent == Consent.UNKNOWN else seen,
            consent_by="" if consent == Consent.UNKNOWN else "web form",
            deliverable=not bounced, undeliverable_reason="hard bounce" if bounced else "",
            ccpa_opt_out_at=seen if kind == IdentifierKind.PHONE and rng.random() < 0.04 else None,
            source="web form"))
    return identifiers


def _conversations(
    rng: random.Random, profile: Profile, count: int, entries: int, number: int,
    minutes: tuple[int, int] = (3, 600), days: tuple[int, int] = (1, 40),
) -> tuple[list[Conversation], list[TimelineEntry]]:
    """`count` conversations holding `entries` entries in all, spread over time."""
    conversations: list[Conversation] = []
    timeline: list[TimelineEntry] = []
    at = profile.customer.created + timedelta(hours=rng.randint(1, 48))
    per = [entries // count + (1 if i < entries % count else 0) for i in range(count)]
    for c in range(count):
        channels = rng.sample([Channel.EMAIL, Channel.CHAT, Channel.SMS, Channel.VOICE, Channel.SOCIAL],
                              rng.randint(1, 2))
        conv = Conversation(
            id=f"conv_{number}_{c}",
            topic=rng.choice(TOPICS),
            status=ConversationStatus.CLOSED if c < count - 2 else rng.choice(DRAWN_STATUSES),
            channels=channels,
            started=at,
            assignee=rng.choice(AGENTS),
        )
        said, answered, notes = SCRIPTS[conv.topic]
        numbers = {"n": rng.randint(10000, 99999), "card": rng.randint(1000, 9999)}  # one order a conversation
        spoken = noted = 0  # customer and agent lines, and internal notes, so far
        first = len(timeline)
        for e in range(per[c]):
            channel = rng.choice(channels)
            if e and rng.random() < 0.12:
                channel, direction, author = Channel.NOTE, Direction.INTERNAL, rng.choice(AGENTS)
                pool = notes + SHIFT_NOTES
                body, noted = pool[noted % len(pool)], noted + 1
            else:
                turn, spoken = spoken // 2, spoken + 1
                lines = (said, answered)[spoken % 2 == 0]
                direction, author = ((Direction.INBOUND, profile.customer.name) if spoken % 2
                                     else (Direction.OUTBOUND, conv.assignee))
                follow = FOLLOW_UPS[spoken % 2 == 0]
                body = lines[turn] if turn < len(lines) else follow[(turn - len(lines)) % len(follow)]
            body = body.format(**numbers)
            timeline.append(TimelineEntry(
                id=f"ent_{number}_{c}_{e}", conversation_id=conv.id, at=at, channel=channel,
                direction=direction, author=author,
                subject=(conv.topic if e == 0 else f"Re: {conv.topic}") if channel == Channel.EMAIL else "",
                body=body,
            ))
            at += timedelta(minutes=rng.randint(*minutes))
        if conv.status == ConversationStatus.CLOSED:
            conv.ended = at
        _as_the_store_keeps(conv, timeline[first:], number + c)
        conversations.append(conv)
        at += timedelta(days=rng.randint(*days))
    return conversations, timeline


PRIORITIES = [Priority.NORMAL, Priority.HIGH, Priority.NORMAL, Priority.LOW, Priority.NORMAL,
              Priority.URGENT, Priority.NORMAL]


def _as_the_store_keeps(conv: Conversation, timeline: list[TimelineEntry], number: int) -> None:
    """What a store sets on a conversation (its last line, since when the customer waits) and
    what agents set (a priority; no one on a new one yet), chosen by number, not drawn, so the
    rest of the demo stays as it was."""
    kept: dict[str, object] = {"status": "open", "last_line": "", "waiting_since": None}
    for entry in timeline:
        if entry.conversation_id == conv.id:
            kept.update(conversation_after_entry(kept, {
                "body": entry.body, "subject": entry.subject, "direction": entry.direction.value,
                "at": entry.at}))
    conv.last_line = str(kept["last_line"])
    conv.waiting_since = kept["waiting_since"]  # type: ignore[assignment]
    if conv.status == ConversationStatus.CLOSED:
        conv.waiting_since = None
    conv.priority = PRIORITIES[number % len(PRIORITIES)]
    if conv.status == ConversationStatus.NEW:
        conv.assignee = ""


# The store-wide lists of the demo store: five agents (the four above answer the demo's
# conversations; the desk of `agentdesk --demo` is Sam Rivera's) and canned replies.
DEMO_AGENTS = [AgentInfo(name=name, display_name=name) for name in [*AGENTS, "Noor Haddad"]]
DEMO_DESK_AGENT = AGENTS[0]
CANNED_REPLIES = [
    CannedReply(id="can_greeting", title="Greeting", tags=["opening"],
                body="Hi {customer.first_name},\n\nThanks for getting in touch. I'm {agent.name} "
                     "and I'll be looking after this for you."),
    CannedReply(id="can_refund", title="Refund issued", tags=["billing", "refund"],
                body="Hi {customer.first_name}, I've issued your refund. It takes 3-5 business "
                     "days to show on your statement. Anything else, just reply here.\n\n"
                     "{agent.name}"),
    CannedReply(id="can_delay", title="Shipping delay apology", tags=["shipping"],
                body="Hi {customer.first_name}, I'm sorry your order is late. I've asked the "
                     "carrier for an update on \"{conversation.topic}\" and will write again "
                     "as soon as I hear back."),
    CannedReply(id="can_return", title="Return label", tags=["returns"],
                body="Hi {customer.name}, your prepaid return label is attached. Pack the item "
                     "in its original box and drop it at any post office within 30 days."),
    CannedReply(id="can_password", title="Password reset", tags=["account"],
                body="Hi {customer.first_name}, I've sent a password reset link to the e-mail "
                     "address on your account. The link works for one hour."),
    CannedReply(id="can_close", title="Closing check", tags=["closing"],
                body="Hi {customer.first_name}, is there anything else I can help with on "
                     "\"{conversation.topic}\"? If not, I'll close this conversation.\n\n"
                     "Best,\n{agent.name}"),
]


def hostile_profile() -> tuple[Profile, list[TimelineEntry]]:
    """A customer whose every field tries to style, break or take over the terminal."""
    esc = "\x1b"
    customer = Customer(
        id=HOSTILE_ID, name="[bold red]Mallory[/] \x1b[2J\x1b[31mEvil",
        company="[link=http://x]Corp[/link] [USD] [/", status=CustomerStatus.BLOCKED,
        tags=["[b]tag[/b]", "\x9b31m"], created=EPOCH, updated=EPOCH, source="import",
    )
    contacts = [
        ContactPoint(id="cp_h1", kind=ContactKind.EMAIL, value="mallory@example.com",
                     label="[reverse]work", primary=True),
        ContactPoint(id="cp_h2", kind=ContactKind.ADDRESS,
                     value="1 \x1b]0;pwned-title\x07Main St [/", label="home"),
        ContactPoint(id="cp_h3", kind=ContactKind.SOCIAL, value="@mallory\u202egnp.exe", label="x"),
    ]
    notes = [Note(id="note_h1", text="Clipboard: \x1b]52;c;cHduZWQ=\x07 done [bold]x[/bold]",
                  author="[i]agent", created=EPOCH, updated=EPOCH)]
    conv = Conversation(id="conv_h1", topic="[blink]Refund[/blink] \x1b[5m", status=ConversationStatus.OPEN,
                        channels=[Channel.EMAIL, Channel.CHAT], started=EPOCH, assignee="Sam Rivera")
    bodies = [
        "[bold]x[/bold] and [/ and [USD] and \\[escaped]",
        f"Screen wipe {esc}[2J{esc}[H and colour {esc}[31mred{esc}[0m",
        f"OSC 52 {esc}]52;c;cHduZWQ={esc}\\ and title {esc}]2;owned\x07",
        "C1 bytes: \x9b2J \x9d0;t\x9c \x85 \x90x\x9c end",
        "Wide text: 你好世界 👩‍💻 ｆｕｌｌｗｉｄｔｈ and emoji 🎉🎉",
        "A very long line " + "lorem ipsum dolor sit amet " * 30,
        "",
    ]
    entries = [
        TimelineEntry(id=f"ent_h{i}", conversation_id=conv.id, at=EPOCH + timedelta(minutes=i),
                      channel=Channel.CHAT if i % 2 else Channel.EMAIL,
                      direction=Direction.INBOUND, author="[bold]Mallory\x1b[8m",
                      subject="[red]subject\x1b]8;;http://evil\x1b\\" if i == 0 else "", body=body)
        for i, body in enumerate(bodies)
    ]
    _as_the_store_keeps(conv, entries, 5)
    profile = Profile(customer=customer, contacts=contacts, notes=notes, conversations=[conv])
    return profile, entries


def generate(customers: int = 50, seed: int = 7, big_entries: int = 10_000,
             entries_each: tuple[int, int] = (4, 40)) -> Iterator[tuple[Profile, list[TimelineEntry]]]:
    """Yield (profile, timeline) pairs: `customers` ordinary ones, a big one and a hostile one."""
    rng = random.Random(seed)
    ids = [f"cus_{n:06d}" for n in range(customers)]
    for n in range(customers):
        profile = _profile(rng, n)
        profile.identifiers = _identifiers(profile, n)
        conv_count = rng.randint(1, 6)
        entries = max(conv_count, rng.randint(*entries_each))
        profile.conversations, timeline = _conversations(rng, profile, conv_count, entries, n)
        for _ in range(rng.randint(0, 2)):
            other = rng.choice(ids)
            if other != profile.customer.id and other not in {r.customer_id for r in profile.relationships}:
                profile.relationships.append(
                    Relationship(id=f"rel_{n}_{other}", customer_id=other, label=rng.choice(RELATION_LABELS)))
        if n == 0:
            profile.relationships.append(Relationship(id="rel_0_big", customer_id=BIG_ID, label="manager"))
        yield profile, timeline
    if big_entries:
        big = _profile(rng, customers, BIG_ID, name=("Beatrix", "Longhistory"), days=(1200, 1200))
        big.relationships.append(Relationship(id="rel_big_0", customer_id=ids[0], label="assistant"))
        mixed = activity(seed, "act_big", big.customer.created, EPOCH, big_entries // 5)
        big.conversations, timeline = _conversations(rng, big, 120, big_entries - len(mixed),
                                                      customers, minutes=(2, 90), days=(1, 6))
        yield big, timeline + mixed
    from agentdesk.model.demo_profile_data import everything_profile, hostile_profile_data

    yield everything_profile(EPOCH)
    yield activity_profile()
    hostile, hostile_entries = hostile_profile()
    yield hostile_profile_data(hostile, EPOCH), hostile_entries


def activity_profile() -> tuple[Profile, list[TimelineEntry]]:
    """A customer with a year of everything but conversations (and two conversations)."""
    rng = random.Random(17)
    profile = _profile(rng, 900, ACTIVITY_ID, name=("Ines", "Varga"), days=(400, 400))
    profile.conversations, timeline = _conversations(rng, profile, 2, 9, 900, days=(150, 200))
    year = activity(17, "act", EPOCH - timedelta(days=365), EPOCH, 150)
    surveys = monthly_surveys(17, "nps", EPOCH - timedelta(days=360), 12)
    return profile, timeline + year + surveys


def dataset(customers: int = 50, big_entries: int = 10_000) -> list[tuple[Profile, list[TimelineEntry]]]:
    """The demo data set, each relationship carrying the other customer's name (as a store
    would send it): what `Cache.import_profiles` loads for the demo and the tests."""
    items = list(generate(customers, big_entries=big_entries))
    names = {p.customer.id: p.customer.name for p, _ in items}
    for profile, _ in items:
        for rel in profile.relationships:
            rel.name = names.get(rel.customer_id, "")
    return items


WRITTEN_FOR = EPOCH + timedelta(days=1)  # the moment the data reads as "now" (the tests' clock)


def as_of(items: Iterable[tuple[Profile, list[TimelineEntry]]],
          now: datetime) -> Iterator[tuple[Profile, list[TimelineEntry]]]:
    """The data set moved in time, every instant by the same whole minutes, so that the
    moment it was written for (`WRITTEN_FOR`) is `now`: the live demo (`agentdesk --demo`)
    reads as today's work, as the snapshots read at the tests' clock, not as January 2026's.
    Days written as text (a date field's value) move by the same whole days. The tests and
    benchmarks keep the fixed epoch."""
    by = timedelta(minutes=(now - WRITTEN_FOR) // timedelta(minutes=1))
    for profile, timeline in items:
        yield _moved(profile, by), [e.model_copy(update={"at": e.at + by}) for e in timeline]


def _moved(value: Any, by: timedelta) -> Any:
    if isinstance(value, datetime):
        return value + by
    if isinstance(value, list):
        return [_moved(item, by) for item in value]
    if not isinstance(value, BaseModel):
        return value
    update = {name: _moved(getattr(value, name), by) for name in type(value).model_fields}
    if isinstance(value, Field) and value.type == FieldType.DATE:
        update["values"] = [v.model_copy(update={"value": _day_moved(v.value, by)})
                            for v in update["values"]]
    return value.model_copy(update=update)


def _day_moved(text: Any, by: timedelta) -> Any:
    try:
        return (date.fromisoformat(text) + timedelta(days=by.days)).isoformat()
    except (TypeError, ValueError):
        return text
