"""The figures of the dashboards, each a pure function over buckets (sums per day, channel,
team and agent: `anfu.analytics.buckets`) and tickets: emotion trend, causes, escalation rate,
安抚成功率, CSAT, complaint rate, SLA compliance, and per-agent / per-team views.

A rate keeps its numerator and denominator, so a screen can say "3 / 40" and a rate over
nothing is None (shown as "—"), never 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..glossary import CAUSES, EMOTIONS
from ..workflow.csat import LOW_SCORE, SCORES
from ..workflow.sla import SlaPolicies, SlaStatus, sla_status
from ..workflow.tickets import Ticket
from .buckets import STRONG, Bucket  # noqa: F401  (STRONG: the figures' threshold)

PER_CONTACTS = 100_000
UNASSIGNED = "(未分配)"


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "numerator": self.numerator, "denominator": self.denominator}


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _total(buckets: Iterable[Bucket], name: str) -> Any:
    return sum(getattr(b, name) for b in buckets)


def escalation_rate(buckets: Iterable[Bucket]) -> Rate:
    """Share of conversations whose escalation ladder reached level 1 or more."""
    buckets = list(buckets)
    return Rate(_total(buckets, "escalated"), _total(buckets, "level_n"))


def calming_rate(buckets: Iterable[Bucket]) -> Rate:
    """安抚成功率: calmed conversations among those whose customer reached intensity ≥ 3."""
    buckets = list(buckets)
    return Rate(_total(buckets, "calmed"), _total(buckets, "calm_eligible"))


def _ratio(buckets: Sequence[Bucket], total: str, count: str) -> float | None:
    n = _total(buckets, count)
    return _total(buckets, total) / n if n else None


def emotion_trend(buckets: Iterable[Bucket]) -> list[dict[str, Any]]:
    """One row per day: volume, mean peak / end intensity, mean valence, the share of
    conversations with a strong emotion, and the count of each emotion over customer turns."""
    days: dict[Any, list[Bucket]] = defaultdict(list)
    for bucket in buckets:
        days[bucket.day].append(bucket)
    rows = []
    for day in sorted(days):
        group = days[day]
        counts: Counter[str] = Counter()
        for bucket in group:
            counts.update(bucket.emotions)
        rows.append({
            "date": day.isoformat(),
            "conversations": _total(group, "conversations"),
            "mean_peak": _ratio(group, "peak_sum", "peak_n"),
            "mean_end": _ratio(group, "end_sum", "end_n"),
            "mean_valence": _ratio(group, "valence_sum", "valence_n"),
            "strong": Rate(_total(group, "strong"), _total(group, "peak_n")).to_dict(),
            "emotions": {label: counts.get(label, 0) for label in EMOTIONS},
        })
    return rows


def cause_counts(buckets: Iterable[Bucket], tickets: Iterable[Ticket]) -> list[dict[str, Any]]:
    """Conversations and tickets per cause, most frequent first (causes never seen left out)."""
    conv: Counter[str] = Counter()
    for bucket in buckets:
        conv.update(bucket.causes)
    tick = Counter(t.cause for t in tickets)
    order = {c: i for i, c in enumerate(CAUSES)}
    causes = sorted(set(conv) | set(tick), key=lambda c: (-(conv[c] + tick[c]), order.get(c, len(order)), c))
    return [{"cause": c, "conversations": conv[c], "tickets": tick[c]} for c in causes]


def csat_summary(tickets: Iterable[Ticket]) -> dict[str, Any]:
    """Average score, the 1-5 distribution, low scores (≤ 2) and the satisfied share (4-5)."""
    scores = [t.csat_score for t in tickets if t.csat_score is not None]
    counts = Counter(scores)
    return {
        "responses": len(scores),
        "average": _mean(scores),
        "distribution": {s: counts.get(s, 0) for s in SCORES},
        "low": Rate(sum(s <= LOW_SCORE for s in scores), len(scores)).to_dict(),
        "satisfied": Rate(sum(s >= 4 for s in scores), len(scores)).to_dict(),
    }


def complaint_rate(complaints: int, contacts: int) -> dict[str, Any]:
    """Complaints per 100,000 contacts (投诉率, 十万分之…)."""
    return {"complaints": complaints, "contacts": contacts,
            "per_100k": complaints * PER_CONTACTS / contacts if contacts else None}


def sla_statuses(tickets: Iterable[Ticket], now: datetime, policies: SlaPolicies) -> dict[str, SlaStatus]:
    """Each ticket's SLA status, once (the report's views share them: the clock over business
    calendars is the costly part of a ticket's figures)."""
    return {ticket.id: sla_status(ticket, now, policies) for ticket in tickets}


def sla_compliance(tickets: Iterable[Ticket], now: datetime, policies: SlaPolicies,
                   statuses: Mapping[str, SlaStatus] | None = None) -> dict[str, Any]:
    """Share of decided targets met in time. A target counts once it is met or breached;
    tickets still inside their time are not judged yet. `breached_open` are tickets over
    time and not yet answered / resolved: the ones to chase now. `statuses`: the tickets'
    SLA statuses when already computed (`sla_statuses`)."""
    response = [0, 0]
    resolution = [0, 0]
    breached_open = 0
    for ticket in tickets:
        status = statuses[ticket.id] if statuses is not None and ticket.id in statuses \
            else sla_status(ticket, now, policies)
        for target, tally in ((status.response, response), (status.resolution, resolution)):
            if target.done or target.breached:
                tally[0] += target.met
                tally[1] += 1
        if status.current.breached and not status.current.done:
            breached_open += 1
    return {"response": Rate(*response).to_dict(), "resolution": Rate(*resolution).to_dict(),
            "breached_open": breached_open}


def breakdown(
    buckets: Sequence[Bucket],
    tickets: Sequence[Ticket],
    by: str,
    now: datetime,
    policies: SlaPolicies,
    statuses: Mapping[str, SlaStatus] | None = None,
) -> list[dict[str, Any]]:
    """Per agent (`by="agent"`, tickets by owner) or per team (`by="team"`)."""
    bucket_key: Callable[[Bucket], str | None] = (lambda b: b.agent) if by == "agent" else (lambda b: b.team)
    ticket_key: Callable[[Ticket], str | None] = (lambda t: t.owner) if by == "agent" else (lambda t: t.team)
    groups: dict[str, tuple[list[Bucket], list[Ticket]]] = defaultdict(lambda: ([], []))
    for b in buckets:
        groups[bucket_key(b) or UNASSIGNED][0].append(b)
    for t in tickets:
        groups[ticket_key(t) or UNASSIGNED][1].append(t)
    rows = []
    for name in sorted(groups):
        group, ticks = groups[name]
        sla = sla_compliance(ticks, now, policies, statuses)
        rows.append({
            by: name,
            "conversations": _total(group, "conversations"),
            "escalation": escalation_rate(group).to_dict(),
            "calming": calming_rate(group).to_dict(),
            "mean_quality": _ratio(group, "quality_sum", "quality_n"),
            "mean_peak": _ratio(group, "peak_sum", "peak_n"),
            "tickets": len(ticks),
            "csat_average": csat_summary(ticks)["average"],
            "sla_response": sla["response"],
            "sla_resolution": sla["resolution"],
        })
    return rows
