"""Suggested replies (话术) for the agent's next turn, ranked and labelled with a guidance
method (说理诱导 / 行为诱导 / 利益诱导 / 情感诱导 / 前景诱导).

Scripts come from the strategies pack and are fitted to the customer's current emotion ×
intensity × persona × cause × SOP stage, then filled with the conversation's specifics:
what the customer mentioned (电费, 停电, 退款…), the cause in zh-CN and a concrete time.
Every suggestion passes the pre-send check (`anfu.qa.check_reply`) when it is installed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence

from .. import registry
from ..glossary import CAUSE_NAMES, CAUSES, EMOTION_NAMES, EMOTIONS, GUIDANCE_METHODS, PERSONAS, SOP_STAGES, display
from ..rules import validator
from ..rules.checked import load_checked, number, str_list
from ..text.matcher import PhraseMatcher
from ..text.normalize import normalize
from ..types import Assessment, Suggestion, TurnAssessment
from .base import Component
from .negative_energy import load_model as load_negative_energy
from .persona import load_model as load_persona
from .sop import load_model as load_sop

PACK = "strategies"
SLOTS = ("topic", "cause", "time")
_SLOT = re.compile(r"\{(\w+)\}")
_FITS = {"emotions", "min_intensity", "max_intensity", "causes", "personas", "prefer_personas", "stages", "actions",
         "abusive", "unreasonable_demand"}
_WEIGHTS = ("emotion", "intensity", "persona", "persona_method", "cause", "stage", "action", "signal")
SAMPLE_SLOTS = {"topic": "电费", "cause": "费用账单", "time": "24小时内"}


def render(text: str, slots: dict[str, str]) -> str:
    """Fill {slot} placeholders."""
    return _SLOT.sub(lambda m: slots[m.group(1)], text)


@validator(PACK)
def validate_strategies(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    s = data.get("settings")
    if not isinstance(s, dict):
        return ["settings must be a mapping"]
    number(s.get("min_suggestions"), "settings.min_suggestions", problems, 3, 20)
    number(s.get("max_suggestions"), "settings.max_suggestions", problems, 3, 20)
    number(s.get("timezone_hours"), "settings.timezone_hours", problems, -12, 14)
    number(s.get("round_minutes"), "settings.round_minutes", problems, 1, 60)
    weights = s.get("weights")
    if not isinstance(weights, dict) or set(weights) != set(_WEIGHTS):
        problems.append(f"settings.weights must give {', '.join(_WEIGHTS)}")
    else:
        for key, value in weights.items():
            number(value, f"settings.weights.{key}", problems, 0, 100)
    topics = data.get("topics")
    if not isinstance(topics, dict) or not topics or any(c not in CAUSES for c in topics.values()):
        problems.append(f"topics must map words to causes ({', '.join(CAUSES)})")
    for key in ("cause_topics", "time_commitments"):
        table = data.get(key)
        if not isinstance(table, dict) or set(table) != set(CAUSES):
            problems.append(f"{key} needs an entry for each cause: {', '.join(CAUSES)}")
    for cause, hours in (data.get("time_commitments") or {}).items():
        number(hours, f"time_commitments.{cause}", problems, 0.01, 24 * 60)
    scripts = data.get("scripts")
    if not isinstance(scripts, list) or not scripts:
        return problems + ["scripts must be a non-empty list"]
    ids: set[str] = set()
    methods: set[str] = set()
    for i, script in enumerate(scripts):
        where = f"scripts[{i}]"
        if not isinstance(script, dict):
            problems.append(f"{where} must be a mapping")
            continue
        sid = script.get("id")
        if not isinstance(sid, str) or sid in ids:
            problems.append(f"{where}.id must be a unique string")
        ids.add(str(sid))
        if script.get("method") not in GUIDANCE_METHODS:
            problems.append(f"{where}.method must be one of {', '.join(GUIDANCE_METHODS)}")
        methods.add(script.get("method"))
        text = script.get("text")
        if not isinstance(text, str) or not text:
            problems.append(f"{where}.text must be a string")
            continue
        used = set(_SLOT.findall(text))
        if used - set(SLOTS):
            problems.append(f"{where}.text uses unknown slots {sorted(used - set(SLOTS))}")
        if not used & {"topic", "cause"}:
            problems.append(f"{where}.text must use {{topic}} or {{cause}} (no generic filler)")
        if not isinstance(script.get("why"), str):
            problems.append(f"{where}.why must say why the script fits")
        fits = script.get("fits", {})
        if not isinstance(fits, dict) or set(fits) - _FITS:
            problems.append(f"{where}.fits may use only {', '.join(sorted(_FITS))}")
            continue
        for key, allowed in (("emotions", EMOTIONS), ("causes", CAUSES), ("personas", PERSONAS),
                             ("prefer_personas", PERSONAS), ("stages", SOP_STAGES)):
            if key in fits:
                values = str_list(fits[key], f"{where}.fits.{key}", problems)
                bad = [v for v in values if v not in allowed]
                if bad:
                    problems.append(f"{where}.fits.{key}: unknown {bad}")
        if "actions" in fits:
            str_list(fits["actions"], f"{where}.fits.actions", problems)
        for key in ("min_intensity", "max_intensity"):
            if key in fits:
                number(fits[key], f"{where}.fits.{key}", problems, 0, 4)
    missing = [m for m in GUIDANCE_METHODS if m not in methods]
    if missing:
        problems.append(f"scripts lack the guidance methods {', '.join(missing)}")
    return problems


@dataclass(frozen=True)
class Situation:
    """What the suggestions are fitted to."""

    emotion: str | None
    intensity: int | None
    persona: str | None
    persona_method: str | None
    cause: str | None
    stage: str
    actions: tuple[str, ...]
    abusive: bool
    unreasonable_demand: bool

    def describe(self) -> str:
        parts = []
        if self.emotion:
            parts.append(display(self.emotion, EMOTION_NAMES))
        if self.intensity is not None:
            parts.append(f"强度{self.intensity}")
        if self.persona:
            parts.append(self.persona)
        if self.cause:
            parts.append(display(self.cause, CAUSE_NAMES))
        parts.append(self.stage)
        return "·".join(parts)


def _checker() -> Callable[..., Any] | None:
    """`anfu.qa.check_reply` when the pre-send check is installed."""
    try:
        from ..qa import check_reply
    except ImportError:
        return None
    return check_reply


class StrategyModel:
    """The strategies pack, ready to fit and fill scripts; picklable."""

    def __init__(self, pack: dict[str, Any]) -> None:
        self.pack = pack
        self.settings: dict[str, Any] = pack["settings"]
        self.topics = PhraseMatcher()
        for word, cause in pack["topics"].items():
            self.topics.add(word, (word, cause))

    # -- slots ------------------------------------------------------------------------
    def topic_and_cause(self, turns: Sequence[TurnAssessment]) -> tuple[str | None, str | None]:
        """What the complaint is about and its cause. The cause is the one most customer
        turns (and the topics they mention) point to, the earliest on ties, since a
        complaint states its subject first; the topic is the first thing the customer
        mentioned that belongs to that cause (later mentions are often demands such as
        赔偿), else the latest thing mentioned."""
        mentions: list[tuple[str, str]] = []  # (topic, its cause) in order
        votes: dict[str, list[int]] = {}  # cause -> [count, -first turn]
        for index, turn in enumerate(turns):
            if turn.speaker != "customer":
                continue
            found = [m.payload for m in self.topics.find(turn.norm or normalize(turn.text))]
            mentions.extend(found)
            named = {turn.cause} if turn.cause and turn.cause != "other" else set()
            named |= {cause for _, cause in found}
            for cause in named:
                votes.setdefault(cause, [0, -index])[0] += 1
        cause = max(votes, key=lambda c: tuple(votes[c])) if votes else None
        topic = next((t for t, c in mentions if c == cause), mentions[-1][0] if mentions else None)
        return topic, cause

    def time_text(self, cause: str | None, stamp: float | None) -> str:
        hours = float(self.pack["time_commitments"].get(cause or "other", 24))
        if stamp is None:
            if hours < 1:
                return f"{round(hours * 60)}分钟内"
            if hours <= 48 or hours % 24:
                return f"{hours:g}小时内"
            return f"{int(hours // 24)}天内"
        tz = timezone(timedelta(hours=self.settings["timezone_hours"]))
        now = datetime.fromtimestamp(stamp, tz)
        step = self.settings["round_minutes"] * 60
        due_ts = math.ceil((stamp + hours * 3600) / step) * step
        due = datetime.fromtimestamp(due_ts, tz)
        days = (due.date() - now.date()).days
        day = {0: "今天", 1: "明天", 2: "后天"}.get(days, f"{due.month}月{due.day}日")
        return f"{day}{due.hour}:{due.minute:02d}前"

    # -- fitting ----------------------------------------------------------------------
    def score(self, script: dict[str, Any], sit: Situation, slots: dict[str, str | None]) -> float | None:
        """The script's fit to the situation; None when it must not be used."""
        fits = script.get("fits", {})
        w = self.settings["weights"]
        if any(slots.get(name) is None for name in _SLOT.findall(script["text"])):
            return None
        total = 1.0
        if "emotions" in fits and sit.emotion is not None:
            if sit.emotion not in fits["emotions"]:
                return None
            total += w["emotion"]
        if sit.intensity is not None and ("min_intensity" in fits or "max_intensity" in fits):
            if not fits.get("min_intensity", 0) <= sit.intensity <= fits.get("max_intensity", 4):
                return None
            total += w["intensity"]
        if "causes" in fits:
            if sit.cause not in fits["causes"]:
                return None
            total += w["cause"]
        for flag in ("abusive", "unreasonable_demand"):
            if fits.get(flag):
                if not getattr(sit, flag):
                    return None
                total += w["signal"]
        if "personas" in fits:
            if sit.persona not in fits["personas"]:
                return None
            total += w["persona"]
        elif sit.persona and sit.persona in fits.get("prefer_personas", []):
            total += w["persona"]
        if sit.persona_method and script["method"] == sit.persona_method:
            total += w["persona_method"]
        if "stages" in fits:
            total += w["stage"] if sit.stage in fits["stages"] else -w["stage"]
        overlap = len(set(fits.get("actions", [])) & set(sit.actions))
        total += w["action"] * min(overlap, 2)
        return total

    def suggest(self, sit: Situation, slots: dict[str, str | None],
                check: Callable[..., Any] | None = None,
                context: dict[str, str | None] | None = None) -> list[Suggestion]:
        """Ranked suggestions; with `check` (the pre-send check) a script that violates it
        is replaced by the check's compliant rewrite, or dropped when there is none."""
        ceiling = 1.0 + sum(self.settings["weights"].values()) + self.settings["weights"]["action"]
        ranked: list[tuple[float, int, dict[str, Any]]] = []
        for order, script in enumerate(self.pack["scripts"]):
            value = self.score(script, sit, slots)
            if value is not None:
                ranked.append((value, order, script))
        ranked.sort(key=lambda item: (-item[0], item[1]))
        candidates: list[Suggestion] = []
        for value, _, script in ranked:
            text = render(script["text"], {k: v for k, v in slots.items() if v is not None})
            if check is not None:
                verdict = check(text, context)
                if verdict.violation:
                    rewrite = getattr(verdict, "rewrite", None)
                    if not rewrite or check(rewrite, context).violation:
                        continue
                    text = rewrite
            why = f"{script['why']}（{script['method']}；适配：{sit.describe()}）"
            candidates.append(Suggestion(text=text, method=script["method"], why=why,
                                         score=round(max(value, 0.0) / ceiling, 3)))
        return self._diverse(candidates)

    def _diverse(self, candidates: list[Suggestion]) -> list[Suggestion]:
        """Best first, preferring a different guidance method for each of the top picks."""
        limit = self.settings["max_suggestions"]
        chosen: list[Suggestion] = []
        methods: set[str] = set()
        for cand in candidates:
            if cand.method not in methods and len(chosen) < limit:
                chosen.append(cand)
                methods.add(cand.method)
        for cand in candidates:
            if len(chosen) >= max(limit, 0):
                break
            if cand not in chosen:
                chosen.append(cand)
        return sorted(chosen, key=lambda s: -s.score)


def load_model(rules_dir: str | None = None) -> StrategyModel:
    return StrategyModel(load_checked(PACK, rules_dir=rules_dir))


@registry.components.register("anfu.strategy.v1")
class Strategy(Component):
    name = "anfu.strategy.v1"
    provides = ("suggestions",)
    # reads persona, sop_stage, next_actions, negative_energy and the turn labels when
    # present; computes persona / SOP stage / negative energy itself when they are absent
    requires = ("turn.norm",)

    def __init__(self, rules_dir: str | None = None, presend_check: bool = True) -> None:
        self.rules_dir = rules_dir
        self.presend_check = presend_check
        self.model_ = load_model(rules_dir)
        self.persona_ = load_persona(rules_dir)
        self.sop_ = load_sop(rules_dir)
        self.negative_ = load_negative_energy(rules_dir)

    def situation(self, doc: Assessment, cause: str | None) -> Situation:
        turns = [TurnAssessment(speaker=t.speaker, text=t.text, norm=t.norm or normalize(t.text),
                                emotion=t.emotion, intensity=t.intensity, abusive=t.abusive,
                                escalation_risk=t.escalation_risk, cause=t.cause) for t in doc.turns]
        persona = doc.persona if doc.persona is not None else self.persona_.infer(turns)
        stage = doc.sop_stage or self.sop_.stage(turns)
        actions = doc.next_actions if doc.next_actions is not None else self.sop_.next_actions(stage, turns)
        negative = doc.negative_energy
        signals = negative["signals"] if negative is not None else self.negative_.signals(turns)
        latest = next((t for t in reversed(turns) if t.speaker == "customer"), None)
        kind = persona.get("type")
        return Situation(
            emotion=latest.emotion if latest else None,
            intensity=latest.intensity if latest else None,
            persona=kind if kind in PERSONAS else None,
            persona_method=persona["playbook"]["method"] if kind in PERSONAS else None,
            cause=cause, stage=stage, actions=tuple(actions),
            abusive=any(s["type"] in ("aggression", "violence_threat") for s in signals) or bool(latest and latest.abusive),
            unreasonable_demand=any(s["type"] == "unreasonable_demand" for s in signals),
        )

    def predict(self, docs: Sequence[Assessment]) -> list[list[Suggestion] | None]:
        check = _checker() if self.presend_check else None
        out: list[list[Suggestion] | None] = []
        for doc in docs:
            if doc.is_utterance:
                out.append(None)
                continue
            topic, cause = self.model_.topic_and_cause(
                [TurnAssessment(speaker=t.speaker, text=t.text, norm=t.norm, cause=t.cause) for t in doc.turns])
            stamps = [t.timestamp for t in doc.conversation.turns if t.timestamp is not None]
            slots = {
                "topic": topic or self.model_.pack["cause_topics"][cause or "other"],
                "cause": display(cause, CAUSE_NAMES) if cause else None,
                "time": self.model_.time_text(cause, stamps[-1] if stamps else None),
            }
            latest = next((t for t in reversed(doc.turns) if t.speaker == "customer"), None)
            context = {"cause": cause, "emotion": latest.emotion if latest else None,
                       "customer_text": latest.text if latest else None,
                       "what": slots["topic"], "when": slots["time"]}
            out.append(self.model_.suggest(self.situation(doc, cause), slots, check, context))
        return out

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, result in zip(docs, outputs):
            if result is not None:
                doc.suggestions = result
