"""The emotional-load index of an agent's shift (情绪负荷指数), from what the agent actually faced.

Pure functions over plain facts (`ContactFacts`); `anfu.wellbeing.facts` builds them from the
store. The formula and every weight live in the rule pack `wellbeing.yaml` (see its header).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Sequence

from .rules import WellbeingRules, load_wellbeing_rules


@dataclass(frozen=True)
class CustomerMoment:
    """One customer message as analysed: when, how it read."""

    at: datetime
    emotion: str | None
    intensity: int
    abusive: bool = False


@dataclass(frozen=True)
class ContactFacts:
    """What one contact (conversation) put on the agent."""

    contact_id: str
    agent_id: int | None
    started_at: datetime
    ended_at: datetime
    moments: tuple[CustomerMoment, ...] = ()
    message_times: tuple[datetime, ...] = ()  # every message (customer and agent), for the gaps
    negative_energy: bool = False
    escalation_level: int = 0
    csat: int | None = None
    # what the store summed in SQL instead of passing each moment (`anfu.store` under the same
    # rules): peak intensity, any abusive moment, (angry, abusive) minutes. None: from `moments`.
    summed: ContactSums | None = None

    @property
    def peak_intensity(self) -> int:
        if self.summed is not None:
            return self.summed.peak_intensity
        return max((m.intensity for m in self.moments), default=0)

    @property
    def abusive(self) -> bool:
        if self.summed is not None:
            return self.summed.abusive
        return any(m.abusive for m in self.moments)


@dataclass(frozen=True)
class ContactSums:
    """A contact's moments as the store sums them in SQL: the peak intensity, whether any moment
    was abusive, and the minutes with an angry and with an abusive customer (`_minutes`'s rule:
    each moment lasts until the next message, capped, and each total is capped per contact)."""

    peak_intensity: int
    abusive: bool
    angry_minutes: float
    abusive_minutes: float


@dataclass(frozen=True)
class ContactLoad:
    contact_id: str
    started_at: datetime
    hard: bool
    angry_minutes: float
    abusive_minutes: float
    back_to_back: bool
    points: float
    parts: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"contact_id": self.contact_id, "started_at": self.started_at.isoformat(), "hard": self.hard,
                "angry_minutes": round(self.angry_minutes, 1), "abusive_minutes": round(self.abusive_minutes, 1),
                "back_to_back": self.back_to_back, "points": round(self.points, 1),
                "parts": {k: round(v, 1) for k, v in self.parts.items()}}


@dataclass(frozen=True)
class ShiftLoad:
    agent_id: int | None
    shift: date
    index: int
    level: str  # green | amber | red
    points: float
    contacts: int
    hard_contacts: int
    angry_minutes: float
    abusive_minutes: float
    negative_energy_contacts: int
    escalations: int
    csat_lows: int
    back_to_back: int
    parts: dict[str, float] = field(default_factory=dict)
    detail: tuple[ContactLoad, ...] = ()

    def to_dict(self, with_contacts: bool = False) -> dict[str, Any]:
        out = {"agent_id": self.agent_id, "shift": self.shift.isoformat(), "index": self.index, "level": self.level,
               "points": round(self.points, 1), "contacts": self.contacts, "hard_contacts": self.hard_contacts,
               "angry_minutes": round(self.angry_minutes, 1), "abusive_minutes": round(self.abusive_minutes, 1),
               "negative_energy_contacts": self.negative_energy_contacts, "escalations": self.escalations,
               "csat_lows": self.csat_lows, "back_to_back": self.back_to_back,
               "parts": {k: round(v, 1) for k, v in self.parts.items()}}
        if with_contacts:
            out["contact_loads"] = [c.to_dict() for c in self.detail]
        return out


def is_hard(contact: ContactFacts, rules: WellbeingRules) -> bool:
    """A contact that calls for the private after-contact prompt."""
    hard = rules["hard_contact"]
    return (contact.peak_intensity >= hard["min_peak_intensity"]
            or (hard["abusive"] and contact.abusive)
            or (hard["negative_energy"] and contact.negative_energy)
            or contact.escalation_level >= hard["min_escalation_level"]
            or (contact.csat is not None and contact.csat <= hard["csat_max"]))


def _minutes(contact: ContactFacts, rules: WellbeingRules) -> tuple[float, float]:
    """Minutes with an angry customer and with an abusive one (each gap and contact capped)."""
    if contact.summed is not None:
        return contact.summed.angry_minutes, contact.summed.abusive_minutes
    times = sorted(set(contact.message_times) | {m.at for m in contact.moments})
    cap_gap = float(rules["max_gap_minutes"])
    last = float(rules["last_message_minutes"])
    angry = abusive = 0.0
    for moment in contact.moments:
        later = [t for t in times if t > moment.at]
        span = min(cap_gap, (later[0] - moment.at).total_seconds() / 60) if later else last
        if moment.emotion == "angry" or moment.intensity >= rules["angry_intensity"]:
            angry += span
        if moment.abusive:
            abusive += span
    cap = float(rules["minutes_cap_per_contact"])
    return min(cap, angry), min(cap, abusive)


def contact_loads(contacts: Sequence[ContactFacts], rules: WellbeingRules | None = None) -> list[ContactLoad]:
    """Load points of each contact, in start order (back-to-back needs the order)."""
    rules = rules or load_wellbeing_rules()
    w = rules["weights"]
    gap = timedelta(minutes=float(rules["back_to_back_gap_minutes"]))
    out: list[ContactLoad] = []
    previous_hard_end: datetime | None = None
    for contact in sorted(contacts, key=lambda c: (c.started_at, c.contact_id)):
        angry, abusive = _minutes(contact, rules)
        hard = is_hard(contact, rules)
        back = hard and previous_hard_end is not None and contact.started_at - previous_hard_end <= gap
        parts = {
            "angry_minutes": w["angry_minute"] * angry,
            "abusive_minutes": w["abusive_minute"] * abusive,
            "negative_energy": w["negative_energy_contact"] * contact.negative_energy,
            "escalation": float(w["escalation"].get(min(3, contact.escalation_level), 0)) if contact.escalation_level else 0.0,
            "csat_low": w["csat_low"] * (contact.csat is not None and contact.csat <= rules["csat_low_max"]),
            "back_to_back": w["back_to_back"] * back,
        }
        out.append(ContactLoad(contact.contact_id, contact.started_at, hard, angry, abusive, back,
                               sum(parts.values()), parts))
        if hard:
            previous_hard_end = max(previous_hard_end or contact.ended_at, contact.ended_at)
    return out


def load_index(points: float, rules: WellbeingRules | None = None) -> int:
    """index = round(100 × (1 − e^(−points / scale)))."""
    rules = rules or load_wellbeing_rules()
    return int(round(100 * (1 - math.exp(-max(0.0, points) / float(rules["scale"])))))


def level_of(index: int, rules: WellbeingRules | None = None) -> str:
    rules = rules or load_wellbeing_rules()
    levels = rules["levels"]
    return "red" if index >= levels["red"] else "amber" if index >= levels["amber"] else "green"


def shift_of(at: datetime, rules: WellbeingRules | None = None) -> date:
    """The working day (in the pack's shift time zone) a moment belongs to."""
    rules = rules or load_wellbeing_rules()
    return at.astimezone(rules.tz).date()


def shift_load(contacts: Sequence[ContactFacts], rules: WellbeingRules | None = None, *,
               agent_id: int | None = None, shift: date | None = None) -> ShiftLoad:
    """The load index of one agent's shift from its contacts."""
    rules = rules or load_wellbeing_rules()
    loads = contact_loads(contacts, rules)
    points = sum(c.points for c in loads)
    parts: dict[str, float] = {}
    for c in loads:
        for key, value in c.parts.items():
            parts[key] = parts.get(key, 0.0) + value
    index = load_index(points, rules)
    day = shift or (shift_of(min(c.started_at for c in contacts), rules) if contacts else date.today())
    return ShiftLoad(
        agent_id=agent_id if agent_id is not None else (contacts[0].agent_id if contacts else None),
        shift=day, index=index, level=level_of(index, rules), points=points, contacts=len(loads),
        hard_contacts=sum(c.hard for c in loads), angry_minutes=sum(c.angry_minutes for c in loads),
        abusive_minutes=sum(c.abusive_minutes for c in loads),
        negative_energy_contacts=sum(c.negative_energy for c in contacts),
        escalations=sum(1 for c in contacts if c.escalation_level >= 1),
        csat_lows=sum(1 for c in contacts if c.csat is not None and c.csat <= rules["csat_low_max"]),
        back_to_back=sum(c.back_to_back for c in loads), parts=parts, detail=tuple(loads))


def shifts(contacts: Iterable[ContactFacts], rules: WellbeingRules | None = None) -> list[ShiftLoad]:
    """One `ShiftLoad` per (agent, working day), newest day first, then by agent."""
    rules = rules or load_wellbeing_rules()
    groups: dict[tuple[int | None, date], list[ContactFacts]] = {}
    for contact in contacts:
        groups.setdefault((contact.agent_id, shift_of(contact.started_at, rules)), []).append(contact)
    out = [shift_load(group, rules, agent_id=agent, shift=day) for (agent, day), group in groups.items()]
    return sorted(out, key=lambda s: (-s.shift.toordinal(), s.agent_id or 0))


@dataclass(frozen=True)
class Rotation:
    agent_id: int | None
    index: int
    break_minutes: int
    reason: str
    reason_en: str

    def to_dict(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id, "index": self.index, "break_minutes": self.break_minutes,
                "reason": self.reason, "reason_en": self.reason_en}


def rotation_suggestions(current: Sequence[ShiftLoad], rules: WellbeingRules | None = None) -> list[Rotation]:
    """Who needs relief now: each agent at or above rotation.min_index, most loaded first."""
    rules = rules or load_wellbeing_rules()
    rotation = rules["rotation"]
    due = [s for s in current if s.index >= rotation["min_index"]]
    return [Rotation(s.agent_id, s.index, int(rotation["break_minutes"]), rotation["reason"], rotation["reason_en"])
            for s in sorted(due, key=lambda s: (-s.index, -s.points, s.agent_id or 0))]
