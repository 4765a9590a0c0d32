"""Fit and evaluate the per-turn SOP stage model of `anfu.sop.v2` (sop.npz).

Rows are the turns of our written conversations, each labelled with the stage the
conversation reached after it (corpus/LABELS.md). The model learns the turn's move (back /
stay / next / skip, `anfu.components.sop.MOVES`) from `anfu.components.sop.turn_inputs`
given the labelled stage before it; at inference `decode_stages` keeps the most probable
sequence. Cross-validation (5 folds of the non-held-out conversations, by a hash of the id)
chooses the regularisation and the weight of the dense block by final-stage accuracy after
decoding; the model is refit on all non-held-out conversations and scored, with
`anfu.sop.v1` beside it, on the held-out ones. `anfu train-sop` wraps `train_sop`.
"""

from __future__ import annotations

import json
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..backends.text_dense import TextDenseModel
from ..components.sop import DENSE_FEATURES, MOVES, decode_stages, load_model, turn_inputs
from ..errors import ModelError
from ..glossary import SOP_STAGES
from .conversations import LabelledConversation, analyse, fold_of, split
from .train import _analyzer

MAX_FEATURES = 8000
MAX_ITER = 300
GRID = ((4.0, 1.0), (4.0, 3.0), (4.0, 6.0))  # (C, dense weight)


def _rows(rules: Any, docs: Sequence[Any], rows: Sequence[LabelledConversation]
          ) -> tuple[list[str], list[list[float]], list[int]]:
    """(texts, dense, move) of every turn, from the labelled stage before it."""
    texts, dense, moves = [], [], []
    for doc, row in zip(docs, rows):
        stage, agents = 0, 0
        for index, (turn, label) in enumerate(zip(doc.turns, row.stages)):
            text, features = turn_inputs(rules, stage, turn.speaker, turn.norm, index, agents)
            after = SOP_STAGES.index(label)
            texts.append(text)
            dense.append(features)
            moves.append(0 if after < stage else min(after - stage, 2) + 1)
            stage, agents = after, agents + (turn.speaker == "agent")
    return texts, dense, moves


def _fit(rules: Any, docs: Sequence[Any], rows: Sequence[LabelledConversation], c: float, dense_weight: float,
         meta: dict[str, Any] | None = None) -> TextDenseModel:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, dense_rows, moves = _rows(rules, docs, rows)
    dense, y = np.array(dense_rows), np.array(moves)
    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=2, max_features=MAX_FEATURES,
                                 dtype=np.float32)
    x_text = vectorizer.fit_transform(texts)
    mean, scale = dense.mean(axis=0), dense.std(axis=0)
    scale[scale == 0] = 1.0
    x = sp.hstack([x_text, sp.csr_matrix((dense - mean) / scale * dense_weight)]).tocsr()
    # a few hundred iterations reach the optimum's accuracy; the rest only polishes separable rows
    clf = LogisticRegression(C=c, max_iter=MAX_ITER, tol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at MAX_ITER
        clf.fit(x, y)
    coef = np.zeros((x.shape[1], len(MOVES)), dtype=np.float32)
    intercept = np.full(len(MOVES), -30.0, dtype=np.float32)
    coef[:, clf.classes_] = clf.coef_.T
    intercept[clf.classes_] = clf.intercept_
    terms = x_text.shape[1]
    vocab = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    return TextDenseModel(MOVES, vocab, vectorizer.idf_, coef[:terms], DENSE_FEATURES, mean, scale,
                          coef[terms:] * dense_weight, intercept, 1.0, meta=meta)


def sop_scores(rows: Sequence[LabelledConversation], paths: Sequence[Sequence[str]]) -> dict[str, Any]:
    """n conversations, final-stage accuracy, per-turn accuracy and final-stage accuracy per stage."""
    final = [(r.stages[-1], p[-1]) for r, p in zip(rows, paths)]
    turns = [(g, q) for r, p in zip(rows, paths) for g, q in zip(r.stages, p)]
    per_stage = {}
    for stage in SOP_STAGES:
        hits = [q for g, q in final if g == stage]
        if hits:
            per_stage[stage] = {"n": len(hits), "accuracy": round(sum(q == stage for q in hits) / len(hits), 4)}
    return {"n": len(rows), "final_accuracy": round(sum(g == q for g, q in final) / len(final), 4) if final else 0.0,
            "turns": len(turns), "turn_accuracy": round(sum(g == q for g, q in turns) / len(turns), 4) if turns else 0.0,
            "final_per_stage": per_stage}


def _decode(rules: Any, model: TextDenseModel, docs: Sequence[Any]) -> list[list[str]]:
    return [[SOP_STAGES[i] for i in decode_stages(rules, model, doc.turns)] for doc in docs]


def _rules_path(rules: Any, doc: Any) -> list[str]:
    stage, out = 0, []
    for turn in doc.turns:
        stage = rules.step(stage, turn.speaker, turn.norm)
        out.append(SOP_STAGES[stage])
    return out


def train_sop(rows: Sequence[LabelledConversation], out: str | Path,
              metrics_path: str | Path | None = None) -> dict[str, Any]:
    """Choose, fit and score the SOP stage model; write the weights and the metrics JSON."""
    started = time.perf_counter()
    rules = load_model()
    docs = analyse(rows)
    train_idx, held_idx = split(rows)
    if len(train_idx) < 25:
        raise ModelError("AF202", "(SOP training needs at least 25 non-held-out conversations)")
    folds = np.array([fold_of(rows[i].id) for i in train_idx])
    grid = []
    for c, w in GRID:
        paths: dict[int, list[str]] = {}
        for k in sorted(set(folds)):
            fit_on = [train_idx[j] for j in np.where(folds != k)[0]]
            score_on = [train_idx[j] for j in np.where(folds == k)[0]]
            model = _fit(rules, [docs[i] for i in fit_on], [rows[i] for i in fit_on], c, w)
            paths.update(zip(score_on, _decode(rules, model, [docs[i] for i in score_on])))
        scores = sop_scores([rows[i] for i in train_idx], [paths[i] for i in train_idx])
        grid.append((scores["final_accuracy"], scores["turn_accuracy"], c, w, scores))
    _, _, c, w, cv = max(grid, key=lambda g: (g[0], g[1]))
    meta = {"trained_at": time.strftime("%Y-%m-%d"), "train_conversations": len(train_idx),
            "train_rows": dict(Counter(rows[i].source for i in train_idx)), "C": c, "dense_weight": w,
            "cv": {"folds": 5, "grid": [{"C": g[2], "dense_weight": g[3], "final_accuracy": g[0],
                                         "turn_accuracy": g[1]} for g in grid], **cv}}
    model = _fit(rules, [docs[i] for i in train_idx], [rows[i] for i in train_idx], c, w, meta)
    held_rows, held_docs = [rows[i] for i in held_idx], [docs[i] for i in held_idx]
    heldout = {"anfu.sop.v1": sop_scores(held_rows, [_rules_path(rules, d) for d in held_docs]),
               "anfu.sop.v2": sop_scores(held_rows, _decode(rules, model, held_docs))}
    model.meta["heldout"] = heldout["anfu.sop.v2"]
    path = model.save(out)
    metrics = {"model": "anfu.sop.v2", "weights": str(out), "vocabulary": len(model.vocab_),
               "size_bytes": path.stat().st_size, "C": c, "dense_weight": w, "cv": meta["cv"],
               "heldout": heldout, "fit_seconds": round(time.perf_counter() - started, 1)}
    metrics_file = Path(metrics_path) if metrics_path else path.with_suffix(".metrics.json")
    metrics_file.write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return metrics


if __name__ == "__main__":  # python -m anfu.training.sop: rebuild the shipped weights
    from ..backends.text_dense import DEFAULT_SOP_WEIGHTS
    from .conversations import default_conversations

    print(json.dumps(train_sop(default_conversations(), DEFAULT_SOP_WEIGHTS), ensure_ascii=False, indent=2))
