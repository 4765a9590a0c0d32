"""Quality score component (质检): rates the agent's handling of a whole conversation.

Reads the SOP rubric (anfu/rules/zh_CN/quality_rubric.yaml), customer intensity/emotion
when an earlier component set them, and the pre-send findings of agent turns.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

from .. import registry
from ..qa import default_checker
from ..qa.quality import QualityRubric
from ..text.normalize import normalize
from ..types import Assessment, Finding, TurnAssessment
from .base import Component


@lru_cache(maxsize=8)
def _rubric(locale: str, rules_dir: str | None) -> QualityRubric:
    return QualityRubric(locale, rules_dir)


@registry.components.register("anfu.quality.v1")
class Quality(Component):
    name = "anfu.quality.v1"
    provides = ("quality_score", "quality_findings")
    requires = ("turn.findings",)

    def __init__(self, locale: str = "zh_CN", rules_dir: str | None = None) -> None:
        self.locale = locale
        self.rules_dir = rules_dir

    def predict(self, docs: Sequence[Assessment]) -> list[tuple[int, list[Finding]] | None]:
        rubric = _rubric(self.locale, self.rules_dir)
        out: list[tuple[int, list[Finding]] | None] = []
        for doc in docs:
            if doc.is_utterance:
                out.append(None)
                continue
            out.append(rubric.score([self._view(t) for t in doc.turns]))
        return out

    def _view(self, turn: TurnAssessment) -> TurnAssessment:
        """The turn as the rubric reads it: pre-send findings computed when that component is absent."""
        if turn.speaker != "agent" or turn.violation is not None:
            return turn
        norm = turn.norm if len(turn.norm) == len(turn.text) else normalize(turn.text)
        found = default_checker(self.locale, self.rules_dir).scan(norm, turn.text)
        return TurnAssessment(speaker=turn.speaker, text=turn.text, norm=norm, violation=bool(found), findings=found)

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, result in zip(docs, outputs):
            if result is not None:
                doc.quality_score, doc.quality_findings = result
