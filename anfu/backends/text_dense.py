"""A linear classifier over TF-IDF char n-grams plus a few dense features: the learned part of
`anfu.persona.v2` (persona.npz) and `anfu.sop.v2` (sop.npz).

The text block reads text exactly as the emotion model does (`NgramEmotionModel.transform`);
the dense block is standardised with the training mean and scale and scaled by `dense_weight`
(the rule evidence and behaviour features of the component). Weights are learnt with
scikit-learn at training time (`anfu.training.persona`, `anfu.training.sop`); inference is
plain numpy.
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
TEXT_MEMO = 4096  # texts whose text logits `text_logits` remembers
SPARSE_MEMO = 64  # texts whose sparse rows `top_terms` finds without transforming them again
DEFAULT_PERSONA_WEIGHTS = WEIGHTS_DIR / "persona.npz"
DEFAULT_SOP_WEIGHTS = WEIGHTS_DIR / "sop.npz"
_REQUIRED_KEYS = ("format_version", "labels", "vocab", "idf", "coef", "dense_names", "dense_mean",
                  "dense_scale", "dense_coef", "intercept", "temperature", "ngram_range", "meta")


class TextDenseModel:
    """Logits = tfidf(text) · coef + ((dense − mean) / scale) · dense_coef + intercept.

    `labels` name the output columns; `dense_names` the dense features in order (checked on
    load, so a weight file and the code that computes the features cannot drift apart).
    `dense_coef` already includes the dense block's weight. Learned state ends in `_`.
    """

    def __init__(self, labels: Sequence[str], vocab: Sequence[str], idf: np.ndarray, coef: np.ndarray,
                 dense_names: Sequence[str], dense_mean: np.ndarray, dense_scale: np.ndarray,
                 dense_coef: np.ndarray, intercept: np.ndarray, temperature: float = 1.0,
                 ngram_range: tuple[int, int] = NGRAM_RANGE, meta: dict[str, Any] | None = None) -> None:
        self.labels = tuple(labels)
        self.dense_names = tuple(dense_names)
        self.vocab_, self._order, self._keys = vocab_index(vocab)
        self.terms_ = list(vocab)
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self.coef_ = np.asarray(coef, dtype=np.float32)
        self.dense_mean_ = np.asarray(dense_mean, dtype=np.float32)
        self.dense_scale_ = np.asarray(dense_scale, dtype=np.float32)
        self.dense_coef_ = np.asarray(dense_coef, dtype=np.float32)
        self.intercept_ = np.asarray(intercept, dtype=np.float32)
        self.temperature_ = float(temperature)
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.meta = dict(meta or {})
        size, k, d = len(self.vocab_), len(self.labels), len(self.dense_names)
        ok = (self.idf_.shape == (size,) and self.coef_.shape == (size, k)
              and self.dense_mean_.shape == (d,) and self.dense_scale_.shape == (d,)
              and self.dense_coef_.shape == (d, k) and self.intercept_.shape == (k,)
              and bool((self.dense_scale_ > 0).all())
              and self.temperature_ > 0 and math.isfinite(self.temperature_)
              and 1 <= self.ngram_range[0] <= self.ngram_range[1] <= 3)
        if not ok:
            raise ModelError("AF204", f"text+dense model (array shapes do not match {size} terms, "
                                      f"{d} dense features, {k} labels)")

    def save(self, path: str | Path) -> Path:
        """Write the weights as a compressed `.npz` (float16 text weights, float32 the rest)."""
        return save_npz(
            path, format_version=np.int32(FORMAT_VERSION), labels=np.array(self.labels),
            vocab=np.array(self.terms_), idf=self.idf_.astype(np.float16),
            coef=self.coef_.astype(np.float16), dense_names=np.array(self.dense_names),
            dense_mean=self.dense_mean_, dense_scale=self.dense_scale_, dense_coef=self.dense_coef_,
            intercept=self.intercept_, temperature=np.float32(self.temperature_),
            ngram_range=np.array(self.ngram_range, dtype=np.int32),
            meta=np.array(json.dumps(self.meta, ensure_ascii=False)))

    @classmethod
    def load(cls, path: str | Path, labels: Sequence[str], dense_names: Sequence[str]) -> "TextDenseModel":
        """Read weights written by `save`; AF201 when missing, AF204 when damaged or when its
        labels or dense features differ from `labels` / `dense_names`."""
        def build(data: Any) -> "TextDenseModel":
            names = tuple(str(x) for x in data["dense_names"])
            if names != tuple(dense_names):
                raise ModelError("AF204", "its dense features differ from this anfu's")
            return cls(labels=labels, vocab=[str(x) for x in data["vocab"]], idf=data["idf"], coef=data["coef"],
                       dense_names=names, dense_mean=data["dense_mean"], dense_scale=data["dense_scale"],
                       dense_coef=data["dense_coef"], intercept=data["intercept"],
                       temperature=float(data["temperature"]),
                       ngram_range=tuple(int(x) for x in data["ngram_range"]), meta=json.loads(str(data["meta"])))

        return load_npz(path, required=_REQUIRED_KEYS, format_version=FORMAT_VERSION,
                        labels=("labels", tuple(labels), "the component's labels"), build=build,
                        weights=lambda m: (m.idf_, m.coef_, m.dense_coef_, m.dense_mean_, m.intercept_))

    # ------------------------------------------------------------------ inference
    def transform(self, norm_texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sparse TF-IDF rows (row offsets, term indices, values), as the emotion model reads text."""
        return NgramEmotionModel.transform(self, norm_texts)  # type: ignore[arg-type]

    def predict_logits(self, norm_texts: Sequence[str], dense: np.ndarray) -> np.ndarray:
        """Temperature-scaled logits [n, len(labels)]."""
        if not len(norm_texts):
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return self.logits_with(self.text_logits(norm_texts), dense)

    def text_logits(self, norm_texts: Sequence[str]) -> np.ndarray:
        """The text's part of the logits [n, len(labels)] (intercept included, not scaled): one
        vectorised pass over a batch of texts. Each row depends on its own text only, so a
        caller that scores one text with several dense rows computes it once
        (`logits_with(np.repeat(row, k, axis=0), dense)` equals `predict_logits([text] * k, dense)`).

        Rows are remembered per text (the last TEXT_MEMO texts): a live conversation is scored
        again at every turn over a window of its latest turns."""
        if not len(norm_texts):
            return NgramEmotionModel._linear(self.transform(norm_texts), self.coef_, self.intercept_)
        memo = self.__dict__.setdefault("_text_memo", {})
        found = {t: memo.get(t) for t in norm_texts}
        missing = [t for t, row in found.items() if row is None]
        if missing:
            sparse = self._sparse(missing[0]) if len(missing) == 1 else self.transform(missing)
            rows = NgramEmotionModel._linear(sparse, self.coef_, self.intercept_)
            if len(memo) + len(missing) > TEXT_MEMO:
                memo.clear()  # plain dict operations: safe for the turn threads without a lock
            for text, row in zip(missing, rows):
                found[text] = memo[text] = row
        return np.stack([found[t] for t in norm_texts])

    def logits_with(self, text_logits: np.ndarray, dense: np.ndarray) -> np.ndarray:
        """Temperature-scaled logits from `text_logits` rows and their dense features."""
        dense = np.asarray(dense, dtype=np.float32).reshape(len(text_logits), len(self.dense_names))
        logits = np.array(text_logits, dtype=np.float32)
        logits += ((dense - self.dense_mean_) / self.dense_scale_) @ self.dense_coef_
        return logits / self.temperature_

    def predict_proba(self, norm_texts: Sequence[str], dense: np.ndarray) -> np.ndarray:
        return softmax(self.predict_logits(norm_texts, dense))

    def top_terms(self, norm_text: str, label: int, k: int = 3, min_len: int = 2) -> list[str]:
        """The `k` n-grams of `norm_text` (at least `min_len` characters) that raise `label`'s
        logit most: the words behind a decision, for its evidence."""
        off, idx, vals = self._sparse(norm_text)
        scores = self.coef_[idx, label] * vals
        positive = np.flatnonzero(scores > 0)
        # highest score first, equal scores by their term, highest first (the order of the
        # (score, term) pairs sorted in reverse), in one vectorised sort
        order = positive[np.lexsort((self._term_rank()[idx[positive]], scores[positive]))[::-1]]
        out: list[str] = []
        for j in order:
            term = self.terms_[idx[j]].strip("\x02\x03 ")
            if len(term) < min_len or any(term in t or t in term for t in out):
                continue
            out.append(term)
            if len(out) == k:
                break
        return out

    def _sparse(self, norm_text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`transform([norm_text])`, remembered for the last SPARSE_MEMO texts: a live turn
        scores a text (`text_logits`) and then names its words (`top_terms`)."""
        memo = self.__dict__.setdefault("_sparse_memo", {})
        found = memo.get(norm_text)
        if found is None:
            found = self.transform([norm_text])
            if len(memo) >= SPARSE_MEMO:
                memo.clear()  # plain dict operations: safe for the turn threads without a lock
            memo[norm_text] = found
        return found

    def _term_rank(self) -> np.ndarray:
        """Each term's rank in sorted order (computed once, on first use)."""
        rank = self.__dict__.get("_term_rank_")
        if rank is None:
            rank = np.empty(len(self.terms_), dtype=np.int64)
            rank[np.argsort(np.asarray(self.terms_, dtype=object), kind="stable")] = np.arange(len(self.terms_))
            self.__dict__["_term_rank_"] = rank
        return rank

    def __repr__(self) -> str:
        return f"<TextDenseModel {len(self.labels)} labels, {len(self.vocab_)} terms, {len(self.dense_names)} dense>"


_CACHE: dict[tuple[str, ...], dict[tuple[str, float], TextDenseModel]] = {}  # one per label set


def gate_path(weights: str | Path) -> Path | None:
    """The typedness gate written beside persona weights (`persona.npz` → `persona_gate.npz`),
    when there is one."""
    path = Path(weights)
    found = path.with_name(path.stem + "_gate.npz")
    return found if found.is_file() else None


def load_text_dense_cached(path: str | Path, labels: Sequence[str], dense_names: Sequence[str]) -> TextDenseModel:
    """Load once per (path, modification time): every component instance shares one model. The
    cache is per label set, so a file loaded for other labels (persona weights named as the
    typedness gate) is checked against these and refused (AF204), not handed back."""
    return load_cached(_CACHE.setdefault(tuple(labels), {}), path, lambda p: TextDenseModel.load(p, labels, dense_names))
