"""The char n-gram cause classifier (`anfu.ngram_cause.v1`): the cause component's fallback.

The same TF-IDF char 1–3-gram features as the emotion model (`anfu.backends.ngram`: its
`transform` does the feature extraction, so both models read text identically), with one
linear head over `glossary.CAUSES` learnt by logistic regression at training time
(`anfu.training.cause`). Inference is plain numpy; the weights are a compact `.npz`.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError
from ..glossary import CAUSES
from .ngram import NGRAM_RANGE, WEIGHTS_DIR, NgramEmotionModel, gram_key, softmax

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
        self.vocab_ = {term: i for i, term in enumerate(vocab)}
        keys = np.array([gram_key(term) for term in vocab], dtype=np.int64)
        # `_order`, `_keys`, `idf_` and `ngram_range` are what NgramEmotionModel.transform reads
        self._order = np.argsort(keys, kind="stable")
        self._keys = keys[self._order]
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
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        vocab = sorted(self.vocab_, key=self.vocab_.get)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh, format_version=np.int32(FORMAT_VERSION), labels=np.array(CAUSES),
                vocab=np.array(vocab), idf=self.idf_.astype(np.float16),
                coef=self.coef_.astype(np.float16), intercept=self.intercept_.astype(np.float32),
                temperature=np.float32(self.temperature_),
                ngram_range=np.array(self.ngram_range, dtype=np.int32),
                meta=np.array(json.dumps(self.meta, ensure_ascii=False)))
        return path

    @classmethod
    def load(cls, path: str | Path = DEFAULT_CAUSE_WEIGHTS) -> "NgramCauseModel":
        """Read weights written by `save`; AF201 when missing, AF204 when damaged."""
        path = Path(path)
        if not path.is_file():
            raise ModelError("AF201", str(path))
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = [k for k in _REQUIRED_KEYS if k not in data.files]
                if missing:
                    raise ModelError("AF204", f"{path} (missing arrays: {', '.join(missing)})")
                if int(data["format_version"]) != FORMAT_VERSION:
                    raise ModelError("AF204", f"{path} (format {int(data['format_version'])}, "
                                              f"this anfu reads {FORMAT_VERSION})")
                if tuple(str(x) for x in data["labels"]) != CAUSES:
                    raise ModelError("AF204", f"{path} (its labels differ from glossary.CAUSES)")
                model = cls(vocab=[str(x) for x in data["vocab"]], idf=data["idf"], coef=data["coef"],
                            intercept=data["intercept"], temperature=float(data["temperature"]),
                            ngram_range=tuple(int(x) for x in data["ngram_range"]),
                            meta=json.loads(str(data["meta"])))
        except ModelError as exc:
            if exc.code == "AF204" and not str(exc.detail).startswith(str(path)):
                raise ModelError("AF204", f"{path} ({exc.detail})") from None
            raise
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelError("AF204", f"{path} ({type(exc).__name__}: {exc})") from None
        if not (np.isfinite(model.idf_).all() and np.isfinite(model.coef_).all()):
            raise ModelError("AF204", f"{path} (non-finite weights)")
        return model

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
    path = Path(path)
    if not path.is_file():
        raise ModelError("AF201", str(path))
    key = (str(path.resolve()), path.stat().st_mtime)
    model = _CACHE.get(key)
    if model is None:
        model = _CACHE[key] = NgramCauseModel.load(path)
    return model
