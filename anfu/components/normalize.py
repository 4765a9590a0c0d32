"""Normalisation component: fills `turn.norm` (same length as the text) for later matchers."""

from __future__ import annotations

from typing import Sequence

from .. import registry
from ..text.normalize import normalize
from ..types import Assessment
from .base import Component


@registry.components.register("anfu.normalize.v1")
class Normalizer(Component):
    name = "anfu.normalize.v1"
    provides = ("turn.norm",)
    scope = "turn"

    def predict(self, docs: Sequence[Assessment]) -> list[list[str]]:
        return [[normalize(t.text) for t in doc.turns] for doc in docs]

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[list[str]]) -> None:
        for doc, norms in zip(docs, outputs):
            for turn, norm in zip(doc.turns, norms):
                turn.norm = norm


def ensure_norm(doc: Assessment) -> None:
    """Components that can run without the normaliser call this first."""
    for turn in doc.turns:
        if not turn.norm and turn.text:
            turn.norm = normalize(turn.text)
