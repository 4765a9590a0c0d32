"""Compliant rewrites of a whole agent reply, composed from the rewrites pack.

A rewrite is apology or empathy, who takes charge, a bridge for what went wrong, what the agent
said that was fine, and a concrete action with a time (see the layout in
anfu/rules/zh_CN/rewrites.yaml). "What was fine" are the draft's clauses that no finding covers:
the order number, the delivery time, the amount, the reason stay ("您的订单JD…已经发货，明天下午3点前
送达，你别再催了。" keeps all but the last clause). A refusal that gave its reason keeps it and offers
what else can be done, never what was refused; a reported hazard gets the safety-first reply of its
kind. When a finding covers the whole draft, nothing of it is kept.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from ..types import Finding

_SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2}
_CLAUSE = re.compile(r"[^，。！？；,.!?;\n]+")
# a clause that says no without a rule naming it ("我们无法追回") is not kept either: the rewrite
# offers what can be done instead
_SAYS_NO = re.compile(r"无法|不能|不可以|不行|没办法|办不了|不予|不给|不可能")
REFUSALS = frozenset({"bare_refusal", "policy_wall", "flat_denial"})


class Rewriter:
    """Builds rewrites from a validated rewrites pack (see anfu.qa.packs)."""

    def __init__(self, pack: Mapping[str, Any]) -> None:
        self.empathy: dict[str, str] = dict(pack["empathy"])
        self.owner: dict[str, str] = dict(pack["owner"])
        self.bridges: dict[str, str] = dict(pack.get("bridges") or {})
        self.causes: dict[str, dict[str, Any]] = {k: dict(v) for k, v in pack["causes"].items()}
        self.hazards: list[tuple[list[str], str]] = [(list(v["cues"]), v["reply"])
                                                     for v in (pack.get("hazards") or {}).values()]
        self.fallback: str = pack["fallback"]
        self.industries: dict[str, dict[str, dict[str, Any]]] = {
            industry: {cause: dict(spec) for cause, spec in overrides.items()}
            for industry, overrides in (pack.get("industries") or {}).items()}
        refusal = pack.get("refusal") or {}
        self.refusal_bridge: str = refusal.get("bridge", "")
        self.refusal_tail: str = refusal.get("tail", "")

    def guess_cause(self, customer_text: str | None) -> str:
        """The cause whose keywords occur most often in the customer's words ('other' if none)."""
        if not customer_text:
            return "other"
        best, hits = "other", 0
        for cause, spec in self.causes.items():
            count = sum(customer_text.count(k) for k in spec.get("keywords") or [])
            if count > hits:
                best, hits = cause, count
        return best

    @staticmethod
    def kept(draft: str, findings: Sequence[Finding]) -> str:
        """The draft's clauses that no finding covers and that say no refusal, joined ("" when a
        finding covers it all)."""
        spans = [(f.start, f.end) for f in findings]
        if any(s <= 0 and e >= len(draft.rstrip()) for s, e in spans):
            return ""
        clauses = [m.group(0).strip() for m in _CLAUSE.finditer(draft)
                   if not any(s < m.end() and e > m.start() for s, e in spans) and not _SAYS_NO.search(m.group(0))]
        return "，".join(c for c in clauses if c)

    def compose(self, findings: Sequence[Finding], context: Mapping[str, str] | None = None,
                draft: str | None = None) -> str:
        """The whole compliant reply for a reply with `findings`, filled from `context`; a
        `hazard` in the context (the customer's words for it: "煤气味") gives the safety-first reply
        of its kind."""
        ctx = dict(context or {})
        empathy = self.empathy.get(ctx.get("emotion", ""), self.empathy["default"])
        hazard = ctx.get("hazard") or ""
        safety = next((reply for cues, reply in self.hazards if any(c in hazard for c in cues)), None)
        if safety is not None:
            return f"{empathy}，{safety}。"
        agent = ctx.get("agent")
        owner = self.owner["named"].format(agent=agent) if agent else self.owner["anonymous"]
        ordered = sorted(findings, key=lambda f: (_SEVERITY_RANK.get(f.severity, 3), f.start))
        bridge = self.bridges.get(ordered[0].category, "") if ordered else ""
        cause = ctx.get("cause")
        if cause not in self.causes:
            cause = self.guess_cause(ctx.get("customer_text"))
        spec = self.industries.get(ctx.get("industry") or "", {}).get(cause) or self.causes[cause]
        action = spec["action"].format(what=ctx.get("what") or spec["what"])
        when = ctx.get("when") or spec["when"]
        kept = self.kept(draft, ordered) if draft else ""
        if self.refusal_tail and any(f.category in REFUSALS for f in ordered):
            # the draft's reason when it gave one, else the topic: never the refused action itself
            said = kept or f"关于{ctx.get('what') or spec['what']}"
            return f"{empathy}，{owner}，{self.refusal_bridge}{said}，{self.refusal_tail.format(when=when)}。"
        if kept:
            return f"{empathy}，{owner}，{bridge}{kept}，{action}，{when}{spec['reply']}。"
        return f"{empathy}，{owner}，{bridge}{action}，{when}{spec['reply']}。"
