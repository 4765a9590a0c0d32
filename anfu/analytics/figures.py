"""The figures of the dashboards, each a pure function over conversation records and
tickets: emotion trend, causes, escalation rate, 安抚成功率, CSAT, complaint rate,
SLA compliance, and per-agent / per-team views.

A rate keeps its numerator and denominator, so a screen can say "3 / 40" and a rate over
nothing is None (shown as "—"), never 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from ..glossary import CAUSES, EMOTIONS
from ..workflow.csat import LOW_SCORE, SCORES
from ..workflow.sla import SlaPolicies, sla_status
from ..workflow.tickets import Ticket
from .records import ConversationRecord

STRONG = 3          # intensity 强烈 or more: the conversations that need calming (安抚)
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


def escalation_rate(records: Iterable[ConversationRecord]) -> Rate:
    """Share of conversations whose escalation ladder reached level 1 or more."""
    levels = [r.escalation_level for r in records if r.escalation_level is not None]
    return Rate(sum(level >= 1 for level in levels), len(levels))


def calming_rate(records: Iterable[ConversationRecord]) -> Rate:
    """安抚成功率: calmed conversations among those whose customer reached intensity ≥ 3."""
    eligible = [r for r in records if r.peak is not None and r.peak >= STRONG and r.calmed is not None]
    return Rate(sum(r.calmed is True for r in eligible), len(eligible))


def emotion_trend(records: Iterable[ConversationRecord]) -> list[dict[str, Any]]:
    """One row per day: volume, mean peak / end intensity, mean valence, the share of
    conversations with a strong emotion, and the count of each emotion over customer turns."""
    days: dict[Any, list[ConversationRecord]] = defaultdict(list)
    for record in records:
        days[record.day].append(record)
    rows = []
    for day in sorted(days):
        group = days[day]
        peaks = [r.peak for r in group if r.peak is not None]
        counts = Counter(e for r in group for e in r.emotions)
        rows.append({
            "date": day.isoformat(),
            "conversations": len(group),
            "mean_peak": _mean(peaks),
            "mean_end": _mean([r.end for r in group if r.end is not None]),
            "mean_valence": _mean([r.valence for r in group if r.valence is not None]),
            "strong": Rate(sum(p >= STRONG for p in peaks), len(peaks)).to_dict(),
            "emotions": {label: counts.get(label, 0) for label in EMOTIONS},
        })
    return rows


def cause_counts(records: Iterable[ConversationRecord], tickets: Iterable[Ticket]) -> list[dict[str, Any]]:
    """Conversations and tickets per cause, most frequent first (causes never seen left out)."""
    conv = Counter(r.cause for r in records if r.cause)
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


def sla_compliance(tickets: Iterable[Ticket], now: datetime, policies: SlaPolicies) -> dict[str, Any]:
    """Share of decided targets met in time. A target counts once it is met or breached;
    tickets still inside their time are not judged yet. `breached_open` are tickets over
    time and not yet answered / resolved: the ones to chase now."""
    response = [0, 0]
    resolution = [0, 0]
    breached_open = 0
    for ticket in tickets:
        status = sla_status(ticket, now, policies)
        for target, tally in ((status.response, response), (status.resolution, resolution)):
            if target.done or target.breached:
                tally[0] += target.met
                tally[1] += 1
        if status.current.breached and not status.current.done:
            breached_open += 1
    return {"response": Rate(*response).to_dict(), "resolution": Rate(*resolution).to_dict(),
            "breached_open": breached_open}


def breakdown(
    records: Sequence[ConversationRecord],
    tickets: Sequence[Ticket],
    by: str,
    now: datetime,
    policies: SlaPolicies,
) -> list[dict[str, Any]]:
    """Per agent (`by="agent"`, tickets by owner) or per team (`by="team"`)."""
    record_key: Callable[[ConversationRecord], str | None] = (
        (lambda r: r.agent) if by == "agent" else (lambda r: r.team))
    ticket_key: Callable[[Ticket], str | None] = (lambda t: t.owner) if by == "agent" else (lambda t: t.team)
    groups: dict[str, tuple[list[ConversationRecord], list[Ticket]]] = defaultdict(lambda: ([], []))
    for r in records:
        groups[record_key(r) or UNASSIGNED][0].append(r)
    for t in tickets:
        groups[ticket_key(t) or UNASSIGNED][1].append(t)
    rows = []
    for name in sorted(groups):
        recs, ticks = groups[name]
        sla = sla_compliance(ticks, now, policies)
        rows.append({
            by: name,
            "conversations": len(recs),
            "escalation": escalation_rate(recs).to_dict(),
            "calming": calming_rate(recs).to_dict(),
            "mean_quality": _mean([r.quality_score for r in recs if r.quality_score is not None]),
            "mean_peak": _mean([r.peak for r in recs if r.peak is not None]),
            "tickets": len(ticks),
            "csat_average": csat_summary(ticks)["average"],
            "sla_response": sla["response"],
            "sla_resolution": sla["resolution"],
        })
    return rows
