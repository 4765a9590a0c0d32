"""Cause (诉因) of a customer turn: billing, outage, delay, quality… (anfu.glossary.CAUSES).

Keywords and weights are data: `industries/generic.yaml` plus the chosen industry's pack
(`industries/<industry>.yaml`); a new industry is a new file. The industry comes from the
constructor and is overridden by a conversation's own `industry`. Each turn gets the cause
with the most weighted evidence (None without any evidence); the conversation's cause, the
most supported across its customer turns, goes to `assessment.extras["cause"]`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

from .. import registry
from ..glossary import CAUSES
from ..rules import validator
from ..rules.checked import load_checked
from ..text.matcher import Match, PhraseMatcher, longest_non_overlapping
from ..text.normalize import normalize
from ..types import Assessment, Trigger
from .base import Component
from .normalize import ensure_norm

FOLDER = "industries"
BASE_INDUSTRY = "generic"


@validator(FOLDER)
def validate_industry(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not isinstance(data.get("industry"), str) or not data["industry"].strip():
        problems.append("'industry' must name the industry (the file name without .yaml)")
    causes = data.get("causes")
    if not isinstance(causes, dict) or not causes:
        return problems + ["'causes' must map a cause label to its keywords and patterns"]
    for cause, spec in causes.items():
        if cause not in CAUSES:
            problems.append(f"unknown cause {cause!r}; allowed: {', '.join(CAUSES)}")
            continue
        if not isinstance(spec, dict) or not (spec.get("keywords") or spec.get("patterns")):
            problems.append(f"causes.{cause} needs 'keywords' or 'patterns'")
            continue
        keywords = spec.get("keywords", {})
        if not isinstance(keywords, dict):
            problems.append(f"causes.{cause}.keywords must map a phrase to a weight")
            keywords = {}
        for phrase, weight in keywords.items():
            if not str(phrase).strip():
                problems.append(f"causes.{cause}.keywords has an empty phrase")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
                problems.append(f"causes.{cause}.keywords[{phrase!r}] must be a positive number")
        patterns = spec.get("patterns", [])
        if not isinstance(patterns, list):
            problems.append(f"causes.{cause}.patterns must be a list of {{pattern, weight}}")
            patterns = []
        for i, item in enumerate(patterns):
            where = f"causes.{cause}.patterns[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("pattern"), str):
                problems.append(f"{where} needs a string 'pattern'")
                continue
            weight = item.get("weight", 1)
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
                problems.append(f"{where}.weight must be a positive number")
            try:
                re.compile(item["pattern"])
            except re.error as exc:
                problems.append(f"{where} is not a valid regex ({exc})")
    return problems


class CauseRules:
    """Generic plus one industry's keywords, compiled; the industry wins on a shared phrase."""

    def __init__(self, packs: list[dict[str, Any]]) -> None:
        phrases: dict[str, dict[str, tuple[str, float]]] = {}
        self.matcher = PhraseMatcher()
        for pack in packs:
            name = pack["industry"]
            for cause, spec in pack["causes"].items():
                for phrase, weight in spec.get("keywords", {}).items():
                    key = normalize(str(phrase))
                    entry = phrases.setdefault(key, {})
                    # a later (industry) pack replaces the generic weights of the same phrase
                    if any(src != name for src, _ in entry.values()):
                        entry.clear()
                    entry[cause] = (name, float(weight))
                for i, item in enumerate(spec.get("patterns", [])):
                    rule_id = f"{FOLDER}/{name}.{cause}.pattern{i}"
                    self.matcher.add_regex(item["pattern"], (rule_id, {cause: float(item.get("weight", 1))}))
        for phrase, entry in phrases.items():
            rule_source = next(iter(entry.values()))[0]
            self.matcher.add(phrase, (f"{FOLDER}/{rule_source}:{phrase}",
                                      {cause: w for cause, (_, w) in entry.items()}))

    def evidence(self, norm: str) -> list[tuple[Match, str, str, float]]:
        """(match, cause, rule_id, weight) for the longest non-overlapping keyword hits."""
        found = self.matcher.find(norm)
        kept = {(m.start, m.end) for m in longest_non_overlapping(found)}
        out = []
        seen: set[tuple[int, int, str]] = set()
        for m in found:
            if (m.start, m.end) not in kept:
                continue
            rule_id, weights = m.payload
            for cause, weight in weights.items():
                if (m.start, m.end, cause) not in seen:
                    seen.add((m.start, m.end, cause))
                    out.append((m, cause, rule_id, weight))
        return out


def best_cause(scores: dict[str, float], first_seen: dict[str, int]) -> str | None:
    """Highest score; ties go to the cause mentioned first, then to glossary order."""
    if not scores:
        return None
    return max(scores, key=lambda c: (scores[c], -first_seen.get(c, 0), -CAUSES.index(c)))


@registry.components.register("anfu.cause.v1")
class Cause(Component):
    """Sets `turn.cause` (customer turns), `cause` triggers and `extras["cause"]`."""

    name = "anfu.cause.v1"
    provides = ("turn.cause", "turn.triggers", "turn.norm", "extras")

    def __init__(self, industry: str = BASE_INDUSTRY, rules_dir: str | Path | None = None) -> None:
        self.industry = industry
        self.rules_dir = rules_dir
        self.rules_: dict[str, CauseRules] = {}
        self._rules_for(industry)  # fail at construction on an unknown industry (AF302)

    def _rules_for(self, industry: str) -> CauseRules:
        if industry not in self.rules_:
            names = [BASE_INDUSTRY] if industry == BASE_INDUSTRY else [BASE_INDUSTRY, industry]
            packs = [load_checked(f"{FOLDER}/{n}", rules_dir=self.rules_dir, kind=FOLDER) for n in names]
            self.rules_[industry] = CauseRules(packs)
        return self.rules_[industry]

    def assess(self, norm: str, text: str, industry: str | None = None) -> tuple[str | None, dict[str, float], list[Trigger]]:
        """Cause, per-cause scores and triggers for one customer text."""
        rules = self._rules_for(industry or self.industry)
        scores: dict[str, float] = defaultdict(float)
        first_seen: dict[str, int] = {}
        hits = rules.evidence(norm)
        for m, cause, _, weight in hits:
            scores[cause] += weight
            first_seen.setdefault(cause, m.start)
        cause = best_cause(dict(scores), first_seen)
        triggers = [Trigger("cause", c, m.start, m.end, text[m.start:m.end], rule_id)
                    for m, c, rule_id, _ in hits if c == cause]
        return cause, dict(scores), triggers

    def predict(self, docs: Sequence[Assessment]) -> list[dict[str, Any]]:
        out = []
        for doc in docs:
            industry = doc.conversation.industry or self.industry
            turns = [self.assess(t.norm or normalize(t.text), t.text, industry) if t.speaker == "customer"
                     else None for t in doc.turns]
            total: dict[str, float] = defaultdict(float)
            first_seen: dict[str, int] = {}
            for i, result in enumerate(turns):
                if result is not None:
                    for cause, score in result[1].items():
                        total[cause] += score
                        first_seen.setdefault(cause, i)
            out.append({"turns": turns, "cause": best_cause(dict(total), first_seen)})
        return out

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[dict[str, Any]]) -> None:
        for doc, result in zip(docs, outputs):
            ensure_norm(doc)
            for turn, turn_result in zip(doc.turns, result["turns"]):
                if turn_result is None:
                    continue
                turn.cause, _, triggers = turn_result
                turn.triggers.extend(triggers)
            if not doc.is_utterance:
                doc.extras["cause"] = result["cause"]
