"""The wellbeing rule pack (`wellbeing.yaml`): its validator and the loaded rules."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..rules import validator
from ..rules.checked import load_checked

PACK = "wellbeing"
WEIGHTS = ("angry_minute", "abusive_minute", "negative_energy_contact", "csat_low", "back_to_back")


def _num(value: Any, where: str, problems: list[str], low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        problems.append(f"{where} must be a number from {low} to {high}")


def _strings(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where} must be a non-empty list of strings")


@validator(PACK)
def validate_wellbeing(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    try:
        ZoneInfo(str(data.get("shift_timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append("shift_timezone must be an IANA time zone such as Asia/Shanghai")
    _num(data.get("angry_intensity"), "angry_intensity", problems, 1, 4)
    _num(data.get("max_gap_minutes"), "max_gap_minutes", problems, 1, 240)
    _num(data.get("last_message_minutes"), "last_message_minutes", problems, 0, 60)
    _num(data.get("minutes_cap_per_contact"), "minutes_cap_per_contact", problems, 1, 1440)
    _num(data.get("csat_low_max"), "csat_low_max", problems, 1, 5)
    _num(data.get("back_to_back_gap_minutes"), "back_to_back_gap_minutes", problems, 0, 240)
    _num(data.get("scale"), "scale", problems, 1, 10_000)
    weights = data.get("weights")
    if not isinstance(weights, dict):
        problems.append("weights must be a mapping")
    else:
        for name in WEIGHTS:
            _num(weights.get(name), f"weights.{name}", problems, 0, 1000)
        esc = weights.get("escalation")
        if not isinstance(esc, dict) or set(esc) != {1, 2, 3}:
            problems.append("weights.escalation must map ladder levels 1, 2 and 3 to points")
        else:
            for level, points in esc.items():
                _num(points, f"weights.escalation.{level}", problems, 0, 1000)
    hard = data.get("hard_contact")
    if not isinstance(hard, dict):
        problems.append("hard_contact must be a mapping")
    else:
        _num(hard.get("min_peak_intensity"), "hard_contact.min_peak_intensity", problems, 1, 4)
        _num(hard.get("min_escalation_level"), "hard_contact.min_escalation_level", problems, 1, 3)
        _num(hard.get("csat_max"), "hard_contact.csat_max", problems, 1, 5)
        for key in ("abusive", "negative_energy"):
            if not isinstance(hard.get(key), bool):
                problems.append(f"hard_contact.{key} must be true or false")
    levels = data.get("levels")
    if not isinstance(levels, dict):
        problems.append("levels must map amber and red to index values")
    else:
        _num(levels.get("amber"), "levels.amber", problems, 1, 100)
        _num(levels.get("red"), "levels.red", problems, 1, 100)
        if isinstance(levels.get("amber"), (int, float)) and isinstance(levels.get("red"), (int, float)) \
                and levels["amber"] >= levels["red"]:
            problems.append("levels.amber must be below levels.red")
    rotation = data.get("rotation")
    if not isinstance(rotation, dict):
        problems.append("rotation must be a mapping")
    else:
        _num(rotation.get("min_index"), "rotation.min_index", problems, 1, 100)
        _num(rotation.get("break_minutes"), "rotation.break_minutes", problems, 1, 240)
        for key in ("reason", "reason_en"):
            if not isinstance(rotation.get(key), str) or not rotation[key].strip():
                problems.append(f"rotation.{key} must be a sentence")
    prompt = data.get("prompt")
    if not isinstance(prompt, dict):
        problems.append("prompt must be a mapping")
    else:
        _num(prompt.get("break_minutes"), "prompt.break_minutes", problems, 1, 60)
        _num(prompt.get("after_idle_minutes"), "prompt.after_idle_minutes", problems, 0, 240)
        breathing = prompt.get("breathing")
        if not isinstance(breathing, dict):
            problems.append("prompt.breathing must map inhale, hold, exhale (seconds) and rounds")
        else:
            for key, high in (("inhale", 20), ("hold", 20), ("exhale", 20), ("rounds", 30)):
                _num(breathing.get(key), f"prompt.breathing.{key}", problems, 0 if key == "hold" else 1, high)
        for key in ("reframes", "reframes_en", "self_check", "self_check_en"):
            _strings(prompt.get(key), f"prompt.{key}", problems)
        if isinstance(prompt.get("self_check"), list) and isinstance(prompt.get("self_check_en"), list) \
                and len(prompt["self_check"]) != len(prompt["self_check_en"]):
            problems.append("prompt.self_check and prompt.self_check_en must have as many questions")
    return problems


@dataclass(frozen=True)
class WellbeingRules:
    data: dict[str, Any]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.data["shift_timezone"])

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


@lru_cache(maxsize=8)
def load_wellbeing_rules(rules_dir: str | None = None) -> WellbeingRules:
    """The validated wellbeing pack (AF301 when `anfu check-rules` would reject it)."""
    return WellbeingRules(load_checked(PACK, rules_dir=rules_dir))
