"""How entries other than conversation messages are told apart: a mark and a colour per kind,
a label with their status, and their details as lines (shown when the entry is expanded).

Everything drawn here is customer or tool data, made inert (`clean_line`) and placed in
segments, never parsed as markup.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from agentdesk.model.kinds import EntryKind, EntryStatus
from agentdesk.model.sanitize import clean_line

MARKS = {
    EntryKind.CAMPAIGN: "◆",
    EntryKind.TRANSACTIONAL: "◇",
    EntryKind.SUBSCRIPTION: "⊕",
    EntryKind.EVENT: "○",
    EntryKind.ORDER: "¤",
    EntryKind.SURVEY: "□",
    EntryKind.RESPONSE: "★",
    EntryKind.FEEDBACK: "※",
}
LABELS = {
    EntryKind.CAMPAIGN: "CAMPAIGN",
    EntryKind.TRANSACTIONAL: "TRANSACTIONAL",
    EntryKind.SUBSCRIPTION: "SUBSCRIPTION",
    EntryKind.EVENT: "EVENT",
    EntryKind.ORDER: "ORDER",
    EntryKind.SURVEY: "SURVEY SENT",
    EntryKind.RESPONSE: "SURVEY RESPONSE",
    EntryKind.FEEDBACK: "FEEDBACK",
}
# Statuses that say the message did not reach the customer, or they left: drawn as a warning.
BAD = frozenset({EntryStatus.UNDELIVERED, EntryStatus.UNSUBSCRIBED})
STYLE_NAMES = tuple(f"kind-{k.value}" for k in MARKS) + ("status-bad", "detail")
DETAIL_LIMIT = 200  # characters of one detail's value shown


def score_band(score: Any) -> str:
    """NPS: 0-6 detractor, 7-8 passive, 9-10 promoter ("" for no score)."""
    if not isinstance(score, int) or isinstance(score, bool):
        return ""
    return "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"


def meta(entry: Any, times: Segment, styles: dict[str, Style], width: int) -> list[Segment]:
    """The first line of an entry that is not a message: its mark, when, what it is and its
    status, the channel, who or what it came from."""
    kind = entry.kind
    style = styles[f"kind-{kind.value}"]
    label = LABELS[kind]
    if kind == EntryKind.RESPONSE:
        score = entry.details.get("score")
        if isinstance(score, int) and not isinstance(score, bool):
            label += f" {score}/10 {score_band(score)}"
        if entry.details.get("ignored") is True:
            label += " (ignored)"
    head = [Segment(f"{MARKS[kind]} ", style), times, Segment(label, style + Style(bold=True))]
    if entry.status:
        status_style = styles["status-bad"] if entry.status in BAD else style
        head.append(Segment(f" · {entry.status.value.upper()}", status_style))
    channel = [Segment(f" · {entry.channel.value}", style)]
    tail = [Segment("  ")]
    if entry.author:
        tail.append(Segment(clean_line(entry.author), styles["meta"] + Style(bold=True)))
    if entry.details:
        tail.append(Segment("  ▸", styles["cut"]))
    segments = head + channel + tail
    if Segment.get_line_length(segments) > width:  # short: the channel goes first
        segments = head + tail
    return segments


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(clean_line(str(v)) for v in value) or "—"
    if value is None or value == "":
        return "—"
    text = clean_line(str(value))
    return text if len(text) <= DETAIL_LIMIT else text[:DETAIL_LIMIT] + "…"


def detail_lines(details: dict[str, Any], styles: dict[str, Style], prefix: Segment,
                 width: int) -> list[Strip]:
    """An expanded entry's details, one `name: value` a line (cut at the width)."""
    lines = []
    for name, value in details.items():
        label = clean_line(str(name)).replace("_", " ")
        lines.append(Strip([prefix, Segment(f"{label}: ", styles["detail"]),
                            Segment(value_text(value), styles["body"])]).crop(0, width))
    return lines
