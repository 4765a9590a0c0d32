"""The char n-gram emotion model (`anfu.ngram_emotion.v1`).

TF-IDF over character 1–3-grams of the normalised text, with two linear heads learnt by
multinomial logistic regression (scikit-learn, at training time only): the emotion label
(in the order of `glossary.EMOTIONS`, temperature-scaled on a dev split) and the intensity
0..4. The weights live in a compact `.npz`; inference is plain numpy, so running the model
needs neither scikit-learn nor a GPU, and one core scores thousands of utterances a second.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import registry
from ..errors import ModelError
from ..glossary import EMOTIONS
from .npz_weights import load_cached as cached_weights
from .npz_weights import load_npz, save_npz

FORMAT_VERSION = 1
WEIGHTS_DIR = Path(__file__).with_name("weights")
DEFAULT_WEIGHTS = WEIGHTS_DIR / "emotion_ngram.npz"
INTENSITIES: tuple[int, ...] = (0, 1, 2, 3, 4)
NGRAM_RANGE: tuple[int, int] = (1, 3)

# Start/end markers let n-grams see the edges ("请问…" opens a request, "…吗" closes a question).
_BOS, _EOS = "\x02", "\x03"
_SPACES = re.compile(r"\s+")
_REQUIRED_KEYS = ("format_version", "labels", "vocab", "idf", "coef", "intercept",
                  "temperature", "int_coef", "int_intercept", "ngram_range", "meta")


_MENTION = re.compile(r"@[\w\-\u4e00-\u9fff]+")
FOLLOW_UP = "\x04"  # marks a customer's later turn (after the agent replied); never in normalised text


def model_input(norm: str, follow_up: bool = False) -> str:
    """What the emotion model reads of a normalised customer turn: @mentions folded to "@" (an
    account name says nothing of the writer's feeling, and real posts tag the company in most
    turns), and a marker on follow-up turns ("好的" answering a fix reads differently from an
    opening "好的")."""
    text = _MENTION.sub("@", norm) if "@" in norm else norm
    return FOLLOW_UP + text if follow_up else text


def prepare_text(norm: str) -> str:
    """The string the n-grams are cut from: whitespace (and NUL) collapsed, edges marked."""
    return _BOS + _SPACES.sub(" ", norm.replace("\x00", " ").strip()) + _EOS


_BITS = 21  # a code point fits in 21 bits, so an n-gram (n ≤ 3) packs into one int64 key


def gram_key(gram: str) -> int:
    """The integer key of an n-gram: its code points packed 21 bits apart (NUL never occurs)."""
    key = 0
    for ch in gram:
        key = (key << _BITS) | ord(ch)
    return key


def vocab_index(vocab: Sequence[str]) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """The vocabulary as {term: column}, plus the argsort of its n-gram keys and the sorted keys
    (what `NgramEmotionModel.transform` looks n-grams up in)."""
    keys = np.array([gram_key(term) for term in vocab], dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    return {term: i for i, term in enumerate(vocab)}, order, keys[order]


def char_ngrams(norm: str, ngram_range: tuple[int, int] = NGRAM_RANGE) -> list[str]:
    """All char n-grams of the prepared text (the training analyzer; inference mirrors it)."""
    text = prepare_text(norm)
    lo, hi = ngram_range
    size = len(text)
    return [text[i:i + n] for n in range(lo, hi + 1) for i in range(size - n + 1)]


@dataclass(frozen=True)
class BatchNgrams:
    """Every n-gram occurrence of a batch: its row (`owners`), plus the batch's distinct n-gram
    keys (sorted) and, per occurrence, the index of its key among them (`inverse`)."""

    owners: np.ndarray
    distinct: np.ndarray
    inverse: np.ndarray


# The last batch's n-grams: the emotion and cause models featurise the same customer texts one
# after the other, so the second reuses the first's work. One entry, replaced whole (thread-safe).
_LAST_BATCH: tuple[tuple[tuple[str, ...], tuple[int, int]], BatchNgrams] | None = None


def batch_ngrams(norm_texts: Sequence[str], ngram_range: tuple[int, int] = NGRAM_RANGE) -> BatchNgrams:
    """The char n-grams (as int64 keys, code points packed 21 bits apart) of a batch of texts."""
    global _LAST_BATCH
    key = (tuple(norm_texts), ngram_range)
    last = _LAST_BATCH
    if last is not None and last[0] == key:
        return last[1]
    rows = len(key[0])
    prepared = [prepare_text(t) for t in key[0]]
    lengths = np.fromiter((len(p) for p in prepared), dtype=np.int64, count=rows)
    cps = np.frombuffer("".join(prepared).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    owner = np.repeat(np.arange(rows, dtype=np.int64), lengths)
    keys_parts, rows_parts = [], []
    lo, hi = ngram_range
    for n in range(lo, hi + 1):
        count = len(cps) - n + 1
        if count <= 0:
            continue
        gram = cps[:count].copy()
        for k in range(1, n):
            gram = (gram << _BITS) | cps[k:k + count]
        same = owner[:count] == owner[n - 1:n - 1 + count]
        keys_parts.append(gram[same])
        rows_parts.append(owner[:count][same])
    if keys_parts:
        distinct, inverse = np.unique(np.concatenate(keys_parts), return_inverse=True)
        grams = BatchNgrams(np.concatenate(rows_parts), distinct, inverse.reshape(-1))
    else:
        empty = np.zeros(0, dtype=np.int64)
        grams = BatchNgrams(empty, empty, empty)
    for array in (grams.owners, grams.distinct, grams.inverse):
        array.flags.writeable = False  # shared between models: nobody may change it
    _LAST_BATCH = (key, grams)
    return grams


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _stored(data: Any, keys: Sequence[str], what: str) -> bool:
    """Whether a weight file holds an optional block: all of `keys` (True), none (False), or some
    (AF204: a damaged or hand-edited file)."""
    present = [k for k in keys if k in data.files]
    if present and len(present) != len(keys):
        missing = ", ".join(k for k in keys if k not in present)
        raise ModelError("AF204", f"incomplete {what} (missing {missing})")
    return bool(present)


_HIDDEN_KEYS = ("hidden_w1", "hidden_scale", "hidden_b1", "hidden_w2", "hidden_b2", "hidden_temperature", "hidden_mix")


@dataclass(frozen=True)
class HiddenLayer:
    """An optional second emotion head: one ReLU layer over the same TF-IDF features,
    logits = relu(x · w1 + b1) · w2 + b2, scaled by its own temperature. The emotion logits are
    (1 − mix) · linear + mix · network (a product of the two calibrated distributions).
    `w1` is stored as int8 with one scale per hidden unit (`scale`); in memory it is float32."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    temperature: float
    mix: float

    @property
    def size(self) -> int:
        return int(self.b1.shape[0])

    def fits(self, vocab_size: int) -> bool:
        h = self.size
        return (self.w1.shape == (vocab_size, h) and self.w2.shape == (h, len(EMOTIONS))
                and self.b2.shape == (len(EMOTIONS),) and self.temperature > 0
                and math.isfinite(self.temperature) and 0.0 <= self.mix <= 1.0)

    def mix_logits(self, linear: np.ndarray, pre_activation: np.ndarray) -> np.ndarray:
        net = (np.maximum(pre_activation, 0.0) @ self.w2 + self.b2) / self.temperature
        return ((1.0 - self.mix) * linear + self.mix * net).astype(np.float32)

    @staticmethod
    def quantize(w1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """int8 weights and one float32 scale per column (max |w| / 127)."""
        scale = np.maximum(np.abs(w1).max(axis=0), 1e-12).astype(np.float32) / 127.0
        return np.clip(np.rint(w1 / scale), -127, 127).astype(np.int8), scale

    def arrays(self) -> dict[str, np.ndarray]:
        q, scale = self.quantize(self.w1)
        return {"hidden_w1": q, "hidden_scale": scale, "hidden_b1": self.b1.astype(np.float32),
                "hidden_w2": self.w2.astype(np.float32), "hidden_b2": self.b2.astype(np.float32),
                "hidden_temperature": np.float32(self.temperature), "hidden_mix": np.float32(self.mix)}

    def arrays_f32(self) -> tuple[np.ndarray, ...]:
        return (self.w1, self.b1, self.w2, self.b2)

    @classmethod
    def from_arrays(cls, data: Any) -> "HiddenLayer | None":
        """The layer stored in a weight file; None when the file has none (a linear model)."""
        if not _stored(data, _HIDDEN_KEYS, "hidden layer"):
            return None
        scale = np.asarray(data["hidden_scale"], dtype=np.float32)
        return cls(w1=np.asarray(data["hidden_w1"], dtype=np.float32) * scale,
                   b1=np.asarray(data["hidden_b1"], dtype=np.float32),
                   w2=np.asarray(data["hidden_w2"], dtype=np.float32),
                   b2=np.asarray(data["hidden_b2"], dtype=np.float32),
                   temperature=float(data["hidden_temperature"]), mix=float(data["hidden_mix"]))


_GENERAL_KEYS = ("general_coef", "general_scale", "general_intercept", "general_temperature", "gate_coef", "gate_intercept",
                 "gate_power")


@dataclass(frozen=True)
class GeneralHead:
    """An optional head for general talk (posts about one's own life rather than to a service),
    and the domain gate that says how much of it to use (issue 9: general Weibo text).

    `coef`/`intercept`: a linear emotion head fitted on general posts only, with its own
    temperature. `gate_coef`/`gate_intercept`: logistic regression over the same features,
    general talk (1) against customers writing to a service (0). The model's distribution is
    (1 − g) · p_service + g · p_general with g = P(general) ** `gate_power`: a customer's turn
    (g ≈ 0.01 on real service turns) keeps the service heads' answer, a general post gets the
    general head's. `coef` is stored as int8 with one scale per label, like the hidden layer's
    input weights."""

    coef: np.ndarray
    intercept: np.ndarray
    temperature: float
    gate_coef: np.ndarray
    gate_intercept: float
    gate_power: float

    def fits(self, vocab_size: int) -> bool:
        return (self.coef.shape == (vocab_size, len(EMOTIONS)) and self.intercept.shape == (len(EMOTIONS),)
                and self.gate_coef.shape == (vocab_size,) and self.temperature > 0
                and math.isfinite(self.temperature) and self.gate_power > 0 and math.isfinite(self.gate_power)
                and math.isfinite(self.gate_intercept))

    def gate(self, gate_logit: np.ndarray) -> np.ndarray:
        """The general head's share g [n] from the gate's logits [n]."""
        return (1.0 / (1.0 + np.exp(-gate_logit.astype(np.float64)))) ** self.gate_power

    def blend(self, service_logits: np.ndarray, general_logit: np.ndarray, gate_logit: np.ndarray) -> np.ndarray:
        """Log-probabilities of the blended distribution (softmax of them gives it back)."""
        g = self.gate(gate_logit)[:, None]
        p = (1.0 - g) * softmax(service_logits.astype(np.float64)) + g * softmax(
            general_logit.astype(np.float64) / self.temperature)
        return np.log(np.maximum(p, 1e-12)).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        q, scale = HiddenLayer.quantize(self.coef)
        return {"general_coef": q, "general_scale": scale, "general_intercept": self.intercept.astype(np.float32),
                "general_temperature": np.float32(self.temperature),
                "gate_coef": self.gate_coef.astype(np.float16), "gate_intercept": np.float32(self.gate_intercept),
                "gate_power": np.float32(self.gate_power)}

    @classmethod
    def from_arrays(cls, data: Any) -> "GeneralHead | None":
        """The head stored in a weight file; None when the file has none."""
        if not _stored(data, _GENERAL_KEYS, "general head"):
            return None
        return cls(coef=np.asarray(data["general_coef"], dtype=np.float32)
                   * np.asarray(data["general_scale"], dtype=np.float32),
                   intercept=np.asarray(data["general_intercept"], dtype=np.float32),
                   temperature=float(data["general_temperature"]),
                   gate_coef=np.asarray(data["gate_coef"], dtype=np.float32),
                   gate_intercept=float(data["gate_intercept"]), gate_power=float(data["gate_power"]))


@registry.emotion_models.register("anfu.ngram_emotion.v1")
class NgramEmotionModel:
    """Linear emotion + intensity classifier over TF-IDF char n-grams.

    Learned state ends in `_`; build one with `NgramEmotionModel.load(path)` or
    `anfu.training.train.fit(...)`.
    """

    name = "anfu.ngram_emotion.v1"

    def __init__(self, vocab: Sequence[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 int_coef: np.ndarray, int_intercept: np.ndarray, temperature: float = 1.0,
                 ngram_range: tuple[int, int] = NGRAM_RANGE, meta: dict[str, Any] | None = None,
                 hidden: HiddenLayer | None = None, general: GeneralHead | None = None) -> None:
        self.vocab_, self._order, self._keys = vocab_index(vocab)
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self.coef_ = np.asarray(coef, dtype=np.float32)
        self.intercept_ = np.asarray(intercept, dtype=np.float32)
        self.int_coef_ = np.asarray(int_coef, dtype=np.float32)
        self.int_intercept_ = np.asarray(int_intercept, dtype=np.float32)
        self.temperature_ = float(temperature)
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.meta = dict(meta or {})
        self.labels = EMOTIONS
        self.hidden_ = hidden
        self.general_ = general
        self._check_shapes()
        # every head side by side (emotion, intensity, the hidden layer's input weights, the
        # general head and its gate), so one gather over the features serves them all (the
        # learned arrays become views into it)
        blocks = [self.coef_, self.int_coef_] + ([hidden.w1] if hidden is not None else [])
        biases = [self.intercept_, self.int_intercept_] + ([hidden.b1] if hidden is not None else [])
        if general is not None:
            blocks += [general.coef, general.gate_coef[:, None]]
            biases += [general.intercept, np.array([general.gate_intercept], dtype=np.float32)]
        self._heads = np.concatenate([np.asarray(b, dtype=np.float32) for b in blocks], axis=1)
        self._biases = np.concatenate([np.asarray(b, dtype=np.float32) for b in biases])
        k, j = len(EMOTIONS), len(EMOTIONS) + len(INTENSITIES)
        self._hidden_end = j + (hidden.size if hidden is not None else 0)
        self.coef_, self.int_coef_ = self._heads[:, :k], self._heads[:, k:j]
        if hidden is not None:  # one copy of the hidden layer's input weights in memory
            self.hidden_ = replace(hidden, w1=self._heads[:, j:self._hidden_end])
        if general is not None:
            g = self._hidden_end
            self.general_ = replace(general, coef=self._heads[:, g:g + k], gate_coef=self._heads[:, g + k])

    # ------------------------------------------------------------------ shapes and files
    def _check_shapes(self, source: str = "model") -> None:
        size = len(self.vocab_)
        ok = (self.idf_.shape == (size,) and self.coef_.shape == (size, len(EMOTIONS))
              and self.intercept_.shape == (len(EMOTIONS),)
              and self.int_coef_.shape == (size, len(INTENSITIES))
              and self.int_intercept_.shape == (len(INTENSITIES),)
              and self.temperature_ > 0 and math.isfinite(self.temperature_)
              and 1 <= self.ngram_range[0] <= self.ngram_range[1] <= 3
              and all(1 <= len(term) <= 3 for term in self.vocab_)
              and (self.hidden_ is None or self.hidden_.fits(size))
              and (self.general_ is None or self.general_.fits(size)))
        if not ok:
            raise ModelError("AF204", f"{source} (array shapes do not match a {size}-term vocabulary)")

    def save(self, path: str | Path) -> Path:
        """Write the weights as a compressed `.npz` (float16 weights, float32 biases)."""
        return save_npz(
            path,
            format_version=np.int32(FORMAT_VERSION),
            labels=np.array(EMOTIONS),
            vocab=np.array(sorted(self.vocab_, key=self.vocab_.get)),
            idf=self.idf_.astype(np.float16),
            coef=self.coef_.astype(np.float16),
            intercept=self.intercept_.astype(np.float32),
            temperature=np.float32(self.temperature_),
            int_coef=self.int_coef_.astype(np.float16),
            int_intercept=self.int_intercept_.astype(np.float32),
            ngram_range=np.array(self.ngram_range, dtype=np.int32),
            meta=np.array(json.dumps(self.meta, ensure_ascii=False)),
            **(self.hidden_.arrays() if self.hidden_ is not None else {}),
            **(self.general_.arrays() if self.general_ is not None else {}),
        )

    @classmethod
    def load(cls, path: str | Path = DEFAULT_WEIGHTS) -> "NgramEmotionModel":
        """Read weights written by `save`; AF201 when missing, AF204 when damaged."""
        return load_npz(
            path, required=_REQUIRED_KEYS, format_version=FORMAT_VERSION,
            labels=("labels", EMOTIONS, "glossary.EMOTIONS"),
            build=lambda data: cls(
                vocab=[str(x) for x in data["vocab"]], idf=data["idf"], coef=data["coef"],
                intercept=data["intercept"], int_coef=data["int_coef"],
                int_intercept=data["int_intercept"], temperature=float(data["temperature"]),
                ngram_range=tuple(int(x) for x in data["ngram_range"]),
                meta=json.loads(str(data["meta"])),
                hidden=HiddenLayer.from_arrays(data),
                general=GeneralHead.from_arrays(data),
            ),
            weights=lambda model: (model.idf_, model.coef_, model.int_coef_)
            + (model.hidden_.arrays_f32() if model.hidden_ is not None else ())
            + ((model.general_.coef, model.general_.gate_coef) if model.general_ is not None else ()),
        )

    # ------------------------------------------------------------------ inference
    def transform(self, norm_texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sparse TF-IDF rows as (row offsets, term indices, values), l2-normalised per row.

        Vectorised over the whole batch: the batch's n-gram keys (`batch_ngrams`, shared by
        every model that reads the same texts) are looked up in the sorted vocabulary keys
        with one `searchsorted` over the distinct keys.
        """
        rows = len(norm_texts)
        grams = batch_ngrams(norm_texts, self.ngram_range)
        vocab_size = len(self._keys)
        if grams.distinct.size and vocab_size:
            pos = np.minimum(np.searchsorted(self._keys, grams.distinct), vocab_size - 1)
            known = self._keys[pos] == grams.distinct
            hit = known[grams.inverse]
            combo = grams.owners[hit] * vocab_size + self._order[pos][grams.inverse[hit]]
            uniq, counts = np.unique(combo, return_counts=True)
        else:
            uniq, counts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        row_of, idx = np.divmod(uniq, max(vocab_size, 1))
        vals = (1.0 + np.log(counts.astype(np.float32))) * self.idf_[idx]
        norms = np.sqrt(np.bincount(row_of, weights=vals * vals, minlength=rows)).astype(np.float32)
        if vals.size:
            vals = vals / norms[row_of]
        off = np.searchsorted(row_of, np.arange(rows + 1))
        return off.astype(np.int64), idx, vals.astype(np.float32)

    @staticmethod
    def _linear(x: tuple[np.ndarray, np.ndarray, np.ndarray], coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        off, idx, vals = x
        rows = len(off) - 1
        out = np.tile(intercept, (rows, 1)).astype(np.float32)
        if idx.size:
            contrib = coef[idx] * vals[:, None]
            nonempty = off[1:] > off[:-1]
            out[nonempty] += np.add.reduceat(contrib, off[:-1][nonempty], axis=0)
        return out

    def predict_logits(self, norm_texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Temperature-scaled emotion logits [n, 7] and intensity logits [n, 5]. With a hidden
        layer, the emotion logits mix the linear head's and the network's (each calibrated); with
        a general head, they are the log-probabilities of its gated blend (`GeneralHead`)."""
        k, j, h = len(EMOTIONS), len(EMOTIONS) + len(INTENSITIES), self._hidden_end
        out = self._linear(self.transform(norm_texts), self._heads, self._biases)
        emotion = out[:, :k] / self.temperature_
        if self.hidden_ is not None:
            emotion = self.hidden_.mix_logits(emotion, out[:, j:h])
        if self.general_ is not None:
            emotion = self.general_.blend(emotion, out[:, h:h + k], out[:, h + k])
        return emotion, out[:, k:j]

    def general_share(self, norm_texts: Sequence[str]) -> np.ndarray:
        """The general head's share g [n] of each text's distribution (zeros without one)."""
        if self.general_ is None:
            return np.zeros(len(norm_texts))
        out = self._linear(self.transform(norm_texts), self._heads, self._biases)
        return self.general_.gate(out[:, self._hidden_end + len(EMOTIONS)])

    def head_logits(self, norm_texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """The emotion heads' logits before any temperature: the linear head's [n, 7] and the
        hidden layer's [n, 7] (None without one); what training fits the temperatures on."""
        k, j = len(EMOTIONS), len(EMOTIONS) + len(INTENSITIES)
        out = self._linear(self.transform(norm_texts), self._heads, self._biases)
        if self.hidden_ is None:
            return out[:, :k], None
        return out[:, :k], np.maximum(out[:, j:self._hidden_end], 0.0) @ self.hidden_.w2 + self.hidden_.b2

    def general_logits(self, norm_texts: Sequence[str]) -> np.ndarray:
        """The general head's logits [n, 7] before its temperature (training fits it on them)."""
        if self.general_ is None:
            raise ValueError("this model has no general head")
        out = self._linear(self.transform(norm_texts), self._heads, self._biases)
        return out[:, self._hidden_end:self._hidden_end + len(EMOTIONS)]

    def predict_proba(self, norm_texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities [n, 7] in the order of `glossary.EMOTIONS`."""
        if not len(norm_texts):
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        return softmax(self.predict_logits(norm_texts)[0])

    def predict_intensity_proba(self, norm_texts: Sequence[str]) -> np.ndarray:
        """Probabilities [n, 5] of intensity 0..4."""
        if not len(norm_texts):
            return np.zeros((0, len(INTENSITIES)), dtype=np.float32)
        return softmax(self.predict_logits(norm_texts)[1])

    def predict_all(self, norm_texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Both heads at once (one feature pass): emotion [n, 7] and intensity [n, 5] probabilities."""
        if not len(norm_texts):
            return (np.zeros((0, len(EMOTIONS)), dtype=np.float32),
                    np.zeros((0, len(INTENSITIES)), dtype=np.float32))
        emotion, intensity = self.predict_logits(norm_texts)
        return softmax(emotion), softmax(intensity)

    def predict(self, norm_texts: Sequence[str]) -> list[str]:
        """The most probable label of each text."""
        proba = self.predict_proba(norm_texts)
        return [EMOTIONS[i] for i in proba.argmax(axis=1)]

    def __repr__(self) -> str:
        net = (f", hidden {self.hidden_.size}" if self.hidden_ is not None else "") + (
            ", general head" if self.general_ is not None else "")
        return f"<NgramEmotionModel {len(self.vocab_)} terms{net}, T={self.temperature_:.2f}>"


_CACHE: dict[tuple[str, float], NgramEmotionModel] = {}


def load_cached(path: str | Path = DEFAULT_WEIGHTS) -> NgramEmotionModel:
    """Load once per (path, modification time): components share one model in a process."""
    return cached_weights(_CACHE, path, NgramEmotionModel.load)
