"""Core data types.

Inputs (`Utterance`, `Conversation`) are frozen; an `Assessment` is the document that the
pipeline's components fill in, each its own part (like a spaCy `Doc`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
class Suggestion:
    text: str
    method: str  # 说理诱导 | 行为诱导 | 利益诱导 | 情感诱导 | 前景诱导
    why: str
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "method": self.method, "why": self.why}


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
    # component data kept with the turn but not part of the output (e.g. cause scores)
    extras: dict[str, Any] = field(default_factory=dict)

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
    trajectory: dict[str, Any] | None = None
    calmed: bool | None = None
    persona: dict[str, Any] | None = None
    negative_energy: dict[str, Any] | None = None
    sop_stage: str | None = None
    next_actions: list[str] | None = None
    escalation: dict[str, Any] | None = None
    quality_score: int | None = None
    quality_findings: list[Finding] | None = None
    quality_contributions: list[ScoreContribution] | None = None
    calm_score: float | None = None         # probability the customer ended satisfied
    outcome: str | None = None              # resolved | in_progress | unresolved
    suggestions: list[Suggestion] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, doc: "Conversation | Utterance") -> "Assessment":
        is_utt = isinstance(doc, Utterance)
        conv = Conversation(turns=(doc,), id=doc.id) if is_utt else doc
        turns, seen = [], False
        for t in conv.turns:
            turns.append(TurnAssessment(speaker=t.speaker, text=t.text, follow_up=seen and t.speaker == "customer"))
            seen = seen or t.speaker == "customer"
        return cls(conversation=conv, turns=turns, is_utterance=is_utt)

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
                out[key] = value
        if self.quality_findings is not None:
            out["quality_findings"] = [f.to_dict() for f in self.quality_findings]
        if self.quality_contributions is not None:
            out["quality_contributions"] = [c.to_dict() for c in self.quality_contributions]
        if self.suggestions is not None:
            out["suggestions"] = [s.to_dict() for s in self.suggestions]
        return out
