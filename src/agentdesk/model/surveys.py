"""A customer's surveys, as the Responses and Survey outbox views show them: their filters,
search by campaign name, and the Delivery figures. No I/O: made from timeline entries (the
read-only views the cache gives, or the models), with their place in the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from agentdesk.model.kinds import EntryKind, EntryStatus

BANDS = ("detractors", "passives", "promoters")
PERIODS = {"30 days": 30, "90 days": 90, "12 months": 365}
# Where a survey got to, in order: one that got further counts as every step before it.
PROGRESS = [EntryStatus.SENT, EntryStatus.OPENED, EntryStatus.SCORED, EntryStatus.RESPONDED]


def band_of(score: Any) -> str:
    if not isinstance(score, int) or isinstance(score, bool):
        return ""
    return "detractors" if score <= 6 else "passives" if score <= 8 else "promoters"


@dataclass(frozen=True)
class SurveyItem:
    """One survey sent, or one response, with its place in the timeline."""

    position: int
    entry: Any  # the timeline entry (a `Stored` view or a `TimelineEntry`)

    @property
    def campaign(self) -> str:
        return str(self.entry.details.get("campaign") or "")

    @property
    def score(self) -> int | None:
        score = self.entry.details.get("score")
        return score if isinstance(score, int) and not isinstance(score, bool) else None

    @property
    def tags(self) -> list[str]:
        tags = self.entry.details.get("tags")
        return [str(t) for t in tags] if isinstance(tags, list) else []

    @property
    def ignored(self) -> bool:
        return self.entry.details.get("ignored") is True


@dataclass(frozen=True)
class SurveyFilter:
    """What the views show: a score band (responses), a status (outbox), a campaign, a
    period back from now, a channel, a tag (responses), and the campaign-name search."""

    band: str = ""
    status: str = ""
    campaign: str = ""
    period: str = ""
    channel: str = ""
    tag: str = ""
    search: str = ""

    def with_(self, **changes: str) -> SurveyFilter:
        return replace(self, **changes)

    def describe(self) -> str:
        parts = [f"{name}: {value}" for name, value in (
            ("score", self.band), ("status", self.status), ("campaign", self.campaign),
            ("period", self.period), ("channel", self.channel), ("tag", self.tag)) if value]
        if self.search:
            parts.append(f"campaign name has “{self.search}”")
        return " · ".join(parts) or "everything"

    def shows(self, item: SurveyItem, now: datetime) -> bool:
        entry = item.entry
        if self.band and band_of(item.score) != self.band:
            return False
        if self.status and entry.status.value != self.status:
            return False
        if self.campaign and item.campaign != self.campaign:
            return False
        if self.period and entry.at < now - timedelta(days=PERIODS[self.period]):
            return False
        if self.channel and entry.channel.value != self.channel:
            return False
        if self.tag and self.tag not in item.tags:
            return False
        return not self.search or self.search.casefold() in item.campaign.casefold()


@dataclass
class Surveys:
    """The customer's responses and surveys sent, newest first."""

    responses: list[SurveyItem] = field(default_factory=list)
    sent: list[SurveyItem] = field(default_factory=list)

    @classmethod
    def of(cls, entries: Iterable[tuple[int, Any]]) -> Surveys:
        """From (position, entry) pairs, any kinds (the others are left out)."""
        out = cls()
        for position, entry in entries:
            if entry.kind == EntryKind.RESPONSE:
                out.responses.append(SurveyItem(position, entry))
            elif entry.kind == EntryKind.SURVEY:
                out.sent.append(SurveyItem(position, entry))
        out.responses.sort(key=lambda i: (i.entry.at, i.position), reverse=True)
        out.sent.sort(key=lambda i: (i.entry.at, i.position), reverse=True)
        return out

    def choices(self, items: list[SurveyItem], name: str) -> list[str]:
        """The values a filter can take among `items` (campaigns, channels, tags, statuses)."""
        values: set[str] = set()
        for item in items:
            if name == "campaign":
                values.add(item.campaign)
            elif name == "channel":
                values.add(item.entry.channel.value)
            elif name == "tag":
                values.update(item.tags)
            elif name == "status":
                values.add(item.entry.status.value)
        return sorted(v for v in values if v)

    def delivery(self) -> dict[str, Any]:
        """Delivery figures: surveys sent (not queued or being sent), opened, scored,
        responded, and the response rate (scored or responded, of those sent)."""
        steps = {status: 0 for status in PROGRESS}
        for item in self.sent:
            status = item.entry.status
            if status in PROGRESS:
                for step in PROGRESS[:PROGRESS.index(status) + 1]:
                    steps[step] += 1
            elif status == EntryStatus.UNSUBSCRIBED:
                steps[EntryStatus.SENT] += 1
        sent = steps[EntryStatus.SENT]
        answered = steps[EntryStatus.SCORED]
        return {"sent": sent, "opened": steps[EntryStatus.OPENED], "scored": answered,
                "responded": steps[EntryStatus.RESPONDED],
                "response_rate": (answered / sent) if sent else 0.0}
