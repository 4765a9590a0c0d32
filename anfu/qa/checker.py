"""The pre-send check of an agent reply: forbidden phrases (服务忌语) and behaviour.

Three layers, all driven by anfu/rules/zh_CN/forbidden_phrases.yaml:
1. literal phrases (Aho-Corasick) and regex patterns, each match filtered by the rule's
   exceptions (a condition such as 不行的话 is no refusal) and mitigations (我不太清楚 is
   fine when the reply goes on 我马上帮您查，5分钟内回复您). A mitigation only counts in the
   match's own sentence and the next `mitigation_scope.following_sentences` ones, so a
   polite commitment at the end of a long reply does not excuse a violation earlier on;
2. char n-gram similarity of each remaining sentence or clause to exemplar violations,
   with good-reply exemplars as counter-examples, for rewordings no pattern lists;
3. a learned sentence classifier (`anfu.backends.reply_ngram`): each sentence no rule or
   exemplar flagged is scored, and one scored at or above the model's threshold (chosen by
   cross-validation for precision) is a finding "model.<category>" over that sentence,
   unless a mitigation of that category's rules occurs in its scope, as for the rules;
4. a compliant rewrite of the whole reply, itself re-checked (a failing rewrite falls back
   to the pack's safe reply, which the loader has proven to pass).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ..backends.reply_ngram import DEFAULT_REPLY_WEIGHTS, NgramReplyModel, load_reply_cached
from ..errors import InputError, ModelError, RulePackError
from ..rules import DEFAULT_LOCALE, pack_dir
from ..text.matcher import PhraseMatcher, longest_non_overlapping
from ..text.normalize import is_blank, normalize, t2s
from ..types import Finding
from .packs import FORBIDDEN_PACK, REWRITES_PACK, load_checked
from .rewrite import Rewriter
from .similarity import NgramIndex

CONTEXT_KEYS: tuple[str, ...] = ("cause", "emotion", "customer_text", "what", "when", "agent", "industry")
# a letter, digit or CJK character: a sentence with one has words to score
_WORDS = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SENTENCE = re.compile(r"[^。！？；\n]+")
_SENTENCE_END = "。！？；\n"
_CLAUSE = re.compile(r"[^，。！？；\n]+")
_EDGE = " \t，。！？；：、…～"
MIN_UNIT_CHARS = 2
DEFAULT_MODEL = "default"
MODEL_SEVERITY = "major"


def sentence_units(norm: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a normalised reply, edges trimmed: what the model scores."""
    out = []
    for m in _SENTENCE.finditer(norm):
        s, e = _trim(norm, m.start(), m.end())
        if e - s >= MIN_UNIT_CHARS:
            out.append((s, e))
    return out


@dataclass(frozen=True)
class ReplyCheck:
    """Result of the pre-send check: is it a violation, why, and what to send instead."""

    violation: bool
    findings: list[Finding]
    rewrite: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "violation": self.violation,
            "findings": [{"rule_id": f.rule_id, "category": f.category, "start": f.start,
                          "end": f.end, "message": f.message} for f in self.findings],
            "rewrite": self.rewrite,
        }


@dataclass(frozen=True)
class _Rule:
    id: str
    category: str
    severity: str
    message: str
    exceptions: tuple[re.Pattern[str], ...]
    mitigations: tuple[re.Pattern[str], ...]


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(t2s(pattern))


def _spans(rx: re.Pattern[str], text: str, offset: int = 0) -> list[tuple[int, int]]:
    return [(m.start() + offset, m.end() + offset) for m in rx.finditer(text) if m.end() > m.start()]


class _Stops:
    """Where the sentences of one reply end (`_SENTENCE_END`), found once, and what was computed
    per sentence: a long draft has many matches, each reading its sentence."""

    def __init__(self, norm: str) -> None:
        self.at = [i for i, ch in enumerate(norm) if ch in _SENTENCE_END]
        self._memo: dict[tuple[Any, ...], Any] = {}

    def before(self, start: int) -> int:
        """Where the sentence holding `start` begins (after the last stop before it)."""
        k = bisect_left(self.at, start)
        return self.at[k - 1] + 1 if k else 0

    def at_or_after(self, pos: int) -> int | None:
        """The first stop at or after `pos`."""
        k = bisect_left(self.at, pos)
        return self.at[k] if k < len(self.at) else None

    def memo(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


def _trim(norm: str, start: int, end: int) -> tuple[int, int]:
    while start < end and norm[start] in _EDGE:
        start += 1
    while end > start and norm[end - 1] in _EDGE:
        end -= 1
    return start, end


def validate_context(context: Any) -> dict[str, str]:
    """A context object, or AF013 when it is not a mapping of string values."""
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise InputError("AF013", type(context).__name__)
    bad = [k for k, v in context.items() if v is not None and not isinstance(v, str)]
    if bad:
        raise InputError("AF013", f"non-string values for {sorted(map(str, bad))}")
    return {k: v for k, v in context.items() if k in CONTEXT_KEYS and v}


def _load_model(model: "NgramReplyModel | str | Path | None") -> NgramReplyModel | None:
    """The reply model: an instance, a weights path, "default" (the shipped weights) or None/""/"none"."""
    if model is None or str(model).lower() in ("", "none") or isinstance(model, NgramReplyModel):
        return model if isinstance(model, NgramReplyModel) else None
    if str(model) == DEFAULT_MODEL:
        return load_reply_cached(DEFAULT_REPLY_WEIGHTS)
    return load_reply_cached(model)


class ReplyChecker:
    """Checks agent replies against the forbidden-phrases pack (and the reply model); picklable.

    `model` is "default" (the shipped `reply_ngram.npz`), a weights path, a loaded
    `NgramReplyModel`, or None for the rules alone; `model_threshold` overrides its threshold.
    """

    def __init__(self, locale: str = DEFAULT_LOCALE, rules_dir: str | Path | None = None,
                 model: "NgramReplyModel | str | Path | None" = DEFAULT_MODEL,
                 model_threshold: float | None = None) -> None:
        self.locale = locale
        self.rules_dir = rules_dir
        pack = load_checked(FORBIDDEN_PACK, locale, rules_dir)
        self.categories_: dict[str, str] = dict(pack["categories"])
        self.shared_: dict[str, str] = dict(pack.get("shared") or {})
        self.rules_: list[_Rule] = []
        self.matcher_ = PhraseMatcher()
        bad_texts: list[str] = []
        bad_rules: list[int] = []
        for index, spec in enumerate(pack["rules"]):
            mitigations = tuple(_compile(self.shared_[m[1:]] if m.startswith("@") else m)
                                for m in spec.get("mitigations") or [])
            self.rules_.append(_Rule(
                id=spec["id"], category=spec["category"], severity=spec["severity"],
                message=spec["message"], mitigations=mitigations,
                exceptions=tuple(_compile(p) for p in spec.get("exceptions") or [])))
            self.matcher_.extend(spec.get("phrases") or [], index)
            for pattern in spec.get("patterns") or []:
                self.matcher_.add_regex(pattern, index)
            for text in spec.get("exemplars") or []:
                bad_texts.append(normalize(text))
                bad_rules.append(index)
        sim = pack["similarity"]
        self.threshold_: float = float(sim["threshold"])
        self.margin_: float = float(sim["margin"])
        self.min_chars_: int = int(sim["min_chars"])
        scope = pack.get("mitigation_scope") or {}
        self.following_: int = int(scope.get("following_sentences", 1))
        self.bad_index_ = NgramIndex(bad_texts, bad_rules, sim["ngram"])
        goods = [normalize(t) for t in pack.get("good_exemplars") or []]
        self.good_index_ = NgramIndex(goods, list(range(len(goods))), sim["ngram"])
        self.model_ = _load_model(model)
        self.model_threshold_ = float(model_threshold if model_threshold is not None
                                      else self.model_.threshold_ if self.model_ else 1.0)
        self.category_rules_ = self._category_rules()
        self.rewriter_ = Rewriter(load_checked(REWRITES_PACK, locale, rules_dir))
        self._rewrite_passes: dict[str, bool] = {}
        if self.scan(normalize(self.rewriter_.fallback)):
            path = pack_dir(locale, rules_dir) / f"{REWRITES_PACK}.yaml"
            raise RulePackError("AF301", str(path), reason="the fallback reply itself fails the pre-send check")

    def _category_rules(self) -> dict[str, _Rule]:
        """Per model category, a rule carrying the mitigations of the pack's rules of that category."""
        if self.model_ is None:
            return {}
        unknown = [c for c in self.model_.categories if c not in self.categories_]
        if unknown:
            raise ModelError("AF204", f"reply model (its categories {unknown} are not in the forbidden-phrases "
                                      f"pack; retrain it with `anfu train-replies --rules` on this pack)")
        out: dict[str, _Rule] = {}
        for category in self.model_.categories:
            rules = [r for r in self.rules_ if r.category == category]
            mitigations: list[re.Pattern[str]] = []
            for rule in rules:
                mitigations.extend(rx for rx in rule.mitigations if rx.pattern not in {m.pattern for m in mitigations})
            advice = rules[0].message if rules else "请先致歉、共情，再给出具体的处理动作和时间。"
            out[category] = _Rule(id=f"model.{category}", category=category, severity=MODEL_SEVERITY,
                                  message=advice, exceptions=(), mitigations=tuple(mitigations))
        return out

    # -- detection -------------------------------------------------------------------
    def _scope(self, norm: str, start: int, end: int, stops: _Stops | None = None) -> tuple[int, int]:
        """The sentence holding norm[start:end] and the `following_` sentences after it."""
        stops = stops or _Stops(norm)
        left, right = stops.before(start), end
        for _ in range(self.following_ + 1):
            stop = stops.at_or_after(right)
            if stop is None:
                return left, len(norm)
            right = stop + 1
            while right < len(norm) and norm[right] in _SENTENCE_END:
                right += 1
        return left, right

    def _mitigated(self, rule: _Rule, norm: str, start: int, end: int, stops: _Stops | None = None) -> bool:
        """True when a mitigation of `rule` occurs in the scope of norm[start:end]."""
        if not rule.mitigations:
            return False
        stops = stops or _Stops(norm)
        left, right = self._scope(norm, start, end, stops)
        return stops.memo(("mitigated", id(rule), left, right),
                          lambda: any(rx.search(norm, left, right) for rx in rule.mitigations))

    def _excepted(self, rule: _Rule, norm: str, start: int, end: int, stops: _Stops | None = None) -> bool:
        """True when an exception of `rule` overlaps norm[start:end] in its sentence."""
        stops = stops or _Stops(norm)
        left = stops.before(start)
        stop = stops.at_or_after(end)
        right = len(norm) if stop is None else stop
        spans = stops.memo(("excepted", id(rule), left, right), lambda: [
            span for rx in rule.exceptions for span in _spans(rx, norm[left:right], left)])
        return any(s < end and e > start for s, e in spans)

    def _finding(self, rule: _Rule, norm: str, start: int, end: int, text: str, similar: bool = False) -> Finding:
        name = self.categories_.get(rule.category, rule.category)
        how = "与常见忌语说法相近" if similar else "属于服务忌语"
        return Finding(rule_id=f"{rule.id}.similar" if similar else rule.id, category=rule.category,
                       start=start, end=end, severity=rule.severity,
                       message=f"“{text[start:end]}”{how}（{name}）：{rule.message}")

    def scan(self, norm: str, text: str | None = None) -> list[Finding]:
        """Findings for a normalised reply (offsets index the original `text` too)."""
        text = norm if text is None else text
        by_rule: dict[int, list[Any]] = {}
        for match in self.matcher_.find(norm):
            by_rule.setdefault(match.payload, []).append(match)
        findings: list[Finding] = []
        stops = _Stops(norm)  # each match reads its sentence: found once for the reply
        for index, matches in by_rule.items():
            rule = self.rules_[index]
            kept = [m for m in matches if not self._excepted(rule, norm, m.start, m.end, stops)
                    and not self._mitigated(rule, norm, m.start, m.end, stops)]
            for m in longest_non_overlapping(kept):
                findings.append(self._finding(rule, norm, m.start, m.end, text))
        findings.extend(self._similar(norm, text, findings))
        findings.extend(self._learned(norm, text, findings))
        findings.sort(key=lambda f: (f.start, f.end, f.rule_id))
        return findings

    def _similar(self, norm: str, text: str, found: list[Finding]) -> list[Finding]:
        if not len(self.bad_index_):
            return []
        taken = [(f.start, f.end) for f in found]
        out: list[Finding] = []
        for sentence in _SENTENCE.finditer(norm):
            units = [sentence.span()]
            clauses = [(m.start() + sentence.start(), m.end() + sentence.start())
                       for m in _CLAUSE.finditer(sentence.group(0))]
            if len(clauses) > 1:
                units.extend(clauses)
            for s, e in units:
                s, e = _trim(norm, s, e)
                if e - s < self.min_chars_ or any(a < e and b > s for a, b in taken):
                    continue
                hit = self._nearest(norm, s, e)
                if hit is not None:
                    out.append(self._finding(self.rules_[hit], norm, s, e, text, similar=True))
                    taken.append((s, e))
        return out

    def _nearest(self, norm: str, start: int, end: int) -> int | None:
        """The rule index whose exemplar norm[start:end] resembles, when clearly nearer than any good one."""
        unit = norm[start:end]
        score, index = self.bad_index_.best(unit)
        if index is None or score < self.threshold_:
            return None
        good, _ = self.good_index_.best(unit)
        if score - good < self.margin_:
            return None
        rule = self.rules_[index]
        if self._mitigated(rule, norm, start, end):
            return None
        if any(rx.search(unit) for rx in rule.exceptions):
            return None
        return index

    def unit_scores(self, norm: str) -> list[tuple[int, int, float, str, bool]]:
        """(start, end, P(violation), category, mitigated) of each sentence, by the reply model."""
        if self.model_ is None:
            return []
        # a sentence of emoji or punctuation alone ("🙏🙏", "👍") says nothing the model has read:
        # scored, it would land at the model's prior
        units = [(s, e) for s, e in sentence_units(norm) if _WORDS.search(norm, s, e)]
        if not units:
            return []
        proba, cats = self.model_.scores([norm[s:e] for s, e in units])
        out = []
        stops = _Stops(norm)
        for (s, e), p, row in zip(units, proba, cats):
            rule = self.category_rules_[self.model_.categories[int(row.argmax())]]
            out.append((s, e, float(p), rule.category, self._mitigated(rule, norm, s, e, stops)))
        return out

    def _learned(self, norm: str, text: str, found: list[Finding]) -> list[Finding]:
        """Findings of the reply model over sentences no rule or exemplar flagged."""
        if self.model_ is None:
            return []
        taken = [(f.start, f.end) for f in found]
        out = []
        for s, e, p, category, mitigated in self.unit_scores(norm):
            if p < self.model_threshold_ or mitigated or any(a < e and b > s for a, b in taken):
                continue
            rule = self.category_rules_[category]
            name = self.categories_.get(category, category)
            out.append(Finding(rule_id=rule.id, category=category, start=s, end=e, severity=rule.severity,
                               message=f"“{text[s:e]}”疑似服务忌语（{name}，模型判断）：{rule.message}"))
        return out

    # -- public ----------------------------------------------------------------------
    def findings(self, text: str) -> list[Finding]:
        return self.scan(normalize(text), text)

    def rewrite(self, findings: list[Finding], context: Mapping[str, str] | None = None,
                draft: str | None = None) -> str:
        """A whole compliant reply, keeping what `draft` said that no finding covers; without the
        draft's clauses when that fails the check, and the pack's safe reply when that fails too."""
        for composed in dict.fromkeys((self.rewriter_.compose(findings, context, draft),
                                       self.rewriter_.compose(findings, context))):
            if self._passes(composed):
                return composed
        return self.rewriter_.fallback

    def _passes(self, composed: str) -> bool:
        passes = self._rewrite_passes.get(composed)
        if passes is None:
            passes = not self.scan(normalize(composed))
            if len(self._rewrite_passes) < 4096:  # templates repeat: remember their verdicts
                self._rewrite_passes[composed] = passes
        return passes

    def check(self, text: str, context: Mapping[str, Any] | None = None) -> ReplyCheck:
        if not isinstance(text, str):
            raise InputError("AF003", "null" if text is None else type(text).__name__)
        if is_blank(text):
            raise InputError("AF004")
        ctx = validate_context(context)
        found = self.findings(text)
        if not found:
            return ReplyCheck(violation=False, findings=[], rewrite=None)
        return ReplyCheck(violation=True, findings=found, rewrite=self.rewrite(found, ctx, text))
