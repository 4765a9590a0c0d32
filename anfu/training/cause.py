"""Fit and evaluate the char n-gram cause classifier (`anfu.ngram_cause.v1`).

Training rows are labelled customer texts with a `cause` (our service corpus, the STC-3
turns we labelled, and any JSONL/CSV a centre adds with the columns text and cause). The
model is fit on the non-held-out rows, its temperature on a dev slice of them; scores are
reported on the held-out split. `anfu train-cause` wraps `train_cause`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..backends.cause_ngram import NgramCauseModel
from ..errors import ModelError
from ..glossary import CAUSES
from ..text.normalize import normalize
from .data import CORPUS_DIR, _read_rows, is_heldout, stc3_labelled_turns
from .train import _analyzer, _fit_head, calibrated_fit

MAX_FEATURES = 40000
# Real opening turns teach the vocabulary of real customers; our written corpus (one guide, one
# team) keeps the boundaries between causes consistent, so it counts double.
SOURCE_WEIGHTS = {"service": 2.0, "stc3": 1.0}
C_CAUSE = 8.0


@dataclass(frozen=True)
class CauseExample:
    """One text labelled with a cause (and, where known, its industry)."""

    id: str
    text: str
    cause: str
    industry: str | None
    source: str

    @property
    def heldout(self) -> bool:
        return is_heldout(self.id)


def _check_cause(obj: Any, where: str) -> tuple[str, str]:
    if not isinstance(obj, dict):
        raise ModelError("AF203", f"{where}: expected an object with text and cause")
    text, cause = obj.get("text"), obj.get("cause")
    if not isinstance(text, str) or not text.strip():
        raise ModelError("AF203", f"{where}: \"text\" must be a non-empty string")
    cause = cause.strip() if isinstance(cause, str) else cause
    if cause not in CAUSES:
        raise ModelError("AF203", f"{where}: cause {cause!r} is not one of {', '.join(CAUSES)}")
    return text, cause


def load_cause_file(path: str | Path, source: str = "user") -> list[CauseExample]:
    """Cause-labelled JSONL or CSV (text, cause, optional id and industry); AF202/AF203 when bad."""
    path = Path(path)
    out = []
    for where, obj in _read_rows(path):
        if isinstance(obj, dict) and obj.get("cause") in (None, ""):
            continue  # a row labelled for emotion only
        text, cause = _check_cause(obj, where)
        rid = obj.get("id") if isinstance(obj.get("id"), str) and obj["id"] else f"{path.name}:{where.rsplit(':', 1)[1]}"
        industry = obj.get("industry") if isinstance(obj.get("industry"), str) else None
        out.append(CauseExample(rid, text, cause, industry, source))
    if not out:
        raise ModelError("AF202", f"{path} (no row has a \"cause\")")
    return out


def load_stc3_causes(labels_path: str | Path = CORPUS_DIR / "real" / "stc3_customer.jsonl",
                     data_dir: str | Path | None = None) -> list[CauseExample]:
    """Our STC-3 cause labels of each dialogue's opening customer turn, joined with their texts
    (empty when the texts are absent). Later turns ("好的，谢谢") carry the dialogue's cause in the
    labels but say nothing of it themselves, so they would teach small talk a cause."""
    out = []
    for _, obj, turn_no, text in stc3_labelled_turns(labels_path, data_dir):
        if turn_no != 0 or not text.strip():
            continue
        digest = str(obj.get("sha1", ""))
        if not digest or hashlib.sha1(text.encode("utf-8")).hexdigest()[:len(digest)] != digest:
            continue
        if obj.get("cause") in CAUSES:
            out.append(CauseExample(f"stc3-{obj['dialogue_id']}-{turn_no}", text, obj["cause"], None, "stc3"))
    return out


def default_cause_examples(corpus_dir: str | Path = CORPUS_DIR, public: bool = True,
                           data_dir: str | Path | None = None) -> list[CauseExample]:
    """The shipped training set: corpus/service/*.jsonl plus (when `public`) STC-3 labels."""
    out: list[CauseExample] = []
    for path in sorted(Path(corpus_dir, "service").glob("*.jsonl")):
        out.extend(load_cause_file(path, source="service"))
    if public:
        out.extend(load_stc3_causes(Path(corpus_dir) / "real" / "stc3_customer.jsonl", data_dir))
    return out


def _fit(rows: Sequence[CauseExample], temperature: float, meta: dict[str, Any]) -> NgramCauseModel:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=2 if len(rows) >= 500 else 1,
                                 max_features=MAX_FEATURES, dtype=np.float32)
    x = vectorizer.fit_transform([normalize(r.text) for r in rows])
    y = np.array([CAUSES.index(r.cause) for r in rows])
    weights = np.array([SOURCE_WEIGHTS.get(r.source, 1.0) for r in rows])
    coef, intercept = _fit_head(x, y, weights, len(CAUSES), C_CAUSE)
    vocab = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    return NgramCauseModel(vocab=vocab, idf=vectorizer.idf_, coef=coef, intercept=intercept,
                           temperature=temperature, meta=meta)


def fit_cause_model(examples: Sequence[CauseExample]) -> NgramCauseModel:
    """Fit on the non-held-out rows: temperature from a dev slice, then a refit on all of them."""
    train = [e for e in examples if not e.heldout]
    if len({e.cause for e in train}) < 2:
        raise ModelError("AF202", "(cause training needs non-held-out rows with at least two causes)")
    return calibrated_fit(train, _fit, label=lambda e: CAUSES.index(e.cause),
                          dev_logits=lambda draft, norms: np.log(draft.predict_proba(norms) + 1e-12))


def accuracy(gold: Sequence[str], pred: Sequence[str | None]) -> float:
    """Share of exact matches; a missing prediction (None) counts as "other"."""
    if not gold:
        return 0.0
    return round(sum(g == (p or "other") for g, p in zip(gold, pred)) / len(gold), 4)


def train_cause(examples: Sequence[CauseExample], out: str | Path,
                metrics_path: str | Path | None = None) -> dict[str, Any]:
    """Fit, score the model alone on the held-out split (per source), write weights + metrics."""
    if not examples:
        raise ModelError("AF202", "(no rows with a cause)")
    started = time.perf_counter()
    model = fit_cause_model(examples)
    report: dict[str, Any] = {}
    held = [e for e in examples if e.heldout]
    for source in sorted({e.source for e in held}):
        rows = [e for e in held if e.source == source]
        proba = model.predict_proba([normalize(e.text) for e in rows])
        report[source] = {"n": len(rows), "accuracy": accuracy([e.cause for e in rows],
                                                               [CAUSES[i] for i in proba.argmax(axis=1)])}
    model.meta["heldout"] = report
    path = model.save(out)
    metrics = {"model": model.name, "weights": str(out), "vocabulary": len(model.vocab_),
               "temperature": round(model.temperature_, 4), "train_rows": model.meta["train_rows"],
               "heldout_model_only": report, "size_bytes": path.stat().st_size,
               "fit_seconds": round(time.perf_counter() - started, 1)}
    metrics_file = Path(metrics_path) if metrics_path else path.with_suffix(".metrics.json")
    metrics_file.write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return metrics


if __name__ == "__main__":  # python -m anfu.training.cause: rebuild the shipped weights
    from ..backends.cause_ngram import DEFAULT_CAUSE_WEIGHTS

    print(json.dumps(train_cause(default_cause_examples(), DEFAULT_CAUSE_WEIGHTS), ensure_ascii=False, indent=2))
