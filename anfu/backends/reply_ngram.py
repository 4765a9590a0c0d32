"""The char n-gram reply violation classifier (`anfu.ngram_reply.v1`): the learned layer of the
pre-send check (服务忌语).

It scores one sentence of an agent reply at a time, with the same TF-IDF char 1–3-gram
features as the emotion model (`anfu.backends.ngram`: its `transform` does the feature
extraction, so every n-gram model reads text identically). Two linear heads, learnt by
logistic regression at training time (`anfu.training.replies`):

- violation: P(the sentence breaks a service rule), compared with `threshold_`, which
  training chose by cross-validation on the training replies for a target precision;
- category: which category of the forbidden-phrases pack (its labels are stored in the file,
  so a centre's own pack categories travel with its weights).

Inference is plain numpy; the weights are a compact `.npz`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError
from .ngram import NGRAM_RANGE, WEIGHTS_DIR, NgramEmotionModel, softmax, vocab_index
from .npz_weights import load_cached, load_npz, save_npz

FORMAT_VERSION = 1
DEFAULT_REPLY_WEIGHTS = WEIGHTS_DIR / "reply_ngram.npz"
_REQUIRED_KEYS = ("format_version", "categories", "vocab", "idf", "coef", "intercept", "cat_coef",
                  "cat_intercept", "threshold", "ngram_range", "meta")


class NgramReplyModel:
    """Sentence-level violation (binary) and category (multiclass) heads over TF-IDF char n-grams.

    Learned state ends in `_`; build one with `NgramReplyModel.load(path)` or
    `anfu.training.replies.fit_reply_model(...)`.
    """

    name = "anfu.ngram_reply.v1"

    def __init__(self, categories: Sequence[str], vocab: Sequence[str], idf: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray, cat_coef: np.ndarray, cat_intercept: np.ndarray,
                 threshold: float = 0.5, ngram_range: tuple[int, int] = NGRAM_RANGE,
                 meta: dict[str, Any] | None = None) -> None:
        self.categories = tuple(str(c) for c in categories)
        # `_order`, `_keys`, `idf_` and `ngram_range` are what NgramEmotionModel.transform reads
        self.vocab_, self._order, self._keys = vocab_index(vocab)
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self.coef_ = np.asarray(coef, dtype=np.float32).reshape(-1)
        self.intercept_ = float(np.asarray(intercept, dtype=np.float32).reshape(-1)[0])
        self.cat_coef_ = np.asarray(cat_coef, dtype=np.float32)
        self.cat_intercept_ = np.asarray(cat_intercept, dtype=np.float32)
        self.threshold_ = float(threshold)
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.meta = dict(meta or {})
        # both heads side by side: column 0 is the violation logit, the rest the categories
        self._heads = np.concatenate([self.coef_[:, None], self.cat_coef_], axis=1) \
            if self.cat_coef_.ndim == 2 and len(self.coef_) == len(self.cat_coef_) else self.cat_coef_
        self._biases = np.concatenate([[self.intercept_], self.cat_intercept_]).astype(np.float32)
        size, k = len(self.vocab_), len(self.categories)
        ok = (k >= 1 and len(set(self.categories)) == k
              and self.idf_.shape == (size,) and self.coef_.shape == (size,)
              and self.cat_coef_.shape == (size, k) and self.cat_intercept_.shape == (k,)
              and 0.0 < self.threshold_ < 1.0 and math.isfinite(self.intercept_)
              and 1 <= self.ngram_range[0] <= self.ngram_range[1] <= 3)
        if not ok:
            raise ModelError("AF204", f"reply model (array shapes do not match a {size}-term vocabulary "
                                      f"and {k} categories, or the threshold is not in (0, 1))")

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the weights as a compressed `.npz` (float16 weights, float32 biases)."""
        return save_npz(
            path, format_version=np.int32(FORMAT_VERSION), categories=np.array(self.categories),
            vocab=np.array(sorted(self.vocab_, key=self.vocab_.get)), idf=self.idf_.astype(np.float16),
            coef=self.coef_.astype(np.float16), intercept=np.float32(self.intercept_),
            cat_coef=self.cat_coef_.astype(np.float16),
            cat_intercept=self.cat_intercept_.astype(np.float32),
            threshold=np.float32(self.threshold_),
            ngram_range=np.array(self.ngram_range, dtype=np.int32),
            meta=np.array(json.dumps(self.meta, ensure_ascii=False)))

    @classmethod
    def load(cls, path: str | Path = DEFAULT_REPLY_WEIGHTS) -> "NgramReplyModel":
        """Read weights written by `save`; AF201 when missing, AF204 when damaged."""
        return load_npz(
            path, required=_REQUIRED_KEYS, format_version=FORMAT_VERSION,
            build=lambda data: cls(categories=[str(x) for x in data["categories"]],
                                   vocab=[str(x) for x in data["vocab"]], idf=data["idf"], coef=data["coef"],
                                   intercept=data["intercept"], cat_coef=data["cat_coef"],
                                   cat_intercept=data["cat_intercept"], threshold=float(data["threshold"]),
                                   ngram_range=tuple(int(x) for x in data["ngram_range"]),
                                   meta=json.loads(str(data["meta"]))),
            weights=lambda model: (model.idf_, model.coef_, model.cat_coef_))

    # ------------------------------------------------------------------ inference
    def scores(self, norm_texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """P(violation) [n] and category probabilities [n, len(categories)], one feature pass."""
        if not len(norm_texts):
            return np.zeros(0, dtype=np.float32), np.zeros((0, len(self.categories)), dtype=np.float32)
        features = NgramEmotionModel.transform(self, norm_texts)  # type: ignore[arg-type]
        logits = NgramEmotionModel._linear(features, self._heads, self._biases)
        violation = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        return violation.astype(np.float32), softmax(logits[:, 1:])

    def predict_proba(self, norm_texts: Sequence[str]) -> np.ndarray:
        """P(violation) of each (normalised) sentence."""
        return self.scores(norm_texts)[0]

    def predict(self, norm_texts: Sequence[str]) -> list[str | None]:
        """The category of each sentence scored at or above the threshold, else None."""
        violation, cats = self.scores(norm_texts)
        return [self.categories[int(c.argmax())] if p >= self.threshold_ else None
                for p, c in zip(violation, cats)]

    def __repr__(self) -> str:
        return (f"<NgramReplyModel {len(self.vocab_)} terms, {len(self.categories)} categories, "
                f"threshold={self.threshold_:.3f}>")


_CACHE: dict[tuple[str, float], NgramReplyModel] = {}


def load_reply_cached(path: str | Path = DEFAULT_REPLY_WEIGHTS) -> NgramReplyModel:
    """Load once per (path, modification time): every checker shares one model."""
    return load_cached(_CACHE, path, NgramReplyModel.load)
