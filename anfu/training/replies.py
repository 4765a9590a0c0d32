"""Fit the sentence-level reply violation classifier (`anfu.ngram_reply.v1`) of the pre-send check.

Training rows are whole agent replies labelled `violation` (true/false) and, for a
violation, the `category` of the forbidden-phrases pack (corpus/replies/*.jsonl, and any
JSONL/CSV a centre adds with the columns text, violation, category). The model scores one
sentence at a time, so each reply becomes sentence rows:

- every sentence of a compliant reply is a negative;
- in a violating reply the offending sentence is the positive: the sentence(s) a rule of the
  pack flags, else the only sentence, else the sentence a draft model (fitted on the rows
  resolved so far) scores highest. Its other sentences are negatives when the draft model
  scores them below `OTHER_NEGATIVE_BELOW` (the polite framing around a violation, which
  compliant replies use too), and are left out otherwise.

The violation threshold is chosen by K-fold cross-validation on the training replies: the
lowest threshold at which the model alone (out-of-fold scores, mitigations applied as the
checker does) keeps reply-level precision ≥ the target at that and every higher threshold.
`anfu train-replies` wraps `train_replies`; cross-validated scores come from
`anfu.training.replies_eval`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from ..backends.reply_ngram import NgramReplyModel
from ..errors import ModelError
from ..text.normalize import normalize
from .data import CORPUS_DIR, _read_rows, is_heldout
from .train import _analyzer, _fit_head

MAX_FEATURES = 40000
MIN_DF = 2
C_VIOLATION = 10.0
C_CATEGORY = 10.0
TARGET_PRECISION = 0.97
THRESHOLD_FOLDS = 5
OTHER_NEGATIVE_BELOW = 0.3
LR_MAX_ITER, LR_TOL = 1000, 1e-3  # looser than the emotion model's: many small fits in CV
_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否"}


@dataclass(frozen=True)
class ReplyExample:
    """One agent reply labelled violation (and its category) or compliant."""

    id: str
    text: str
    violation: bool
    category: str | None
    source: str

    @property
    def heldout(self) -> bool:
        return is_heldout(self.id)


def fold_of(record_id: str, folds: int, salt: str = "cv") -> int:
    """A stable fold number for a record (a hash of the id, independent of the held-out split)."""
    return int(hashlib.sha1(f"{salt}/{record_id}".encode("utf-8")).hexdigest(), 16) % folds


# ---------------------------------------------------------------------- loading
def _violation(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ModelError("AF203", f"{where}: \"violation\" must be true or false, got {value!r}")


def _check_reply_row(obj: Any, where: str, categories: Sequence[str]) -> tuple[str, bool, str | None]:
    if not isinstance(obj, dict):
        raise ModelError("AF203", f"{where}: expected an object with text, violation and category")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ModelError("AF203", f"{where}: \"text\" must be a non-empty string")
    violation = _violation(obj.get("violation"), where)
    category = obj.get("category")
    category = category.strip() if isinstance(category, str) else category
    if violation:
        if category not in categories:
            raise ModelError("AF203", f"{where}: a violation needs a category, one of {', '.join(categories)}; "
                                      f"got {category!r}")
        return text, True, category
    if category not in (None, ""):
        raise ModelError("AF203", f"{where}: a compliant reply (violation false) has no category; got {category!r}")
    return text, False, None


def _rows(path: Path) -> Iterator[tuple[str, Any]]:
    if path.suffix.lower() != ".csv":
        yield from _read_rows(path)
        return
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ModelError("AF202", f"{path} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ModelError("AF203", f"{path}: the file is not UTF-8; re-save it as UTF-8") from None
    reader = csv.DictReader(io.StringIO(content))
    if not reader.fieldnames or not {"text", "violation"} <= set(reader.fieldnames):
        raise ModelError("AF202", f"{path} (the CSV header needs the columns text, violation and category)")
    for number, row in enumerate(reader, start=2):
        yield f"{path}:{number}", row


def load_reply_file(path: str | Path, categories: Sequence[str], source: str = "user") -> list[ReplyExample]:
    """Labelled replies from JSONL or CSV (text, violation, category, optional id); AF202/AF203 when bad."""
    path = Path(path)
    out = []
    for where, obj in _rows(path):
        text, violation, category = _check_reply_row(obj, where, categories)
        rid = obj.get("id") if isinstance(obj.get("id"), str) and obj["id"] else f"{path.name}:{where.rsplit(':', 1)[1]}"
        out.append(ReplyExample(rid, text, violation, category, source))
    if not out:
        raise ModelError("AF202", f"{path} (no labelled replies: each row needs text, violation and category)")
    return out


def default_reply_examples(categories: Sequence[str], corpus_dir: str | Path = CORPUS_DIR) -> list[ReplyExample]:
    """The shipped labelled replies: every corpus/replies/*.jsonl (source = the file's stem)."""
    out: list[ReplyExample] = []
    for path in sorted(Path(corpus_dir, "replies").glob("*.jsonl")):
        out.extend(load_reply_file(path, categories, source=path.stem))
    return out


def _check_examples(examples: Sequence[ReplyExample], categories: Sequence[str]) -> None:
    positives = [e for e in examples if e.violation]
    if not positives or len(positives) == len(examples):
        raise ModelError("AF202", "(reply training needs both violating and compliant replies)")
    unknown = sorted({e.category for e in positives} - set(categories))
    if unknown:
        raise ModelError("AF203", f"(categories {unknown} are not in the forbidden-phrases pack)")


# ---------------------------------------------------------------------- sentence rows
@dataclass
class SentenceRows:
    """Sentence texts (normalised), their 0/1 violation labels and categories."""

    texts: list[str]
    labels: list[int]
    categories: list[str | None]

    def add(self, text: str, label: int, category: str | None) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.categories.append(category)


def _units(norm: str) -> list[tuple[int, int]]:
    from ..qa.checker import sentence_units

    return sentence_units(norm) or [(0, len(norm))]


def sentence_rows(examples: Sequence[ReplyExample], rules: Any) -> SentenceRows:
    """Sentence rows of the replies (see the module docstring); `rules` is a rules-only ReplyChecker."""
    rows = SentenceRows([], [], [])
    pending: list[tuple[list[str], str]] = []
    others: list[str] = []
    for e in examples:
        norm = normalize(e.text)
        units = _units(norm)
        if not e.violation:
            for s, t in units:
                rows.add(norm[s:t], 0, None)
            continue
        if len(units) == 1:
            flagged = units
        else:
            spans = [(f.start, f.end) for f in rules.scan(norm)]
            flagged = [(s, t) for s, t in units if any(a < t and b > s for a, b in spans)]
        if flagged:
            for s, t in flagged:
                rows.add(norm[s:t], 1, e.category)
            others.extend(norm[s:t] for s, t in units if (s, t) not in flagged)
        else:
            pending.append(([norm[s:t] for s, t in units], e.category or ""))
    if not pending and not others:
        return rows
    draft = _fit_heads(rows, ())
    for texts, category in pending:
        best = int(draft.predict_proba(texts).argmax())
        rows.add(texts[best], 1, category)
        others.extend(t for i, t in enumerate(texts) if i != best)
    if others:
        for text, p in zip(others, draft.predict_proba(others)):
            if p < OTHER_NEGATIVE_BELOW:
                rows.add(text, 0, None)
    return rows


def _fit_heads(rows: SentenceRows, categories: Sequence[str], threshold: float = 0.5,
               meta: dict[str, Any] | None = None) -> NgramReplyModel:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=MIN_DF if len(rows.texts) >= 500 else 1,
                                 max_features=MAX_FEATURES, dtype=np.float32)
    x = vectorizer.fit_transform(rows.texts)
    y = np.array(rows.labels)
    share = y.mean()
    weights = np.where(y == 1, 0.5 / share, 0.5 / (1 - share))  # balanced classes
    two, bias = _fit_head(x, y, weights, 2, C_VIOLATION, max_iter=LR_MAX_ITER, tol=LR_TOL)
    coef, intercept = two[:, 1] - two[:, 0], bias[1] - bias[0]
    cats = list(categories) or ["_"]
    pos = [i for i, label in enumerate(rows.labels) if label == 1 and rows.categories[i] in cats]
    if pos and len(cats) > 1:
        yc = np.array([cats.index(rows.categories[i]) for i in pos])
        cat_coef, cat_intercept = _fit_head(x[pos], yc, np.ones(len(pos)), len(cats), C_CATEGORY,
                                            max_iter=LR_MAX_ITER, tol=LR_TOL)
    else:
        cat_coef, cat_intercept = np.zeros((x.shape[1], len(cats)), np.float32), np.zeros(len(cats), np.float32)
    vocab = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    return NgramReplyModel(categories=cats, vocab=vocab, idf=vectorizer.idf_, coef=coef,
                           intercept=np.array([intercept]), cat_coef=cat_coef, cat_intercept=cat_intercept,
                           threshold=threshold, meta=meta)


# ---------------------------------------------------------------------- threshold
def reply_scores(checker: Any, examples: Sequence[ReplyExample]) -> np.ndarray:
    """Per reply, the highest P(violation) of its sentences that no mitigation excuses (model alone)."""
    out = np.zeros(len(examples), dtype=np.float32)
    for i, e in enumerate(examples):
        scores = [p for _, _, p, _, mitigated in checker.unit_scores(normalize(e.text)) if not mitigated]
        out[i] = max(scores, default=0.0)
    return out


def pick_threshold(scores: np.ndarray, gold: np.ndarray, target: float = TARGET_PRECISION) -> float:
    """The lowest threshold whose precision, and that of every higher one, is ≥ `target`."""
    order = np.argsort(-scores, kind="stable")
    s, g = scores[order], gold[order].astype(np.float64)
    precision = np.cumsum(g) / np.arange(1, len(g) + 1)
    best = 0.99
    for k in range(len(s)):
        if k + 1 < len(s) and s[k + 1] == s[k]:
            continue  # thresholds sit between distinct scores
        if precision[k] < target:
            break
        best = float(s[k])
    return float(min(max(best, 0.05), 0.99))


def _checker(rules_dir: str | Path | None, model: NgramReplyModel | None, threshold: float | None = None) -> Any:
    from ..qa.checker import ReplyChecker

    return ReplyChecker(rules_dir=rules_dir, model=model, model_threshold=threshold)


def oof_reply_scores(examples: Sequence[ReplyExample], categories: Sequence[str], rules: Any,
                     folds: int = THRESHOLD_FOLDS, salt: str = "thr") -> np.ndarray:
    """Out-of-fold reply scores of the model alone over `examples` (K folds by a hash of the id)."""
    scores = np.zeros(len(examples), dtype=np.float32)
    fold = np.array([fold_of(e.id, folds, salt) for e in examples])
    for k in range(folds):
        train = [e for e, f in zip(examples, fold) if f != k]
        test = [i for i, f in enumerate(fold) if f == k]
        if not test or len({e.violation for e in train}) < 2:
            continue
        model = _fit_heads(sentence_rows(train, rules), categories)
        checker = _checker(rules.rules_dir, model)
        scores[test] = reply_scores(checker, [examples[i] for i in test])
    return scores


def fit_reply_model(examples: Sequence[ReplyExample], rules_dir: str | Path | None = None,
                    target: float = TARGET_PRECISION, folds: int = THRESHOLD_FOLDS) -> NgramReplyModel:
    """Fit on all `examples`: the threshold by K-fold CV on them, then the heads on all of them."""
    rules = _checker(rules_dir, None)
    categories = tuple(rules.categories_)
    _check_examples(examples, categories)
    gold = np.array([e.violation for e in examples])
    oof = oof_reply_scores(examples, categories, rules, folds)
    threshold = pick_threshold(oof, gold, target)
    meta = {"trained_at": time.strftime("%Y-%m-%d"), "threshold": round(threshold, 4),
            "target_precision": target, "threshold_folds": folds,
            "train_rows": dict(sorted(Counter(e.source for e in examples).items()))}
    return _fit_heads(sentence_rows(examples, rules), categories, threshold, meta)


def train_replies(examples: Sequence[ReplyExample], out: str | Path, rules_dir: str | Path | None = None,
                  target: float = TARGET_PRECISION, evaluate: bool = True,
                  metrics_path: str | Path | None = None) -> dict[str, Any]:
    """Fit on every row outside the fixed held-out split (as `anfu train` does), optionally score
    rules vs hybrid by cross-validation, write weights + metrics."""
    if not examples:
        raise ModelError("AF202", "(no labelled replies)")
    train = [e for e in examples if not e.heldout]
    if not train:
        raise ModelError("AF202", "(every row falls in the held-out split; add more rows)")
    started = time.perf_counter()
    model = fit_reply_model(train, rules_dir, target)
    path = model.save(out)
    metrics: dict[str, Any] = {
        "model": model.name, "weights": str(out), "vocabulary": len(model.vocab_),
        "categories": list(model.categories), "threshold": round(model.threshold_, 4),
        "target_precision": target, "train_rows": model.meta["train_rows"],
        "size_bytes": path.stat().st_size}
    if evaluate:
        from .replies_eval import compare

        metrics["evaluation"] = compare(examples, rules_dir, target)
    metrics["fit_seconds"] = round(time.perf_counter() - started, 1)
    metrics_file = Path(metrics_path) if metrics_path else path.with_suffix(".metrics.json")
    metrics_file.write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return metrics


def pack_categories(rules_dir: str | Path | None = None) -> tuple[str, ...]:
    """The categories of the forbidden-phrases pack the model is trained for."""
    return tuple(_checker(rules_dir, None).categories_)


def scores_summary(gold: Sequence[bool], pred: Sequence[bool]) -> Mapping[str, Any]:
    """Counts, precision and recall of reply-level violation predictions."""
    tp = sum(g and p for g, p in zip(gold, pred))
    fp = sum(p and not g for g, p in zip(gold, pred))
    fn = sum(g and not p for g, p in zip(gold, pred))
    return {"n": len(gold), "tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0}


if __name__ == "__main__":  # python -m anfu.training.replies: rebuild the shipped weights
    from ..backends.reply_ngram import DEFAULT_REPLY_WEIGHTS

    report = train_replies(default_reply_examples(pack_categories()), DEFAULT_REPLY_WEIGHTS)
    print(json.dumps(report, ensure_ascii=False, indent=2))
