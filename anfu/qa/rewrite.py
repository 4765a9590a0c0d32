"""Compliant rewrites of a whole agent reply, composed from the rewrites pack.

A rewrite replaces the reply rather than patching words: apology or empathy, who takes
charge, a bridge for what went wrong, and a concrete action with a time (see the layout
in anfu/rules/zh_CN/rewrites.yaml).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..types import Finding

_SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2}


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

    def compose(self, findings: Sequence[Finding], context: Mapping[str, str] | None = None) -> str:
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
        spec = self.causes[cause]
        action = spec["action"].format(what=ctx.get("what") or spec["what"])
        when = ctx.get("when") or spec["when"]
        return f"{empathy}，{owner}，{bridge}{action}，{when}{spec['reply']}。"
