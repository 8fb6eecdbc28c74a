"""The rows of the customer data pane, built from stored views: fields with where each value
came from, identifiers with their statuses, subscriptions, segments, and the header's figures.
Customer text only ever goes in through `Row.data` / `safe.line`: it is never markup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text

from agentdesk.model import reachability
from agentdesk.model.field_views import LABELS, shown, shown_group
from agentdesk.model.profile_kinds import Consent, FieldSource, IdentifierKind
from agentdesk.ui import safe
from agentdesk.ui.row import Row
from agentdesk.ui.row_list import Option

LABEL_WIDTH = 22
GROUP_TITLES = {"standard": "Standard", "company": "Company", "property": "Properties",
                "custom": "Custom", "third_party": "Third-party", "figures": "Figures"}
GROUP_ORDER = ("standard", "company", "property", "custom", "third_party", "figures")
UNKNOWN = "\0unknown\0"  # option id prefix of a common field no source has filled
LOST = "\0lost\0"  # option id prefix of a value that lost to the shown one


def source_name(value: Any) -> str:
    """Where a value came from, as the agent reads it."""
    if value.source == FieldSource.INTEGRATION:
        return value.integration
    return "desk" if value.source == FieldSource.DESK else "API"


def _provenance(row: Row, value: Any) -> Row:
    row.text(source_name(value), "bold" if value.source == FieldSource.DESK else "")
    if value.by:
        row.text(" · ", "dim").data(value.by, "dim")
    return row.text(f" · {safe.day(value.at)}", "dim")


def _label(key: str, field: Any) -> str:
    label = (getattr(field, "label", "") if field is not None else "") or LABELS.get(key, "") or key
    return label if len(label) < LABEL_WIDTH else label[: LABEL_WIDTH - 2] + "…"


def field_options(pairs: Sequence[tuple[str, Any]], expanded: set[str]) -> list[Option]:
    """Fields by group, each with its winning value and where it came from; the values that
    lost under the fields in `expanded`."""
    by_group: dict[str, list[tuple[str, Any]]] = {}
    for key, field in pairs:
        group = shown_group(key, str(field.group) if field is not None else "standard")
        by_group.setdefault(group, []).append((key, field))
    options: list[Option] = []
    for group in sorted(by_group, key=lambda g: (GROUP_ORDER.index(g) if g in GROUP_ORDER else 99, g)):
        options.append(Option(Row(cut=True).text(GROUP_TITLES.get(group, group), "bold"), heading=True))
        for key, field in by_group[group]:
            row = Row(cut=True).data(f"{_label(key, field):<{LABEL_WIDTH}}", "italic")
            if field is None:
                options.append(Option(row.text("unknown", "dim italic"), id=f"{UNKNOWN}{key}"))
                continue
            top = field.values[0]
            row.data(shown(top.value), "bold").text("\n" + " " * LABEL_WIDTH)
            _provenance(row, top)
            others = len(field.values) - 1
            if others and key not in expanded:
                row.optional().text(f"  +{others} other{'s' if others > 1 else ''} (o)", "yellow")
            options.append(Option(row, id=field.id))
            if key in expanded:
                for n, lost in enumerate(field.values[1:], 1):
                    line = (Row(cut=True).text(" " * (LABEL_WIDTH - 6) + "lost  ", "dim")
                            .data(shown(lost.value), "strike").text("  "))
                    options.append(Option(_provenance(line, lost), id=f"{LOST}{field.id}\0{n}"))
    if not options:
        options.append(Option(Row(cut=True).text("no field matches", "dim italic"), disabled=True))
    return options


KIND_TITLES = {IdentifierKind.EMAIL: ("e-mail", "e-mails"), IdentifierKind.PHONE: ("phone", "phones"),
               IdentifierKind.PUSH_TOKEN: ("push token", "push tokens"),
               IdentifierKind.MOBILE_ID: ("mobile id", "mobile ids")}
CONSENT = {Consent.OPTED_IN: ("opted in", "green"), Consent.OPTED_OUT: ("opted out", "red"),
           Consent.UNKNOWN: ("consent unknown", "yellow")}


def identifier_options(identifiers: Sequence[Any]) -> list[Option]:
    """By kind, the most recently seen first; each with its statuses."""
    last = reachability.last_seen_ids(identifiers)
    ccpa = reachability.ccpa_opted_out(identifiers)
    ordered = reachability.newest_first(identifiers)
    options: list[Option] = []
    kind = None
    for i in ordered:
        if i.kind != kind:
            kind = i.kind
            count = sum(1 for x in ordered if x.kind == kind)
            one, many = KIND_TITLES.get(kind, (str(kind), str(kind)))
            title = Row(cut=True).text(f"{count} {many if count > 1 else one}", "bold")
            if count > 1 and kind == IdentifierKind.EMAIL:
                title.text(" resolved to this customer, most recent first", "dim")
            options.append(Option(title, heading=True))
        row = Row(cut=True).text("★ " if i.id in last else "  ", "bold yellow").data(i.value)
        if i.id in last:
            row.text("  last seen", "yellow")
        row.text("\n  ")
        consent, style = CONSENT.get(i.consent, (str(i.consent), ""))
        if kind != IdentifierKind.MOBILE_ID:
            row.text(consent, style).text(" (c)", "dim")
        if not i.deliverable:
            row.text("  undeliverable", "bold red")
            if i.undeliverable_reason:
                row.text(": ", "red").data(i.undeliverable_reason, "red")
        elif kind != IdentifierKind.MOBILE_ID:
            row.text("  deliverable", "green")
        if i.last_seen:
            row.text(f"  seen {safe.day(i.last_seen)}", "dim")
        marks = []
        if i.blacklisted_at:
            marks.append(("blacklisted " + safe.day(i.blacklisted_at), i.blacklist_reason))
        if i.spam_report_at:
            marks.append(("spam report " + safe.day(i.spam_report_at), ""))
        if i.unsubscribed_at:
            marks.append(("unsubscribed " + safe.day(i.unsubscribed_at), ""))
        if i.ccpa_opt_out_at:
            marks.append(("CCPA opt-out " + safe.day(i.ccpa_opt_out_at), "blocks marketing to the customer"))
        elif ccpa and kind != IdentifierKind.MOBILE_ID:
            marks.append(("marketing blocked", "the customer opted out under CCPA"))
        for what, why in marks:
            row.text("\n  ").text(what, "bold red")
            if why:
                row.text(": ", "red").data(why, "red")
        options.append(Option(row, id=i.id))
    if not options:
        options.append(Option(Row(cut=True).text("no identifiers", "dim italic"), disabled=True))
    return options


def reach_line(identifiers: Sequence[Any]) -> Text:
    why = reachability.why_unreachable(identifiers)
    if not why:
        return Text("✓ reachable: a deliverable identifier with consent", style="green")
    return Text(f"✗ not reachable: {why}", style="bold red")


def named_options(records: Sequence[Any], *, when: str, empty: str, kind: bool = False) -> list[Option]:
    options = []
    for r in sorted(records, key=lambda r: str(r.name).casefold()):
        row = Row(cut=True).data(r.name)
        if kind:
            row.text(f"  {'list' if r.kind == 'list' else 'category'}", "dim")
        at = getattr(r, when, None)
        if at:
            row.text(f"  since {safe.day(at)}", "dim")
        if getattr(r, "source", ""):
            row.text("  · ", "dim").data(r.source, "dim")
        options.append(Option(row, id=r.id))
    return options or [Option(Row(cut=True).text(empty, "dim italic"), disabled=True)]


# The header's figures: (label, keys shown together), in order; a figure without its field
# is left out, and so is a line without any.
FIGURES = (
    ("NPS", (("nps.last_score", "last {}"), ("nps.next_survey", "next survey {}"),
             ("nps.campaign", "({})"))),
    ("Orders", (("orders.lifetime_value", "lifetime {}"), ("orders.average_value", "average {}"),
                ("orders.count", "{} orders"))),
    ("Predicted", (("predictions.order_likelihood", "order likelihood {}"),
                   ("predictions.next_order", "next order {}"),
                   ("predictions.winback_zone", "winback zone {}"))),
)


def header(customer: Any, fields: Sequence[Any]) -> Text:
    """Name, figures, and where the record came from."""
    by_key = {f.key: f for f in fields}
    text = safe.line(customer.name, "bold")
    since = by_key.get("customer_since")
    text.append(f"\ncustomer since {shown(since.values[0].value) if since else safe.day(customer.created)}",
                style="dim")
    for label, parts in FIGURES:
        found = [(fmt, by_key[key]) for key, fmt in parts if key in by_key]
        if not found:
            continue
        text.append(f"\n{label:<10}", style="bold")
        for n, (fmt, field) in enumerate(found):
            before, _, after = fmt.partition("{}")
            text.append(("  " if n else "") + before)
            text.append_text(safe.line(shown(field.values[0].value), "bold"))
            text.append(after)
    text.append(f"\ncreated {safe.day(customer.created)} · edited {safe.day(customer.updated)}",
                style="dim")
    if customer.source:
        text.append(" · source ", style="dim")
        text.append_text(safe.line(customer.source, "dim"))
    return text
