"""Fit and evaluate the escalation-risk head (`anfu.backends.risk_ngram.RiskNgramModel`).

Rows: every STC-3 customer turn we labelled for `escalation_risk` (real text, split by
dialogue: id % 5 == 0 held out) and our written utterances (`corpus/service`, split by
`is_heldout(id)`); our relabelled product reviews widen the vocabulary at a low weight. Each row
gets the rules' mentions (`anfu.risk.v1` without a model), the shipped emotion model's
probabilities, and its char n-grams.

The design and both thresholds are chosen on out-of-fold probabilities of the training rows
only (5 folds; an STC-3 dialogue stays in one fold): the highest precision on the real training
turns at a recall of at least `RECALL_FLOOR`, with the written rows at `WRITTEN_FLOOR` or better.
The held-out rows are scored once the weights are fitted and reported beside them.
`anfu train-risk` wraps `train_risk`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..backends.ngram import load_cached as load_emotion
from ..backends.ngram import model_input
from ..backends.risk_ngram import DENSE, RiskNgramModel, dense_features, sparse_terms
from ..errors import ModelError
from ..text.normalize import normalize
from .data import (
    CORPUS_DIR,
    STC3_CUSTOMER_LABELS,
    load_relabelled,
    load_service,
    load_stc3,
)

FOLDS = 5
C_GRID = (1.0, 4.0)
MAX_FEATURES = 60000
# how much one row of each source counts when fitting
SOURCE_WEIGHTS = {"stc3": 4.0, "service": 3.0, "reviews": 0.5}
RECALL_FLOOR = 0.92   # real training turns, out of fold (a margin over the 0.90 target)
WRITTEN_FLOOR = 0.93  # written training rows, out of fold: precision and recall
THRESHOLDS = tuple(round(float(t), 3) for t in np.arange(0.05, 0.991, 0.01))
NEVER = 1.01  # a rest threshold no probability reaches: the head only re-scores rule threats


@dataclass(frozen=True)
class RiskExample:
    id: str
    norm: str
    risk: bool
    source: str       # stc3 | service | reviews
    unit: str         # the cross-validation unit (an STC-3 dialogue, else the row)
    heldout: bool
    dense: tuple[float, ...]
    rule: bool        # the rules alone call it a threat


def _fold(unit: str) -> int:
    return int(hashlib.sha1(f"risk-cv/{unit}".encode()).hexdigest(), 16) % FOLDS


def featurise(rows: Sequence[Any], rules: Any | None = None) -> list[RiskExample]:
    """`RiskExample`s of labelled `Example`s (text, escalation_risk, follow_up, id, source)."""
    from ..components.risk import EscalationRisk

    rules = rules or EscalationRisk(model="none")
    norms = [normalize(e.text) for e in rows]
    if not rows:
        return []
    emotion, intensity = load_emotion().predict_all([model_input(n, e.follow_up) for n, e in zip(norms, rows)])
    out = []
    for e, norm, p, ip in zip(rows, norms, emotion, intensity):
        mentions = [(m.channel, m.verdict, m.match.text) for m in rules.rules_.mentions(norm)]
        unit = e.id.split("-")[1] if e.source == "stc3" else e.id
        out.append(RiskExample(e.id, norm, bool(e.escalation_risk), e.source, unit, e.heldout,
                               tuple(dense_features(mentions, p, ip)), any(m[1] == "threat" for m in mentions)))
    return out


def all_examples(corpus_dir: str | Path = CORPUS_DIR, data_dir: str | Path | None = None) -> list[RiskExample]:
    rows = [e for e in load_stc3(Path(corpus_dir) / "real" / STC3_CUSTOMER_LABELS.name, data_dir)
            if e.escalation_risk is not None]
    rows += [e for e in load_service(corpus_dir) if e.escalation_risk is not None]
    if SOURCE_WEIGHTS.get("reviews"):
        rows += [e for e in load_relabelled("reviews", corpus_dir, data_dir) if e.escalation_risk is not None]
    return featurise(rows)


class _Design:
    """TF-IDF vectoriser + dense scaler fitted on the training rows of one fit."""

    def __init__(self, rows: Sequence[RiskExample]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(analyzer=sparse_terms, sublinear_tf=True, min_df=2,
                                          max_features=MAX_FEATURES, dtype=np.float32)
        self.vectorizer.fit([r.norm for r in rows])
        dense = np.array([r.dense for r in rows], dtype=np.float32)
        self.mean = dense.mean(0)
        self.scale = dense.std(0)
        self.scale[self.scale == 0] = 1.0

    def matrix(self, rows: Sequence[RiskExample]) -> Any:
        from scipy.sparse import csr_matrix, hstack

        x = self.vectorizer.transform([r.norm for r in rows])
        dense = np.array([r.dense for r in rows], dtype=np.float32).reshape(len(rows), len(DENSE))
        return hstack([x, csr_matrix((dense - self.mean) / self.scale)]).tocsr()


def _fit(rows: Sequence[RiskExample], c: float) -> tuple[_Design, Any]:
    from sklearn.linear_model import LogisticRegression

    design = _Design(rows)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(design.matrix(rows), np.array([r.risk for r in rows]),
            sample_weight=np.array([SOURCE_WEIGHTS[r.source] for r in rows]))
    return design, clf


def cv_scores(rows: Sequence[RiskExample], c: float) -> tuple[np.ndarray, np.ndarray]:
    """(out-of-fold probabilities, fold of each row); folds by dialogue / row."""
    folds = np.array([_fold(r.unit) for r in rows])
    out = np.zeros(len(rows))
    for k in range(FOLDS):
        tr, te = np.where(folds != k)[0], np.where(folds == k)[0]
        design, clf = _fit([rows[i] for i in tr], c)
        out[te] = clf.predict_proba(design.matrix([rows[i] for i in te]))[:, 1]
    return out, folds


def prf(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, Any]:
    g, p = np.asarray(gold, dtype=bool), np.asarray(pred, dtype=bool)
    tp = int((g & p).sum())
    return {"n": len(g), "positives": int(g.sum()), "flagged": int(p.sum()),
            "precision": round(float(tp / p.sum()), 3) if p.sum() else 0.0,
            "recall": round(float(tp / g.sum()), 3) if g.sum() else 0.0}


def decisions(rule: np.ndarray, proba: np.ndarray, hit: float, rest: float) -> np.ndarray:
    """The combined decision (`RiskNgramModel.decide`, vectorised)."""
    return np.where(rule, proba >= hit, proba >= rest)


def choose(rows: Sequence[RiskExample], oof: np.ndarray) -> dict[str, Any]:
    """The design and thresholds with the best out-of-fold precision on the real training turns at
    recall ≥ RECALL_FLOOR, written rows ≥ WRITTEN_FLOOR; the rules alone when nothing beats them."""
    real = np.array([r.source == "stc3" for r in rows])
    written = np.array([r.source == "service" for r in rows])
    gold = np.array([r.risk for r in rows])
    rule = np.array([r.rule for r in rows])
    candidates = [("rules", 0.0, 0.0 + NEVER)]
    candidates += [("model", t, t) for t in THRESHOLDS]
    candidates += [("rescore_hits", t, NEVER) for t in THRESHOLDS]
    candidates += [("rescore_hits+model", h, r) for h in THRESHOLDS for r in THRESHOLDS if r > h]
    best: dict[str, Any] | None = None
    for name, hit, rest in candidates:
        pred = rule.copy() if name == "rules" else decisions(rule, oof, hit, rest)
        s_real, s_written = prf(gold[real], pred[real]), prf(gold[written], pred[written])
        if s_real["recall"] < RECALL_FLOOR or (
                written.any() and min(s_written["precision"], s_written["recall"]) < WRITTEN_FLOOR):
            continue
        key = (s_real["precision"], s_real["recall"])
        if best is None or key > (best["real"]["precision"], best["real"]["recall"]):
            best = {"design": name, "hit_threshold": hit, "rest_threshold": rest, "real": s_real, "written": s_written}
    if best is None:
        raise ModelError("AF202", f"(no design reaches recall {RECALL_FLOOR} out of fold on the real training turns)")
    return best


def per_fold(rows: Sequence[RiskExample], oof: np.ndarray, folds: np.ndarray, hit: float, rest: float,
             design: str) -> list[dict[str, Any]]:
    """Fold-by-fold scores of the real training turns: the chosen design and the rules alone."""
    gold = np.array([r.risk for r in rows])
    rule = np.array([r.rule for r in rows])
    pred = rule if design == "rules" else decisions(rule, oof, hit, rest)
    real = np.array([r.source == "stc3" for r in rows])
    out = []
    for k in range(FOLDS):
        m = real & (folds == k)
        out.append({"fold": k, "head": prf(gold[m], pred[m]), "rules": prf(gold[m], rule[m])})
    return out


def to_model(design: _Design, clf: Any, hit: float, rest: float, meta: dict[str, Any]) -> RiskNgramModel:
    vocab = sorted(design.vectorizer.vocabulary_, key=design.vectorizer.vocabulary_.get)
    n_terms = len(vocab)
    coef = clf.coef_[0]
    return RiskNgramModel(vocab=vocab, idf=design.vectorizer.idf_, coef=coef[:n_terms], dense_coef=coef[n_terms:],
                          intercept=float(clf.intercept_[0]), dense_mean=design.mean, dense_scale=design.scale,
                          hit_threshold=hit, rest_threshold=rest, meta=meta)


def train_risk(out: str | Path, corpus_dir: str | Path = CORPUS_DIR, data_dir: str | Path | None = None,
               heldout: bool = True, examples: Sequence[RiskExample] | None = None) -> dict[str, Any]:
    """Pick C, the design and the thresholds by cross-validation on the training rows, fit on
    all of them, write the weights (.npz) and a metrics JSON beside them; with `heldout`, score
    the held-out rows once and report them (never used for any choice). `examples` replaces the
    corpus (tests)."""
    started = time.perf_counter()
    examples = list(examples) if examples is not None else all_examples(corpus_dir, data_dir)
    train = [r for r in examples if not r.heldout]
    if len({r.risk for r in train if r.source == "stc3"}) < 2:
        raise ModelError("AF202", "(the escalation-risk rows need real turns with and without a threat)")
    cv: dict[str, Any] = {}
    best: dict[str, Any] | None = None
    for c in C_GRID:
        oof, folds = cv_scores(train, c)
        chosen = choose(train, oof)
        cv[str(c)] = chosen
        if best is None or (chosen["real"]["precision"], chosen["real"]["recall"]) > (
                best["real"]["precision"], best["real"]["recall"]):
            best = {**chosen, "C": c, "oof": oof, "folds": folds}
    assert best is not None
    hit, rest = best["hit_threshold"], best["rest_threshold"]
    design, clf = _fit(train, best["C"])
    meta = {"trained_at": time.strftime("%Y-%m-%d"), "design": best["design"], "C": best["C"],
            "train_rows": dict(Counter(r.source for r in train))}
    model = to_model(design, clf, hit, rest, meta)
    gold = np.array([r.risk for r in train])
    rule = np.array([r.rule for r in train])
    real = np.array([r.source == "stc3" for r in train])
    metrics: dict[str, Any] = {
        "model": "risk_ngram", "weights": str(out), "design": best["design"], "C": best["C"],
        "hit_threshold": hit, "rest_threshold": rest, "train_rows": meta["train_rows"],
        "recall_floor": RECALL_FLOOR, "written_floor": WRITTEN_FLOOR,
        "cv": {"real": best["real"], "written": best["written"],
               "rules_alone_real": prf(gold[real], rule[real]),
               "per_C": {k: {x: v[x] for x in ("design", "hit_threshold", "rest_threshold", "real", "written")}
                         for k, v in cv.items()},
               "folds": per_fold(train, best["oof"], best["folds"], hit, rest, best["design"])},
    }
    if heldout:
        held = [r for r in examples if r.heldout and r.source in ("stc3", "service")]
        proba = np.array(model.predict([r.norm for r in held], [r.dense for r in held]))
        pred = decisions(np.array([r.rule for r in held], dtype=bool), proba, hit, rest)
        metrics["heldout"] = {src: {"head": prf([r.risk for r in held if r.source == src],
                                                 [p for r, p in zip(held, pred) if r.source == src]),
                                    "rules": prf([r.risk for r in held if r.source == src],
                                                 [r.rule for r in held if r.source == src])}
                              for src in ("stc3", "service")}
        model.meta["heldout"] = metrics["heldout"]
    metrics["fit_seconds"] = round(time.perf_counter() - started, 1)
    path = model.save(out)
    metrics["size_bytes"] = path.stat().st_size
    path.with_suffix(".metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n",
                                                 encoding="utf-8")
    return metrics
