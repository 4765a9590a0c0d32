"""Suggested replies (话术) for the agent's next turn, ranked and labelled with a guidance
method (说理诱导 / 行为诱导 / 利益诱导 / 情感诱导 / 前景诱导).

Scripts come from the strategies pack. Each declares the SOP stages and emotions (and
optionally intensities, causes, personas) it fits; a script is offered only in its stages,
and ranking prefers the best fit: the next actions it carries out (earlier ones count more),
the guidance method the situation calls for first (情绪激动先情感诱导, 怀疑先说理诱导…),
the persona's playbook. Scripts are filled with the customer's own words for the topic
(停电, 空调不制冷, 退款没到账…; never a cause label) and a concrete time, the one the agent
already promised once a plan is agreed. Every suggestion passes the pre-send check
(`anfu.qa.check_reply`) when it is installed, and carries a why naming what it fits.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Hashable, Mapping, Sequence

from .. import registry
from ..glossary import CAUSE_NAMES, CAUSES, EMOTION_NAMES, EMOTIONS, GUIDANCE_METHODS, PERSONAS, SOP_STAGES, display
from ..lru import Lru
from ..rules import validator
from ..rules.checked import english, load_checked, number, str_list
from ..text.matcher import PhraseMatcher, longest_non_overlapping
from ..text.normalize import normalize
from ..text.promise import PromiseWindow, promise_text, span_text
from ..types import Assessment, Evidence, Suggestion, TurnAssessment
from .base import Component
from .negative_energy import load_model as load_negative_energy
from .persona import load_model as load_persona
from .sop import load_model as load_sop

PACK = "strategies"
SLOTS = ("topic", "time")
_SLOT = re.compile(r"\{(\w+)\}")
_FITS = {"emotions", "min_intensity", "max_intensity", "causes", "personas", "prefer_personas", "stages", "actions",
         "abusive", "unreasonable_demand"}
_RULE_KEYS = {"emotions", "min_intensity", "max_intensity", "methods", "bonus", "why", "why_en"}
_WEIGHTS = ("emotion", "intensity", "persona", "persona_method", "cause", "stage", "action", "signal")
_SENTENCE_BREAK = re.compile(r"[。！？\n]")
SAMPLE_SLOTS = {"topic": "电费", "time": "24小时内"}


def render(text: str, slots: dict[str, str], tidy: Sequence[Sequence[str]] = ()) -> str:
    """Fill {slot} placeholders, then rewrite the phrasings listed in `tidy`."""
    out = _SLOT.sub(lambda m: slots[m.group(1)], text)
    for before, after in tidy:
        out = out.replace(before, after)
    return out


def _word_table(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict) or not value or any(c not in CAUSES for c in value.values()):
        problems.append(f"{where} must map words to causes ({', '.join(CAUSES)})")


def _validate_promise_window(window: Any, problems: list[str]) -> None:
    if not isinstance(window, dict) or set(window) != {"start", "end", "next_morning", "short_hours"}:
        problems.append("settings.promise_window must give start, end, next_morning (HH:MM) and short_hours")
        return
    try:
        promise = PromiseWindow.from_settings(window)
    except (TypeError, ValueError):
        problems.append("settings.promise_window times must be HH:MM")
        return
    if not promise.start < promise.next_morning <= promise.end:
        problems.append("settings.promise_window: start < end and next_morning between them")
    number(window.get("short_hours"), "settings.promise_window.short_hours", problems, 1, 24)


def _validate_settings(s: Any, problems: list[str]) -> None:
    if not isinstance(s, dict):
        problems.append("settings must be a mapping")
        return
    number(s.get("min_suggestions"), "settings.min_suggestions", problems, 3, 20)
    number(s.get("max_suggestions"), "settings.max_suggestions", problems, 3, 20)
    number(s.get("timezone_hours"), "settings.timezone_hours", problems, -12, 14)
    _validate_promise_window(s.get("promise_window"), problems)
    number(s.get("action_decay"), "settings.action_decay", problems, 0, 1)
    number(s.get("compose_window"), "settings.compose_window", problems, 1, 100)
    for stage in str_list(s.get("reuse_commitment_stages", []), "settings.reuse_commitment_stages", problems,
                          allow_empty=True):
        if stage not in SOP_STAGES:
            problems.append(f"settings.reuse_commitment_stages: unknown stage {stage!r}")
    weights = s.get("weights")
    if not isinstance(weights, dict) or set(weights) != set(_WEIGHTS):
        problems.append(f"settings.weights must give {', '.join(_WEIGHTS)}")
    else:
        for key, value in weights.items():
            number(value, f"settings.weights.{key}", problems, 0, 100)
    for i, rule in enumerate(s.get("method_rules") or []):
        where = f"settings.method_rules[{i}]"
        if not isinstance(rule, dict) or set(rule) - _RULE_KEYS or not isinstance(rule.get("why"), str):
            problems.append(f"{where} may use only {', '.join(sorted(_RULE_KEYS))} and needs a why")
            continue
        english(rule.get("why_en"), f"{where}.why_en", problems)
        number(rule.get("bonus"), f"{where}.bonus", problems, -10, 10)
        if any(m not in GUIDANCE_METHODS for m in str_list(rule.get("methods"), f"{where}.methods", problems)):
            problems.append(f"{where}.methods must be among {', '.join(GUIDANCE_METHODS)}")
        if any(e not in EMOTIONS for e in rule.get("emotions", [])):
            problems.append(f"{where}.emotions: unknown emotion")
        for key in ("min_intensity", "max_intensity"):
            if key in rule:
                number(rule[key], f"{where}.{key}", problems, 0, 4)


def _validate_tables(data: dict[str, Any], problems: list[str]) -> None:
    _word_table(data.get("topics"), "topics", problems)
    _word_table(data.get("objects"), "objects", problems)
    symptoms = data.get("symptoms")
    if not isinstance(symptoms, dict) or not symptoms:
        problems.append("symptoms must map causes to {phrase: wording}")
    else:
        for cause, table in symptoms.items():
            if cause not in CAUSES:
                problems.append(f"symptoms: unknown cause {cause!r}")
            if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                                      for k, v in table.items()):
                problems.append(f"symptoms.{cause} must map phrases to their wording")
    secondary = str_list(data.get("secondary_causes", []), "secondary_causes", problems, allow_empty=True)
    if any(c not in CAUSES for c in secondary):
        problems.append(f"secondary_causes must be among {', '.join(CAUSES)}")
    for key in ("cause_topics", "time_commitments"):
        table = data.get(key)
        if not isinstance(table, dict) or set(table) != set(CAUSES):
            problems.append(f"{key} needs an entry for each cause: {', '.join(CAUSES)}")
    labels = {display(c, CAUSE_NAMES) for c in CAUSES}
    for cause, topic in (data.get("cause_topics") or {}).items():
        if not isinstance(topic, str) or not topic or topic in labels:
            problems.append(f"cause_topics.{cause} must be a noun phrase, not a cause label")
    for cause, hours in (data.get("time_commitments") or {}).items():
        number(hours, f"time_commitments.{cause}", problems, 0.01, 24 * 60)
    tidy = data.get("tidy", [])
    if not isinstance(tidy, list) or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
                                             and p[0] for p in tidy):
        problems.append("tidy must be a list of [from, to] pairs")
    for i, rx in enumerate(str_list(data.get("commitment_patterns", []), "commitment_patterns", problems,
                                    allow_empty=True)):
        try:
            re.compile(rx)
        except re.error as exc:
            problems.append(f"commitment_patterns[{i}]: {exc}")


def _validate_script(script: Any, where: str, ids: set[str], problems: list[str]) -> str | None:
    """Problems of one script; returns its method."""
    if not isinstance(script, dict):
        problems.append(f"{where} must be a mapping")
        return None
    sid = script.get("id")
    if not isinstance(sid, str) or sid in ids:
        problems.append(f"{where}.id must be a unique string")
    ids.add(str(sid))
    if script.get("method") not in GUIDANCE_METHODS:
        problems.append(f"{where}.method must be one of {', '.join(GUIDANCE_METHODS)}")
    text = script.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"{where}.text must be a string")
    else:
        used = set(_SLOT.findall(text))
        if used - set(SLOTS):
            problems.append(f"{where}.text uses unknown slots {sorted(used - set(SLOTS))} (allowed: {', '.join(SLOTS)})")
        if "topic" not in used:
            problems.append(f"{where}.text must use {{topic}} (no generic filler)")
    if not isinstance(script.get("why"), str):
        problems.append(f"{where}.why must say why the script fits")
    english(script.get("why_en"), f"{where}.why_en", problems)
    fits = script.get("fits")
    if not isinstance(fits, dict) or set(fits) - _FITS:
        problems.append(f"{where}.fits may use only {', '.join(sorted(_FITS))}")
        return script.get("method")
    for key in ("stages", "emotions"):
        if not fits.get(key):
            problems.append(f"{where}.fits.{key} is required: declare the {key} the script fits")
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
    return script.get("method")


@validator(PACK)
def validate_strategies(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    _validate_settings(data.get("settings"), problems)
    _validate_tables(data, problems)
    scripts = data.get("scripts")
    if not isinstance(scripts, list) or not scripts:
        return problems + ["scripts must be a non-empty list"]
    ids: set[str] = set()
    methods = {_validate_script(script, f"scripts[{i}]", ids, problems) for i, script in enumerate(scripts)}
    missing = [m for m in GUIDANCE_METHODS if m not in methods]
    if missing:
        problems.append(f"scripts lack the guidance methods {', '.join(missing)}")
    return problems


def why_text(items: Sequence[Evidence]) -> str:
    """The zh-CN why of a suggestion from its parts: 理由（方法；适配：…。当前：…）."""
    reason, *matched, now = items
    return (f"{reason.text}（{dict(reason.params)['method']}；适配：{'，'.join(m.text for m in matched)}。"
            f"当前：{now.text}）")


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
    persona_confidence: float = 1.0

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


@dataclass(frozen=True)
class Mention:
    """Something the customer named: its wording for the {topic} slot and its cause."""

    topic: str
    cause: str
    turn: int
    start: int


def _checker() -> Callable[..., Any] | None:
    """`anfu.qa.check_reply` when the pre-send check is installed."""
    try:
        from ..qa import check_reply
    except ImportError:
        return None
    return check_reply


class CheckMemo:
    """The pre-send check's verdicts on suggested replies, remembered (bounded, least recently
    used out first): a filled script recurs on every turn of every conversation in its stage,
    and is checked once.

    A verdict depends on the reply's text alone, except that a violating reply's rewrite also
    reads the context; so a clean verdict is remembered by text and a violating one by text and
    context, and the answers are exactly those of `check`. Picklable (arrives empty).
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._verdicts: Lru[Hashable, Any] = Lru(size)
        self._check: Callable[..., Any] | None = None
        self._lock = threading.Lock()  # guards `_check`

    def __getstate__(self) -> dict[str, Any]:
        return {"size": self.size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["size"])  # type: ignore[misc]

    def __len__(self) -> int:
        return len(self._verdicts)

    def wrap(self, check: Callable[..., Any]) -> Callable[..., Any]:
        """`check(text, context)` answered from the memo where it can be."""
        with self._lock:
            if check is not self._check:  # another checker: what was remembered does not apply
                self._verdicts.clear()
                self._check = check
        return lambda text, context=None: self._lookup(check, text, context)

    def _lookup(self, check: Callable[..., Any], text: str, context: Mapping[str, Any] | None) -> Any:
        if context is not None and not all(v is None or isinstance(v, str) for v in context.values()):
            return check(text, context)  # a context the check refuses (AF013): let it say so
        with_context = (text, tuple(sorted(context.items())) if context else ())
        for key in (text, with_context):
            verdict = self._verdicts.get(key)
            if verdict is not None:
                return verdict
        verdict = check(text, context)
        self._verdicts.put(with_context if verdict.violation else text, verdict)
        return verdict


class StrategyModel:
    """The strategies pack, ready to fit and fill scripts; picklable."""

    def __init__(self, pack: dict[str, Any]) -> None:
        self.pack = pack
        self.settings: dict[str, Any] = pack["settings"]
        self.secondary = set(pack.get("secondary_causes", []))
        self.tidy = [tuple(pair) for pair in pack.get("tidy", [])]
        self.topics = PhraseMatcher()
        for word, cause in pack["topics"].items():
            self.topics.add(word, ("topic", word, cause))
        for word, cause in pack["objects"].items():
            self.topics.add(word, ("object", word, cause))
        self.symptoms = PhraseMatcher()
        for cause, table in pack["symptoms"].items():
            for phrase, wording in table.items():
                self.symptoms.add(phrase, (cause, wording))
        self.commitments = PhraseMatcher()
        for rx in pack.get("commitment_patterns", []):
            self.commitments.add_regex(rx, "time")

    # -- slots ------------------------------------------------------------------------
    def mentions(self, index: int, norm: str) -> list[Mention]:
        """What customer turn `index` names, left to right; an object followed in the same
        sentence by a symptom of its cause is named with it (空调…不制冷 → 空调不制冷)."""
        found = longest_non_overlapping(self.topics.find(norm))
        symptoms = self.symptoms.find(norm)
        out: list[Mention] = []
        for pos, m in enumerate(found):
            kinds = {p[0]: p for p in self._payloads(m)}
            word = m.text
            cause = (kinds.get("object") or kinds["topic"])[2]
            topic = word
            if "object" in kinds:
                limit = min(m.end + self.settings["compose_window"],
                            found[pos + 1].start if pos + 1 < len(found) else len(norm))
                brk = _SENTENCE_BREAK.search(norm, m.end)
                if brk:
                    limit = min(limit, brk.start())
                fitting = longest_non_overlapping([s for s in symptoms if s.payload[0] == cause])
                symptom = next((s for s in fitting if m.end <= s.start and s.end <= limit), None)
                if symptom is not None:
                    topic = word + symptom.payload[1]
            elif "topic" in kinds:
                cause = kinds["topic"][2]
            out.append(Mention(topic, cause, index, m.start))
        return out

    def _payloads(self, match: Any) -> list[tuple[str, str, str]]:
        """Every payload registered for the matched word (a word may be topic and object)."""
        return [p for p in (m.payload for m in self.topics.find(match.text)
                            if m.start == 0 and m.end == len(match.text))]

    def topic_and_cause(self, turns: Sequence[TurnAssessment]) -> tuple[str | None, str | None]:
        """What the complaint is about and its cause. Each customer turn votes for its
        cause label (1) and the causes of what it names (0.5); secondary causes (拖延、态度:
        how a subject was handled) name the complaint only when no subject cause was seen.
        Ties go to the earliest, since a complaint states its subject first. The topic is the first thing named that belongs to that cause (later
        mentions are often demands such as 赔偿), else the first subject named; None when
        the customer named no subject (the caller then uses the cause's own noun: a word
        such as 态度 that only says how the subject was handled never stands for it)."""
        mentions: list[Mention] = []
        votes: dict[str, list[float]] = {}  # cause -> [votes, -first turn]
        for index, turn in enumerate(turns):
            if turn.speaker != "customer":
                continue
            found = self.mentions(index, turn.norm or normalize(turn.text))
            mentions.extend(found)
            named = {m.cause: 0.5 for m in found}
            if turn.cause and turn.cause != "other":
                named[turn.cause] = 1.0
            for cause, vote in named.items():
                votes.setdefault(cause, [0.0, -index])[0] += vote
        cause = max(votes, key=lambda c: (c not in self.secondary, *votes[c])) if votes else None
        topic = next((m.topic for m in mentions if m.cause == cause), None)
        if topic is None:
            topic = next((m.topic for m in mentions if m.cause not in self.secondary), None)
        return topic, cause

    def promised_time(self, turns: Sequence[TurnAssessment]) -> str | None:
        """The latest concrete time the agent promised (30分钟内, 今天下午六点前), from the
        original text; None when the agent promised none."""
        for turn in reversed(turns):
            if turn.speaker != "agent":
                continue
            found = self.commitments.find(turn.norm or normalize(turn.text))
            if found:
                last = max(found, key=lambda m: (m.start, m.end))
                return turn.text[last.start:last.end]
        return None

    def time_text(self, cause: str | None, stamp: float | None) -> str:
        hours = float(self.pack["time_commitments"].get(cause or "other", 24))
        if stamp is None:
            return span_text(hours)
        tz = timezone(timedelta(hours=self.settings["timezone_hours"]))
        return promise_text(datetime.fromtimestamp(stamp, tz), hours,
                            PromiseWindow.from_settings(self.settings["promise_window"]))

    def slots(self, turns: Sequence[TurnAssessment], stage: str | None, stamp: float | None) -> dict[str, Any]:
        """{topic}, {time} and the cause for a conversation at `stage`."""
        topic, cause = self.topic_and_cause(turns)
        promised = self.promised_time(turns) if stage in self.settings.get("reuse_commitment_stages", []) else None
        return {"topic": topic or self.pack["cause_topics"][cause or "other"],
                "time": promised or self.time_text(cause, stamp), "cause": cause}

    # -- fitting ----------------------------------------------------------------------
    def fit(self, script: dict[str, Any], sit: Situation, strict: bool = True) -> tuple[float, list[Evidence]] | None:
        """The script's fit to the situation and what it fits (for the why, one `fit.*`
        evidence line each); None when it must not be used. `strict=False` lets emotion and
        intensity mismatch (a fallback that keeps at least `min_suggestions`)."""
        fits = script["fits"]
        w = self.settings["weights"]
        if sit.stage not in fits["stages"]:
            return None
        total = 1.0 + w["stage"] * 2 / (1 + len(fits["stages"]))
        matched = [Evidence.of("fit.stage", f"「{sit.stage}」阶段", stage=sit.stage)]
        if sit.emotion is not None:
            if sit.emotion in fits["emotions"]:
                total += w["emotion"] * 2 / (1 + len(fits["emotions"]))
                matched.append(Evidence.of("fit.emotion", f"客户{display(sit.emotion, EMOTION_NAMES)}",
                                           emotion=sit.emotion))
            elif strict:
                return None
        if sit.intensity is not None and ("min_intensity" in fits or "max_intensity" in fits):
            low, high = fits.get("min_intensity", 0), fits.get("max_intensity", 4)
            if low <= sit.intensity <= high:
                total += w["intensity"] * (5 - (high - low)) / 5  # a narrower range fits better
                matched.append(Evidence.of("fit.intensity", f"强度{sit.intensity}", intensity=sit.intensity))
            elif strict:
                return None
        if "causes" in fits:
            if sit.cause not in fits["causes"]:
                return None
            total += w["cause"]
            matched.append(Evidence.of("fit.cause", f"{display(sit.cause, CAUSE_NAMES)}类问题", cause=sit.cause))
        for flag, label in (("abusive", "出现辱骂"), ("unreasonable_demand", "提出超出政策的要求")):
            if fits.get(flag):
                if not getattr(sit, flag):
                    return None
                total += w["signal"]
                matched.append(Evidence.of(f"fit.{flag}", label))
        sure = sit.persona_confidence  # a tentative persona shapes the ranking less
        if "personas" in fits:
            if sit.persona not in fits["personas"]:
                return None
            total += w["persona"] * sure
            matched.append(Evidence.of("fit.persona", f"{sit.persona}客户", persona=sit.persona))
        elif sit.persona and sit.persona in fits.get("prefer_personas", []):
            total += w["persona"] * sure
            matched.append(Evidence.of("fit.persona", f"{sit.persona}客户", persona=sit.persona))
        if sit.persona_method and script["method"] == sit.persona_method:
            total += w["persona_method"] * sure
            matched.append(Evidence.of("fit.persona_method", f"{sit.persona}宜用{sit.persona_method}",
                                       persona=sit.persona, method=sit.persona_method))
        done = [(sit.actions.index(a), a) for a in fits.get("actions", []) if a in sit.actions]
        done.sort()
        total += sum(w["action"] * self.settings["action_decay"] ** place for place, _ in done[:2])
        if done:
            matched.append(Evidence.of("fit.actions", "下一步" + "、".join(a for _, a in done[:2]),
                                       actions=[a for _, a in done[:2]]))
        for rule in self.settings.get("method_rules") or []:
            if script["method"] in rule["methods"] and _rule_applies(rule, sit):
                total += rule["bonus"]
                if rule["bonus"] > 0:
                    matched.append(Evidence.of("fit.method_rule", rule["why"], why=rule["why"]))
        return total, matched

    def why_items(self, script: dict[str, Any], sit: Situation, matched: list[Evidence]) -> tuple[Evidence, ...]:
        """The why as its parts: the script's reason (`strategy.why`, the pack's zh-CN `why`),
        what it fits (`fit.*`) and the situation (`strategy.now`)."""
        emotion = display(sit.emotion, EMOTION_NAMES) if sit.emotion else "情绪未明"
        if sit.intensity is not None:
            emotion += f"·强度{sit.intensity}"
        persona = sit.persona or "客户类型未明"
        cause = f"；问题：{display(sit.cause, CAUSE_NAMES)}" if sit.cause else ""
        now = Evidence.of("strategy.now", f"{sit.stage}阶段；{emotion}；{persona}{cause}", stage=sit.stage,
                          emotion=sit.emotion, intensity=sit.intensity, persona=sit.persona, cause=sit.cause)
        return (Evidence.of("strategy.why", script["why"], script=script["id"], method=script["method"]),
                *matched, now)

    def why(self, script: dict[str, Any], sit: Situation, matched: list[Evidence]) -> str:
        """The script's reason, what it fits, and the situation (stage, emotion, persona)."""
        items = self.why_items(script, sit, matched)
        return why_text(items)

    def suggest(self, sit: Situation, slots: dict[str, str | None],
                check: Callable[..., Any] | None = None,
                context: dict[str, str | None] | None = None) -> list[Suggestion]:
        """Ranked suggestions; with `check` (the pre-send check) a script that violates it
        is replaced by the check's compliant rewrite, or dropped when there is none. When
        fewer than `min_suggestions` fit, scripts of the stage that miss only on emotion or
        intensity fill up the list, ranked below."""
        filled = {k: v for k, v in slots.items() if k in SLOTS and v is not None}
        weights = self.settings["weights"]
        ceiling = (1.0 + sum(weights.values()) + weights["action"]
                   + sum(max(r["bonus"], 0) for r in self.settings.get("method_rules") or []))
        candidates = self._candidates(sit, filled, check, context, strict=True, ceiling=ceiling,
                                      enough=self.settings["max_suggestions"])
        if len(candidates) < self.settings["min_suggestions"]:
            have = {c.text for c in candidates}
            extra = self._candidates(sit, filled, check, context, strict=False, ceiling=ceiling * 2)
            candidates += [c for c in extra if c.text not in have]
        return self._diverse(candidates)

    def _candidates(self, sit: Situation, filled: dict[str, str], check: Callable[..., Any] | None,
                    context: dict[str, str | None] | None, strict: bool, ceiling: float,
                    enough: int | None = None) -> list[Suggestion]:
        """The scripts that fit, best first, rendered and passed through the pre-send `check`.
        With `enough` (the `_diverse` limit), it stops once no later script could change what
        `_diverse` picks: `enough` methods already chosen, or `enough` candidates and every later
        script of a method already chosen (rendering and checking the rest costs a live turn
        most of the strategy's time)."""
        ranked: list[tuple[float, int, dict[str, Any], list[str]]] = []
        for order, script in enumerate(self.pack["scripts"]):
            if any(name not in filled for name in _SLOT.findall(script["text"])):
                continue
            result = self.fit(script, sit, strict)
            if result is not None:
                ranked.append((result[0], order, script, result[1]))
        ranked.sort(key=lambda item: (-item[0], item[1]))
        out: list[Suggestion] = []
        firsts: set[str] = set()  # the methods `_diverse`'s first pass takes from `out`
        for at, (value, _, script, matched) in enumerate(ranked):
            if enough is not None and (len(firsts) >= enough or (
                    len(out) >= enough and all(r[2]["method"] in firsts for r in ranked[at:]))):
                break
            text = render(script["text"], filled, self.tidy)
            if check is not None:
                verdict = check(text, context)
                if verdict.violation:
                    rewrite = getattr(verdict, "rewrite", None)
                    if not rewrite or check(rewrite, context).violation:
                        continue
                    text = rewrite
            items = self.why_items(script, sit, matched)
            out.append(Suggestion(text=text, method=script["method"], why=why_text(items), why_items=items,
                                  score=round(min(max(value, 0.0) / ceiling, 1.0), 3)))
            if len(firsts) < (enough or 0):
                firsts.add(script["method"])
        return out

    def _diverse(self, candidates: list[Suggestion]) -> list[Suggestion]:
        """The best first, then the best of each other guidance method, then the rest by
        score, up to `max_suggestions`."""
        limit = self.settings["max_suggestions"]
        chosen: list[Suggestion] = []
        methods: set[str] = set()
        for cand in candidates:
            if cand.method not in methods and len(chosen) < limit:
                chosen.append(cand)
                methods.add(cand.method)
        for cand in candidates:
            if len(chosen) >= limit:
                break
            if cand not in chosen:
                chosen.append(cand)
        return sorted(chosen, key=lambda s: -s.score)


def _rule_applies(rule: dict[str, Any], sit: Situation) -> bool:
    if "emotions" in rule and sit.emotion not in rule["emotions"]:
        return False
    if "min_intensity" in rule or "max_intensity" in rule:
        if sit.intensity is None:
            return False
        if not rule.get("min_intensity", 0) <= sit.intensity <= rule.get("max_intensity", 4):
            return False
    return True


def load_model(rules_dir: str | None = None) -> StrategyModel:
    return StrategyModel(load_checked(PACK, rules_dir=rules_dir))


@registry.components.register("anfu.strategy.v1")
class Strategy(Component):
    name = "anfu.strategy.v1"
    provides = ("suggestions",)
    # computes persona / SOP stage / negative energy itself when they are absent
    requires = ("turn.norm",)
    reads = ("persona", "sop_stage", "next_actions", "negative_energy", "turn.emotion", "turn.intensity",
             "turn.abusive", "turn.escalation_risk", "turn.cause")

    def __init__(self, rules_dir: str | None = None, presend_check: bool = True) -> None:
        self.rules_dir = rules_dir
        self.presend_check = presend_check
        self.model_ = load_model(rules_dir)
        self.persona_ = load_persona(rules_dir)
        self.sop_ = load_sop(rules_dir)
        self.negative_ = load_negative_energy(rules_dir)
        self.check_memo_ = CheckMemo()

    def situation(self, doc: Assessment, cause: str | None) -> Situation:
        turns = [TurnAssessment(speaker=t.speaker, text=t.text, norm=t.norm or normalize(t.text),
                                emotion=t.emotion, intensity=t.intensity, abusive=t.abusive,
                                escalation_risk=t.escalation_risk, cause=t.cause) for t in doc.turns]
        persona = doc.persona if doc.persona is not None else self.persona_.infer(turns)
        stage = doc.sop_stage or self.sop_.stage(turns)
        actions = doc.next_actions if doc.next_actions is not None else self.sop_.next_actions(stage, turns)
        negative = doc.negative_energy
        signals = negative.signals if negative is not None else self.negative_.signals(turns)
        latest = next((t for t in reversed(turns) if t.speaker == "customer"), None)
        kind = persona.type
        return Situation(
            emotion=latest.emotion if latest else None,
            intensity=latest.intensity if latest else None,
            persona=kind if kind in PERSONAS else None,
            persona_method=persona.playbook.method if kind in PERSONAS else None,
            cause=cause, stage=stage, actions=tuple(actions),
            abusive=any(s.type in ("aggression", "violence_threat") for s in signals) or bool(latest and latest.abusive),
            unreasonable_demand=any(s.type == "unreasonable_demand" for s in signals),
            persona_confidence=float(persona.confidence) if kind in PERSONAS else 1.0,
        )

    def predict(self, docs: Sequence[Assessment]) -> list[list[Suggestion] | None]:
        check = _checker() if self.presend_check else None
        if check is not None:
            check = self.check_memo_.wrap(check)
        out: list[list[Suggestion] | None] = []
        for doc in docs:
            if doc.is_utterance:
                out.append(None)
                continue
            turns = [TurnAssessment(speaker=t.speaker, text=t.text, norm=t.norm or normalize(t.text), cause=t.cause)
                     for t in doc.turns]
            stage = doc.sop_stage or self.sop_.stage(turns)
            stamps = [t.timestamp for t in doc.conversation.turns if t.timestamp is not None]
            slots = self.model_.slots(turns, stage, stamps[-1] if stamps else None)
            cause = slots["cause"]
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
