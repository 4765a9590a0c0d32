"""Pre-send check component: flags forbidden phrases (服务忌语) and in-context violations in
agent turns and proposes a compliant rewrite. Customer turns are left untouched.

An agent turn that answers a customer is judged in context: the phrase rules' findings become
evidence, and the context model (`anfu.qa.context`, learned from real helpdesk turns labelled by
quality inspectors) decides from the reply, the customer's previous turn and the few turns before
it whether the reply is a violation (`must_fix`), worth a second look (`consider`, not a
violation), or fine. A reply with no customer turn before it is checked on its own (rules and the
sentence model), as `anfu check-reply` does.
"""

from __future__ import annotations

from typing import Any, Sequence

from .. import registry
from ..qa import ReplyChecker, default_checker
from ..qa.context import (
    CONTEXT_TURNS,
    ContextReplyModel,
    ReplyContext,
    asked_again_for,
    context_before,
    hazard_in,
    load_context_cached,
    rule_evidence,
    vague_to_hazard,
)
from ..text.normalize import normalize
from ..types import Assessment, Finding, TurnAssessment
from .base import Component

Result = tuple[list[Finding], str | None, bool]
#: how many turns back a reply looks for a safety hazard the customer reported ("煤气味", "电缆断"):
#: a vague promise to such a customer is a violation for the rest of the exchange, not only
#: right after the report
HAZARD_TURNS = 12
#: categories whose phrase rules stand in any context (the context model may not clear them)
NEVER_EXCUSED = frozenset({"impatience", "blaming"})


def _norm(turn: TurnAssessment) -> str:
    return turn.norm if len(turn.norm) == len(turn.text) else normalize(turn.text)


def hazard_before(turns: Sequence[TurnAssessment], i: int, stop: int | None = None) -> str | None:
    """The safety hazard a customer turn of the `HAZARD_TURNS` before turn `i` reports (up to turn
    `stop`, default `i`), or None."""
    return hazard_in(_norm(t) for t in turns[max(0, i - HAZARD_TURNS):i if stop is None else stop]
                     if t.speaker == "customer")


def reply_context(turns: Sequence[TurnAssessment], i: int) -> ReplyContext:
    """The context of agent turn `i`: the customer turn it answers and the turns shortly before."""
    start = max(0, i - CONTEXT_TURNS)
    window = [(t.speaker, _norm(t)) for t in turns[start:i]]
    return context_before(window, len(window))


@registry.components.register("anfu.presend.v1")
class PreSend(Component):
    name = "anfu.presend.v1"
    provides = ("turn.violation", "turn.findings", "turn.rewrite")
    reads = ("turn.norm",)
    scope = "turn"  # an agent turn's result also reads the turns shortly before it

    def __init__(self, locale: str = "zh_CN", rules_dir: str | None = None, model: str = "default",
                 context: str = "default") -> None:
        self.locale = locale
        self.rules_dir = rules_dir
        self.model = str(model)  # "default" (shipped reply_ngram.npz), a path, or "none" for rules only
        self.context = str(context)  # "default" (shipped reply_context.npz), a path, or "none"
        default_checker(self.locale, self.rules_dir, self.model)  # AF201/AF204/AF301 at build time
        self.context_model_  # AF201 at build time

    @property
    def checker(self) -> ReplyChecker:
        return default_checker(self.locale, self.rules_dir, self.model)

    @property
    def rules_checker(self) -> ReplyChecker:
        return default_checker(self.locale, self.rules_dir, "none")

    @property
    def context_model_(self) -> ContextReplyModel | None:
        if self.context == "none":
            return None
        return load_context_cached(None if self.context == "default" else self.context)

    def predict(self, docs: Sequence[Assessment]) -> list[list[Result | None]]:
        checker, rules = self.checker, self.rules_checker
        model = self.context_model_
        out: list[list[Result | None]] = []
        pending: list[tuple[int, int, str, ReplyContext, list[Finding], TurnAssessment | None]] = []
        for d, doc in enumerate(docs):
            results: list[Result | None] = []
            customer: TurnAssessment | None = None
            for i, turn in enumerate(doc.turns):
                if turn.speaker != "agent":
                    customer = turn
                    results.append(None)
                    continue
                norm = _norm(turn)
                ctx = reply_context(doc.turns, i)
                if model is not None and ctx.customer:
                    pending.append((d, i, norm, ctx, rules.scan(norm, turn.text), customer,
                                    hazard_before(doc.turns, i)))
                    results.append(None)
                    continue
                found = checker.scan(norm, turn.text)
                results.append((found, checker.rewrite(found, _context(customer), turn.text) if found else None,
                                bool(found)))
            out.append(results)
        if pending and model is not None:
            scored = model.predict([p[2] for p in pending], [p[3] for p in pending],
                                   [rule_evidence(f.rule_id for f in p[4]) for p in pending])
            for (d, i, norm, ctx, found, customer, hazard), (prob, category) in zip(pending, scored):
                given = asked_again_for(norm, ctx.customer, ctx.earlier_agent[-1] if ctx.earlier_agent else "")
                if given is not None and prob < model.threshold_:
                    out[d][i] = self._asked_again(docs[d].turns[i].text, given, prob, model, customer)
                    continue
                if prob < model.threshold_ and vague_to_hazard(norm, hazard):
                    out[d][i] = self._vague_to_hazard(docs[d].turns[i].text, hazard, prob, model, customer)
                    continue
                out[d][i] = self._decide(docs[d].turns[i].text, norm, found, prob, category, model, customer, hazard,
                                         docs[d].conversation.industry)
        return out

    def _decide(self, text: str, norm: str, found: list[Finding], prob: float, category: str,
                model: ContextReplyModel, customer: TurnAssessment | None, hazard: str | None = None,
                industry: str | None = None) -> Result:
        # a phrase rule of a category no context excuses ("你听不懂吗？", "是您自己操作错了") stays a
        # finding whatever the rest of the reply: facts after it do not make it kind
        never_excused = any(f.category in NEVER_EXCUSED for f in found)
        if prob < model.consider_ and not never_excused:
            return [], None, False
        level = "must_fix" if prob >= model.threshold_ or never_excused else "consider"
        if found:
            findings = [Finding(f.rule_id, f.category, f.start, f.end, f.message,
                                f.severity if level == "must_fix" else "minor", prob, level) for f in found]
        else:
            rules = self.rules_checker
            advice = next((r.message for r in rules.rules_ if r.category == category),
                          "请先回应客户刚才说的话，再给出具体的处理动作和时间。")
            name = rules.categories_.get(category, category)
            how = "结合客户上一句来看" if level == "must_fix" else "结合客户上一句来看，建议斟酌"
            findings = [Finding(f"context.{category}", category, 0, len(text),
                                f"{how}，这条回复疑似{name}（把握 {prob:.0%}）：{advice}",
                                "major" if level == "must_fix" else "minor", prob, level)]
        if level == "consider":
            return findings, None, False
        return findings, self.checker.rewrite(findings, _context(customer, hazard, industry), text), True

    def _asked_again(self, text: str, given: str, prob: float, model: ContextReplyModel,
                     customer: TurnAssessment | None) -> Result:
        """A reply that asks for the detail the customer has just given: must fix, whatever the
        model's score (the rule corroborates what the model may miss on a short, polite request)."""
        confidence = max(prob, model.threshold_)
        finding = Finding("context.asks_again", "dismissing", 0, len(text),
                          f"结合客户上一句来看，客户刚刚已经提供了{given}，不要再次索要：请直接据此查询并告诉客户结果"
                          f"（把握 {confidence:.0%}）。", "major", confidence, "must_fix")
        return [finding], self.checker.rewrite([finding], _context(customer)), True

    def _vague_to_hazard(self, text: str, hazard: str, prob: float, model: ContextReplyModel,
                         customer: TurnAssessment | None) -> Result:
        """A vague promise alone to a customer who reported a safety hazard: must fix (the rule
        corroborates what the model reads as a polite reply)."""
        confidence = max(prob, model.threshold_)
        finding = Finding("context.vague_to_hazard", "empty_promise", 0, len(text),
                          f"结合前文来看，客户报告了安全隐患（{hazard}），这条回复只有含糊的承诺：请给出明确的到场时间或处理人，"
                          f"并先告诉客户现在该怎么保证安全（把握 {confidence:.0%}）。", "major", confidence, "must_fix")
        return [finding], self.checker.rewrite([finding], _context(customer, hazard)), True

    def turn_context(self, doc: Assessment, i: int) -> int:
        if doc.turns[i].speaker != "agent":
            return i
        # a hazard reported before the window is read too (`hazard_before`)
        if self._hazard_outside_window(doc, i) is not None:
            return max(0, i - HAZARD_TURNS)
        return max(0, i - CONTEXT_TURNS)

    @staticmethod
    def _hazard_outside_window(doc: Assessment, i: int) -> str | None:
        return hazard_before(doc.turns, i, stop=max(0, i - CONTEXT_TURNS))

    def turn_key(self, doc: Assessment, i: int) -> Any:
        if doc.turns[i].speaker != "agent":
            return None
        # the turns read (texts, the customer turns' position: their emotion reads it), and the
        # industry the customer turn's cause depends on
        before = tuple((t.speaker, t.text, t.follow_up) for t in doc.turns[max(0, i - CONTEXT_TURNS):i])
        return before, doc.conversation.industry, self._hazard_outside_window(doc, i)

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, results in zip(docs, outputs):
            for turn, result in zip(doc.turns, results):
                if result is None:
                    continue
                found, rewrite, violation = result
                turn.violation = violation
                turn.findings = list(found)
                turn.rewrite = rewrite


def _context(customer: TurnAssessment | None, hazard: str | None = None,
             industry: str | None = None) -> dict[str, Any]:
    """Rewrite context from the customer turn the agent answers (its words, cause, emotion), the
    safety hazard the customer reported, if any (the rewrite then says how to stay safe), and the
    conversation's industry (its own steps: `rewrites.yaml` industries)."""
    if customer is None:
        return {}
    pairs = (("customer_text", customer.text), ("cause", customer.cause), ("emotion", customer.emotion),
             ("hazard", hazard), ("industry", industry))
    return {k: v for k, v in pairs if v}
