"""Buckets: the sums every dashboard figure is made of, for a group of conversations that share
a local day, channel, team and agent. The figures (`anfu.analytics.figures`) read buckets only,
so the same figures come from two sources:

- the database groups and sums its conversations' facts in SQL (`anfu.store.facts_repo`:
  one bucket per day, channel, team and agent, whatever the number of conversations);
- `anfu analyze` output objects become one bucket each (`Bucket.of_record`).

`AssessmentFacts` is what one stored assessment contributes: the store keeps it per
conversation (written with the assessment), `ConversationRecord` reads the same fields.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from ..glossary import EMOTIONS

STRONG = 3          # intensity 强烈 or more: the conversations that need calming (安抚)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class AssessmentFacts:
    """The figures' view of one conversation's assessment (`Assessment.to_dict()`); a field the
    assessment does not carry stays None."""

    peak: int | None = None           # highest customer intensity 0..4
    end: int | None = None            # intensity at the end
    calmed: bool | None = None        # 安抚成功
    escalation_level: int | None = None
    cause: str | None = None          # the customer's most frequent cause
    emotions: tuple[str, ...] = ()    # emotion of each customer turn
    valence: float | None = None      # mean valence of the customer turns
    quality_score: int | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> "AssessmentFacts":
        turns = data.get("turns")
        if isinstance(turns, list):
            customer = [t for t in turns if isinstance(t, dict) and t.get("speaker", "customer") == "customer"]
        else:  # a single utterance
            customer = [data]
        intensities = [t["intensity"] for t in customer if _int(t.get("intensity")) is not None]
        trajectory = data.get("trajectory") if isinstance(data.get("trajectory"), dict) else {}
        peak = _int(trajectory.get("peak"))
        if peak is None and intensities:
            peak = max(intensities)
        end = _int(trajectory.get("end"))
        if end is None and intensities:
            end = intensities[-1]
        causes = [t["cause"] for t in customer if isinstance(t.get("cause"), str)]
        valences = [float(t["valence"]) for t in customer
                    if isinstance(t.get("valence"), (int, float)) and not isinstance(t.get("valence"), bool)]
        escalation = data.get("escalation")
        return cls(
            peak=peak, end=end,
            calmed=data.get("calmed") if isinstance(data.get("calmed"), bool) else None,
            escalation_level=_int(escalation.get("level")) if isinstance(escalation, dict) else None,
            cause=Counter(causes).most_common(1)[0][0] if causes else None,
            emotions=tuple(t["emotion"] for t in customer if isinstance(t.get("emotion"), str)),
            valence=sum(valences) / len(valences) if valences else None,
            quality_score=_int(data.get("quality_score")))

    def emotion_counts(self) -> dict[str, int]:
        counts = Counter(self.emotions)
        return {label: counts.get(label, 0) for label in EMOTIONS}


@dataclass(frozen=True)
class Bucket:
    """Sums over the conversations of one (day, channel, team, agent)."""

    day: date
    channel: str | None
    team: str | None
    agent: str | None
    conversations: int = 0
    peak_sum: int = 0
    peak_n: int = 0
    strong: int = 0                   # peak >= STRONG
    end_sum: int = 0
    end_n: int = 0
    valence_sum: float = 0.0
    valence_n: int = 0
    level_n: int = 0                  # conversations with a ladder level
    escalated: int = 0                # level >= 1
    calm_eligible: int = 0            # peak >= STRONG and calmed known
    calmed: int = 0
    quality_sum: int = 0
    quality_n: int = 0
    emotions: Mapping[str, int] = field(default_factory=dict)   # customer turns per emotion
    causes: Mapping[str, int] = field(default_factory=dict)     # conversations per cause

    @classmethod
    def of_facts(cls, facts: AssessmentFacts, *, day: date, channel: str | None, team: str | None,
                 agent: str | None) -> "Bucket":
        """The bucket of one conversation."""
        peak, end, valence = facts.peak, facts.end, facts.valence
        strong = peak is not None and peak >= STRONG
        return cls(day=day, channel=channel, team=team, agent=agent, conversations=1,
                   peak_sum=peak or 0, peak_n=int(peak is not None), strong=int(strong),
                   end_sum=end or 0, end_n=int(end is not None),
                   valence_sum=valence or 0.0, valence_n=int(valence is not None),
                   level_n=int(facts.escalation_level is not None),
                   escalated=int((facts.escalation_level or 0) >= 1),
                   calm_eligible=int(strong and facts.calmed is not None), calmed=int(strong and facts.calmed is True),
                   quality_sum=facts.quality_score or 0, quality_n=int(facts.quality_score is not None),
                   emotions={k: v for k, v in facts.emotion_counts().items() if v},
                   causes={facts.cause: 1} if facts.cause else {})


__all__ = ["AssessmentFacts", "Bucket", "STRONG"]
