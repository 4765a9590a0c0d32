"""Honest scores of the pre-send check: rules alone vs rules + the reply model (hybrid).

Two protocols over labelled replies (see `anfu.training.replies`):

- K-fold cross-validation over all of them: for each fold the model (threshold included,
  itself chosen by an inner CV) is fitted on the other folds only, and the hybrid check
  scores the fold; scores are pooled, overall and per source file;
- the fixed held-out split of corpus/replies/replies.jsonl (`is_heldout`), with the model
  fitted on every other row.

The rules are the same in both columns; note that they were written while reading the
older sets, so their scores there are optimistic, while a set written after them (for
example replies_more) shows how they generalise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..text.normalize import normalize
from .replies import (TARGET_PRECISION, ReplyExample, _checker, fit_reply_model, fold_of,
                      reply_scores, scores_summary)

CV_FOLDS = 5
HELDOUT_SOURCE = "replies"


def _category_hits(checker: Any, rows: Sequence[ReplyExample], pred: Sequence[bool]) -> float:
    caught = [(e, p) for e, p in zip(rows, pred) if e.violation and p]
    if not caught:
        return 0.0
    hits = sum(e.category in {f.category for f in checker.findings(e.text)} for e, _ in caught)
    return round(hits / len(caught), 4)


def _score(rows: Sequence[ReplyExample], rules_pred: Sequence[bool], hybrid_pred: Sequence[bool],
           model_pred: Sequence[bool]) -> dict[str, Any]:
    gold = [e.violation for e in rows]
    return {"rules": scores_summary(gold, rules_pred), "hybrid": scores_summary(gold, hybrid_pred),
            "model_alone": scores_summary(gold, model_pred)}


def _by_source(rows: Sequence[ReplyExample], rules_pred: Sequence[bool], hybrid_pred: Sequence[bool],
               model_pred: Sequence[bool]) -> dict[str, Any]:
    report = {"all": _score(rows, rules_pred, hybrid_pred, model_pred)}
    for source in sorted({e.source for e in rows}):
        idx = [i for i, e in enumerate(rows) if e.source == source]
        report[source] = _score([rows[i] for i in idx], [rules_pred[i] for i in idx],
                                [hybrid_pred[i] for i in idx], [model_pred[i] for i in idx])
    return report


def _predict(examples: Sequence[ReplyExample], model: Any, rules_dir: str | Path | None) -> tuple[list[bool], list[bool], float]:
    """(hybrid predictions, model-alone predictions, category accuracy of the hybrid)."""
    hybrid = _checker(rules_dir, model)
    pred = [bool(hybrid.findings(e.text)) for e in examples]
    alone = [bool(s >= model.threshold_) for s in reply_scores(hybrid, examples)]
    return pred, alone, _category_hits(hybrid, examples, pred)


def cross_validate(examples: Sequence[ReplyExample], rules_dir: str | Path | None = None,
                   target: float = TARGET_PRECISION, folds: int = CV_FOLDS) -> dict[str, Any]:
    """Pooled out-of-fold scores of rules, hybrid and model alone (overall and per source)."""
    rules = _checker(rules_dir, None)
    rules_pred = [bool(rules.scan(normalize(e.text))) for e in examples]
    hybrid_pred, model_pred = [False] * len(examples), [False] * len(examples)
    thresholds = []
    for k in range(folds):
        test = [i for i, e in enumerate(examples) if fold_of(e.id, folds) == k]
        train = [e for e in examples if fold_of(e.id, folds) != k]
        if not test:
            continue
        model = fit_reply_model(train, rules_dir, target)
        thresholds.append(round(model.threshold_, 4))
        pred, alone, _ = _predict([examples[i] for i in test], model, rules_dir)
        for i, p, a in zip(test, pred, alone):
            hybrid_pred[i], model_pred[i] = p, a
    return {"folds": folds, "thresholds": thresholds,
            "scores": _by_source(examples, rules_pred, hybrid_pred, model_pred)}


def heldout(examples: Sequence[ReplyExample], rules_dir: str | Path | None = None,
            target: float = TARGET_PRECISION, source: str = HELDOUT_SOURCE) -> dict[str, Any]:
    """Scores on the held-out split of `source`, the model fitted on every other row."""
    test = [e for e in examples if e.source == source and e.heldout]
    train = [e for e in examples if not (e.source == source and e.heldout)]
    if not test:
        return {"n": 0}
    model = fit_reply_model(train, rules_dir, target)
    rules = _checker(rules_dir, None)
    rules_pred = [bool(rules.scan(normalize(e.text))) for e in test]
    pred, alone, categories = _predict(test, model, rules_dir)
    return {"source": source, "threshold": round(model.threshold_, 4),
            **_score(test, rules_pred, pred, alone), "hybrid_category_accuracy": categories}


def compare(examples: Sequence[ReplyExample], rules_dir: str | Path | None = None,
            target: float = TARGET_PRECISION, folds: int = CV_FOLDS) -> dict[str, Any]:
    """Both protocols: K-fold cross-validation and the fixed held-out split."""
    return {"cross_validation": cross_validate(examples, rules_dir, target, folds),
            "heldout": heldout(examples, rules_dir, target)}
