"""Base of the detectors that flag a customer turn on its own text (abuse 辱骂, escalation
risk 升级风险): `assess(norm, text)` gives (flag, triggers) for one customer turn; agent turns
are skipped. The flag goes into the turn field named by `flag`, the triggers onto
`turn.triggers`.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar, Sequence

from ..text.normalize import normalize
from ..types import Assessment, Trigger
from .base import Component
from .normalize import ensure_norm


class CustomerTurnFlag(Component):
    #: the TurnAssessment field the flag is written to (e.g. "abusive")
    flag: ClassVar[str] = ""
    scope = "turn"

    @abstractmethod
    def assess(self, norm: str, text: str) -> tuple[bool, list[Trigger]]:
        """The flag and triggers for one customer text (`norm` is its normalised form)."""

    def predict(self, docs: Sequence[Assessment]) -> list[list[tuple[bool, list[Trigger]] | None]]:
        return [[self.assess(t.norm or normalize(t.text), t.text) if t.speaker == "customer" else None
                 for t in doc.turns] for doc in docs]

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, results in zip(docs, outputs):
            ensure_norm(doc)
            for turn, result in zip(doc.turns, results):
                if result is None:
                    continue
                value, triggers = result
                setattr(turn, self.flag, value)
                turn.triggers.extend(triggers)
