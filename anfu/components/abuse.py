"""Abuse (辱骂): insults and profanity in a customer turn, aimed at the agent or company.

Terms come from the `abuse` rule pack. Variants are caught three ways: homophones and
Traditional forms are listed or normalised, separators inside a word are tolerated
("傻*逼", "傻 逼"), and Latin initialisms match as whole tokens ("sb", "tmd", "nmsl").
Ambiguous words ("垃圾", "骗子", "流氓") count only when aimed at people or a company:
"垃圾客服" is abusive, "垃圾分类" and "信号垃圾" are not.

Policy (documented in the pack, corpus/LABELS.md "Unaimed swearing"): an expletive used as an
exclamation or an intensifier (the pack's `unaimed` words: 妈的, 卧槽, tmd…) is no abuse unless
it is aimed at people or the company the way an ambiguous word is ("你们他妈的", "他妈的客服");
"妈的，又停电" raises the intensity, not the abuse flag. Words that name their target (你妈,
操你, 你大爷) and insults count wherever they occur; the surprise family (卧槽, 我靠你…) does not
count in a sentence of praise ("卧槽，这么快就修好了，谢谢"); mild exclamations (靠, 我去) are not
listed at all.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .. import registry
from ..rules import validator
from ..rules.checked import load_checked, number, str_list
from ..text.matcher import Match, PhraseMatcher, clause_bounds, longest_non_overlapping
from ..text.normalize import normalize
from ..types import Trigger
from .customer_flag import CustomerTurnFlag

PACK = "abuse"
# characters people put inside a swear word to dodge filters
_SEPARATOR = r"[\s*_\-.·•#~～、/|]"
_SEPARATORS = re.compile(_SEPARATOR)


@validator(PACK)
def validate_abuse(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    terms = data.get("terms")
    if not isinstance(terms, dict) or not terms:
        problems.append("'terms' must map a label (profanity, insult…) to a list of words")
    else:
        for label, words in terms.items():
            str_list(words, f"terms.{label}", problems)
    for word in str_list(data.get("initialisms", []), "initialisms", problems, allow_empty=True):
        if not re.fullmatch(r"[a-z0-9]+", word):
            problems.append(f"initialisms: {word!r} must be lower-case Latin letters or digits")
    patterns = data.get("patterns", [])
    if not isinstance(patterns, list):
        problems.append("'patterns' must be a list of {id, label, pattern}")
        patterns = []
    for i, item in enumerate(patterns):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "label", "pattern")):
            problems.append(f"patterns[{i}] needs string 'id', 'label' and 'pattern'")
            continue
        try:
            re.compile(item["pattern"])
        except re.error as exc:
            problems.append(f"patterns[{i}] ({item['id']}) is not a valid regex ({exc})")
    targeted = data.get("targeted")
    if not isinstance(targeted, dict):
        problems.append("'targeted' must be a mapping with terms, targets and things")
    else:
        for key in ("terms", "targets", "things"):
            str_list(targeted.get(key), f"targeted.{key}", problems)
        number(targeted.get("window"), "targeted.window", problems, low=1, high=40)
        for i, pattern in enumerate(str_list(targeted.get("self_reference", []), "targeted.self_reference",
                                             problems, allow_empty=True)):
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"targeted.self_reference[{i}] is not a valid regex ({exc})")
    str_list(data.get("exclusions", []), "exclusions", problems, allow_empty=True)
    unaimed = str_list(data.get("unaimed") or [], "unaimed", problems, allow_empty=True)
    known = {normalize(w) for words in (terms.values() if isinstance(terms, dict) else []) if isinstance(words, list)
             for w in words if isinstance(w, str)} | {normalize(w) for w in data.get("initialisms") or []
                                                       if isinstance(w, str)}
    for word in unaimed:
        if normalize(word) not in known:
            problems.append(f"unaimed: {word!r} is not one of the pack's terms or initialisms")
    praise = data.get("praise", {})
    if not isinstance(praise, dict):
        problems.append("'praise' must be a mapping with terms and cues")
    elif praise:
        str_list(praise.get("terms"), "praise.terms", problems)
        str_list(praise.get("cues"), "praise.cues", problems)
    return problems


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted({normalize(w) for w in words}, key=len, reverse=True))


def _spaced(word: str) -> str:
    """Regex for a word with optional separators between its characters."""
    return f"{_SEPARATOR}{{0,3}}".join(re.escape(ch) for ch in word)


class AbuseRules:
    """The compiled `abuse` pack."""

    def __init__(self, pack: dict[str, Any]) -> None:
        self.labels: dict[str, str] = {}
        for label, words in pack["terms"].items():
            for word in words:
                self.labels[normalize(word)] = label
        self.matcher = PhraseMatcher()
        ordered = sorted(self.labels, key=len, reverse=True)
        self.matcher.add_regex("|".join(_spaced(w) for w in ordered), "term")
        if pack.get("initialisms"):
            self.matcher.add_regex(f"(?<![a-z0-9])(?:{_alternation(pack['initialisms'])})(?![a-z0-9])",
                                   ("profanity", f"{PACK}.initialism"))
        for item in pack.get("patterns", []):
            self.matcher.add_regex(item["pattern"], (item["label"], f"{PACK}.{item['id']}"))
        targeted = pack["targeted"]
        for word in targeted["terms"]:
            # separators inside the word are tolerated, as for the plain terms ("垃 圾客服")
            self.matcher.add_regex(_spaced(normalize(word)), ("targeted", f"{PACK}.targeted:{word}"))
        self.targets_rx = re.compile(_alternation(targeted["targets"]))
        self.things_rx = re.compile(_alternation(targeted["things"]))
        self.after_target_rx = re.compile(f"^的?(?:{_alternation(targeted['targets'])})")
        self.after_thing_rx = re.compile(f"^的?(?:{_alternation(targeted['things'])})")
        self.window = int(targeted["window"])
        self.self_rx = [re.compile(p) for p in targeted.get("self_reference", [])]
        praise = pack.get("praise") or {}
        self.praise_terms = {normalize(w) for w in praise.get("terms", [])}
        self.praise_rx = re.compile(_alternation(praise["cues"])) if praise.get("cues") else None
        # expletives that count only when aimed (see the module's policy)
        self.unaimed = {normalize(w) for w in pack.get("unaimed") or []}
        self.exclusions = PhraseMatcher()
        self.exclusions.extend(pack.get("exclusions", []), "exclusion")

    def hits(self, norm: str) -> list[tuple[Match, str, str]]:
        """(match, label, rule_id) of every abusive span in `norm`."""
        return self.scan(norm)[0]

    def scan(self, norm: str) -> tuple[list[tuple[Match, str, str]], list[tuple[Match, str]]]:
        """The abusive spans of `norm` as `hits` gives them, and its unaimed expletives (match,
        rule_id): no abuse, but swearing that raises the turn's intensity (LABELS.md)."""
        excluded = [(e.start, e.end) for e in self.exclusions.find(norm)]
        out: list[tuple[Match, str, str]] = []
        unaimed: list[tuple[Match, str]] = []
        for m in longest_non_overlapping(self.matcher.find(norm)):
            # a harmless word overlapping the hit explains it away ("妈妈的", "我操作")
            if any(s < m.end and m.start < e for s, e in excluded):
                continue
            if self._self_reference(norm, m):
                continue
            if m.payload == "term" or m.payload[1] == f"{PACK}.initialism":
                word = _SEPARATORS.sub("", m.text)
                label = self.labels.get(word, "profanity" if m.payload != "term" else None)
                if label is None or self._praise(norm, m, word):
                    continue
                if word in self.unaimed and not self._aimed_at_people(norm, m):
                    unaimed.append((m, f"{PACK}.unaimed:{word}"))
                    continue
                out.append((m, label, f"{PACK}.{label}:{word}"))
                continue
            label, rule_id = m.payload
            if label == "targeted":
                if not self._aimed_at_people(norm, m):
                    continue
                label = "insult"
            out.append((m, label, rule_id))
        return out, unaimed

    def _praise(self, norm: str, m: Match, word: str) -> bool:
        """A surprise expletive in a happy sentence ("卧槽，这么快就修好了，谢谢师傅")."""
        if word not in self.praise_terms or self.praise_rx is None:
            return False
        start = _sentence_start(norm, m.start)
        ends = [i for i in (norm.find(ch, m.end) for ch in "。！？\n") if i >= 0]
        return bool(self.praise_rx.search(norm[start:min(ends, default=len(norm))]))

    def _self_reference(self, norm: str, m: Match) -> bool:
        c_start, _ = clause_bounds(norm, m.start, m.end)
        prefix = norm[c_start:m.start]
        return any(rx.search(prefix) for rx in self.self_rx)

    def _aimed_at_people(self, norm: str, m: Match) -> bool:
        """"垃圾客服" / "你们就是一群垃圾" yes; "垃圾分类" / "信号垃圾" no."""
        after = norm[m.end:m.end + 6]
        if self.after_target_rx.search(after):
            return True
        if self.after_thing_rx.search(after):
            return False
        prefix = norm[max(_sentence_start(norm, m.start), m.start - self.window):m.start]
        targets = [t.end() for t in self.targets_rx.finditer(prefix)]
        if not targets:
            return False
        things = [t.end() for t in self.things_rx.finditer(prefix)]
        # the nearest noun before the word decides: a person or company, not a thing
        return not things or max(things) < max(targets)


def _sentence_start(norm: str, pos: int) -> int:
    ends = [norm.rfind(ch, 0, pos) for ch in "。！？\n"]
    return max(ends) + 1


@registry.components.register("anfu.abuse.v1")
class Abuse(CustomerTurnFlag):
    """Sets `turn.abusive` and adds `abuse` triggers (customer turns only)."""

    name = "anfu.abuse.v1"
    provides = ("turn.abusive", "turn.triggers", "turn.norm")
    flag = "abusive"

    def __init__(self, rules_dir: str | Path | None = None) -> None:
        self.rules_dir = rules_dir
        self.rules_ = AbuseRules(load_checked(PACK, rules_dir=rules_dir))

    def assess(self, norm: str, text: str) -> tuple[bool, list[Trigger]]:
        """The abuse flag and its triggers; an unaimed expletive adds a `swearing` trigger, which
        raises the intensity (anfu.emotion.v1) but not the flag."""
        found, unaimed = self.rules_.scan(norm)
        triggers = [Trigger("abuse", label, m.start, m.end, text[m.start:m.end], rule_id)
                    for m, label, rule_id in found]
        swearing = [Trigger("swearing", "unaimed", m.start, m.end, text[m.start:m.end], rule_id)
                    for m, rule_id in unaimed]
        return bool(triggers), triggers + swearing
