"""Loading and validating the pre-send check packs: forbidden phrases (服务忌语) and rewrites.

Both packs are data (anfu/rules/zh_CN/forbidden_phrases.yaml and rewrites.yaml); the
validators registered here run under `anfu check-rules`, and the loaders refuse a broken
pack with AF301 rather than checking replies with half a rule set.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import RulePackError
from ..rules import DEFAULT_LOCALE, load_pack, pack_dir, validator
from ..rules.checked import each_mapping, english

FORBIDDEN_PACK = "forbidden_phrases"
REWRITES_PACK = "rewrites"
SEVERITIES: tuple[str, ...] = ("minor", "major", "critical")
_RULE_KEYS = {"id", "category", "severity", "message", "message_en", "phrases", "patterns", "exceptions",
              "mitigations", "exemplars"}
_LIST_KEYS = ("phrases", "patterns", "exceptions", "mitigations", "exemplars")


def _regex_problem(where: str, pattern: Any) -> str | None:
    if not isinstance(pattern, str) or not pattern:
        return f"{where}: expected a non-empty string, got {pattern!r}"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"{where}: bad regular expression {pattern!r} ({exc})"
    return None


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


@validator(FORBIDDEN_PACK)
def validate_forbidden_phrases(data: dict[str, Any]) -> list[str]:
    """Problems of a forbidden-phrases pack (empty when it is fine)."""
    problems: list[str] = []
    categories = data.get("categories")
    if not isinstance(categories, dict) or not categories or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in categories.items()):
        problems.append("categories: expected a mapping of category id -> zh-CN name")
        categories = {}
    names_en = data.get("categories_en")
    if not isinstance(names_en, dict) or set(names_en) != set(categories):
        problems.append("categories_en: expected the English name of each category of categories")
    else:
        for key, name in names_en.items():
            english(name, f"categories_en.{key}", problems)
    shared = data.get("shared", {})
    if not isinstance(shared, dict):
        problems.append("shared: expected a mapping of name -> regular expression")
        shared = {}
    for name, pattern in shared.items():
        if (found := _regex_problem(f"shared.{name}", pattern)):
            problems.append(found)
    sim = data.get("similarity")
    if not isinstance(sim, dict):
        problems.append("similarity: expected a mapping with ngram, threshold, margin, min_chars")
    else:
        ngram = sim.get("ngram")
        if not (isinstance(ngram, list) and ngram and all(isinstance(n, int) and 1 <= n <= 5 for n in ngram)):
            problems.append("similarity.ngram: expected a list of n-gram sizes between 1 and 5")
        for key in ("threshold", "margin"):
            value = sim.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                problems.append(f"similarity.{key}: expected a number between 0 and 1")
        if not isinstance(sim.get("min_chars"), int) or sim.get("min_chars", 0) < 1:
            problems.append("similarity.min_chars: expected a positive integer")
    scope = data.get("mitigation_scope", {})
    following = scope.get("following_sentences", 1) if isinstance(scope, dict) else None
    if not isinstance(following, int) or isinstance(following, bool) or not 0 <= following <= 5:
        problems.append("mitigation_scope: expected a mapping with following_sentences between 0 and 5")
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        return problems + ["rules: expected a non-empty list of rules"]
    seen: set[str] = set()
    for where, rule in each_mapping(rules, "rules", problems, ": expected a mapping"):
        rid = rule.get("id")
        where = f"rule {rid!r}" if isinstance(rid, str) else where
        if not isinstance(rid, str) or not rid:
            problems.append(f"{where}: missing id")
        elif rid in seen:
            problems.append(f"{where}: duplicate id")
        else:
            seen.add(rid)
        unknown = set(rule) - _RULE_KEYS
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        if rule.get("category") not in categories:
            problems.append(f"{where}: category {rule.get('category')!r} is not listed in categories")
        if rule.get("severity") not in SEVERITIES:
            problems.append(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        if not isinstance(rule.get("message"), str) or not rule.get("message"):
            problems.append(f"{where}: missing message (a plain zh-CN explanation)")
        english(rule.get("message_en"), f"{where}.message_en", problems)
        for key in _LIST_KEYS:
            if key in rule and not (isinstance(rule[key], list) and all(isinstance(v, str) for v in rule[key])):
                problems.append(f"{where}.{key}: expected a list of strings")
        if not rule.get("phrases") and not rule.get("patterns"):
            problems.append(f"{where}: needs phrases or patterns")
        for key in ("patterns", "exceptions"):
            for j, pattern in enumerate(rule.get(key) or []):
                if (found := _regex_problem(f"{where}.{key}[{j}]", pattern)):
                    problems.append(found)
        for j, pattern in enumerate(rule.get("mitigations") or []):
            if isinstance(pattern, str) and pattern.startswith("@"):
                if pattern[1:] not in shared:
                    problems.append(f"{where}.mitigations[{j}]: unknown shared pattern {pattern!r}")
            elif (found := _regex_problem(f"{where}.mitigations[{j}]", pattern)):
                problems.append(found)
    if "good_exemplars" in data and not _str_list(data["good_exemplars"]):
        problems.append("good_exemplars: expected a list of non-empty strings")
    return problems


@validator(REWRITES_PACK)
def validate_rewrites(data: dict[str, Any]) -> list[str]:
    """Problems of a rewrites pack (empty when it is fine)."""
    problems: list[str] = []
    empathy = data.get("empathy")
    if not isinstance(empathy, dict) or not isinstance(empathy.get("default"), str):
        problems.append("empathy: expected a mapping with at least a 'default' sentence")
    elif not all(isinstance(v, str) and v for v in empathy.values()):
        problems.append("empathy: every value must be a non-empty sentence")
    owner = data.get("owner")
    if not isinstance(owner, dict) or not isinstance(owner.get("anonymous"), str) \
            or "{agent}" not in str(owner.get("named", "")):
        problems.append("owner: expected 'anonymous' and 'named' (containing {agent})")
    bridges = data.get("bridges")
    if not isinstance(bridges, dict) or not all(isinstance(v, str) for v in bridges.values()):
        problems.append("bridges: expected a mapping of category -> sentence (may be empty)")
    causes = data.get("causes")
    if not isinstance(causes, dict) or "other" not in causes:
        problems.append("causes: expected a mapping of cause -> template that includes 'other'")
    else:
        for cause, spec in causes.items():
            where = f"causes.{cause}"
            if not isinstance(spec, dict):
                problems.append(f"{where}: expected a mapping")
                continue
            for key in ("action", "what", "when", "reply"):
                if not isinstance(spec.get(key), str) or not spec.get(key):
                    problems.append(f"{where}.{key}: expected a non-empty string")
            if "{what}" not in str(spec.get("action", "")):
                problems.append(f"{where}.action: must contain {{what}}")
            if not isinstance(spec.get("keywords", []), list):
                problems.append(f"{where}.keywords: expected a list of strings")
    industries = data.get("industries", {})
    if not isinstance(industries, dict):
        problems.append("industries: expected a mapping of industry -> cause -> template")
    else:
        for industry, overrides in industries.items():
            for cause, spec in (overrides or {}).items() if isinstance(overrides, dict) else [(None, None)]:
                if not isinstance(spec, dict) or any(not isinstance(spec.get(k), str) or not spec.get(k)
                                                     for k in ("action", "what", "when", "reply")) \
                        or "{what}" not in str(spec.get("action", "")):
                    problems.append(f"industries.{industry}.{cause}: expected action (with {{what}}), what, "
                                    "when and reply")
    refusal = data.get("refusal")
    if not isinstance(refusal, dict) or not all(isinstance(refusal.get(k), str) and refusal.get(k)
                                                for k in ("bridge", "tail")):
        problems.append("refusal: expected 'bridge' and 'tail' sentences (the tail may use {when})")
    hazards = data.get("hazards", {})
    if not isinstance(hazards, dict) or not all(
            isinstance(spec, dict) and isinstance(spec.get("reply"), str) and spec.get("reply")
            and isinstance(spec.get("cues"), list) and spec["cues"] and all(isinstance(c, str) and c for c in spec["cues"])
            for spec in hazards.values()):
        problems.append("hazards: expected a mapping of kind -> {cues: [words], reply: sentence}")
    if not isinstance(data.get("fallback"), str) or not data.get("fallback"):
        problems.append("fallback: expected the safe reply used when a composed rewrite fails the check")
    return problems


def load_checked(name: str, locale: str = DEFAULT_LOCALE, rules_dir: str | Path | None = None) -> dict[str, Any]:
    """Load a pack and refuse it (AF301) when its validator finds problems."""
    data = load_pack(name, locale, rules_dir)
    check = validate_forbidden_phrases if name == FORBIDDEN_PACK else validate_rewrites
    problems = check(data)
    if problems:
        path = pack_dir(locale, rules_dir) / f"{name}.yaml"
        raise RulePackError("AF301", str(path), reason="; ".join(problems[:3]))
    return data
