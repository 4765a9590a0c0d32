"""Cause (诉因) of a customer turn: billing, outage, delay, quality… (anfu.glossary.CAUSES).

A hybrid of rules and a small model. Keywords and weights are data: `industries/generic.yaml`
plus the chosen industry's pack (`industries/<industry>.yaml`); a new industry is a new file.
The industry comes from the constructor and is overridden by a conversation's own `industry`.
A keyword negated in its clause ("不是质量问题", "不需要退款") counts for nothing. Each
cause's rule score becomes a support in 0..1 (tanh(score / RULE_SCALE)) that is added to the
char n-gram classifier's probability (`anfu.backends.cause_ngram`, trained on our corpus); the
best cause is kept only when it is not "other" and holds at least MIN_CONFIDENCE of the
combined mass, else the turn's cause is None. With `model="none"` the rules decide alone.
The conversation's cause, the most supported across its customer turns, goes to
`assessment.cause`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

from .. import registry
from ..glossary import CAUSES
from ..errors import RulePackError
from ..rules import validator
from ..backends.cause_ngram import DEFAULT_CAUSE_WEIGHTS, NgramCauseModel, load_cause_cached
from ..rules.checked import load_checked, number, str_list
from ..text.matcher import Match, PhraseMatcher, clause_bounds, longest_non_overlapping
from ..text.normalize import normalize
from ..types import Assessment, Trigger
from .base import Component
from .normalize import ensure_norm

FOLDER = "industries"
BASE_INDUSTRY = "generic"
MODEL_NAME = "anfu.ngram_cause.v1"
RULE_WEIGHT = 1.0   # how much a fully supported rule cause adds to the model's probability
RULE_SCALE = 4.0    # a rule score of 4 (one strong keyword) gives a support of tanh(1) ≈ 0.76
MIN_CONFIDENCE = 0.25


@validator(FOLDER)
def validate_industry(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not isinstance(data.get("industry"), str) or not data["industry"].strip():
        problems.append("'industry' must name the industry (the file name without .yaml)")
    negation = data.get("negation")
    if negation is not None:
        if not isinstance(negation, dict):
            problems.append("'negation' must be a mapping with cues, window and optional after")
        else:
            str_list(negation.get("cues"), "negation.cues", problems)
            str_list(negation.get("after", []), "negation.after", problems, allow_empty=True)
            number(negation.get("window"), "negation.window", problems, low=0, high=12)
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
        cues: list[str] = []
        after: list[str] = []
        window = 0
        for pack in packs:
            negation = pack.get("negation") or {}
            cues += negation.get("cues", [])
            after += negation.get("after", [])
            window = max(window, int(negation.get("window", 0)))
        self.negated_before = (re.compile(f"(?:{_alternation(cues)})[^，。！？,.!?；;]{{0,{window}}}$")
                               if cues else None)
        self.negated_after = re.compile(f"^[^，。！？,.!?；;]{{0,{window}}}(?:{_alternation(after)})") if after else None

    def _negated(self, norm: str, m: Match) -> bool:
        """"不是质量问题", "不需要退款", "跟快递没关系": the keyword is ruled out in its clause."""
        c_start, c_end = clause_bounds(norm, m.start, m.end)
        return bool((self.negated_before and self.negated_before.search(norm[c_start:m.start]))
                    or (self.negated_after and self.negated_after.search(norm[m.end:c_end])))

    def evidence(self, norm: str) -> list[tuple[Match, str, str, float]]:
        """(match, cause, rule_id, weight) for the longest non-overlapping keyword hits."""
        found = self.matcher.find(norm)
        kept = {(m.start, m.end) for m in longest_non_overlapping(found)}
        out = []
        seen: set[tuple[int, int, str]] = set()
        for m in found:
            if (m.start, m.end) not in kept or self._negated(norm, m):
                continue
            rule_id, weights = m.payload
            for cause, weight in weights.items():
                if (m.start, m.end, cause) not in seen:
                    seen.add((m.start, m.end, cause))
                    out.append((m, cause, rule_id, weight))
        return out


_RANK = {cause: i for i, cause in enumerate(CAUSES)}  # glossary order, for ties


def best_cause(scores: dict[str, float], first_seen: dict[str, int]) -> str | None:
    """Highest score; ties go to the cause mentioned first, then to glossary order."""
    if not scores:
        return None
    return max(scores, key=lambda c: (scores[c], -first_seen.get(c, 0), -_RANK[c]))


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted({normalize(w) for w in words}, key=len, reverse=True))


def combine(proba: Any, rule_scores: dict[str, float]) -> dict[str, float]:
    """Model probability plus RULE_WEIGHT · tanh(rule score / RULE_SCALE), normalised to sum 1."""
    combined = dict(zip(CAUSES, map(float, proba)))
    for cause, score in rule_scores.items():
        combined[cause] += RULE_WEIGHT * math.tanh(score / RULE_SCALE)
    total = sum(combined.values()) or 1.0
    return {c: v / total for c, v in combined.items()}


@registry.components.register("anfu.cause.v1")
class Cause(Component):
    """Sets `turn.cause` (customer turns), `cause` triggers, `turn.cause_scores` and the
    conversation's `cause`.

    `model` is "default" (the shipped `cause_ngram.npz`), a path to weights written by
    `anfu train-cause`, or "none" for rules only.
    """

    name = "anfu.cause.v1"
    provides = ("turn.cause", "turn.triggers", "turn.norm", "turn.cause_scores", "cause")
    scope = "turn"  # the conversation's cause is concluded from the turns' kept scores

    def __init__(self, industry: str = BASE_INDUSTRY, rules_dir: str | Path | None = None,
                 model: str | Path = "default") -> None:
        self.industry = industry
        self.rules_dir = rules_dir
        self.model = str(model)
        self.rules_: dict[str, CauseRules] = {}
        self._rules_for(industry)  # fail at construction on an unknown industry (AF302)
        self.model_: NgramCauseModel | None = None
        if self.model.lower() != "none":
            weights = DEFAULT_CAUSE_WEIGHTS if self.model == "default" else Path(self.model)
            self.model_ = load_cause_cached(weights)  # AF201 / AF204 when missing or damaged

    def _rules_for(self, industry: str, fallback: bool = False) -> CauseRules:
        if industry not in self.rules_:
            names = [BASE_INDUSTRY] if industry == BASE_INDUSTRY else [BASE_INDUSTRY, industry]
            try:
                packs = [load_checked(f"{FOLDER}/{n}", rules_dir=self.rules_dir, kind=FOLDER) for n in names]
            except RulePackError as exc:
                # a document's industry without a pack (or not a pack name at all) uses generic
                if fallback and exc.code == "AF302":
                    return self._rules_for(BASE_INDUSTRY)
                raise
            self.rules_[industry] = CauseRules(packs)
        return self.rules_[industry]

    def assess(self, norm: str, text: str, industry: str | None = None,
               proba: Any = None) -> tuple[str | None, dict[str, float], list[Trigger]]:
        """Cause, per-cause scores and triggers for one customer text (`proba`: the model's
        probabilities for it when already computed in a batch)."""
        rules = self._rules_for(industry or self.industry, fallback=True)
        rule_scores: dict[str, float] = defaultdict(float)
        first_seen: dict[str, int] = {}
        hits = rules.evidence(norm)
        for m, cause, _, weight in hits:
            rule_scores[cause] += weight
            first_seen.setdefault(cause, m.start)
        if self.model_ is None:
            cause = best_cause(dict(rule_scores), first_seen)
            scores = dict(rule_scores)
        else:
            if proba is None:
                proba = self.model_.predict_proba([norm])[0]
            scores = combine(proba, rule_scores)
            cause = max(scores, key=lambda c: (scores[c], -_RANK[c]))
            if cause == "other" or scores[cause] < MIN_CONFIDENCE:
                cause = None
            scores = {c: v for c, v in scores.items() if c != "other" and v > 0.0}
        triggers = [Trigger("cause", c, m.start, m.end, text[m.start:m.end], rule_id)
                    for m, c, rule_id, _ in hits if c == cause]
        if cause is not None and not triggers:
            # no keyword: the classifier decided from the whole turn
            triggers = [Trigger("cause", cause, 0, len(text), text, f"model:{MODEL_NAME}")]
        return cause, scores, triggers

    def predict(self, docs: Sequence[Assessment]) -> list[dict[str, Any]]:
        norms = [[(t.norm or normalize(t.text)) if t.speaker == "customer" else None for t in doc.turns]
                 for doc in docs]
        flat = [n for doc_norms in norms for n in doc_norms if n is not None]
        # plain floats (`tolist`), the same values `float(proba[i])` reads one by one
        probas = iter(self.model_.predict_proba(flat).tolist() if self.model_ is not None and flat else [])
        out = []
        for doc, doc_norms in zip(docs, norms):
            industry = doc.conversation.industry or self.industry
            turns = [None if n is None else self.assess(n, t.text, industry, next(probas, None))
                     for t, n in zip(doc.turns, doc_norms)]
            if doc.is_utterance:  # a single message has no conversation cause
                out.append({"turns": turns, "cause": None})
                continue
            total: dict[str, float] = defaultdict(float)
            first_seen: dict[str, int] = {}
            for i, result in enumerate(turns):
                if result is not None and result[0] is not None:
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
                turn.cause, scores, triggers = turn_result
                turn.triggers.extend(triggers)
                if turn.cause is not None:
                    turn.cause_scores = scores
            if not doc.is_utterance:
                doc.cause = result["cause"]

    def turn_key(self, doc: Assessment, i: int) -> Any:
        return doc.conversation.industry or self.industry

    def conclude(self, doc: Assessment) -> None:
        """The conversation's cause from the turns' kept scores (as `predict` computes it)."""
        if doc.is_utterance:
            return
        total: dict[str, float] = defaultdict(float)
        first_seen: dict[str, int] = {}
        for i, turn in enumerate(doc.turns):
            if turn.cause is not None:
                for cause, score in (turn.cause_scores or {}).items():
                    total[cause] += score
                    first_seen.setdefault(cause, i)
        doc.cause = best_cause(dict(total), first_seen)
