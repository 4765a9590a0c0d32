"""Fit, calibrate and evaluate the char n-gram emotion model (scikit-learn at training time).

`train(examples, out)` fits on the non-held-out examples, fits the temperature on a dev
slice of them, refits on all of them, evaluates on the held-out split (per source) and
writes the weights (`.npz`) plus a metrics JSON beside them.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import numpy as np

from ..backends.ngram import (INTENSITIES, NGRAM_RANGE, GeneralHead, HiddenLayer, NgramEmotionModel, char_ngrams,
                              model_input, softmax)
from ..errors import ModelError
from ..glossary import EMOTIONS
from ..text.normalize import normalize
from .data import Example, with_pass_labels

DEV_MODULUS = 8  # one non-held-out example in eight calibrates the temperature
MAX_FEATURES = 60000
C_EMOTION = 2.0
C_INTENSITY = 4.0
# The hidden layer beside the linear emotion head (chosen by 4-fold cross-validation on the
# training folds, scripts/emotion_cv.py): units, Adam epochs, its share of the mixed logits,
# and the fewest training rows for which it is fitted at all (below, the model stays linear).
HIDDEN_UNITS = 64
HIDDEN_EPOCHS = 4
HIDDEN_MIX = 0.5
HIDDEN_MIN_ROWS = 2000
# The general head and its domain gate (issue 9, general Weibo talk; scripts/emotion_cv.py
# `gated`): fitted on the general-talk source against the service sources, the gate's
# probability raised to GATE_POWER, and only when each side has GENERAL_MIN_ROWS rows.
GENERAL_SOURCES = ("smp2020_mapped", "general")  # the general head's labels: SMP2020's annotators (mapped), ours
# each general source's share of the general head's total weight (the rest goes to the others):
# SMP's posts are all about the epidemic, so our everyday posts carry half (scripts/emotion_cv.py
# `general_share`: leave-one-writer-out on our posts, 4 folds of SMP's)
GENERAL_HEAD_SHARE = {"general": 0.5}
GATE_SOURCES = ("smp2020_mapped", "general")  # the gate's general side: SMP's posts and our everyday posts
SERVICE_SOURCES = ("stc3", "service")
GENERAL_ONLY = ("general",)  # sources read by the general head and the gate only, never by the service heads
GATE_POWER = 2.0
C_GATE = 1.0
GENERAL_MIN_ROWS = 500
E = TypeVar("E")  # a labelled example (with .id, .text and .source)
M = TypeVar("M")  # a fitted model


def is_dev(record_id: str) -> bool:
    return int(hashlib.sha1(f"dev/{record_id}".encode("utf-8")).hexdigest(), 16) % DEV_MODULUS == 0


def _analyzer(norm: str) -> list[str]:
    return char_ngrams(norm, NGRAM_RANGE)


def _fit_head(x: Any, y: np.ndarray, weights: np.ndarray, n_classes: int, c: float,
              max_iter: int = 3000, tol: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression weights [terms, n_classes] and biases; classes missing
    from `y` get a prohibitive bias."""
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((x.shape[1], n_classes), dtype=np.float32)
    intercept = np.full(n_classes, -30.0, dtype=np.float32)
    present = np.unique(y)
    if len(present) == 1:
        intercept[present[0]] = 0.0
        return coef, intercept
    clf = LogisticRegression(C=c, max_iter=max_iter, tol=tol)
    clf.fit(x, y, sample_weight=weights)
    if len(present) == 2:  # binary LR stores one row: expand to two symmetric columns
        coef[:, present[1]] = clf.coef_[0] / 2
        coef[:, present[0]] = -clf.coef_[0] / 2
        intercept[present[1]] = clf.intercept_[0] / 2
        intercept[present[0]] = -clf.intercept_[0] / 2
    else:
        coef[:, clf.classes_] = clf.coef_.T
        intercept[clf.classes_] = clf.intercept_
    return coef, intercept


def _fit_hidden(x: Any, y: np.ndarray, weights: np.ndarray, units: int = HIDDEN_UNITS,
                epochs: int = HIDDEN_EPOCHS, seed: int = 0) -> tuple[np.ndarray, ...]:
    """One ReLU layer and a softmax output over the sparse features (scikit-learn's MLP, Adam,
    mini-batches of 128, L2 1e-4), `epochs` passes in a fixed shuffled order: (w1, b1, w2, b2)."""
    from sklearn.neural_network import MLPClassifier

    w = weights / weights.mean()
    clf = MLPClassifier(hidden_layer_sizes=(units,), alpha=1e-4, batch_size=128, random_state=seed)
    rng = np.random.default_rng(seed)
    classes = np.arange(len(EMOTIONS))
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), 4096):
            idx = order[start:start + 4096]
            clf.batch_size = min(128, len(idx))  # what scikit-learn clips a short last chunk to, unwarned
            clf.partial_fit(x[idx], y[idx], classes=classes, sample_weight=w[idx])
    return (clf.coefs_[0].astype(np.float32), clf.intercepts_[0].astype(np.float32),
            clf.coefs_[1].astype(np.float32), clf.intercepts_[1].astype(np.float32))


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the dev negative log-likelihood (1.0 when dev is too small)."""
    if len(y) < 20:
        return 1.0
    best_t, best_nll = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.25), np.log(6.0), 80)):
        proba = softmax(logits / t)
        nll = -float(np.mean(np.log(proba[np.arange(len(y)), y] + 1e-12)))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def balanced(labels: Sequence[Any], weights: np.ndarray) -> np.ndarray:
    """`weights` scaled so every label carries the same total weight (rare service labels such
    as doubtful or disappointed are not drowned by the common ones)."""
    counts = Counter(labels)
    return weights * np.array([len(labels) / (len(counts) * counts[v]) for v in labels])


def source_shares(sources: Sequence[str], weights: np.ndarray, shares: dict[str, float]) -> np.ndarray:
    """`weights` rescaled so each source named in `shares` carries that share of the total and
    the other sources the rest, in their own proportions (the total is unchanged). A named
    source without rows gives its share back to the others."""
    src = np.array(sources)
    total = float(weights.sum())
    present = {name: share for name, share in shares.items() if (src == name).any()}
    rest = ~np.isin(src, list(present))
    if not present or not rest.any():
        return weights
    out = weights.astype(np.float64).copy()
    for name, share in present.items():
        mask = src == name
        out[mask] *= share * total / out[mask].sum()
    out[rest] *= (1.0 - sum(present.values())) * total / out[rest].sum()
    return out


def example_input(e: Example) -> str:
    return model_input(normalize(e.text), e.follow_up)


def _fit_general(x: Any, train: Sequence[Example], temperature: float) -> GeneralHead | None:
    """The general head (multinomial LR on the GENERAL_SOURCES rows, labels balanced, each source its
    GENERAL_HEAD_SHARE of the weight) and the domain
    gate (binary LR, GATE_SOURCES rows against SERVICE_SOURCES rows, both sides the same total
    weight, each general source the same share of its side: our everyday posts as much as SMP's
    epidemic posts, so the gate learns the register rather than the topic); None when either side
    has fewer than GENERAL_MIN_ROWS rows (a centre's own file)."""
    labelled = [i for i, e in enumerate(train) if e.source in GENERAL_SOURCES]
    general = [i for i, e in enumerate(train) if e.source in GATE_SOURCES]
    service = [i for i, e in enumerate(train) if e.source in SERVICE_SOURCES]
    if len(labelled) < GENERAL_MIN_ROWS or len(service) < GENERAL_MIN_ROWS:
        return None
    y = np.array([EMOTIONS.index(train[i].emotion) for i in labelled])
    weights = source_shares([train[i].source for i in labelled], balanced(y.tolist(), np.ones(len(y))),
                            GENERAL_HEAD_SHARE)
    coef, intercept = _fit_head(x[labelled], y, weights, len(EMOTIONS), C_EMOTION)
    share = balanced([train[i].source for i in general], np.ones(len(general)))
    rows = general + service
    side = np.array([1] * len(general) + [0] * len(service))
    gate_coef, gate_intercept = _fit_head(x[rows], side, balanced(side.tolist(), np.r_[share, np.ones(len(service))]),
                                          2, C_GATE)
    q, scale = HiddenLayer.quantize(coef)  # predict with what the file will store (int8)
    return GeneralHead(coef=q.astype(np.float32) * scale, intercept=intercept, temperature=temperature,
                       gate_coef=gate_coef[:, 1] - gate_coef[:, 0],
                       gate_intercept=float(gate_intercept[1] - gate_intercept[0]), gate_power=GATE_POWER)


def _fit_model(train: Sequence[Example], temperature: float, meta: dict[str, Any],
               hidden_temperature: float = 1.0, general_temperature: float = 1.0,
               extra: Sequence[Example] = ()) -> NgramEmotionModel:
    """The heads on `train`; `extra` rows (general-talk only) feed the general head and the gate: the
    vocabulary and its weights are fitted on `train` alone, so the service heads are the same with
    or without them."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    every = list(train) + list(extra)
    texts = [example_input(e) for e in every]
    min_df = 2 if len(train) >= 500 else 1
    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=min_df,
                                 max_features=MAX_FEATURES, dtype=np.float32)
    x = vectorizer.fit_transform(texts[:len(train)])
    x_all = vectorizer.transform(texts) if extra else x
    y = np.array([EMOTIONS.index(e.emotion) for e in train])
    w = np.array([e.weight for e in train], dtype=np.float64)
    coef, intercept = _fit_head(x, y, balanced(y.tolist(), w), len(EMOTIONS), C_EMOTION)
    hidden = None
    if len(train) >= HIDDEN_MIN_ROWS:
        w1, b1, w2, b2 = _fit_hidden(x, y, balanced(y.tolist(), w))
        # the file stores w1 as int8 (one scale per unit): predict with what will be stored
        q, scale = HiddenLayer.quantize(w1)
        hidden = HiddenLayer(w1=q.astype(np.float32) * scale, b1=b1, w2=w2, b2=b2,
                             temperature=hidden_temperature, mix=HIDDEN_MIX)

    rated = [i for i, e in enumerate(train) if e.intensity is not None]
    if rated:
        yi = np.array([train[i].intensity for i in rated])
        int_coef, int_intercept = _fit_head(x[rated], yi, w[rated], len(INTENSITIES), C_INTENSITY)
    else:  # no intensity labels at all: a flat head (the component derives intensity from cues)
        int_coef = np.zeros((x.shape[1], len(INTENSITIES)), dtype=np.float32)
        int_intercept = np.zeros(len(INTENSITIES), dtype=np.float32)
    vocab = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    return NgramEmotionModel(vocab=vocab, idf=vectorizer.idf_, coef=coef, intercept=intercept,
                             int_coef=int_coef, int_intercept=int_intercept,
                             temperature=temperature, ngram_range=NGRAM_RANGE, meta=meta, hidden=hidden,
                             general=_fit_general(x_all, every, general_temperature))


def fit(examples: Sequence[Example]) -> NgramEmotionModel:
    """Fit on the non-held-out `examples`: temperatures from a dev slice (one for the linear
    head, one for the hidden layer and one for the general head when there are), then a refit
    on all. General-talk-only rows (GENERAL_ONLY) go to the general head and the gate only."""
    every = [e for e in examples if not e.heldout]
    extra = [e for e in every if e.source in GENERAL_ONLY]
    train = with_pass_labels([e for e in every if e.source not in GENERAL_ONLY])
    if not train:
        raise ModelError("AF202", "(every row falls in the held-out split; add more rows)")
    if len({e.emotion for e in train}) < 2:
        raise ModelError("AF202", "(it needs at least two different emotion labels)")
    temperatures: dict[str, float] = {}

    def fit_model(rows: Sequence[Example], temperature: float, meta: dict[str, Any]) -> NgramEmotionModel:
        if meta:  # the final refit: the other heads' temperatures come from the same dev slice
            meta["hidden_temperature"] = round(temperatures.get("hidden", 1.0), 4)
            meta["general_temperature"] = round(temperatures.get("general", 1.0), 4)
            if extra:
                meta["train_rows"] = dict(sorted({**meta["train_rows"], **Counter(e.source for e in extra)}.items()))
        rows_extra = extra if meta else [e for e in extra if not is_dev(e.id)]  # the draft: no dev rows
        return _fit_model(rows, temperature, meta, temperatures.get("hidden", 1.0), temperatures.get("general", 1.0),
                          extra=rows_extra)

    def dev_logits(draft: NgramEmotionModel, inputs: list[str]) -> np.ndarray:
        dev = [e for e in train if is_dev(e.id)]
        linear, net = draft.head_logits(inputs)
        y = np.array([EMOTIONS.index(e.emotion) for e in dev])
        if net is not None:
            temperatures["hidden"] = _fit_temperature(net, y)
        if draft.general_ is not None:  # its temperature on the dev rows it reads (`inputs` are the dev rows')
            general = [i for i, e in enumerate(dev) if e.source in GENERAL_SOURCES]
            temperatures["general"] = _fit_temperature(draft.general_logits([inputs[i] for i in general]), y[general])
        return linear

    return calibrated_fit(train, fit_model, label=lambda e: EMOTIONS.index(e.emotion),
                          dev_logits=dev_logits, model_text=example_input)


def calibrated_fit(train: Sequence[E], fit_model: Callable[[Sequence[E], float, dict[str, Any]], M], *,
                   label: Callable[[E], int], dev_logits: Callable[[M, list[str]], np.ndarray],
                   model_text: Callable[[E], str] = lambda e: normalize(e.text)) -> M:  # type: ignore[attr-defined]
    """The fit shared by the n-gram models: a draft on the non-dev rows of `train` gives dev
    logits (`dev_logits(draft, normalised dev texts)`) for the temperature (1.0 unless there
    are ≥ 20 dev rows and ≥ 2 labels among the others), then `fit_model` refits on all rows
    with that temperature and a meta of the date, rows per source and temperature."""
    dev = [e for e in train if is_dev(e.id)]
    core = [e for e in train if not is_dev(e.id)]
    temperature = 1.0
    if len(dev) >= 20 and len({label(e) for e in core}) >= 2:
        draft = fit_model(core, 1.0, {})
        logits = dev_logits(draft, [model_text(e) for e in dev])
        temperature = _fit_temperature(logits, np.array([label(e) for e in dev]))
    counts = Counter(e.source for e in {getattr(e, "id", i): e for i, e in enumerate(train)}.values())  # rows, not soft duplicates
    meta = {"trained_at": time.strftime("%Y-%m-%d"), "train_rows": dict(sorted(counts.items())),
            "temperature": round(temperature, 4)}
    return fit_model(train, temperature, meta)


def _f1_table(gold: list[str], pred: list[str]) -> dict[str, float]:
    out = {}
    for label in EMOTIONS:
        tp = sum(g == p == label for g, p in zip(gold, pred))
        fp = sum(p == label != g for g, p in zip(gold, pred))
        fn = sum(g == label != p for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        out[label] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return out


def classification_scores(gold: list[str], pred: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the labels present in `gold`, and per-label F1."""
    if not gold:
        return {"n": 0}
    table = _f1_table(gold, pred)
    present = sorted(set(gold), key=EMOTIONS.index)
    return {"n": len(gold),
            "accuracy": round(sum(g == p for g, p in zip(gold, pred)) / len(gold), 4),
            "macro_f1": round(float(np.mean([table[label] for label in present])), 4),
            "f1": {label: round(table[label], 4) for label in present}}


def expected_calibration_error(proba: np.ndarray, gold: np.ndarray, bins: int = 10) -> float:
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == gold
    ece = 0.0
    for lo in np.linspace(0, 1, bins, endpoint=False):
        mask = (conf > lo) & (conf <= lo + 1 / bins)
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return round(float(ece), 4)


def evaluate(model: NgramEmotionModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Model-only scores on `examples` (emotion, calibration, intensity where labelled)."""
    if not examples:
        return {"n": 0}
    proba, int_proba = model.predict_all([example_input(e) for e in examples])
    gold = [e.emotion for e in examples]
    pred = [EMOTIONS[i] for i in proba.argmax(axis=1)]
    out = classification_scores(gold, pred)
    out["ece"] = expected_calibration_error(proba, np.array([EMOTIONS.index(g) for g in gold]))
    rated = [i for i, e in enumerate(examples) if e.intensity is not None]
    if rated:
        expected = int_proba[rated] @ np.arange(len(INTENSITIES))
        truth = np.array([examples[i].intensity for i in rated])
        out["intensity_mae"] = round(float(np.abs(np.rint(expected) - truth).mean()), 4)
    return out


def heldout_report(model: NgramEmotionModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Scores on the held-out split: ours (service + STC-3 labels), and per source."""
    held = [e for e in examples if e.heldout]
    report: dict[str, Any] = {"ours": evaluate(model, [e for e in held if e.source in ("service", "stc3", "user")])}
    for source in sorted({e.source for e in held}):
        report[source] = evaluate(model, [e for e in held if e.source == source])
    return report


def train(examples: Sequence[Example], out: str | Path, metrics_path: str | Path | None = None) -> dict[str, Any]:
    """Fit, evaluate on the held-out split, write the weights and the metrics JSON; returns the metrics."""
    if not examples:
        raise ModelError("AF202", "(no rows at all)")
    started = time.perf_counter()
    model = fit(examples)
    metrics = {
        "model": model.name,
        "weights": str(out),
        "vocabulary": len(model.vocab_),
        "temperature": round(model.temperature_, 4),
        "train_rows": model.meta.get("train_rows", {}),
        "heldout": heldout_report(model, examples),
        "fit_seconds": round(time.perf_counter() - started, 1),
    }
    model.meta["heldout_ours"] = metrics["heldout"]["ours"]
    path = model.save(out)
    metrics["size_bytes"] = path.stat().st_size
    metrics_file = Path(metrics_path) if metrics_path else path.with_suffix(".metrics.json")
    metrics_file.write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return metrics
