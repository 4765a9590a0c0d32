"""Negative-energy customers (负能量客户): persistent complaining, unreasonable demands,
aggressive language and threats of violence, with the protocol to follow (boundary
scripts, cooling off, team support, supervisor alert, agent protection)."""

from __future__ import annotations

from typing import Any, Sequence

from .. import registry
from ..rules import validator
from ..rules.checked import load_checked, number, str_list
from ..text.matcher import PhraseMatcher, longest_non_overlapping
from ..text.normalize import normalize
from ..text.overlap import RepeatTracker, content
from ..types import (AgentProtection, Assessment, CoolingOff, NegativeEnergyResult, Protocol, Signal, TeamSupport,
                     TurnAssessment)
from ..events import NegativeEnergyFlagged
from .base import Component

PACK = "negative_energy"
SIGNAL_TYPES = ("persistent_complaining", "unreasonable_demand", "aggression", "violence_threat")
NEGATORS = ("不", "没", "别")
CALM_EMOTIONS = ("neutral", "satisfied")
# boundary scripts are said most-severe first
SCRIPT_ORDER = ("violence_threat", "aggression", "unreasonable_demand", "persistent_complaining")


def _types_ok(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, list) or any(v not in SIGNAL_TYPES for v in value):
        problems.append(f"{where} must list signal types from {', '.join(SIGNAL_TYPES)}")


@validator(PACK)
def validate_negative_energy(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    s = data.get("settings")
    if not isinstance(s, dict):
        return ["settings must be a mapping"]
    number(s.get("repeat_containment"), "settings.repeat_containment", problems, 0.1, 1)
    number(s.get("repeat_max_novelty"), "settings.repeat_max_novelty", problems, 0, 1)
    for key in ("repeat_min_chars", "complaining_min_repeats", "quote_chars"):
        number(s.get(key), f"settings.{key}", problems, 1, 1000)
    for key in ("unreasonable_demands", "violence_threats"):
        section = data.get(key)
        if not isinstance(section, dict):
            problems.append(f"{key} must be a mapping with phrases/regexes")
            continue
        str_list(section.get("phrases", []), f"{key}.phrases", problems)
        str_list(section.get("regexes", []), f"{key}.regexes", problems, allow_empty=True)
    p = data.get("protocol")
    if not isinstance(p, dict):
        return problems + ["protocol must be a mapping"]
    scripts = p.get("boundary_scripts")
    if not isinstance(scripts, dict) or set(scripts) != set(SIGNAL_TYPES):
        problems.append(f"protocol.boundary_scripts needs one script for each of {', '.join(SIGNAL_TYPES)}")
    for key in ("cooling_off", "team_support", "supervisor_alert", "takeover"):
        section = p.get(key)
        if not isinstance(section, dict):
            problems.append(f"protocol.{key} must be a mapping")
            continue
        _types_ok(section.get("when"), f"protocol.{key}.when", problems)
    if isinstance(p.get("cooling_off"), dict):
        number(p["cooling_off"].get("minutes"), "protocol.cooling_off.minutes", problems, 1, 1440)
        number(p["cooling_off"].get("min_aggression"), "protocol.cooling_off.min_aggression", problems, 1, 100)
        if "{minutes}" not in str(p["cooling_off"].get("script", "")):
            problems.append("protocol.cooling_off.script must mention {minutes}")
    if isinstance(p.get("team_support"), dict):
        number(p["team_support"].get("min_signals"), "protocol.team_support.min_signals", problems, 1, 100)
        if not isinstance(p["team_support"].get("action"), str):
            problems.append("protocol.team_support.action must be a string")
    if isinstance(p.get("supervisor_alert"), dict):
        number(p["supervisor_alert"].get("min_signals"), "protocol.supervisor_alert.min_signals", problems, 1, 100)
    if isinstance(p.get("takeover"), dict):
        number(p["takeover"].get("min_aggression"), "protocol.takeover.min_aggression", problems, 1, 100)
    str_list(p.get("self_care"), "protocol.self_care", problems)
    return problems


class NegativeEnergyModel:
    """The negative_energy pack compiled for matching; picklable."""

    def __init__(self, pack: dict[str, Any]) -> None:
        self.settings: dict[str, Any] = pack["settings"]
        self.protocol_spec: dict[str, Any] = pack["protocol"]
        self.matcher = PhraseMatcher()
        for key, kind in (("unreasonable_demands", "unreasonable_demand"), ("violence_threats", "violence_threat")):
            self.matcher.extend(pack[key].get("phrases", []), kind)
            for rx in pack[key].get("regexes", []):
                self.matcher.add_regex(rx, kind)

    def _quote(self, text: str) -> str:
        limit = self.settings["quote_chars"]
        text = text.strip()
        return text if len(text) <= limit else text[:limit] + "…"

    def signals(self, turns: Sequence[TurnAssessment]) -> list[Signal]:
        """Every signal in `turns`, in turn order."""
        s = self.settings
        out: list[Signal] = []
        history = RepeatTracker()
        for index, turn in enumerate(turns):
            if turn.speaker != "customer":
                continue
            norm = turn.norm or normalize(turn.text)
            for m in longest_non_overlapping(self.matcher.find(norm)):
                if m.start > 0 and norm[m.start - 1] in NEGATORS:
                    continue
                out.append(Signal(type=m.payload, turn=index, text=turn.text[m.start:m.end]))
            if turn.abusive:
                out.append(Signal(type="aggression", turn=index, text=self._quote(turn.text)))
            # complaining means negative: a repeated thank-you or a calm answer is not
            complaining = turn.emotion is None or turn.emotion not in CALM_EMOTIONS
            if complaining and len(content(norm)) >= s["repeat_min_chars"]:
                _, share, new = history.best(norm)
                if share >= s["repeat_containment"] and new <= s["repeat_max_novelty"]:
                    out.append(Signal(type="persistent_complaining", turn=index, text=self._quote(turn.text)))
            history.add(norm)
        return out

    def flagged(self, signals: Sequence[Signal]) -> bool:
        repeats = sum(1 for sig in signals if sig.type == "persistent_complaining")
        others = any(sig.type != "persistent_complaining" for sig in signals)
        return others or repeats >= self.settings["complaining_min_repeats"]

    def protocol(self, signals: Sequence[Signal], flag: bool) -> Protocol:
        spec = self.protocol_spec
        types = {sig.type for sig in signals} if flag else set()
        aggression = sum(1 for sig in signals if sig.type == "aggression") if flag else 0
        count = len(signals) if flag else 0
        scripts: list[str] = []
        for kind in SCRIPT_ORDER:
            if kind in types:
                first = next(sig for sig in signals if sig.type == kind)
                scripts.append(spec["boundary_scripts"][kind].replace("{text}", first.text))
        cool = spec["cooling_off"]
        cooling = bool(types & set(cool["when"])) or aggression >= cool["min_aggression"]
        team = spec["team_support"]
        team_on = bool(types & set(team["when"])) or count >= team["min_signals"]
        alert = spec["supervisor_alert"]
        take = spec["takeover"]
        return Protocol(
            boundary_scripts=tuple(scripts),
            cooling_off=CoolingOff(recommended=cooling, minutes=cool["minutes"] if cooling else 0,
                                   script=cool["script"].replace("{minutes}", str(cool["minutes"])) if cooling else ""),
            team_support=TeamSupport(recommended=team_on, action=team["action"] if team_on else ""),
            supervisor_alert=bool(types & set(alert["when"])) or count >= alert["min_signals"],
            agent_protection=AgentProtection(
                takeover_offered=bool(types & set(take["when"])) or aggression >= take["min_aggression"],
                wellbeing_marker=flag,
                self_care=tuple(spec["self_care"]) if flag else ()),
        )

    def assess(self, turns: Sequence[TurnAssessment]) -> tuple[NegativeEnergyResult, int | None]:
        """(negative_energy, index of the turn at which the flag was first raised)."""
        signals = self.signals(turns)
        flag = self.flagged(signals)
        flagged_at = None
        if flag:
            for i in range(len(signals)):
                if self.flagged(signals[: i + 1]):
                    flagged_at = signals[i].turn
                    break
        return NegativeEnergyResult(flag=flag, signals=tuple(signals), protocol=self.protocol(signals, flag)), flagged_at


def load_model(rules_dir: str | None = None) -> NegativeEnergyModel:
    return NegativeEnergyModel(load_checked(PACK, rules_dir=rules_dir))


@registry.components.register("anfu.negative_energy.v1")
class NegativeEnergy(Component):
    name = "anfu.negative_energy.v1"
    provides = ("negative_energy", "events")
    requires = ("turn.norm",)
    reads = ("turn.abusive", "turn.emotion")

    def __init__(self, rules_dir: str | None = None) -> None:
        self.rules_dir = rules_dir
        self.model_ = load_model(rules_dir)

    def predict(self, docs: Sequence[Assessment]) -> list[tuple[NegativeEnergyResult, list[NegativeEnergyFlagged]] | None]:
        out: list[tuple[NegativeEnergyResult, list[NegativeEnergyFlagged]] | None] = []
        for doc in docs:
            if doc.is_utterance:
                out.append(None)
                continue
            result, at = self.model_.assess(doc.turns)
            events = []
            if result.flag:
                events.append(NegativeEnergyFlagged(
                    conversation_id=doc.conversation.id,
                    signal_types=tuple(sorted({s.type for s in result.signals})),
                    supervisor_alert=result.protocol.supervisor_alert, turn=at))
            out.append((result, events))
        return out

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, result in zip(docs, outputs):
            if result is not None:
                doc.negative_energy, events = result
                doc.replace_events(NegativeEnergyFlagged.name, events)
