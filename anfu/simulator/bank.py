"""The simulator pack (`simulator.yaml`): the signals read on a trainee's reply, how each moves
the simulated customer, how a session is scored, and the phrase bank per persona × emotion ×
intensity the customer speaks from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..glossary import EMOTIONS, PERSONAS
from ..rules import DEFAULT_LOCALE, load_pack, validator
from ..rules.checked import load_checked
from ..text.normalize import t2s

PACK = "simulator"
SIGNALS = ("apology", "empathy", "listening", "question", "action", "time", "argue", "brush_off")
CALMING = ("apology", "empathy", "listening", "question", "discovery", "action", "action_with_time", "resolves",
           "resolves_early", "persona_fit")
WORSENING = ("persona_avoid", "argue", "brush_off", "ignored", "worsens")
STATES = ("hot", "tense", "easing", "calm", "escalated")
BANDS = ("high", "mid", "low")
REACTIONS = ("violation", "argue", "brush_off", "ignored", "apology", "empathy", "action", "action_with_time",
             "resolves_early", "worsens")
SEVERITIES = ("minor", "major", "critical")
OUTCOMES = ("resolved", "ongoing", "escalated")


def _lines(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where} must be a non-empty list of lines")


def _number(value: Any, where: str, problems: list[str], low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        problems.append(f"{where} must be a number from {low} to {high}")


def _regexes(value: Any, where: str, shared: dict[str, Any], problems: list[str]) -> None:
    if not isinstance(value, list) or not value:
        problems.append(f"{where} must be a non-empty list of regexes")
        return
    for i, pattern in enumerate(value):
        if not isinstance(pattern, str) or not pattern:
            problems.append(f"{where}[{i}] must be a regex string")
        elif pattern.startswith("@"):
            if pattern[1:] not in shared:
                problems.append(f"{where}[{i}]: unknown shared pattern {pattern}")
        else:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{where}[{i}]: bad regex ({exc})")


@validator(PACK)
def validate_simulator(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    shared = load_pack("forbidden_phrases").get("shared") or {}
    signals = data.get("signals")
    if not isinstance(signals, dict):
        problems.append("signals must map each signal to regexes")
    else:
        for name in SIGNALS:
            _regexes(signals.get(name), f"signals.{name}", shared, problems)
    dyn = data.get("dynamics")
    if not isinstance(dyn, dict):
        problems.append("dynamics must be a mapping")
    else:
        for name in CALMING:
            _number(dyn.get(name), f"dynamics.{name}", problems, -5, 0)
        for name in WORSENING:
            _number(dyn.get(name), f"dynamics.{name}", problems, 0, 5)
        violation = dyn.get("violation")
        if not isinstance(violation, dict):
            problems.append("dynamics.violation must map minor/major/critical to heat")
        else:
            for sev in SEVERITIES:
                _number(violation.get(sev), f"dynamics.violation.{sev}", problems, 0, 5)
        for name, low, high in (("violation_cap", 0, 5), ("repeat_decay", 0, 1), ("poisoned_share", 0, 1),
                                ("jitter", 0, 0.5), ("escalate_at", 1, 5), ("max_heat", 4, 10)):
            _number(dyn.get(name), f"dynamics.{name}", problems, low, high)
        if isinstance(dyn.get("escalate_after"), bool) or not isinstance(dyn.get("escalate_after"), int) \
                or dyn.get("escalate_after") < 1:
            problems.append("dynamics.escalate_after must be a whole number ≥ 1")
    scoring = data.get("scoring")
    if not isinstance(scoring, dict):
        problems.append("scoring must be a mapping")
    else:
        _number(scoring.get("quality_weight"), "scoring.quality_weight", problems, 0, 1)
        _number(scoring.get("outcome_weight"), "scoring.outcome_weight", problems, 0, 1)
        if isinstance(scoring.get("quality_weight"), (int, float)) and isinstance(scoring.get("outcome_weight"), (int, float)) \
                and abs(scoring["quality_weight"] + scoring["outcome_weight"] - 1) > 1e-6:
            problems.append("scoring.quality_weight + scoring.outcome_weight must be 1")
        points = scoring.get("outcome_points")
        if not isinstance(points, dict):
            problems.append("scoring.outcome_points must map resolved/ongoing/escalated to points")
        else:
            for name in OUTCOMES:
                _number(points.get(name), f"scoring.outcome_points.{name}", problems, 0, 100)
        _number(scoring.get("calmed_bonus"), "scoring.calmed_bonus", problems, 0, 100)
        _number(scoring.get("violation_penalty"), "scoring.violation_penalty", problems, 0, 100)
    personas = data.get("personas")
    if not isinstance(personas, dict):
        problems.append("personas must map each of the nine types to its settings and lines")
    else:
        for persona in PERSONAS:
            spec = personas.get(persona)
            where = f"personas.{persona}"
            if not isinstance(spec, dict):
                problems.append(f"{where} is missing")
                continue
            _number(spec.get("calm_rate"), f"{where}.calm_rate", problems, 0.1, 3)
            _number(spec.get("heat_rate"), f"{where}.heat_rate", problems, 0.1, 3)
            _regexes(spec.get("fit"), f"{where}.fit", shared, problems)
            _regexes(spec.get("avoid"), f"{where}.avoid", shared, problems)
            lines = spec.get("lines")
            if not isinstance(lines, dict):
                problems.append(f"{where}.lines must map {', '.join(STATES)} to lines")
                continue
            for state in STATES:
                _lines(lines.get(state), f"{where}.lines.{state}", problems)
        extra = sorted(set(personas) - set(PERSONAS))
        if extra:
            problems.append(f"personas: unknown types {extra}")
    emotions = data.get("emotions")
    if not isinstance(emotions, dict):
        problems.append("emotions must map emotions to intensity bands of lines")
    else:
        for emotion, bands in emotions.items():
            if emotion not in EMOTIONS:
                problems.append(f"emotions: unknown emotion {emotion!r}")
            elif not isinstance(bands, dict) or not bands or set(bands) - set(BANDS):
                problems.append(f"emotions.{emotion} must map some of {', '.join(BANDS)} to lines")
            else:
                for band, lines in bands.items():
                    _lines(lines, f"emotions.{emotion}.{band}", problems)
    reactions = data.get("reactions")
    if not isinstance(reactions, dict):
        problems.append("reactions must map each kind of handling to lines")
    else:
        for name in REACTIONS:
            _lines(reactions.get(name), f"reactions.{name}", problems)
    return problems


@dataclass(frozen=True)
class PersonaVoice:
    calm_rate: float
    heat_rate: float
    fit: tuple[re.Pattern[str], ...]
    avoid: tuple[re.Pattern[str], ...]
    lines: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class SimulatorPack:
    signals: dict[str, tuple[re.Pattern[str], ...]]
    dynamics: dict[str, Any]
    scoring: dict[str, Any]
    personas: dict[str, PersonaVoice]
    emotions: dict[str, dict[str, tuple[str, ...]]]
    reactions: dict[str, tuple[str, ...]]

    def emotion_lines(self, emotion: str, intensity: int) -> tuple[str, ...]:
        band = "high" if intensity >= 3 else "mid" if intensity == 2 else "low"
        return self.emotions.get(emotion, {}).get(band, ())


@lru_cache(maxsize=8)
def load_simulator_pack(rules_dir: str | None = None, locale: str = DEFAULT_LOCALE) -> SimulatorPack:
    """The validated simulator pack (AF301 when `anfu check-rules` would reject it)."""
    data = load_checked(PACK, rules_dir=rules_dir)
    shared = load_pack("forbidden_phrases", rules_dir=rules_dir).get("shared") or {}

    def rx(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(t2s(shared[p[1:]] if p.startswith("@") else p)) for p in patterns)

    return SimulatorPack(
        signals={name: rx(data["signals"][name]) for name in SIGNALS},
        dynamics=dict(data["dynamics"]),
        scoring=dict(data["scoring"]),
        personas={p: PersonaVoice(float(spec["calm_rate"]), float(spec["heat_rate"]), rx(spec["fit"]), rx(spec["avoid"]),
                                  {state: tuple(spec["lines"][state]) for state in STATES})
                  for p, spec in data["personas"].items()},
        emotions={e: {b: tuple(lines) for b, lines in bands.items()} for e, bands in data["emotions"].items()},
        reactions={name: tuple(lines) for name, lines in data["reactions"].items()},
    )
