"""The char n-gram cause classifier (`anfu.ngram_cause.v1`): the cause component's fallback.

The same TF-IDF char 1–3-gram features as the emotion model (`anfu.backends.ngram`: its
`transform` does the feature extraction, so both models read text identically), with one
linear head over `glossary.CAUSES` learnt by logistic regression at training time
(`anfu.training.cause`). Inference is plain numpy; the weights are a compact `.npz`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError
from ..glossary import CAUSES
from .ngram import NGRAM_RANGE, WEIGHTS_DIR, NgramEmotionModel, softmax, vocab_index
from .npz_weights import load_cached, load_npz, save_npz

FORMAT_VERSION = 1
DEFAULT_CAUSE_WEIGHTS = WEIGHTS_DIR / "cause_ngram.npz"
_REQUIRED_KEYS = ("format_version", "labels", "vocab", "idf", "coef", "intercept", "temperature",
                  "ngram_range", "meta")


class NgramCauseModel:
    """Linear cause classifier over TF-IDF char n-grams (labels in `glossary.CAUSES` order).

    Learned state ends in `_`; build one with `NgramCauseModel.load(path)` or
    `anfu.training.cause.fit_cause_model(...)`.
    """

    name = "anfu.ngram_cause.v1"

    def __init__(self, vocab: Sequence[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 temperature: float = 1.0, ngram_range: tuple[int, int] = NGRAM_RANGE,
                 meta: dict[str, Any] | None = None) -> None:
        # `_order`, `_keys`, `idf_` and `ngram_range` are what NgramEmotionModel.transform reads
        self.vocab_, self._order, self._keys = vocab_index(vocab)
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self.coef_ = np.asarray(coef, dtype=np.float32)
        self.intercept_ = np.asarray(intercept, dtype=np.float32)
        self.temperature_ = float(temperature)
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.meta = dict(meta or {})
        self.labels = CAUSES
        size = len(self.vocab_)
        ok = (self.idf_.shape == (size,) and self.coef_.shape == (size, len(CAUSES))
              and self.intercept_.shape == (len(CAUSES),)
              and self.temperature_ > 0 and math.isfinite(self.temperature_)
              and 1 <= self.ngram_range[0] <= self.ngram_range[1] <= 3)
        if not ok:
            raise ModelError("AF204", f"cause model (array shapes do not match a {size}-term vocabulary)")

    def save(self, path: str | Path) -> Path:
        """Write the weights as a compressed `.npz` (float16 weights, float32 biases)."""
        return save_npz(
            path, format_version=np.int32(FORMAT_VERSION), labels=np.array(CAUSES),
            vocab=np.array(sorted(self.vocab_, key=self.vocab_.get)), idf=self.idf_.astype(np.float16),
            coef=self.coef_.astype(np.float16), intercept=self.intercept_.astype(np.float32),
            temperature=np.float32(self.temperature_),
            ngram_range=np.array(self.ngram_range, dtype=np.int32),
            meta=np.array(json.dumps(self.meta, ensure_ascii=False)))

    @classmethod
    def load(cls, path: str | Path = DEFAULT_CAUSE_WEIGHTS) -> "NgramCauseModel":
        """Read weights written by `save`; AF201 when missing, AF204 when damaged."""
        return load_npz(
            path, required=_REQUIRED_KEYS, format_version=FORMAT_VERSION,
            labels=("labels", CAUSES, "glossary.CAUSES"),
            build=lambda data: cls(vocab=[str(x) for x in data["vocab"]], idf=data["idf"], coef=data["coef"],
                                   intercept=data["intercept"], temperature=float(data["temperature"]),
                                   ngram_range=tuple(int(x) for x in data["ngram_range"]),
                                   meta=json.loads(str(data["meta"]))),
            weights=lambda model: (model.idf_, model.coef_))

    def predict_proba(self, norm_texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities [n, len(CAUSES)] in the order of `glossary.CAUSES`."""
        if not len(norm_texts):
            return np.zeros((0, len(CAUSES)), dtype=np.float32)
        features = NgramEmotionModel.transform(self, norm_texts)  # type: ignore[arg-type]
        logits = NgramEmotionModel._linear(features, self.coef_, self.intercept_)
        return softmax(logits / self.temperature_)

    def __repr__(self) -> str:
        return f"<NgramCauseModel {len(self.vocab_)} terms, T={self.temperature_:.2f}>"


_CACHE: dict[tuple[str, float], NgramCauseModel] = {}


def load_cause_cached(path: str | Path = DEFAULT_CAUSE_WEIGHTS) -> NgramCauseModel:
    """Load once per (path, modification time): every Cause component shares one model."""
    return load_cached(_CACHE, path, NgramCauseModel.load)
