"""Pre-send check component: flags forbidden phrases (服务忌语) in agent turns and proposes a
compliant rewrite. Customer turns are left untouched."""

from __future__ import annotations

from typing import Any, Sequence

from .. import registry
from ..qa import ReplyChecker, default_checker
from ..text.normalize import normalize
from ..types import Assessment, Finding, TurnAssessment
from .base import Component


@registry.components.register("anfu.presend.v1")
class PreSend(Component):
    name = "anfu.presend.v1"
    provides = ("turn.violation", "turn.findings", "turn.rewrite")
    scope = "turn"  # an agent turn's rewrite also reads the customer turn it answers

    def __init__(self, locale: str = "zh_CN", rules_dir: str | None = None, model: str = "default") -> None:
        self.locale = locale
        self.rules_dir = rules_dir
        self.model = str(model)  # "default" (shipped reply_ngram.npz), a path, or "none" for rules only
        default_checker(self.locale, self.rules_dir, self.model)  # AF201/AF204/AF301 at build time

    @property
    def checker(self) -> ReplyChecker:
        return default_checker(self.locale, self.rules_dir, self.model)

    def predict(self, docs: Sequence[Assessment]) -> list[list[tuple[list[Finding], str | None] | None]]:
        checker = self.checker
        out: list[list[tuple[list[Finding], str | None] | None]] = []
        for doc in docs:
            results: list[tuple[list[Finding], str | None] | None] = []
            customer: TurnAssessment | None = None
            for turn in doc.turns:
                if turn.speaker != "agent":
                    customer = turn
                    results.append(None)
                    continue
                norm = turn.norm if len(turn.norm) == len(turn.text) else normalize(turn.text)
                found = checker.scan(norm, turn.text)
                results.append((found, checker.rewrite(found, _context(customer)) if found else None))
            out.append(results)
        return out

    def turn_context(self, doc: Assessment, i: int) -> int:
        if doc.turns[i].speaker != "agent":
            return i
        return next((j for j in range(i - 1, -1, -1) if doc.turns[j].speaker != "agent"), i)

    def turn_key(self, doc: Assessment, i: int) -> Any:
        j = self.turn_context(doc, i)
        # the customer turn's text and position (its emotion reads both), and the industry its cause depends on
        return ((doc.turns[j].text, doc.turns[j].follow_up) if j != i else None, doc.conversation.industry)

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, results in zip(docs, outputs):
            for turn, result in zip(doc.turns, results):
                if result is None:
                    continue
                found, rewrite = result
                turn.violation = bool(found)
                turn.findings = list(found)
                turn.rewrite = rewrite


def _context(customer: TurnAssessment | None) -> dict[str, Any]:
    """Rewrite context from the customer turn the agent answers (its words, cause, emotion)."""
    if customer is None:
        return {}
    pairs = (("customer_text", customer.text), ("cause", customer.cause), ("emotion", customer.emotion))
    return {k: v for k, v in pairs if v}
