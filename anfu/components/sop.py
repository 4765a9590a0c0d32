"""Complaint SOP stage (投诉处理流程) and the agent's next actions.

The stage moves forward through 接收反馈 → 确认问题 → 提供方案 → 执行方案 → 跟进回访 as
agent and customer turns show the markers of the sop pack; a customer who rejects the
plan or reports the problem persists sends it back. An agent who only promises a later
step ("修好后我会回访您") does not reach it yet. The next actions combine the stage's
actions with overlays for the customer's current emotion, intensity, abuse and threats.

`anfu.sop.v1` moves the stage with the pack's markers alone; `anfu.sop.v2` (`LearnedSop`)
scores each turn's move with a linear model learnt from our labelled conversations
(`anfu train-sop`), reading the turn's words, its speaker, the stage so far and the markers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .. import registry
from ..backends.ngram import softmax
from ..glossary import EMOTIONS, SOP_STAGES
from ..lru import Lru
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

    def step(self, stage: int, speaker: str, norm: str, found: Sequence[Any] | None = None) -> int:
        """The stage index after one turn. `found`: the pack's matches in `norm` when the
        caller already has them (they do not depend on the stage; `decode_stages` asks for
        the same turn from every stage)."""
        forward, back = stage, None
        for m in (self.matcher.find(norm) if found is None else found):
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


# -- anfu.sop.v2: a learned per-turn stage model ---------------------------------------------
#: what one turn does to the stage: back (a setback), stay, one stage on, two stages on
MOVES: tuple[str, ...] = ("back", "stay", "next", "skip")
_AGENT, _CUSTOMER = "\x05", "\x06"  # speaker marks in front of the turn's n-gram text
SOP_MEMO = 2048  # windows whose decoder state `anfu.sop.v2` remembers (see `decode_stages`)
#: the dense features of `turn_inputs`, in order (stored with the weights and checked on load)
DENSE_FEATURES: tuple[str, ...] = (
    *(f"from:{s}" for s in SOP_STAGES), *(f"rules_to:{s}" for s in SOP_STAGES),
    *(f"rules_move:{m}" for m in MOVES), "agent", *(f"agent_from:{s}" for s in SOP_STAGES),
    "first_turn", "second_turn", "later_turn", "agent_turns_before", "chars")


def turn_inputs(model: SopModel, stage: int, speaker: str, norm: str, index: int,
                agent_turns_before: int, found: Sequence[Any] | None = None,
                ruled: int | None = None) -> tuple[str, list[float]]:
    """What `anfu.sop.v2` reads of one turn reached at `stage` (an index of SOP_STAGES): the
    speaker-marked text and the dense features (the stage so far, where the sop pack's markers
    would take it — `ruled`, when the caller has it — the speaker, the turn's position and length)."""
    if ruled is None:
        ruled = model.step(stage, speaker, norm, found)
    move = ruled - stage
    dense = [0.0] * len(DENSE_FEATURES)
    n = len(SOP_STAGES)
    dense[stage] = 1.0
    dense[n + ruled] = 1.0
    dense[2 * n + (0 if move < 0 else min(move, 2) + 1)] = 1.0
    at = 2 * n + len(MOVES)
    if speaker == "agent":
        dense[at] = 1.0
        dense[at + 1 + stage] = 1.0
    at += 1 + n
    dense[at + min(index, 2)] = 1.0
    dense[at + 3] = math.log1p(agent_turns_before)
    dense[at + 4] = math.log1p(len(norm)) / 5
    return (_AGENT if speaker == "agent" else _CUSTOMER) + norm, dense


def target(model: SopModel, stage: int, move: int, speaker: str, norm: str,
           found: Sequence[Any] | None = None, ruled: int | None = None) -> int:
    """The stage after a turn from `stage` that makes `move` (an index of MOVES); a setback goes
    where the pack's setback sends it (`ruled`, when the caller has it), else one stage back."""
    if move == 0:
        if ruled is None:
            ruled = model.step(stage, speaker, norm, found)
        return ruled if ruled < stage else max(stage - 1, 0)
    return min(stage + move - 1, len(SOP_STAGES) - 1)


def decode_stages(model: SopModel, linear: Any, turns: Sequence[TurnAssessment],
                  memo: Lru[Any, Any] | None = None) -> list[int]:
    """The most probable stage after each turn (Viterbi over the stages, each turn's move
    scored by the linear model given the stage before it).

    With a `memo` (an `Lru` the caller owns), the decoder's state after these turns is remembered
    (the SOP_MEMO windows used last) by their speakers and texts, and a window that extends a
    remembered one by a turn (a live chat's next turn) starts from there: the same answer
    without scoring the earlier turns again."""
    best: dict[int, tuple[float, list[int]]] = {0: (0.0, [])}
    agents = 0
    norms = [turn.norm or normalize(turn.text) for turn in turns]
    keys = tuple((turn.speaker, n) for turn, n in zip(turns, norms))
    start = 0
    if memo is not None and len(turns) > 1:
        known = memo.get(keys[:-1])
        if known is not None:
            best, agents = known
            start = len(turns) - 1
    # Every turn's scores from every stage in one vectorised pass over the window: the text's part
    # once per turn (it does not depend on the stage), each stage adding its dense features. The
    # pack's verdict (`ruled`) is computed once per turn and stage, for the features and setbacks.
    n_stages, span = len(SOP_STAGES), len(turns) - start
    ruled: list[list[int]] = []
    logp_all = None
    if span:
        texts = linear.text_logits([(_AGENT if t.speaker == "agent" else _CUSTOMER) + n
                                    for t, n in zip(turns[start:], norms[start:])])
        dense: list[list[float]] = []
        before = agents
        for index in range(start, len(turns)):
            turn, norm = turns[index], norms[index]
            found = model.matcher.find(norm)  # the same for every state
            ruled.append([model.step(s, turn.speaker, norm, found) for s in range(n_stages)])
            dense.extend(turn_inputs(model, s, turn.speaker, norm, index, before, found, ruled[-1][s])[1]
                         for s in range(n_stages))
            before += turn.speaker == "agent"
        logits = linear.logits_with(np.repeat(texts, n_stages, axis=0), np.array(dense))
        logp_all = np.log(softmax(logits) + 1e-9).reshape(span, n_stages, len(MOVES)).tolist()
    for index in range(start, len(turns)):
        turn, norm = turns[index], norms[index]
        logp, verdicts = logp_all[index - start], ruled[index - start]  # type: ignore[index]
        nxt: dict[int, tuple[float, list[int]]] = {}
        for stage in sorted(best):
            score, path = best[stage]
            for move in range(len(MOVES)):
                if move == 0 and stage == 0:
                    continue
                after = target(model, stage, move, turn.speaker, norm, None, verdicts[stage])
                total = score + logp[stage][move]
                if after not in nxt or total > nxt[after][0]:
                    nxt[after] = (total, path + [after])
        best = nxt
        agents += turn.speaker == "agent"
    if not turns:
        return []
    if memo is not None:
        memo.put(keys, (best, agents))  # never changed in place: each turn builds new paths
    return max(best.values(), key=lambda v: (v[0], -v[1][-1]))[1]


@registry.components.register("anfu.sop.v2")
class LearnedSop(Sop):
    """The SOP stage from a per-turn model learnt from our labelled conversations (`anfu
    train-sop`): each turn's move (back / stay / next / skip) is scored from its text, speaker,
    the stage before it and where the sop pack's markers would take it, and the most probable
    sequence of stages is kept. Next actions come from the pack as in `anfu.sop.v1`."""

    name = "anfu.sop.v2"

    def __init__(self, rules_dir: str | None = None, model: str = "default") -> None:
        super().__init__(rules_dir)
        self.model = model
        from ..backends.text_dense import DEFAULT_SOP_WEIGHTS, load_text_dense_cached

        path = DEFAULT_SOP_WEIGHTS if model == "default" else model
        self.linear_ = load_text_dense_cached(path, MOVES, DENSE_FEATURES)

    def stages(self, turns: Sequence[TurnAssessment]) -> list[str]:
        """The stage after each turn."""
        memo = self.__dict__.get("_memo")
        if memo is None:
            memo = self.__dict__.setdefault("_memo", Lru(SOP_MEMO))
        return [SOP_STAGES[i] for i in decode_stages(self.model_, self.linear_, turns, memo)]

    def predict(self, docs: Sequence[Assessment]) -> list[tuple[str, list[str]] | None]:
        out: list[tuple[str, list[str]] | None] = []
        for doc in docs:
            if doc.is_utterance:
                out.append(None)
                continue
            path = self.stages(doc.turns)
            stage = path[-1] if path else SOP_STAGES[0]
            out.append((stage, self.model_.next_actions(stage, doc.turns)))
        return out
