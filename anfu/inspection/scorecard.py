"""Scorecards (质检评分表) as data: each centre's items, weights, required and forbidden
behaviour, emotion outcomes and automatic-zero items, applied to an analysed conversation.

A scorecard is a rule pack under `scorecards/` (kind `scorecards`, validated by
`check_scorecard`). Item kinds:

- `required`: an agent turn (the first `within_turns` agent turns when given) must match one of
  `patterns`; evidence is the matching span, or the conversation when it is missing.
- `forbidden`: no agent turn may carry a pre-send finding in `categories` (all when omitted) or
  match `patterns`; evidence is every offending span.
- `outcome`: a conversation field of the analyzer's outcome model (`calmed` for 安抚成功,
  `outcome`) must be one of `expect`.
- `quality`: the analyzer's `quality_score` must be at least `min`.
- `peak_handled`: after the customer's emotional peak (intensity ≥ `peak_at_least`), the
  intensity must fall below it within `within_turns` customer turns.
- `zero`: an automatic zero (e.g. abuse by the agent, `abuse: true`, or `patterns`): when it
  hits, the whole conversation scores 0.

`when.peak_at_least` makes an item apply only to conversations whose customer reached that
intensity (an apology is not required of a calm enquiry). The score is the weight of the items
passed over the weight of the items that apply, × 100, rounded; 0 when a zero item hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import RulePackError
from ..rules import load_pack, pack_dir, validator
from ..rules.checked import regex

KINDS = ("required", "forbidden", "outcome", "quality", "peak_handled", "zero")
OUTCOME_FIELDS = ("calmed", "outcome")
PACK_FOLDER = "scorecards"


@validator(PACK_FOLDER)
def check_scorecard(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if data.get("kind") != "scorecard":
        problems.append("kind must be 'scorecard'")
    if not isinstance(data.get("name"), str) or not data.get("name"):
        problems.append("name must be a non-empty string")
    for key, low, high in (("pass_score", 0, 100), ("low_score", 0, 100), ("sample_rate", 0, 1)):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            problems.append(f"{key} must be a number between {low} and {high}")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        return problems + ["items must be a non-empty list"]
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping")
            continue
        iid = item.get("id")
        if not isinstance(iid, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", iid):
            problems.append(f"{where}.id must be a lower-case identifier")
        elif iid in seen:
            problems.append(f"{where}.id {iid!r} is repeated")
        else:
            seen.add(iid)
        if not isinstance(item.get("name"), str) or not item.get("name"):
            problems.append(f"{where}.name must be a non-empty string")
        kind = item.get("kind")
        if kind not in KINDS:
            problems.append(f"{where}.kind must be one of {', '.join(KINDS)}")
            continue
        weight = item.get("weight", 0)
        if kind != "zero" and (isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0):
            problems.append(f"{where}.weight must be a positive number")
        patterns = item.get("patterns", []) or []
        if not isinstance(patterns, list):  # a bare string was read one character at a time
            problems.append(f"{where}.patterns must be a list of regexes, e.g. patterns: ['您好']")
            patterns = []
        for i, p in enumerate(patterns):
            regex(p, f"{where}.patterns[{i}]", problems)
        if kind == "required" and not item.get("patterns"):
            problems.append(f"{where}: a required item needs patterns")
        if kind == "zero" and not (item.get("patterns") or item.get("abuse")):
            problems.append(f"{where}: a zero item needs patterns or abuse: true")
        if kind == "outcome":
            if item.get("field") not in OUTCOME_FIELDS:
                problems.append(f"{where}.field must be one of {', '.join(OUTCOME_FIELDS)}")
            if not isinstance(item.get("expect"), list) or not item["expect"]:
                problems.append(f"{where}.expect must be a non-empty list")
        if kind == "quality" and not isinstance(item.get("min"), (int, float)):
            problems.append(f"{where}.min must be a number")
        if kind == "peak_handled" and not isinstance(item.get("within_turns"), int):
            problems.append(f"{where}.within_turns must be an integer")
        when = item.get("when", {})
        if not isinstance(when, dict) or set(when) - {"peak_at_least"}:
            problems.append(f"{where}.when may only hold peak_at_least")
    return problems


@dataclass(frozen=True)
class Evidence:
    turn: int          # 0-based index into the conversation's turns; -1 for the whole conversation
    start: int
    end: int
    text: str
    category: str | None = None   # the pre-send finding's category, for forbidden items

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"turn": self.turn, "start": self.start, "end": self.end, "text": self.text}
        if self.category:
            out["category"] = self.category
        return out


def load_scorecard(name: str = "default", rules_dir: str | Path | None = None) -> "Scorecard":
    """The validated scorecard `scorecards/<name>.yaml` (AF301 when invalid, AF302 when absent)."""
    data = load_pack(f"{PACK_FOLDER}/{name}", rules_dir=rules_dir)
    problems = check_scorecard(data)
    if problems:
        path = pack_dir(rules_dir=rules_dir) / PACK_FOLDER / f"{name}.yaml"
        raise RulePackError("AF301", str(path), reason="; ".join(problems[:5]))
    return Scorecard(name, data)


@lru_cache(maxsize=64)
def _rx(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


class Scorecard:
    """A validated scorecard; `apply(result, texts, abuse=None)` scores one conversation."""

    def __init__(self, name: str, data: dict[str, Any]) -> None:
        self.name = name
        self.data = data
        self.title: str = data["name"]
        self.version = int(data.get("version", 1))
        self.pass_score = float(data["pass_score"])
        self.low_score = float(data["low_score"])
        self.sample_rate = float(data["sample_rate"])
        self.items: list[dict[str, Any]] = data["items"]

    def item(self, item_id: str) -> dict[str, Any] | None:
        return next((i for i in self.items if i["id"] == item_id), None)

    def apply(self, result: dict[str, Any], texts: list[str], abuse: Any = None) -> dict[str, Any]:
        """Score one conversation: `result` is its `anfu analyze` output, `texts` the original
        text of each turn (evidence spans index into them), `abuse(text) -> [(start, end)]` finds
        abusive spans in an agent turn for `abuse: true` zero items."""
        turns = result.get("turns") or []
        intensities = [(i, t.get("intensity") or 0) for i, t in enumerate(turns) if t.get("speaker") == "customer"]
        peak = max((v for _, v in intensities), default=0)
        agent_turns = [i for i, t in enumerate(turns) if t.get("speaker") == "agent"]
        out_items = []
        zeroed = False
        earned = possible = 0.0
        for item in self.items:
            kind = item["kind"]
            applies = peak >= item.get("when", {}).get("peak_at_least", 0)
            passed: bool | None = None
            evidence: list[Evidence] = []
            if applies:
                if kind == "required":
                    rx = _rx(tuple(item["patterns"]))
                    scope = agent_turns[: item["within_turns"]] if item.get("within_turns") else agent_turns
                    for i in scope:
                        m = rx.search(texts[i]) if rx else None
                        if m:
                            evidence.append(Evidence(i, m.start(), m.end(), m.group(0)))
                            break
                    passed = bool(evidence)
                    if not passed:
                        evidence.append(Evidence(-1, 0, 0, ""))
                elif kind in ("forbidden", "zero"):
                    categories = set(item.get("categories") or ())
                    rx = _rx(tuple(item.get("patterns") or ()))
                    for i in agent_turns:
                        if kind == "forbidden" and (categories or not item.get("patterns")):
                            for f in turns[i].get("findings") or ():
                                if not categories or f.get("category") in categories:
                                    evidence.append(Evidence(i, f["start"], f["end"], texts[i][f["start"]:f["end"]],
                                                              f.get("category")))
                        if rx:
                            evidence += [Evidence(i, m.start(), m.end(), m.group(0)) for m in rx.finditer(texts[i])]
                        if kind == "zero" and item.get("abuse") and abuse is not None:
                            evidence += [Evidence(i, s, e, texts[i][s:e]) for s, e in abuse(texts[i])]
                    passed = not evidence
                    if kind == "zero" and evidence:
                        zeroed = True
                elif kind == "outcome":
                    value = result.get(item["field"])
                    passed = value in item["expect"] if value is not None else None
                    applies = value is not None
                elif kind == "quality":
                    value = result.get("quality_score")
                    passed = value >= item["min"] if value is not None else None
                    applies = value is not None
                elif kind == "peak_handled":
                    threshold = item.get("peak_at_least", 3)
                    first = next((n for n, (_, v) in enumerate(intensities) if v >= threshold), None)
                    if first is None:
                        applies = False
                    else:
                        after = intensities[first + 1: first + 1 + item["within_turns"]]
                        passed = any(v < threshold for _, v in after)
                        i = intensities[first][0]
                        evidence.append(Evidence(i, 0, len(texts[i]), texts[i]))
            weight = float(item.get("weight", 0))
            if applies and kind != "zero" and passed is not None:
                possible += weight
                earned += weight if passed else 0.0
            out_items.append({"id": item["id"], "name": item["name"], "kind": kind, "weight": weight,
                              "applies": bool(applies and passed is not None), "passed": passed,
                              "evidence": [e.to_dict() for e in evidence]})
        score = 0.0 if zeroed else (round(100.0 * earned / possible, 1) if possible else 100.0)
        return {"id": result.get("id"), "scorecard": self.name, "scorecard_version": self.version,
                "score": score, "zeroed": zeroed, "passed": score >= self.pass_score,
                "low": score < self.low_score, "items": out_items}
