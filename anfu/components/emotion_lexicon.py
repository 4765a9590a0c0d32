"""The service emotion lexicon (服务情绪词典): cues from `rules/zh_CN/lexicon.yaml`.

`Lexicon.scan(norm)` finds the cues of one normalised text: per-label boosts (log-odds added
to the model's scores), negation flips (不满意 supports `dissatisfied`, 没生气 supports
nothing), sarcasm (你们效率真高啊，三天了… is a complaint) and degree adverbs (非常/太 raise
intensity, 有点 caps it). Every decision keeps its span for explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..glossary import EMOTIONS
from ..errors import RulePackError
from ..rules import validator
from ..rules.checked import load_checked
from ..text.matcher import Match, PhraseMatcher, clause_bounds, longest_non_overlapping

PACK = "lexicon"


@dataclass
class Cue:
    """One lexicon hit: the label it supports (None when negated away) and why."""

    label: str | None
    start: int
    end: int
    text: str
    rule_id: str
    negated_by: tuple[int, int] | None = None


@dataclass
class Scan:
    cues: list[Cue] = field(default_factory=list)
    boosts: dict[str, float] = field(default_factory=dict)
    sarcasm: bool = False
    strong: list[Match] = field(default_factory=list)
    weak: list[Match] = field(default_factory=list)


class Lexicon:
    """Compiled lexicon pack; picklable (matchers rebuild lazily)."""

    def __init__(self, pack: dict[str, Any]) -> None:
        problems = validate_lexicon(pack)
        if problems:
            raise RulePackError("AF301", PACK, reason="; ".join(problems[:5]))
        self.max_hits = int(pack.get("max_hits", 2))
        self.weights = {label: float(spec.get("weight", 1.0)) for label, spec in pack["labels"].items()}
        # one matcher for every role, so a text is scanned once: payload = (role, label, rule id)
        self.matcher = PhraseMatcher()
        for label, spec in pack["labels"].items():
            for phrase in spec.get("phrases") or []:
                self.matcher.add(phrase, ("cue", label, f"lexicon.{label}"))
            for i, rx in enumerate(spec.get("regexes") or []):
                self.matcher.add_regex(rx, ("cue", label, f"lexicon.{label}.re{i}"))
        neg = pack.get("negation") or {}
        self.negators = sorted({n for n in neg.get("negators", [])}, key=len, reverse=True)
        # the negators by length, longest first: (length, set of negators of that length)
        self._negators_by_length = [(size, frozenset(n for n in self.negators if len(n) == size))
                                    for size in sorted({len(n) for n in self.negators}, reverse=True)]
        self.window = int(neg.get("window", 2))
        self.flips: dict[str, str | None] = dict(neg.get("flips") or {})
        sarcasm = pack.get("sarcasm") or {}
        self.sarcasm_label: str = sarcasm.get("label", "dissatisfied")
        self.sarcasm_weight = float(sarcasm.get("weight", 2.0))
        for role in ("praise", "standalone"):
            self.matcher.extend(sarcasm.get(role) or [], (role, None, "lexicon.sarcasm"))
        self.context = PhraseMatcher()
        self.context.extend(sarcasm.get("context") or [], "context")
        for rx in sarcasm.get("context_regexes") or []:
            self.context.add_regex(rx, "context")
        degree = pack.get("degree") or {}
        for role in ("strong", "weak"):
            self.matcher.extend(degree.get(role) or [], (role, None, f"lexicon.degree.{role}"))

    @classmethod
    def from_pack(cls, rules_dir: str | Path | None = None) -> "Lexicon":
        return cls(load_checked(PACK, rules_dir=rules_dir))

    def _negator(self, norm: str, start: int) -> tuple[int, int] | None:
        """Span of a negator ending at most `window` characters before `start`, same clause."""
        left, _ = clause_bounds(norm, start, start)
        for gap in range(self.window + 1):
            end = start - gap
            if end <= left:
                break
            for size, negators in self._negators_by_length:  # the longest negator ending here
                if end - size >= left and norm[end - size:end] in negators:
                    return end - size, end
        return None

    def scan(self, norm: str) -> Scan:
        out = Scan()
        roles: dict[str, list[Match]] = {"cue": [], "praise": [], "standalone": [], "strong": [], "weak": []}
        for m in self.matcher.find(norm):
            roles[m.payload[0]].append(m)
        for m in longest_non_overlapping(roles["cue"]):
            _, label, rule_id = m.payload
            neg = self._negator(norm, m.start)
            effective = self.flips.get(label, label) if neg else label
            out.cues.append(Cue(effective, m.start, m.end, m.text, rule_id, neg))
        praise, standalone = roles["praise"], roles["standalone"]
        if standalone or (praise and self._has_context(norm, praise)):
            out.sarcasm = True
            # praise spoken in sarcasm supports no satisfaction
            for cue in out.cues:
                if cue.label == "satisfied":
                    cue.label = None
            for m in longest_non_overlapping(praise + standalone):
                out.cues.append(Cue(self.sarcasm_label, m.start, m.end, m.text, "lexicon.sarcasm"))
        counts: dict[str, int] = {}
        for cue in out.cues:
            if cue.label is not None and cue.rule_id != "lexicon.sarcasm":
                counts[cue.label] = counts.get(cue.label, 0) + 1
        for label, count in counts.items():
            out.boosts[label] = self.weights.get(label, 1.0) * min(count, self.max_hits)
        # a negated cue also counts against what it says (不太满意 is evidence against `satisfied`)
        for cue in out.cues:
            if cue.negated_by is not None:
                original = cue.rule_id.split(".")[1]
                out.boosts[original] = out.boosts.get(original, 0.0) - self.weights.get(original, 1.0)
        if out.sarcasm:
            out.boosts[self.sarcasm_label] = out.boosts.get(self.sarcasm_label, 0.0) + self.sarcasm_weight
        out.strong, out.weak = roles["strong"], roles["weak"]
        return out

    def _has_context(self, norm: str, praise: list[Match]) -> bool:
        """Failure context anywhere in the message outside the praise itself."""
        spans = [(m.start, m.end) for m in praise]
        return any(all(c.end <= s or c.start >= e for s, e in spans) for c in self.context.find(norm))


def _phrase_list(value: Any, where: str, problems: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
        problems.append(f"{where} must be a list of non-empty strings")


def _regex_list(value: Any, where: str, problems: list[str]) -> None:
    _phrase_list(value, where, problems)
    for rx in value or []:
        if isinstance(rx, str):
            try:
                re.compile(rx)
            except re.error as exc:
                problems.append(f"{where}: bad regex {rx!r} ({exc})")


@validator(PACK)
def validate_lexicon(pack: dict[str, Any]) -> list[str]:
    """Problems of a lexicon pack (empty when it is fine)."""
    problems: list[str] = []
    if not isinstance(pack.get("version"), int):
        problems.append("version must be an integer")
    if not isinstance(pack.get("max_hits", 2), int) or pack.get("max_hits", 2) < 1:
        problems.append("max_hits must be a positive integer")
    labels = pack.get("labels")
    if not isinstance(labels, dict) or not labels:
        problems.append("labels must be a mapping of emotion label -> {weight, phrases, regexes}")
        labels = {}
    for label, spec in labels.items():
        if label not in EMOTIONS:
            problems.append(f"labels: unknown emotion {label!r} (allowed: {', '.join(EMOTIONS)})")
            continue
        if not isinstance(spec, dict):
            problems.append(f"labels.{label} must be a mapping")
            continue
        weight = spec.get("weight", 1.0)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight <= 5:
            problems.append(f"labels.{label}.weight must be a number in (0, 5]")
        _phrase_list(spec.get("phrases"), f"labels.{label}.phrases", problems)
        _regex_list(spec.get("regexes"), f"labels.{label}.regexes", problems)
    neg = pack.get("negation") or {}
    if not isinstance(neg, dict):
        problems.append("negation must be a mapping")
        neg = {}
    _phrase_list(neg.get("negators"), "negation.negators", problems)
    window = neg.get("window", 2)
    if not isinstance(window, int) or isinstance(window, bool) or not 0 <= window <= 6:
        problems.append("negation.window must be an integer 0..6")
    for key, value in (neg.get("flips") or {}).items():
        if key not in EMOTIONS or (value is not None and value not in EMOTIONS):
            problems.append(f"negation.flips: {key!r} -> {value!r} must map an emotion to an emotion or null")
    sarcasm = pack.get("sarcasm") or {}
    if not isinstance(sarcasm, dict):
        problems.append("sarcasm must be a mapping")
        sarcasm = {}
    if sarcasm and sarcasm.get("label") not in EMOTIONS:
        problems.append(f"sarcasm.label {sarcasm.get('label')!r} is not an emotion")
    for key in ("praise", "context", "standalone"):
        _phrase_list(sarcasm.get(key), f"sarcasm.{key}", problems)
    _regex_list(sarcasm.get("context_regexes"), "sarcasm.context_regexes", problems)
    degree = pack.get("degree") or {}
    if not isinstance(degree, dict):
        problems.append("degree must be a mapping with strong and weak lists")
        degree = {}
    for key in ("strong", "weak"):
        _phrase_list(degree.get(key), f"degree.{key}", problems)
    return problems
