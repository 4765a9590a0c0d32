"""Emotion of each customer turn: label, calibrated scores, intensity 0..4, valence −1..1.

The emotion model (default `anfu.ngram_emotion.v1`) gives calibrated probabilities; the
service lexicon (`rules/zh_CN/lexicon.yaml`) adds the cues public data lacks (urgency,
distrust, sarcasm, negation). Intensity starts from the model's intensity head and is
raised by degree adverbs, shouting cues and, since this component runs after
`anfu.risk.v1` and `anfu.abuse.v1`, by a threat or an insult (≥ 3). Agent turns are left
untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Sequence

import numpy as np

from .. import registry
from ..backends.ngram import model_input
from ..glossary import EMOTION_VALENCE, EMOTIONS
from ..text import cues as surface
from ..text.normalize import normalize
from ..types import Assessment, Trigger
from .base import Component
from .emotion_lexicon import Lexicon, Scan

NEGATIVE = frozenset({"anxious", "doubtful", "disappointed", "dissatisfied", "angry"})
# Intensity range each label allows (LABELS.md: neutral/satisfied 0–1, angry 3–4 …).
INTENSITY_RANGE: dict[str, tuple[int, int]] = {
    "neutral": (0, 1), "satisfied": (0, 3), "anxious": (1, 4), "doubtful": (1, 3),
    "disappointed": (1, 4), "dissatisfied": (1, 4), "angry": (3, 4),
}
THREAT_FLOOR = 3
STRONG_SWEARING = 3  # an unaimed expletive in a negative turn ("妈的，又停电"): strong, LABELS.md
_VALENCE = np.array([EMOTION_VALENCE[label] for label in EMOTIONS])

_MODELS: dict[tuple[str, str, float], Any] = {}


def resolve_weights(model_name: str, weights: str) -> Path:
    if weights != "default":
        return Path(weights)
    from ..backends.ngram import DEFAULT_WEIGHTS

    factory = registry.emotion_models.get(model_name)
    return Path(getattr(factory, "default_weights", DEFAULT_WEIGHTS))


def load_model(model_name: str, weights: str) -> Any:
    """The emotion model, loaded once per process for each (name, file, modification time)."""
    factory = registry.emotion_models.get(model_name)
    path = resolve_weights(model_name, weights)
    from ..errors import ModelError

    if not path.is_file():
        raise ModelError("AF201", str(path))
    key = (model_name, str(path.resolve()), path.stat().st_mtime)
    if key not in _MODELS:
        _MODELS[key] = factory.load(path)
    return _MODELS[key]


@dataclass(frozen=True)
class TurnEmotion:
    emotion: str
    scores: dict[str, float]
    intensity: int
    valence: float
    triggers: tuple[Trigger, ...]


_INDEX = {label: i for i, label in enumerate(EMOTIONS)}
# Characters that can carry surface cues (！？, emoji, capitals): texts without any skip the cue scan.
_CUE_CHARS = re.compile(r"[！？!?A-Z\u2600-\u27bf\U0001f000-\U0001ffff]")


def combine(proba: np.ndarray, scans: Sequence[Scan]) -> np.ndarray:
    """Model probabilities [n, 7] with the lexicon's log-odds boosts, renormalised."""
    logits = np.log(np.clip(np.asarray(proba, dtype=np.float64), 1e-9, 1.0))
    for row, scan in enumerate(scans):
        for label, boost in scan.boosts.items():
            logits[row, _INDEX[label]] += boost
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def decide_intensity(label: str, expected: float, scan: Scan, norm: str, text: str,
                     threat: bool, insult: bool, risk_triggers: Sequence[Trigger],
                     swearing: Sequence[Trigger] = ()) -> tuple[int, list[Trigger]]:
    """Intensity 0..4 and the triggers that raised it; `swearing`: the turn's unaimed expletives
    (anfu.abuse.v1), which make a negative turn strong (3) without being abuse (LABELS.md)."""
    lo, hi = INTENSITY_RANGE[label]
    value = int(round(expected))
    triggers: list[Trigger] = []
    if label in NEGATIVE:
        if scan.strong:
            m = scan.strong[0]
            if value < 2:
                value = 2
            elif value < 3 and len(scan.strong) >= 2:
                value = 3
            triggers.append(Trigger("intensity", "degree", m.start, m.end, m.text, "lexicon.degree.strong"))
        if _CUE_CHARS.search(text) and surface.extract(norm, text).arousal >= 0.4:
            value = max(value, 3)
            for name, start, end in surface.spans(norm)[:2]:
                triggers.append(Trigger("intensity", name, start, end, text[start:end], f"cues.{name}"))
        if swearing and not (threat or insult):
            value = max(value, STRONG_SWEARING)
            m = swearing[0]
            triggers.append(Trigger("intensity", "swearing", m.start, m.end, m.text, m.rule_id))
        if scan.weak and not scan.strong and not (threat or insult or swearing):
            value = min(value, 2)
            m = scan.weak[0]
            triggers.append(Trigger("intensity", "degree_weak", m.start, m.end, m.text, "lexicon.degree.weak"))
    if threat or insult:
        # an angry ultimatum or insult is extreme (LABELS.md); any other threat is at least strong
        value = 4 if label == "angry" else max(value, THREAT_FLOOR)
        for t in risk_triggers:
            triggers.append(Trigger("intensity", "threat" if t.kind == "escalation" else "insult",
                                    t.start, t.end, t.text, t.rule_id))
        if not risk_triggers:
            triggers.append(Trigger("intensity", "threat" if threat else "insult", 0, len(text), text))
    value = min(max(value, lo), hi if not (threat or insult) else 4)
    return value, triggers


@registry.components.register("anfu.emotion.v1")
class Emotion(Component):
    name = "anfu.emotion.v1"
    provides = ("turn.emotion", "turn.scores", "turn.intensity", "turn.valence", "turn.triggers")
    requires = ("turn.norm",)
    reads = ("turn.escalation_risk", "turn.abusive")
    scope = "turn"

    def __init__(self, model: str = "anfu.ngram_emotion.v1", weights: str = "default",
                 rules_dir: str | None = None) -> None:
        self.model = model
        self.weights = weights
        self.rules_dir = rules_dir
        self._model: Any = load_model(model, weights)
        self._lexicon: Lexicon | None = Lexicon.from_pack(rules_dir)

    @property
    def model_(self) -> Any:
        if self._model is None:
            self._model = load_model(self.model, self.weights)
        return self._model

    @property
    def lexicon_(self) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = Lexicon.from_pack(self.rules_dir)
        return self._lexicon

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = None  # reloaded (and shared) in the receiving process
        state["_lexicon"] = None
        return state

    def turn_key(self, doc: Assessment, i: int) -> Hashable:
        return doc.turns[i].follow_up

    def predict(self, docs: Sequence[Assessment]) -> list[list[TurnEmotion | None]]:
        turns = [t for doc in docs for t in doc.turns if t.speaker == "customer"]
        if not turns:
            return [[None] * len(doc.turns) for doc in docs]
        norms = [t.norm or normalize(t.text) for t in turns]
        proba, int_proba = self._model_predict([model_input(n, t.follow_up) for n, t in zip(norms, turns)])
        lexicon = self.lexicon_
        scans = [lexicon.scan(norm) for norm in norms]
        final = combine(proba, scans)
        # the intensity head's mode when it is confident, else its expected value (rounded later)
        levels = np.arange(int_proba.shape[1])
        expected = np.where(int_proba.max(axis=1) >= 0.5, int_proba.argmax(axis=1), int_proba @ levels).tolist()
        best = final.argmax(axis=1).tolist()
        valence = np.clip(final @ _VALENCE, -1.0, 1.0).tolist()
        rounded = np.round(final, 4).tolist()
        results = {id(t): self._one(t, norms[i], scans[i], rounded[i], best[i], expected[i], valence[i], final[i])
                   for i, t in enumerate(turns)}
        return [[results.get(id(t)) for t in doc.turns] for doc in docs]

    def _model_predict(self, inputs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Both heads for the model's inputs (`backends.ngram.model_input` of each turn)."""
        model = self.model_
        if hasattr(model, "predict_all"):
            return model.predict_all(inputs)
        # a model without an intensity head: start every turn at mild (1) and let the cues decide
        proba = model.predict_proba(inputs)
        mild = np.tile(np.array([0.0, 1.0, 0.0, 0.0, 0.0]), (len(inputs), 1))
        return proba, mild

    def _one(self, turn: Any, norm: str, scan: Scan, rounded: list[float], best: int, expected: float,
             valence: float, final: np.ndarray) -> TurnEmotion:
        label = EMOTIONS[best]
        threat = bool(turn.escalation_risk)
        insult = bool(turn.abusive)
        if (threat or insult) and label in ("neutral", "satisfied"):
            # a threat or an insult is never calm: take the most probable negative label
            negative = [i for i, name in enumerate(EMOTIONS) if name in NEGATIVE]
            label = EMOTIONS[max(negative, key=lambda i: final[i])]
        risk_triggers = [t for t in turn.triggers if t.kind in ("escalation", "abuse")]
        swearing = [t for t in turn.triggers if t.kind == "swearing"]
        intensity, triggers = decide_intensity(label, expected, scan, norm, turn.text, threat, insult,
                                               risk_triggers, swearing)
        for cue in scan.cues:
            if cue.negated_by is not None:
                s, e = cue.negated_by
                triggers.append(Trigger("negation", cue.label or "none", s, cue.end, turn.text[s:cue.end],
                                        cue.rule_id))
            if cue.label == label:
                triggers.insert(0, Trigger("emotion", label, cue.start, cue.end, turn.text[cue.start:cue.end],
                                           cue.rule_id))
        scores = dict(zip(EMOTIONS, rounded))
        if label in NEGATIVE:
            valence = min(valence, 0.0)
        return TurnEmotion(label, scores, intensity, round(valence, 3), tuple(triggers))

    def set_annotations(self, docs: Sequence[Assessment], outputs: list[list[TurnEmotion | None]]) -> None:
        for doc, results in zip(docs, outputs):
            for turn, result in zip(doc.turns, results):
                if result is None:
                    continue
                turn.emotion = result.emotion
                turn.scores = result.scores
                turn.intensity = result.intensity
                turn.valence = result.valence
                # keep upstream triggers (risk's own "negation" ones too); replace ours when run again
                ours = set(result.triggers)  # (a set: a long turn can carry thousands of triggers)
                turn.triggers = [t for t in turn.triggers
                                 if t.kind not in ("emotion", "intensity") and t not in ours]
                turn.triggers.extend(result.triggers)
