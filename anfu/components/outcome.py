"""Conversation outcome (anfu.outcome.v1): the quality score (质检), 安抚成功 and the outcome,
learned from what real customers judged.

The behaviour rubric (greeting, apology, confirmation, commitment, closing, forbidden phrases)
still yields its findings as evidence; the score itself adds what customers judge — whether the
problem was resolved or progressed, how the customer's last turns read, requests repeated,
questions left unanswered — with weights learned from 19 annotators' satisfaction ratings of real
helpdesk dialogues (`anfu train-outcome`). Each feature's contribution is reported.
"""

from __future__ import annotations

from typing import Any, Sequence

from .. import registry
from ..qa.outcome import UPSET_PEAK, default_cues, default_model, outcome_features
from ..types import Assessment
from .quality import Quality, _rubric


@registry.components.register("anfu.outcome.v1")
class Outcome(Quality):
    name = "anfu.outcome.v1"
    provides = ("quality_score", "quality_findings", "quality_contributions", "calmed", "calm_score", "outcome")
    requires = ("turn.valence", "turn.intensity", "turn.findings")

    def __init__(self, locale: str = "zh_CN", rules_dir: str | None = None, weights: str = "default") -> None:
        super().__init__(locale, rules_dir)
        self.weights = weights

    def predict(self, docs: Sequence[Assessment]) -> list[Any]:
        rubric = _rubric(self.locale, self.rules_dir)
        cues = default_cues(self.locale, self.rules_dir)
        model = default_model(None if self.weights == "default" else self.weights)
        out: list[Any] = []
        for doc in docs:
            if doc.is_utterance or not doc.customer_turns:
                out.append(None)
                continue
            turns = [self._view(t) for t in doc.turns]
            scored = rubric.score(turns)
            judged = model.judge(outcome_features(turns, cues, scored[0] if scored else None))
            upset = max((t.intensity or 0 for t in doc.customer_turns), default=0) >= UPSET_PEAK
            out.append((scored, judged, upset))
        return out

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, result in zip(docs, outputs):
            if result is None:
                continue
            scored, judged, upset = result
            doc.calm_score = round(judged.calm_score, 3)
            doc.calmed = upset and judged.calmed  # nothing to calm when the customer was never upset
            doc.outcome = judged.outcome
            if scored is not None:  # a score needs an agent who spoke
                doc.quality_score = round(judged.experience)
                doc.quality_findings = scored[1]
                doc.quality_contributions = list(judged.contributions)
