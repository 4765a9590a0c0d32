"""Complaint SOP stage (投诉处理流程) and the agent's next actions.

The stage moves forward through 接收反馈 → 确认问题 → 提供方案 → 执行方案 → 跟进回访 as
agent and customer turns show the markers of the sop pack; a customer who rejects the
plan or reports the problem persists sends it back. An agent who only promises a later
step ("修好后我会回访您") does not reach it yet. The next actions combine the stage's
actions with overlays for the customer's current emotion, intensity, abuse and threats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .. import registry
from ..glossary import EMOTIONS, SOP_STAGES
from ..rules import validator
from ..rules.checked import each_mapping, load_checked, number, str_list
from ..text.cues import extract
from ..text.matcher import PhraseMatcher, clause_bounds
from ..text.normalize import normalize
from ..types import Assessment, TurnAssessment
from .base import Component

PACK = "sop"
NEGATORS = ("不", "没", "别")
_CONDITIONS = {"abusive", "escalation_risk", "min_intensity", "emotions"}


def _stage_ok(value: Any) -> bool:
    return value in SOP_STAGES


@validator(PACK)
def validate_sop(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for key in ("markers", "setbacks"):
        items = data.get(key)
        if not isinstance(items, list) or not items:
            problems.append(f"{key} must be a non-empty list")
            continue
        for where, item in each_mapping(items, key, problems):
            target = item.get("stage" if key == "markers" else "to")
            if not _stage_ok(target):
                problems.append(f"{where}: stage must be one of {', '.join(SOP_STAGES)}")
            if "after" in item and not _stage_ok(item["after"]):
                problems.append(f"{where}.after must be one of {', '.join(SOP_STAGES)}")
            if key == "markers" and item.get("speaker") not in ("customer", "agent"):
                problems.append(f"{where}.speaker must be customer or agent")
            if "max_chars" in item:
                number(item["max_chars"], f"{where}.max_chars", problems, 1, 10000)
            if "not_after" in item:
                str_list(item["not_after"], f"{where}.not_after", problems)
            phrases = str_list(item.get("phrases", []), f"{where}.phrases", problems, allow_empty=True)
            regexes = str_list(item.get("regexes", []), f"{where}.regexes", problems, allow_empty=True)
            if not phrases and not regexes:
                problems.append(f"{where} needs phrases or regexes")
    actions = data.get("actions")
    if not isinstance(actions, dict) or not all(isinstance(v, str) for v in actions.values()):
        return problems + ["actions must map an action name to its description"]
    stage_actions = data.get("stage_actions")
    if not isinstance(stage_actions, dict) or set(stage_actions) != set(SOP_STAGES):
        problems.append(f"stage_actions must list actions for each of {', '.join(SOP_STAGES)}")
    else:
        for stage, names in stage_actions.items():
            for name in str_list(names, f"stage_actions.{stage}", problems):
                if name not in actions:
                    problems.append(f"stage_actions.{stage}: unknown action {name!r}")
    for i, overlay in enumerate(data.get("overlays") or []):
        where = f"overlays[{i}]"
        when = overlay.get("when") if isinstance(overlay, dict) else None
        if not isinstance(when, dict) or not when or set(when) - _CONDITIONS:
            problems.append(f"{where}.when must use only {', '.join(sorted(_CONDITIONS))}")
            continue
        for emotion in when.get("emotions", []):
            if emotion not in EMOTIONS:
                problems.append(f"{where}: unknown emotion {emotion!r}")
        if "min_intensity" in when:
            number(when["min_intensity"], f"{where}.min_intensity", problems, 0, 4)
        for name in str_list(overlay.get("actions"), f"{where}.actions", problems):
            if name not in actions:
                problems.append(f"{where}: unknown action {name!r}")
    settings = data.get("settings")
    if not isinstance(settings, dict):
        return problems + ["settings must be a mapping"]
    number(settings.get("max_actions"), "settings.max_actions", problems, 1, 20)
    surface = settings.get("surface_intensity")
    if not isinstance(surface, dict):
        problems.append("settings.surface_intensity must be a mapping")
    else:
        number(surface.get("min_arousal"), "settings.surface_intensity.min_arousal", problems, 0, 1)
        number(surface.get("intensity"), "settings.surface_intensity.intensity", problems, 0, 4)
    return problems


@dataclass(frozen=True)
class _Marker:
    kind: str  # "forward" | "setback"
    stage: int  # target stage index
    after: int  # applies once the conversation reached this stage index
    speaker: str
    max_chars: int | None
    not_after: tuple[str, ...] = ()  # earlier in the clause, these make the match a promise


class SopModel:
    """The sop pack compiled for matching; picklable."""

    def __init__(self, pack: dict[str, Any]) -> None:
        self.pack = pack
        self.matcher = PhraseMatcher()
        for kind, key, target in (("forward", "markers", "stage"), ("setback", "setbacks", "to")):
            for item in pack[key]:
                marker = _Marker(kind, SOP_STAGES.index(item[target]),
                                 SOP_STAGES.index(item.get("after", SOP_STAGES[0])),
                                 item.get("speaker", "customer"), item.get("max_chars"),
                                 tuple(normalize(w) for w in item.get("not_after", [])))
                self.matcher.extend(item.get("phrases", []), marker)
                for rx in item.get("regexes", []):
                    self.matcher.add_regex(rx, marker)

    def step(self, stage: int, speaker: str, norm: str) -> int:
        """The stage index after one turn."""
        forward, back = stage, None
        for m in self.matcher.find(norm):
            marker: _Marker = m.payload
            if marker.speaker != speaker or stage < marker.after:
                continue
            if marker.max_chars is not None and len(norm) > marker.max_chars:
                continue
            if m.start > 0 and norm[m.start - 1] in NEGATORS:
                continue
            if marker.not_after and _promised(norm, m.start, m.end, marker.not_after):
                continue
            if marker.kind == "setback":
                back = marker.stage if back is None else min(back, marker.stage)
            else:
                forward = max(forward, marker.stage)
        return back if back is not None and back < stage else forward

    def stage(self, turns: Sequence[TurnAssessment]) -> str:
        index = 0
        for turn in turns:
            index = self.step(index, turn.speaker, turn.norm or normalize(turn.text))
        return SOP_STAGES[index]

    def next_actions(self, stage: str, turns: Sequence[TurnAssessment]) -> list[str]:
        """Actions for the agent's next turn given the stage and the latest customer turn."""
        latest = next((t for t in reversed(turns) if t.speaker == "customer"), None)
        front: list[str] = []
        if latest is not None:
            intensity = latest.intensity
            if intensity is None:
                surface = self.pack["settings"]["surface_intensity"]
                cues = extract(latest.norm or normalize(latest.text), latest.text)
                if cues.arousal >= surface["min_arousal"]:
                    intensity = surface["intensity"]
            for overlay in self.pack.get("overlays") or []:
                if _applies(overlay["when"], latest, intensity):
                    front.extend(overlay["actions"])
        out: list[str] = []
        for name in front + list(self.pack["stage_actions"][stage]):
            if name not in out:
                out.append(name)
        return out[: self.pack["settings"]["max_actions"]]


def _promised(norm: str, start: int, end: int, words: tuple[str, ...]) -> bool:
    """Whether one of `words` precedes the match in its clause: "修好后我会回访您" promises a
    follow-up (回访) that has not happened yet."""
    left, _ = clause_bounds(norm, start, end)
    before = norm[left:start]
    return any(w in before for w in words)


def _applies(when: dict[str, Any], turn: TurnAssessment, intensity: int | None) -> bool:
    if "abusive" in when and bool(turn.abusive) != when["abusive"]:
        return False
    if "escalation_risk" in when and bool(turn.escalation_risk) != when["escalation_risk"]:
        return False
    if "min_intensity" in when and (intensity is None or intensity < when["min_intensity"]):
        return False
    if "emotions" in when and turn.emotion not in when["emotions"]:
        return False
    return True


def load_model(rules_dir: str | None = None) -> SopModel:
    return SopModel(load_checked(PACK, rules_dir=rules_dir))


def describe_actions(names: list[str], model: SopModel | None = None) -> list[str]:
    """'name：description' lines for showing next actions to an agent."""
    model = model or load_model()
    return [f"{n}：{model.pack['actions'][n]}" for n in names]


@registry.components.register("anfu.sop.v1")
class Sop(Component):
    name = "anfu.sop.v1"
    provides = ("sop_stage", "next_actions")
    requires = ("turn.norm",)  # reads turn.emotion/intensity/abusive/escalation_risk when present

    def __init__(self, rules_dir: str | None = None) -> None:
        self.rules_dir = rules_dir
        self.model_ = load_model(rules_dir)

    def predict(self, docs: Sequence[Assessment]) -> list[tuple[str, list[str]] | None]:
        out: list[tuple[str, list[str]] | None] = []
        for doc in docs:
            if doc.is_utterance:
                out.append(None)
                continue
            stage = self.model_.stage(doc.turns)
            out.append((stage, self.model_.next_actions(stage, doc.turns)))
        return out

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, result in zip(docs, outputs):
            if result is not None:
                doc.sop_stage, doc.next_actions = result
