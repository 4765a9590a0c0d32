"""The learned escalation-risk head (升级风险) of `anfu.risk.v1`.

The `escalation` rule pack finds every mention of a channel (投诉, 12345, 曝光, 律师, 找你们领导…)
and judges it (threat, negated, narrated, past and resolved…). On real customer turns many
mentions the rules call threats are told as part of a story or name a channel in passing. This
head re-scores a customer turn from:

- TF-IDF char 1–3-grams of the normalised turn (@accounts and #topics# kept: a media or
  regulator tag is addressing them);
- the rules' conclusions (`DENSE`: a threat found, per channel, per non-threat verdict, a tag);
- the emotion model's probabilities and expected intensity for the turn.

One logistic regression (scikit-learn at training time only, `anfu train-risk`); inference is
numpy. `decide` combines it with the rules as chosen by cross-validation on the training
dialogues: a rule threat stands when the model's probability reaches `hit_threshold`, a turn
without one is flagged when it reaches `rest_threshold` (above 1: never). Every decision keeps
its reason: the rule's trigger, the rule's trigger turned into a `negation` the model doubted,
or the n-gram that weighed most for a model-only flag.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..glossary import EMOTIONS
from .ngram import char_ngrams
from .npz_weights import load_cached as cached_weights
from .npz_weights import load_npz, save_npz

FORMAT_VERSION = 1
WEIGHTS_DIR = Path(__file__).with_name("weights")
DEFAULT_WEIGHTS = WEIGHTS_DIR / "risk_ngram.npz"

CHANNELS: tuple[str, ...] = ("regulator", "media", "legal", "police", "complaint", "review", "superior")
VERDICTS: tuple[str, ...] = ("negated", "past_resolved", "narrated", "descriptive", "neutral_query", "third_party")
# the dense features, in order (stored with the weights: a file trained on others is refused)
DENSE: tuple[str, ...] = (
    ("rule_threat", "rule_threats_log")
    + tuple(f"threat.{c}" for c in CHANNELS)
    + tuple(f"verdict.{v}" for v in VERDICTS)
    + ("threat_tag",)
    + tuple(f"emotion.{e}" for e in EMOTIONS)
    + ("intensity",)
)
_REQUIRED = ("format_version", "dense", "vocab", "idf", "coef", "dense_coef", "intercept", "dense_mean",
             "dense_scale", "hit_threshold", "rest_threshold", "meta")


def dense_features(mentions: Sequence[tuple[str, str, str]], emotion: Sequence[float],
                   intensity: Sequence[float]) -> list[float]:
    """The `DENSE` vector of one turn: `mentions` as (channel, verdict, matched text) from the
    rules, `emotion` the emotion model's probabilities (glossary order), `intensity` its
    probabilities of 0..4."""
    threats = [m for m in mentions if m[1] == "threat"]
    out = [float(bool(threats)), math.log1p(len(threats))]
    out += [float(any(m[0] == c for m in threats)) for c in CHANNELS]
    out += [float(any(m[1] == v for m in mentions)) for v in VERDICTS]
    out.append(float(any(m[2][:1] in "@#【" for m in threats)))
    out += [float(p) for p in emotion]
    out.append(float(np.dot(np.asarray(intensity, dtype=np.float64), np.arange(len(intensity)))) / 4.0)
    return out


def sparse_terms(norm: str) -> list[str]:
    """The char 1–3-grams the head reads (training and inference alike)."""
    return char_ngrams(norm, (1, 3))


class RiskNgramModel:
    """Probability that a customer turn is a current escalation threat; picklable, numpy only."""

    def __init__(self, vocab: Sequence[str], idf: np.ndarray, coef: np.ndarray, dense_coef: np.ndarray,
                 intercept: float, dense_mean: np.ndarray, dense_scale: np.ndarray, hit_threshold: float,
                 rest_threshold: float, meta: dict[str, Any] | None = None) -> None:
        self.vocab_ = [str(t) for t in vocab]
        self.index_ = {t: i for i, t in enumerate(self.vocab_)}
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self.coef_ = np.asarray(coef, dtype=np.float32)
        self.dense_coef_ = np.asarray(dense_coef, dtype=np.float32)
        self.intercept_ = float(intercept)
        self.dense_mean_ = np.asarray(dense_mean, dtype=np.float32)
        self.dense_scale_ = np.asarray(dense_scale, dtype=np.float32)
        self.hit_threshold = float(hit_threshold)
        self.rest_threshold = float(rest_threshold)
        self.meta = dict(meta or {})
        size = len(self.vocab_)
        if (self.idf_.shape != (size,) or self.coef_.shape != (size,)
                or self.dense_coef_.shape != (len(DENSE),) or self.dense_mean_.shape != (len(DENSE),)
                or self.dense_scale_.shape != (len(DENSE),) or not (self.dense_scale_ > 0).all()):
            raise ValueError(f"array shapes do not match a {size}-term vocabulary and {len(DENSE)} dense features")

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the weights as a compressed `.npz` (float16 n-gram weights)."""
        return save_npz(
            path, format_version=np.int32(FORMAT_VERSION), dense=np.array(DENSE), vocab=np.array(self.vocab_),
            idf=self.idf_.astype(np.float16), coef=self.coef_.astype(np.float16), dense_coef=self.dense_coef_,
            intercept=np.float32(self.intercept_), dense_mean=self.dense_mean_, dense_scale=self.dense_scale_,
            hit_threshold=np.float32(self.hit_threshold), rest_threshold=np.float32(self.rest_threshold),
            meta=np.array(json.dumps(self.meta, ensure_ascii=False)))

    @classmethod
    def load(cls, path: str | Path = DEFAULT_WEIGHTS) -> RiskNgramModel:
        """Read weights written by `save`; AF201 when missing, AF204 when damaged or trained on
        other dense features."""
        return load_npz(
            path, required=_REQUIRED, format_version=FORMAT_VERSION, labels=("dense", DENSE, "the risk head's features"),
            build=lambda d: cls(vocab=[str(x) for x in d["vocab"]], idf=d["idf"], coef=d["coef"],
                                dense_coef=d["dense_coef"], intercept=float(d["intercept"]),
                                dense_mean=d["dense_mean"], dense_scale=d["dense_scale"],
                                hit_threshold=float(d["hit_threshold"]), rest_threshold=float(d["rest_threshold"]),
                                meta=json.loads(str(d["meta"]))),
            weights=lambda m: (m.idf_, m.coef_, m.dense_coef_, m.dense_mean_, m.dense_scale_))

    # ------------------------------------------------------------------ inference
    def _terms(self, norm: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns, l2-normalised sublinear TF-IDF values) of one normalised turn."""
        index = self.index_
        counts: dict[int, int] = {}
        for term in sparse_terms(norm):
            j = index.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        vals = (1.0 + np.log(tf)) * self.idf_[cols]
        return cols, vals / (np.sqrt(float(vals @ vals)) or 1.0)

    def predict(self, norms: Sequence[str], dense: Sequence[Sequence[float]]) -> list[float]:
        """The probability of a current threat for each normalised turn and its `DENSE` row."""
        if not len(norms):
            return []
        d = (np.asarray(dense, dtype=np.float32).reshape(len(norms), len(DENSE)) - self.dense_mean_) / self.dense_scale_
        base = self.intercept_ + d @ self.dense_coef_
        out = []
        for norm, b in zip(norms, base.tolist()):
            cols, vals = self._terms(norm)
            logit = b + float(vals @ self.coef_[cols])
            out.append(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit)))))
        return out

    def decide(self, rule_threat: bool, probability: float) -> bool:
        """The turn's escalation risk from the rules' verdict and the head's probability."""
        return probability >= (self.hit_threshold if rule_threat else self.rest_threshold)

    def strongest_span(self, norm: str) -> tuple[int, int] | None:
        """(start, end) in `norm` of the n-gram that weighs most towards a threat (the reason
        shown for a flag the rules did not raise); None when no n-gram weighs for it."""
        best, span = 0.0, None
        text_len = len(norm)
        for n in (3, 2, 1):
            for i in range(text_len - n + 1):
                j = self.index_.get(norm[i:i + n])
                if j is not None and float(self.coef_[j]) * float(self.idf_[j]) > best:
                    best, span = float(self.coef_[j]) * float(self.idf_[j]), (i, i + n)
        return span

    def __repr__(self) -> str:
        return (f"<RiskNgramModel {len(self.vocab_)} terms, hit ≥ {self.hit_threshold:.2f}, "
                f"rest ≥ {self.rest_threshold:.2f}>")


_CACHE: dict[tuple[str, float], RiskNgramModel] = {}


def load_cached(path: str | Path = DEFAULT_WEIGHTS) -> RiskNgramModel:
    """Load once per (path, modification time): components share one model in a process."""
    return cached_weights(_CACHE, path, RiskNgramModel.load)
