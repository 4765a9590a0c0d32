"""Customer personality type (客户性格类型): which of the nine types the customer shows,
how sure we are, the evidence, and the playbook for handling that type.

Evidence accumulates turn by turn from the personas pack: lexicon cues in the customer's
words plus conversational features (very short replies, repeated demands, emotional
swings, the emotion/abuse labels of earlier components when present). `infer_persona`
over the first k turns gives the evolving answer.

`anfu.persona.v1` decides from the rules alone; `anfu.persona.v2` (`LearnedPersona`) feeds the
rules' evidence and the customer's words and behaviour to a linear model learnt from our
written conversations (`anfu train-persona`) and abstains only when the evidence is thin.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .. import registry
from ..errors import ConfigError
from ..glossary import EMOTIONS, EMOTION_VALENCE, GUIDANCE_METHODS, PERSONAS
from ..lru import Lru
from ..rules import validator
from ..rules.checked import english, english_list, load_checked, number, str_list
from ..text.cues import extract
from ..text.normalize import normalize
from ..text.matcher import PhraseMatcher, longest_non_overlapping
from ..text.overlap import RepeatTracker, content
from ..types import Assessment, Evidence, PersonaResult, Playbook, TurnAssessment
from .base import Component
from .normalize import ensure_norm

PACK = "personas"
UNKNOWN = "unknown"
PERSONA_MEMO = 1024  # conversations whose persona `Persona.predict` remembers
# `anfu.persona.v2`'s corroboration rule for weights without a typedness gate, chosen on our
# labels of real STC-3 dialogues (scripts/persona_real.py): a type the model names on its own needs
# the pack's cues of that type to weigh this much, unless its probability reaches the second
# value. Weights trained with a gate store their own values (0 and 1: the gate replaces the rule).
CORROBORATION = 3.0
CONFIDENT_PROBABILITY = 0.97
# Below the gate's threshold the pack's cues still name a type when they weigh this much: two
# cues or so, the status, names of people in charge or a new rule refused that a team lead names
# at once. (On the development dialogues, out of fold, 4.0 read 0.814 against 0.809 for 3.0, and
# left the 顽固型 example "我不管什么新规定，以前怎么办现在就怎么办" unknown.)
STRONG_CUES = 3.0
GATE_LABELS = ("unknown", "typed")


def gate_answer(typed: float, min_typed: float, ruled: str, support: float, strong_cues: float) -> str | None:
    """The typedness gate's part of `anfu.persona.v2`'s decision, in one place for the component
    and for training's out-of-fold choice of `min_typed` (`anfu.training.persona`): None when the
    gate's probability that the customer shows a type reaches `min_typed` (the type model
    answers); below it, the pack's type `ruled` when its cues weigh `strong_cues` (`support`),
    else UNKNOWN."""
    if typed >= min_typed:
        return None
    return ruled if ruled != UNKNOWN and support >= strong_cues else UNKNOWN
FEATURES = ("short_reply", "repeated_demand", "emotion_swing", "abusive", "high_intensity",
            "escalation_risk", "question_run")
NEGATORS = ("不", "没", "别")
# how a clue that points at an earlier turn words it (the zh-CN evidence has always read so)
_REF_TEXT = {"repeats": "重复第{}轮", "since": "较第{}轮"}


def _feature_ok(name: Any) -> bool:
    if not isinstance(name, str):
        return False
    if name.startswith("emotion:"):
        return name.split(":", 1)[1] in EMOTIONS
    return name in FEATURES


def _check_playbook(pb: Any, where: str, problems: list[str]) -> None:
    if not isinstance(pb, dict):
        problems.append(f"{where} must be a mapping with speak, avoid, method")
        return
    str_list(pb.get("speak"), f"{where}.speak", problems)
    str_list(pb.get("avoid"), f"{where}.avoid", problems)
    for key in ("speak", "avoid"):
        english_list(pb.get(f"{key}_en"), pb.get(key), f"{where}.{key}_en", problems)
    if pb.get("method") not in GUIDANCE_METHODS:
        problems.append(f"{where}.method must be one of {', '.join(GUIDANCE_METHODS)}")


@validator(PACK)
def validate_personas(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    settings = data.get("settings")
    if not isinstance(settings, dict):
        return ["settings must be a mapping"]
    for key in ("min_score", "saturation"):
        number(settings.get(key), f"settings.{key}", problems, 0.01, 100)
    number(settings.get("min_confidence"), "settings.min_confidence", problems, 0, 1)
    number(settings.get("repeat_containment"), "settings.repeat_containment", problems, 0.1, 1)
    for key in ("evidence_limit", "short_reply_max_chars", "repeat_min_chars", "swing_min_delta"):
        number(settings.get(key), f"settings.{key}", problems, 1, 100)
    _check_playbook(data.get("default_playbook"), "default_playbook", problems)
    types = data.get("types")
    if not isinstance(types, dict):
        return problems + ["types must be a mapping of persona type -> definition"]
    missing = [p for p in PERSONAS if p not in types]
    if missing:
        problems.append(f"types lacks {', '.join(missing)}")
    for name, spec in types.items():
        where = f"types.{name}"
        if name not in PERSONAS:
            problems.append(f"{where}: unknown persona type (allowed: {', '.join(PERSONAS)})")
        if not isinstance(spec, dict):
            problems.append(f"{where} must be a mapping")
            continue
        if not isinstance(spec.get("trait"), str):
            problems.append(f"{where}.trait must be a string")
        for i, cue in enumerate(spec.get("cues") or []):
            cw = f"{where}.cues[{i}]"
            if not isinstance(cue, dict) or not isinstance(cue.get("label"), str):
                problems.append(f"{cw} needs a label")
                continue
            english(cue.get("label_en"), f"{cw}.label_en", problems)
            number(cue.get("weight"), f"{cw}.weight", problems, 0.01, 10)
            phrases = cue.get("phrases", [])
            regexes = cue.get("regexes", [])
            str_list(phrases, f"{cw}.phrases", problems, allow_empty=True)
            str_list(regexes, f"{cw}.regexes", problems, allow_empty=True)
            if not phrases and not regexes:
                problems.append(f"{cw} needs phrases or regexes")
        for i, feat in enumerate(spec.get("features") or []):
            fw = f"{where}.features[{i}]"
            if not isinstance(feat, dict) or not _feature_ok(feat.get("feature")):
                problems.append(f"{fw}.feature must be one of {', '.join(FEATURES)} or emotion:<label>")
                continue
            number(feat.get("weight"), f"{fw}.weight", problems, 0.01, 10)
            if not isinstance(feat.get("label"), str):
                problems.append(f"{fw}.label must be a string")
            english(feat.get("label_en"), f"{fw}.label_en", problems)
        _check_playbook(spec.get("playbook"), f"{where}.playbook", problems)
    return problems


@dataclass(frozen=True)
class _Cue:
    persona: str
    label: str
    weight: float
    negatable: bool


@dataclass(frozen=True)
class Clue:
    """One piece of evidence: which type it supports, how much, where, and why."""

    persona: str
    weight: float
    turn: int  # index in the conversation
    label: str
    text: str = ""  # the customer's words
    # instead of words, the earlier customer turn it refers to: ("repeats", i) or ("since", i)
    ref: tuple[str, int] | None = None

    def describe(self) -> str:
        return self.evidence().text

    def evidence(self) -> Evidence:
        """The clue as an evidence line: 第3轮「…」：要求依据或书面答复（刚强型）."""
        params: dict[str, Any] = {"turn": self.turn + 1, "label": self.label, "persona": self.persona}
        quote = ""
        if self.ref is not None:
            kind, at = self.ref
            params[kind] = at + 1
            quote = f"「{_REF_TEXT[kind].format(at + 1)}」"
        elif self.text:
            params["quote"] = self.text
            quote = f"「{self.text}」"
        return Evidence.of("persona.clue", f"第{self.turn + 1}轮{quote}：{self.label}（{self.persona}）", **params)


class PersonaModel:
    """The personas pack compiled for matching; picklable."""

    def __init__(self, pack: dict[str, Any]) -> None:
        self.settings: dict[str, Any] = pack["settings"]
        self.default_playbook: dict[str, Any] = pack["default_playbook"]
        self.types: dict[str, dict[str, Any]] = pack["types"]
        self.matcher = PhraseMatcher()
        self.features: dict[str, list[tuple[str, float, str]]] = {}
        for persona, spec in self.types.items():
            for cue in spec.get("cues") or []:
                payload = _Cue(persona, cue["label"], float(cue["weight"]), bool(cue.get("negatable")))
                self.matcher.extend(cue.get("phrases", []), payload)
                for rx in cue.get("regexes", []):
                    self.matcher.add_regex(rx, payload)
            for feat in spec.get("features") or []:
                self.features.setdefault(feat["feature"], []).append((persona, float(feat["weight"]), feat["label"]))

    # -- evidence ---------------------------------------------------------------------
    def lexical_clues(self, index: int, norm: str, text: str) -> list[Clue]:
        clues: list[Clue] = []
        hits: dict[tuple[str, str], int] = {}
        for m in longest_non_overlapping(self.matcher.find(norm)):
            cue: _Cue = m.payload
            if cue.negatable and m.start > 0 and norm[m.start - 1] in NEGATORS:
                continue
            # a cue repeated within one turn adds half its weight each time, at most twice
            n = hits.get((cue.persona, cue.label), 0)
            if n >= 3:
                continue
            hits[(cue.persona, cue.label)] = n + 1
            weight = cue.weight if n == 0 else cue.weight / 2
            clues.append(Clue(cue.persona, weight, index, cue.label, text[m.start:m.end]))
        return clues

    def turn_features(self, turns: Sequence[TurnAssessment], position: int, index: int,
                      history: list[tuple[int, TurnAssessment]],
                      repeats: RepeatTracker) -> list[tuple[str, str, tuple[str, int] | None]]:
        """(feature, quoted text, earlier turn referred to) triples that customer turn `index`
        shows given earlier customer turns `history` ((index, turn) pairs, also tracked by
        `repeats`)."""
        s = self.settings
        turn = turns[index]
        norm = turn.norm or turn.text
        found: list[tuple[str, str, tuple[str, int] | None]] = []
        body = content(norm)
        if position > 0 and 0 < len(body) <= s["short_reply_max_chars"]:
            # another very short reply: an earlier reply (not the opening turn) was one too
            if any(0 < len(content(t.norm or t.text)) <= s["short_reply_max_chars"] for _, t in history[1:]):
                found.append(("short_reply", turn.text.strip(), None))
        if len(body) >= s["repeat_min_chars"]:
            at, share, _ = repeats.best(norm)
            if share >= s["repeat_containment"]:
                found.append(("repeated_demand", "", ("repeats", history[at][0])))
        if turn.emotion:
            found.append((f"emotion:{turn.emotion}", "", None))
        if turn.abusive:
            found.append(("abusive", "", None))
        if turn.intensity is not None and turn.intensity >= 3:
            found.append(("high_intensity", "", None))
        if turn.escalation_risk:
            found.append(("escalation_risk", "", None))
        cues = extract(norm, turn.text)
        if cues.question_runs or norm.count("？") >= 3:
            found.append(("question_run", "", None))
        if history and self._swing(history, turn):
            found.append(("emotion_swing", "", ("since", history[-1][0])))
        return found

    def _swing(self, history: list[tuple[int, TurnAssessment]], after: TurnAssessment) -> bool:
        """A relapse: the customer turns negative again after having been positive, or the
        intensity jumps back up after it had come down. Calming down after the agent's
        help is not a swing."""
        before = history[-1][1]
        if before.emotion and after.emotion:
            v0, v1 = EMOTION_VALENCE.get(before.emotion, 0.0), EMOTION_VALENCE.get(after.emotion, 0.0)
            if v0 > 0.3 and v1 < -0.3:
                return True
        levels = [t.intensity for _, t in history if t.intensity is not None]
        if after.intensity is None or len(levels) < 2 or before.intensity is None:
            return False
        fell = max(levels[:-1]) - before.intensity >= 1
        return fell and after.intensity - before.intensity >= self.settings["swing_min_delta"]

    def clues(self, turns: Sequence[TurnAssessment]) -> list[Clue]:
        """All evidence in `turns`, in turn order."""
        out: list[Clue] = []
        history: list[tuple[int, TurnAssessment]] = []
        repeats = RepeatTracker()
        for index, turn in enumerate(turns):
            if turn.speaker != "customer":
                continue
            norm = turn.norm or turn.text
            out.extend(self.lexical_clues(index, norm, turn.text))
            for feature, quote, ref in self.turn_features(turns, len(history), index, history, repeats):
                for persona, weight, label in self.features.get(feature, []):
                    out.append(Clue(persona, weight, index, label, quote, ref))
            history.append((index, turn))
            repeats.add(norm)
        return out

    # -- decision ---------------------------------------------------------------------
    def decide(self, clues: list[Clue]) -> PersonaResult:
        s = self.settings
        scores: dict[str, float] = {}
        for clue in clues:
            scores[clue.persona] = scores.get(clue.persona, 0.0) + clue.weight
        if not scores:
            return self._result(UNKNOWN, 0.0, [])
        # ties go to the type listed first in the pack (stable, deterministic)
        order = list(self.types)
        best = max(scores, key=lambda p: (scores[p], -order.index(p)))
        top, total = scores[best], sum(scores.values())
        confidence = (top / (total + 0.5)) * (1 - math.exp(-top / s["saturation"]))
        confidence = round(min(max(confidence, 0.0), 1.0), 2)
        if top < s["min_score"] or confidence < s["min_confidence"]:
            return self._result(UNKNOWN, confidence, [])
        support = [c for c in clues if c.persona == best]
        return self._result(best, confidence, support)

    def _result(self, persona: str, confidence: float, support: list[Clue]) -> PersonaResult:
        playbook = self.types[persona]["playbook"] if persona in self.types else self.default_playbook
        evidence: list[Evidence] = []
        for clue in support:
            line = clue.evidence()
            if all(line.text != e.text for e in evidence):
                evidence.append(line)
        return PersonaResult(type=persona, confidence=confidence, evidence=(),
                             playbook=Playbook(speak=tuple(playbook["speak"]), avoid=tuple(playbook["avoid"]),
                                               method=playbook["method"])
                             ).with_evidence(evidence[: self.settings["evidence_limit"]])

    def infer(self, turns: Sequence[TurnAssessment]) -> PersonaResult:
        return self.decide(self.clues(turns))


def load_model(rules_dir: str | None = None) -> PersonaModel:
    return PersonaModel(load_checked(PACK, rules_dir=rules_dir))


def infer_persona(doc: Assessment, k: int | None = None, model: PersonaModel | None = None) -> PersonaResult:
    """The persona after the first `k` turns of `doc` (all turns when k is None)."""
    ensure_norm(doc)
    model = model or load_model()
    turns = doc.turns if k is None else doc.turns[:k]
    return model.infer(turns)


def persona_timeline(doc: Assessment, model: PersonaModel | None = None) -> list[dict[str, Any]]:
    """The evolving persona: one answer after each customer turn, with its turn index."""
    ensure_norm(doc)
    model = model or load_model()
    return [{"turn": i, **model.infer(doc.turns[: i + 1]).to_dict()}
            for i, t in enumerate(doc.turns) if t.speaker == "customer"]


@registry.components.register("anfu.persona.v1")
class Persona(Component):
    name = "anfu.persona.v1"
    provides = ("persona",)
    requires = ("turn.norm",)
    reads = ("turn.emotion", "turn.intensity", "turn.abusive", "turn.escalation_risk")

    def __init__(self, rules_dir: str | None = None) -> None:
        self.rules_dir = rules_dir
        self.model_ = load_model(rules_dir)

    def infer(self, turns: Sequence[TurnAssessment]) -> PersonaResult:
        """The persona of these turns (the pack's evidence; `anfu.persona.v2` adds its model)."""
        return self.model_.infer(turns)

    def predict(self, docs: Sequence[Assessment]) -> list[PersonaResult | None]:
        out: list[PersonaResult | None] = []
        for doc in docs:
            if doc.is_utterance:
                out.append(None)
                continue
            turns = [TurnAssessment(speaker=t.speaker, text=t.text, norm=t.norm or normalize(t.text), emotion=t.emotion,
                                    intensity=t.intensity, abusive=t.abusive,
                                    escalation_risk=t.escalation_risk) for t in doc.turns]
            out.append(self._remembered(turns))
        return out

    def _remembered(self, turns: list[TurnAssessment]) -> PersonaResult:
        """`infer(turns)`, remembered (the PERSONA_MEMO answers used last) by what it reads: the
        customer's turns, their positions and the upstream fields. An agent's reply adds
        nothing to that, so the live turn after it answers from here."""
        key = tuple((i, t.text, t.norm, t.emotion, t.intensity, t.abusive, t.escalation_risk)
                    for i, t in enumerate(turns) if t.speaker == "customer")
        memo = self.__dict__.get("_memo")
        if memo is None:
            memo = self.__dict__.setdefault("_memo", Lru(PERSONA_MEMO))
        found = memo.get(key)
        if found is None:
            found = self.infer(turns)
            memo.put(key, found)
        return found

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[Any]) -> None:
        for doc, result in zip(docs, outputs):
            if result is not None:
                doc.persona = result


# -- anfu.persona.v2: the rules' evidence and a learned linear model ------------------------
_LEXICAL_DENSE = tuple(f"cues:{p}" for p in PERSONAS)
_FEATURE_DENSE = tuple(f"signals:{p}" for p in PERSONAS)
_EMOTION_DENSE = tuple(f"emotion:{e}" for e in EMOTIONS)
#: the dense features of `persona_inputs`, in order (stored with the weights and checked on load)
DENSE_FEATURES: tuple[str, ...] = (
    *_LEXICAL_DENSE, *_FEATURE_DENSE, "customer_turns", "mean_chars", "short_share", "brief_share",
    *_EMOTION_DENSE, "mean_intensity", "peak_intensity", "end_below_peak", "intensity_change",
    "abusive_share", "escalation_share", "questions", "exclamations", "ellipses")


def persona_inputs(model: PersonaModel, turns: Sequence[TurnAssessment]) -> tuple[str, list[float], list[Clue]]:
    """What `anfu.persona.v2` reads of a conversation: the customer's turns joined (the n-gram
    text), the dense features (`DENSE_FEATURES`: the rules' evidence per type, split into
    lexicon cues and conversational signals, plus the customer's behaviour: how much and how
    briefly they write, their emotions and intensity, abuse, threats, questions), and the
    rules' clues. Agent turns are never read except through the rules' turn positions."""
    clues = model.clues(turns)
    signal_labels = {label for entries in model.features.values() for _, _, label in entries}
    lexical, signals = dict.fromkeys(PERSONAS, 0.0), dict.fromkeys(PERSONAS, 0.0)
    for clue in clues:
        bucket = signals if clue.label in signal_labels else lexical
        bucket[clue.persona] += clue.weight
    customer = [t for t in turns if t.speaker == "customer"]
    n = max(1, len(customer))
    norms = [t.norm or normalize(t.text) for t in customer]
    lengths = [len(content(s)) for s in norms] or [0]
    emotions = [sum(t.emotion == e for t in customer) / n for e in EMOTIONS]
    levels = [t.intensity or 0 for t in customer] or [0]
    change = float(np.mean(np.abs(np.diff(levels)))) if len(levels) > 1 else 0.0
    dense = [*(math.log1p(lexical[p]) for p in PERSONAS), *(math.log1p(signals[p]) for p in PERSONAS),
             math.log1p(len(customer)), math.log1p(float(np.mean(lengths))),
             float(np.mean([x <= 3 for x in lengths])), float(np.mean([x <= 8 for x in lengths])),
             *emotions, float(np.mean(levels)), float(max(levels)), float(max(levels) - levels[-1]), change,
             sum(bool(t.abusive) for t in customer) / n, sum(bool(t.escalation_risk) for t in customer) / n,
             sum(s.count("？") + s.count("?") for s in norms) / n,
             sum(s.count("！") + s.count("!") for s in norms) / n,
             sum(s.count("…") + s.count("...") for s in norms) / n]
    return " \n ".join(norms), dense, clues


def _check_options(*, model: Any, min_probability: Any, min_chars: Any, corroboration: Any,
                   confident_probability: Any, gate: Any, min_typed: Any, strong_cues: Any) -> None:
    """`anfu.persona.v2`'s options, checked when the pipeline is built: a wrong type or range
    (a string from a hand-edited TOML, a probability over 1, a negative weight, NaN) is AF102
    there, not a TypeError — or a rule silently always or never applying — at analysis time."""
    def real(value: Any) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)

    problems = []
    if not isinstance(model, (str, os.PathLike)) or not str(model):
        problems.append(("model", "\"default\" or the path of persona weights (.npz)", model))
    if min_probability is not None and not (real(min_probability) and 0 <= min_probability <= 1):
        problems.append(("min_probability", "a number from 0 to 1 (or left out)", min_probability))
    if not (isinstance(min_chars, numbers.Integral) and not isinstance(min_chars, bool) and min_chars >= 0):
        problems.append(("min_chars", "a whole number >= 0", min_chars))
    if corroboration is not None and not (real(corroboration) and corroboration >= 0):
        problems.append(("corroboration", "a number >= 0 (0 turns the rule off; or left out)", corroboration))
    if confident_probability is not None and not (real(confident_probability) and 0 <= confident_probability <= 1):
        problems.append(("confident_probability", "a number from 0 to 1 (or left out)", confident_probability))
    if not isinstance(gate, (str, os.PathLike)) or not str(gate):
        problems.append(("gate", "\"auto\", \"none\" or the path of a typedness gate (.npz)", gate))
    if min_typed is not None and not (real(min_typed) and 0 <= min_typed <= 1):
        problems.append(("min_typed", "a number from 0 to 1 (or left out)", min_typed))
    if not (real(strong_cues) and strong_cues >= 0):
        problems.append(("strong_cues", "a number >= 0", strong_cues))
    if problems:
        raise ConfigError("AF102", "; ".join(
            f'[components."{LearnedPersona.name}"].{key} must be {want}, not {value!r}'[:300]
            for key, want, value in problems))


@registry.components.register("anfu.persona.v2")
class LearnedPersona(Persona):
    """The personas pack's evidence combined with a linear model (char n-grams of everything the
    customer wrote plus the rules' scores and behaviour features; `anfu.backends.text_dense`).

    Most real customers show no personality type a team lead would name (our labellers left
    four in five STC-3 dialogues `unknown`), so the weights come with a **typedness gate**
    (`persona_gate.npz`, the same inputs, learnt on our labels of real dialogues and our written
    conversations): when its probability that the customer shows a type stays below `min_typed`
    (default: the threshold stored with the gate, chosen by cross-validation at training time),
    the answer is `unknown` (evidence `persona.untyped`) unless the pack's cues of one type weigh
    `strong_cues` or more. Past the gate, the model's most probable type, unless the evidence is
    thin: the customer wrote fewer than `min_chars` content characters with no rule clue, or the
    probability stays below `min_probability` and the rules name no type either, or the answer
    is **uncorroborated** (the pack's cues for the type weigh less than `corroboration` and the
    probability is below `confident_probability`; the defaults come with the weights, and
    weights with a gate switch that rule off). The evidence lists the rules' clues for the type,
    the customer's words that weighed most, and the probability; an abstention says why.
    """

    name = "anfu.persona.v2"

    def __init__(self, rules_dir: str | None = None, model: str = "default",
                 min_probability: float | None = None, min_chars: int = 20,
                 corroboration: float | None = None, confident_probability: float | None = None,
                 gate: str = "auto", min_typed: float | None = None, strong_cues: float = STRONG_CUES) -> None:
        _check_options(model=model, min_probability=min_probability, min_chars=min_chars,
                       corroboration=corroboration, confident_probability=confident_probability,
                       gate=gate, min_typed=min_typed, strong_cues=strong_cues)
        super().__init__(rules_dir)
        self.model = model
        self.min_probability = min_probability
        self.min_chars = min_chars
        self.corroboration = corroboration
        self.confident_probability = confident_probability
        self.gate = gate
        self.min_typed = min_typed
        self.strong_cues = strong_cues
        from ..backends.text_dense import DEFAULT_PERSONA_WEIGHTS, gate_path, load_text_dense_cached

        path = DEFAULT_PERSONA_WEIGHTS if model == "default" else model
        self.linear_ = load_text_dense_cached(path, PERSONAS, DENSE_FEATURES)
        meta = self.linear_.meta
        self.threshold_ = float(meta.get("min_probability", 0.0) if min_probability is None else min_probability)
        self.corroboration_ = float(meta.get("corroboration", CORROBORATION) if corroboration is None else corroboration)
        self.confident_ = float(meta.get("confident_probability", CONFIDENT_PROBABILITY)
                                if confident_probability is None else confident_probability)
        found = gate_path(path) if gate == "auto" else None if gate == "none" else gate
        self.gate_ = load_text_dense_cached(found, GATE_LABELS, DENSE_FEATURES) if found else None
        stored = self.gate_.meta if self.gate_ is not None else {}
        self.min_typed_ = float(stored.get("min_typed", 0.0) if min_typed is None else min_typed)

    def infer(self, turns: Sequence[TurnAssessment]) -> PersonaResult:
        text, dense, clues = persona_inputs(self.model_, turns)
        chars = sum(len(content(t.norm or t.text)) for t in turns if t.speaker == "customer")
        if chars < self.min_chars and not clues:
            return self.model_._result(UNKNOWN, 0.0, []).with_evidence([Evidence.of(
                "persona.thin_text", f"证据不足：客户只写了{chars}个字，没有任何性格线索", chars=chars)])
        if self.gate_ is not None:
            typed = round(float(self.gate_.predict_proba([text], np.array([dense]))[0][1]), 2)
            if typed < self.min_typed_:
                return self._untyped(clues, typed)
        proba = self.linear_.predict_proba([text], np.array([dense]))[0]
        best = int(proba.argmax())
        persona, p = PERSONAS[best], round(float(proba[best]), 2)
        support = sum(c.weight for c in clues if c.persona == persona)
        unsure = proba[best] < self.threshold_
        uncorroborated = not unsure and support < self.corroboration_ and proba[best] < self.confident_
        if unsure or uncorroborated:
            ruled = self.model_.decide(clues)
            if ruled.type != UNKNOWN:  # the model hesitates but the pack's cues are clear
                ruled_p = float(proba[PERSONAS.index(ruled.type)])
                line = Evidence.of("persona.rules", f"规则：{ruled.type}（模型概率{ruled_p:.2f}）",
                                   persona=ruled.type, probability=round(ruled_p, 2))
                return ruled.with_evidence([line, *ruled.evidence_items][: self.model_.settings["evidence_limit"]])
            if uncorroborated:
                return self.model_._result(UNKNOWN, p, []).with_evidence([Evidence.of(
                    "persona.uncorroborated",
                    f"证据不足：模型倾向{persona}（概率{p:.2f}），但客户话语中{persona}的明确线索不足"
                    f"（线索分{support:.1f}，需{self.corroboration_:.1f}）",
                    persona=persona, probability=p, support=round(support, 2), needed=self.corroboration_)])
            runner = PERSONAS[int(np.argsort(proba)[-2])]
            return self.model_._result(UNKNOWN, p, []).with_evidence([Evidence.of(
                "persona.unsure", f"证据不足：最可能的{persona}概率仅{p:.2f}（低于{self.threshold_:.2f}），与{runner}难以区分",
                persona=persona, probability=p, threshold=round(self.threshold_, 2), runner_up=runner)])
        return self._named(best, proba, clues, text)

    def _named(self, best: int, proba: np.ndarray, clues: Sequence[Any], text: str) -> PersonaResult:
        """The model's type, with its probability, the customer's words and the pack's clues."""
        persona, p = PERSONAS[best], round(float(proba[best]), 2)
        result = self.model_._result(persona, p, [c for c in clues if c.persona == persona])
        words = self.linear_.top_terms(text, best)
        summary = f"模型：{persona}概率{p:.2f}"
        if words:
            summary += "；客户用语" + "、".join(f"「{w}」" for w in words)
        line = Evidence.of("persona.model", summary, persona=persona, probability=p, words=list(words))
        return result.with_evidence([line, *result.evidence_items][: self.model_.settings["evidence_limit"]])

    def _untyped(self, clues: Sequence[Any], typed: float) -> PersonaResult:
        """Below the gate: the pack's cues name a type only when they weigh `strong_cues`."""
        ruled = self.model_.decide(clues)
        support = sum(c.weight for c in clues if c.persona == ruled.type)
        if gate_answer(typed, self.min_typed_, ruled.type, support, self.strong_cues) != UNKNOWN:
            line = Evidence.of("persona.strong_cues", f"规则：{ruled.type}（线索分{support:.1f}）",
                               persona=ruled.type, support=round(support, 2))
            return ruled.with_evidence([line, *ruled.evidence_items][: self.model_.settings["evidence_limit"]])
        return self.model_._result(UNKNOWN, typed, []).with_evidence([Evidence.of(
            "persona.untyped", f"证据不足：客户话语未显出明确的性格类型（可辨概率{typed:.2f}，需{self.min_typed_:.2f}）",
            probability=typed, needed=round(self.min_typed_, 2))])
