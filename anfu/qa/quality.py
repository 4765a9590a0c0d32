"""Conversation quality score (质检评分) from the quality rubric pack and pre-send findings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import RulePackError
from ..rules import DEFAULT_LOCALE, load_pack, pack_dir, validator
from ..rules.checked import each_mapping
from ..text.normalize import t2s
from ..types import Finding, TurnAssessment
from .packs import FORBIDDEN_PACK, SEVERITIES

RUBRIC_PACK = "quality_rubric"
SCOPES: tuple[str, ...] = ("first_agent", "last_agent", "any_agent", "after_upset")


@validator(RUBRIC_PACK)
def validate_quality_rubric(data: dict[str, Any]) -> list[str]:
    """Problems of a quality rubric pack (empty when it is fine)."""
    problems: list[str] = []
    items = data.get("items")
    if not isinstance(items, list) or not items:
        problems.append("items: expected a non-empty list of rubric items")
        items = []
    seen: set[str] = set()
    for where, item in each_mapping(items, "items", problems, ": expected a mapping"):
        rid = item.get("id")
        if not isinstance(rid, str) or not rid.startswith("quality."):
            problems.append(f"{where}: id must be a string starting with 'quality.'")
        elif rid in seen:
            problems.append(f"{where}: duplicate id {rid!r}")
        else:
            seen.add(rid)
        for key in ("category", "message", "stage"):
            if not isinstance(item.get(key), str) or not item.get(key):
                problems.append(f"{where}.{key}: expected a non-empty string")
        weight = item.get("weight")
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
            problems.append(f"{where}.weight: expected a positive number")
        if item.get("scope") not in SCOPES:
            problems.append(f"{where}.scope: must be one of {', '.join(SCOPES)}")
        groups = item.get("groups")
        if not isinstance(groups, list) or not groups or not all(isinstance(g, list) and g for g in groups):
            problems.append(f"{where}.groups: expected a non-empty list of non-empty pattern lists")
            continue
        for g, group in enumerate(groups):
            for pattern in group:
                if not isinstance(pattern, str) or not pattern:
                    problems.append(f"{where}.groups[{g}]: patterns must be non-empty strings")
                elif not pattern.startswith("@"):
                    try:
                        re.compile(pattern)
                    except re.error as exc:
                        problems.append(f"{where}.groups[{g}]: bad regular expression {pattern!r} ({exc})")
    violations = data.get("violations")
    if not isinstance(violations, dict):
        problems.append("violations: expected a mapping with id, weight, penalty, message")
    else:
        penalty = violations.get("penalty")
        if not isinstance(penalty, dict) or set(penalty) != set(SEVERITIES) or not all(
                isinstance(v, (int, float)) and v >= 0 for v in penalty.values()):
            problems.append(f"violations.penalty: expected a number for each of {', '.join(SEVERITIES)}")
        if not isinstance(violations.get("weight"), (int, float)) or violations.get("weight", 0) < 0:
            problems.append("violations.weight: expected a non-negative number")
        if not isinstance(violations.get("id"), str) or not isinstance(violations.get("message"), str):
            problems.append("violations: id and message must be strings")
    upset = data.get("upset")
    if not isinstance(upset, dict) or not isinstance(upset.get("min_intensity"), int) \
            or not isinstance(upset.get("emotions"), list) or not isinstance(upset.get("patterns"), list):
        problems.append("upset: expected min_intensity (int), emotions (list) and patterns (list)")
    return problems


@dataclass(frozen=True)
class _Item:
    id: str
    category: str
    stage: str
    weight: float
    scope: str
    groups: tuple[tuple[re.Pattern[str], ...], ...]
    message: str

    def satisfied_by(self, norm: str) -> bool:
        return all(any(rx.search(norm) for rx in group) for group in self.groups)


class QualityRubric:
    """Scores a conversation's agent turns against the rubric; picklable."""

    def __init__(self, locale: str = DEFAULT_LOCALE, rules_dir: str | Path | None = None) -> None:
        data = load_pack(RUBRIC_PACK, locale, rules_dir)
        problems = validate_quality_rubric(data)
        shared = load_pack(FORBIDDEN_PACK, locale, rules_dir).get("shared") or {}
        unknown = sorted({p for item in data.get("items") or [] if isinstance(item, dict)
                          for g in item.get("groups") or [] if isinstance(g, list)
                          for p in g if isinstance(p, str) and p.startswith("@") and p[1:] not in shared})
        if unknown:
            problems.append(f"unknown shared patterns {unknown} (define them in forbidden_phrases.yaml)")
        if problems:
            raise RulePackError("AF301", str(pack_dir(locale, rules_dir) / f"{RUBRIC_PACK}.yaml"),
                                reason="; ".join(problems[:3]))

        def rx(pattern: str) -> re.Pattern[str]:
            return re.compile(t2s(shared[pattern[1:]] if pattern.startswith("@") else pattern))

        self.items_ = [_Item(id=i["id"], category=i["category"], stage=i["stage"], weight=float(i["weight"]),
                             scope=i["scope"], message=i["message"],
                             groups=tuple(tuple(rx(p) for p in g) for g in i["groups"]))
                       for i in data["items"]]
        v = data["violations"]
        self.violation_id_: str = v["id"]
        self.violation_weight_ = float(v["weight"])
        self.penalty_: dict[str, float] = {k: float(x) for k, x in v["penalty"].items()}
        self.violation_message_: str = v["message"]
        up = data["upset"]
        self.min_intensity_: int = up["min_intensity"]
        self.upset_emotions_ = frozenset(up["emotions"])
        self.upset_patterns_ = tuple(rx(p) for p in up["patterns"])

    def is_upset(self, turn: TurnAssessment) -> bool:
        if turn.intensity is not None or turn.emotion is not None:
            return (turn.intensity or 0) >= self.min_intensity_ or turn.emotion in self.upset_emotions_
        norm = turn.norm or turn.text
        return any(rx.search(norm) for rx in self.upset_patterns_)

    def score(self, turns: Sequence[TurnAssessment]) -> tuple[int, list[Finding]] | None:
        """(score 0..100, findings) for a conversation; None when no agent spoke."""
        agents = [i for i, t in enumerate(turns) if t.speaker == "agent"]
        if not agents:
            return None
        norms = {i: turns[i].norm or turns[i].text for i in agents}
        upset = next((i for i, t in enumerate(turns) if t.speaker == "customer" and self.is_upset(t)), None)
        earned = total = 0.0
        findings: list[Finding] = []
        for item in self.items_:
            total += item.weight
            if item.scope == "first_agent":
                scope = agents[:1]
            elif item.scope == "last_agent":
                scope = agents[-1:]
            elif item.scope == "after_upset":
                scope = [i for i in agents if upset is not None and i > upset]
                if not scope:  # the customer was never upset, or nobody answered after
                    earned += item.weight
                    continue
            else:
                scope = agents
            if any(item.satisfied_by(norms[i]) for i in scope):
                earned += item.weight
                continue
            findings.append(self._item_finding(item, turns, scope))
        total += self.violation_weight_
        lost = 0.0
        for i in agents:
            if not turns[i].violation:
                continue  # "consider" hints of the in-context check are no violation (as in anfu.qa.outcome)
            for f in turns[i].findings:
                lost += self.penalty_.get(f.severity, 0.0)
                findings.append(Finding(rule_id=self.violation_id_, category=f.category, start=f.start,
                                        end=f.end, severity=f.severity,
                                        message=f"第{i + 1}轮坐席回复：{f.message}"))
        earned += max(0.0, self.violation_weight_ - lost)
        return round(100 * earned / total) if total else 100, findings

    def _item_finding(self, item: _Item, turns: Sequence[TurnAssessment], scope: list[int]) -> Finding:
        if item.scope in ("first_agent", "last_agent", "after_upset"):
            i = scope[0]
            return Finding(rule_id=item.id, category=item.category, start=0, end=len(turns[i].text),
                           severity="major", message=f"第{i + 1}轮坐席回复（{item.stage}）：{item.message}")
        return Finding(rule_id=item.id, category=item.category, start=0, end=0, severity="major",
                       message=f"整通对话（{item.stage}）：{item.message}")
