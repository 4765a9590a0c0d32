"""Core data types.

Inputs (`Utterance`, `Conversation`) are frozen; an `Assessment` is the document that the
pipeline's components fill in, each its own part (like a spaCy `Doc`). Every conclusion is a
typed, frozen record (`TrajectoryResult`, `PersonaResult`, `NegativeEnergyResult`,
`EscalationResult`, the events of `anfu.events`), serialised by its `to_dict()`: the
`anfu analyze` output, the REST API and the store read the same shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .events import Event

Speaker = Literal["customer", "agent"]
SPEAKERS: tuple[str, ...] = ("customer", "agent")


@dataclass(frozen=True)
class Utterance:
    """One message of a conversation, as the channel delivered it."""

    text: str
    speaker: Speaker = "customer"
    id: str | None = None
    timestamp: float | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Conversation:
    """An ordered, immutable sequence of turns."""

    turns: tuple[Utterance, ...]
    id: str | None = None
    channel: str | None = None
    industry: str | None = None

    @classmethod
    def from_texts(cls, texts: list[tuple[str, str]] | list[str], **kwargs: Any) -> "Conversation":
        """Build from `["text", ...]` (all customer) or `[(speaker, text), ...]`."""
        turns = []
        for item in texts:
            if isinstance(item, str):
                turns.append(Utterance(text=item))
            else:
                speaker, text = item
                turns.append(Utterance(text=text, speaker=speaker))
        return cls(turns=tuple(turns), **kwargs)

    @property
    def customer_indices(self) -> list[int]:
        return [i for i, t in enumerate(self.turns) if t.speaker == "customer"]


@dataclass(frozen=True)
class Trigger:
    """A span of the original text that drove a decision, with what it drove."""

    kind: str  # emotion | intensity | escalation | abuse | cause | negation | cue | persona | qa
    label: str
    start: int
    end: int
    text: str
    rule_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # built directly: dataclasses.asdict deep-copies and costs ~1 ms per live turn
        d = {"kind": self.kind, "label": self.label, "start": self.start, "end": self.end, "text": self.text}
        if self.rule_id is not None:
            d["rule_id"] = self.rule_id
        return d


@dataclass(frozen=True)
class Finding:
    """A pre-send check or quality finding on an agent's text."""

    rule_id: str
    category: str
    start: int
    end: int
    message: str
    severity: str = "major"  # minor | major | critical
    # how sure the in-context check is that the reply is a violation (None: a rule alone decided)
    confidence: float | None = None
    # "must_fix" (the reply is a violation) or "consider" (worth a second look, not a violation)
    level: str = "must_fix"

    def to_dict(self) -> dict[str, Any]:
        out = {"rule_id": self.rule_id, "category": self.category, "start": self.start, "end": self.end,
               "message": self.message, "severity": self.severity, "level": self.level}
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 3)
        return out


@dataclass(frozen=True)
class Evidence:
    """One generated line of an explanation as a code and its values, with its zh-CN wording.

    The zh-CN `text` is what the engine has always written; `code` and `params` let a page word
    the same line in its own language (`anfu.web.pack_labels`). Params hold labels (a persona
    type, an emotion, a pack's zh-CN label), numbers and the customer's own words (`quote`,
    `words`), never wording."""

    code: str
    text: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, code: str, text: str, **params: Any) -> Evidence:
        return cls(code, text, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text,
                "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params}}


@dataclass(frozen=True)
class Suggestion:
    text: str
    method: str  # 说理诱导 | 行为诱导 | 利益诱导 | 情感诱导 | 前景诱导
    why: str
    score: float = 0.0
    # `why` as its parts: the script's reason, what it fits, the situation (for other languages)
    why_items: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "method": self.method, "why": self.why,
                "why_items": [e.to_dict() for e in self.why_items]}


@dataclass(frozen=True)
class ScoreContribution:
    """One named feature's share of a learned score: how many points it moved the score
    from the average conversation (positive raises it)."""

    feature: str
    label: str       # zh-CN description
    label_en: str
    value: float
    points: float

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "label": self.label, "label_en": self.label_en,
                "value": round(self.value, 3), "points": round(self.points, 1)}


# -- conversation-level conclusions ---------------------------------------------------------
@dataclass(frozen=True)
class TrajectoryResult:
    """Start, peak and end intensity of the customer's turns and the trend between them."""

    start: int
    peak: int
    end: int
    trend: str  # rising | falling | flat

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "peak": self.peak, "end": self.end, "trend": self.trend}


@dataclass(frozen=True)
class Playbook:
    """How to talk to a personality type: what to say, what to avoid, the guidance method."""

    speak: tuple[str, ...]
    avoid: tuple[str, ...]
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {"speak": list(self.speak), "avoid": list(self.avoid), "method": self.method}


@dataclass(frozen=True)
class PersonaResult:
    """The customer's personality type (one of the nine, or "unknown"), with the evidence."""

    type: str
    confidence: float
    evidence: tuple[str, ...]  # the zh-CN lines (each item's `text`)
    playbook: Playbook
    evidence_items: tuple[Evidence, ...] = ()  # the same lines as codes and values

    def with_evidence(self, evidence: "list[Evidence] | tuple[Evidence, ...]") -> "PersonaResult":
        items = tuple(evidence)
        return replace(self, evidence=tuple(e.text for e in items), evidence_items=items)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "confidence": self.confidence, "evidence": list(self.evidence),
                "evidence_items": [e.to_dict() for e in self.evidence_items],
                "playbook": self.playbook.to_dict()}


@dataclass(frozen=True)
class Signal:
    """One negative-energy signal (负能量): its kind, the turn and the customer's words."""

    type: str  # persistent_complaining | unreasonable_demand | violence_threat | aggression
    turn: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "turn": self.turn, "text": self.text}


@dataclass(frozen=True)
class CoolingOff:
    recommended: bool
    minutes: int
    script: str

    def to_dict(self) -> dict[str, Any]:
        return {"recommended": self.recommended, "minutes": self.minutes, "script": self.script}


@dataclass(frozen=True)
class TeamSupport:
    recommended: bool
    action: str

    def to_dict(self) -> dict[str, Any]:
        return {"recommended": self.recommended, "action": self.action}


@dataclass(frozen=True)
class AgentProtection:
    takeover_offered: bool
    wellbeing_marker: bool
    self_care: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"takeover_offered": self.takeover_offered, "wellbeing_marker": self.wellbeing_marker,
                "self_care": list(self.self_care)}


@dataclass(frozen=True)
class Protocol:
    """The protocol that protects the agent from a negative-energy customer."""

    boundary_scripts: tuple[str, ...]
    cooling_off: CoolingOff
    team_support: TeamSupport
    supervisor_alert: bool
    agent_protection: AgentProtection

    def to_dict(self) -> dict[str, Any]:
        return {"boundary_scripts": list(self.boundary_scripts), "cooling_off": self.cooling_off.to_dict(),
                "team_support": self.team_support.to_dict(), "supervisor_alert": self.supervisor_alert,
                "agent_protection": self.agent_protection.to_dict()}


@dataclass(frozen=True)
class NegativeEnergyResult:
    """Whether the customer is a negative-energy customer (负能量客户), the signals, the protocol."""

    flag: bool
    signals: tuple[Signal, ...]
    protocol: Protocol

    def to_dict(self) -> dict[str, Any]:
        return {"flag": self.flag, "signals": [s.to_dict() for s in self.signals],
                "protocol": self.protocol.to_dict()}


@dataclass(frozen=True)
class EscalationResult:
    """The escalation ladder's level (L0 agent … L3 complaint desk), its label and reasons."""

    level: int
    label: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "label": self.label, "reasons": list(self.reasons)}


@dataclass
class TurnAssessment:
    """What the pipeline concluded about one turn. Fields stay None until a component sets them."""

    speaker: str
    text: str
    norm: str = ""
    # a customer turn after an earlier customer turn of the conversation (set by
    # Assessment.start from the whole conversation, so a re-analysed window keeps it)
    follow_up: bool = False
    emotion: str | None = None
    scores: dict[str, float] | None = None
    intensity: int | None = None
    valence: float | None = None
    abusive: bool | None = None
    escalation_risk: bool | None = None
    cause: str | None = None
    triggers: list[Trigger] = field(default_factory=list)
    # agent turns
    violation: bool | None = None
    findings: list[Finding] = field(default_factory=list)
    rewrite: str | None = None
    # the cause model's scores for this turn (not part of the output; the conversation's
    # cause is decided from them)
    cause_scores: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.speaker == "agent":
            out: dict[str, Any] = {"speaker": "agent"}
            if self.violation is not None:
                out["violation"] = self.violation
                out["findings"] = [f.to_dict() for f in self.findings]
                out["rewrite"] = self.rewrite
            return out
        out = {"speaker": self.speaker}
        for key in ("emotion", "intensity", "valence", "scores", "abusive", "escalation_risk"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["cause"] = self.cause
        out["triggers"] = [t.to_dict() for t in self.triggers]
        return out


@dataclass
class Assessment:
    """The pipeline's document: per-turn results plus conversation-level conclusions."""

    conversation: Conversation
    turns: list[TurnAssessment]
    is_utterance: bool = False
    trajectory: TrajectoryResult | None = None
    calmed: bool | None = None
    persona: PersonaResult | None = None
    negative_energy: NegativeEnergyResult | None = None
    sop_stage: str | None = None
    next_actions: list[str] | None = None
    escalation: EscalationResult | None = None
    quality_score: int | None = None
    quality_findings: list[Finding] | None = None
    quality_contributions: list[ScoreContribution] | None = None
    calm_score: float | None = None         # probability the customer ended satisfied
    outcome: str | None = None              # resolved | in_progress | unresolved
    suggestions: list[Suggestion] | None = None
    # the conversation's cause (from the turns' cause scores; not part of the output)
    cause: str | None = None
    # how many times the customer has contacted the centre about this, when the channel knows
    contact_count: int | None = None
    # events the components raised (escalation.raised, negative_energy.flagged), in order
    events: "list[Event]" = field(default_factory=list)

    @classmethod
    def start(cls, doc: "Conversation | Utterance") -> "Assessment":
        is_utt = isinstance(doc, Utterance)
        conv = Conversation(turns=(doc,), id=doc.id) if is_utt else doc
        turns, seen = [], False
        for t in conv.turns:
            turns.append(TurnAssessment(speaker=t.speaker, text=t.text, follow_up=seen and t.speaker == "customer"))
            seen = seen or t.speaker == "customer"
        return cls(conversation=conv, turns=turns, is_utterance=is_utt)

    def replace_events(self, name: str, events: "list[Event]") -> None:
        """Replace the events called `name`, keeping the others, so a component run twice
        over the same Assessment does not duplicate its events."""
        self.events = [e for e in self.events if e.name != name] + list(events)

    @property
    def customer_turns(self) -> list[TurnAssessment]:
        return [t for t in self.turns if t.speaker == "customer"]

    def to_dict(self) -> dict[str, Any]:
        """The `anfu analyze` output object (see DESIGN.md)."""
        cid = self.conversation.id
        if self.is_utterance:
            turn = self.turns[0].to_dict()
            turn.pop("speaker", None)
            return {"id": cid, **turn}
        out: dict[str, Any] = {"id": cid, "turns": [t.to_dict() for t in self.turns]}
        for key in ("trajectory", "calmed", "calm_score", "outcome", "persona", "negative_energy",
                    "sop_stage", "next_actions", "escalation", "quality_score"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value.to_dict() if hasattr(value, "to_dict") else value
        if self.quality_findings is not None:
            out["quality_findings"] = [f.to_dict() for f in self.quality_findings]
        if self.quality_contributions is not None:
            out["quality_contributions"] = [c.to_dict() for c in self.quality_contributions]
        if self.suggestions is not None:
            out["suggestions"] = [s.to_dict() for s in self.suggestions]
        return out
