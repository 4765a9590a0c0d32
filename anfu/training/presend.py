"""Fit and evaluate the pre-send check in context (`anfu.qa.context.ContextReplyModel`).

Training rows are agent turns labelled violation / compliant (with a category) in the context
of the customer's previous turn: every helpdesk turn of the STC-3 dialogues (real replies,
labelled by us), the agent turns of our written conversations, the agent turns of the
conversations written for this check alone (corpus/presend/, training rows only) and our
standalone replies (no context). Splits: STC-3 by dialogue (id % 5 == 0 held out), written
conversations and standalone replies by `is_heldout(id)`. The threshold is chosen on cross-validated scores of the
training rows, never on the held-out ones. `anfu train-presend` wraps `train_presend`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..errors import ModelError
from ..qa.context import (DENSE, ContextReplyModel, ReplyContext, context_before, dense_features, rule_evidence,
                          sparse_terms)
from ..text.normalize import normalize
from .data import CORPUS_DIR, STC3_HELPDESK_LABELS, is_heldout, public_data_dir
from .replies import fold_of

C_VIOLATION = 1.0
C_CATEGORY = 4.0
FOLDS = 5
CONSIDER_PRECISION = 0.5
# conversations written for this check alone (corpus/presend/) count a quarter: chosen by 5-fold CV
# among 1 / 0.5 / 0.25 as the weight that raises written recall at precision 0.93 without lowering
# real precision at recall 0.65 by more than 0.005
SOURCE_WEIGHTS = {"stc3": 1.0, "written": 1.0, "presend": 0.25, "replies": 0.5}


@dataclass(frozen=True)
class ContextExample:
    id: str
    reply: str                 # normalised
    context: ReplyContext      # normalised texts
    violation: bool
    category: str | None
    source: str                # stc3 | written | presend | replies
    heldout: bool


def stc3_examples(labels: str | Path = STC3_HELPDESK_LABELS, data_dir: str | Path | None = None) -> list[ContextExample]:
    path = Path(data_dir or public_data_dir()) / "stc3" / "train_data_cn.json"
    if not path.is_file() or not Path(labels).is_file():
        return []
    dialogues = {d["id"]: d for d in json.loads(path.read_text(encoding="utf-8"))}
    out = []
    for line in Path(labels).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        d = dialogues.get(str(row["dialogue_id"]))
        if d is None:
            continue
        turns = [("customer" if t["sender"] == "customer" else "agent", normalize(" ".join(t["utterances"]).strip()))
                 for t in d["turns"]]
        i = int(row["turn"])
        if not turns[i][1]:
            continue  # an empty post: nothing to judge
        out.append(ContextExample(f"stc3-{d['id']}-{i}", turns[i][1], context_before(turns, i), bool(row["violation"]),
                                  row.get("category"), "stc3", int(d["id"]) % 5 == 0))
    return out


def _conversation_examples(files: Iterable[Path], heldout: Callable[[str], bool],
                           source: str = "written") -> list[ContextExample]:
    """The agent turns of the conversations in these JSONL files, each in its context."""
    out = []
    for path in sorted(files):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            conv = json.loads(line)
            turns = [(t["speaker"], normalize(t["text"])) for t in conv["turns"]]
            for i, t in enumerate(conv["turns"]):
                if t["speaker"] == "agent":
                    out.append(ContextExample(f"{conv['id']}-{i}", turns[i][1], context_before(turns, i), bool(t["violation"]),
                                              t.get("category"), source, heldout(conv["id"])))
    return out


def written_examples(corpus_dir: str | Path = CORPUS_DIR) -> list[ContextExample]:
    """Our written conversations (`corpus/conversations/`), split by `is_heldout(id)`."""
    return _conversation_examples(Path(corpus_dir, "conversations").glob("*.jsonl"), is_heldout)


def presend_conversation_examples(corpus_dir: str | Path = CORPUS_DIR) -> list[ContextExample]:
    """Conversations written for this check alone (`corpus/presend/conversations_*.jsonl`: only the agent turns are
    labelled, violation / category against the customer's previous turn). Training rows only, so
    the held-out written conversations stay the same set."""
    return _conversation_examples(Path(corpus_dir, "presend").glob("conversations_*.jsonl"), lambda _id: False,
                                  "presend")


def standalone_examples(corpus_dir: str | Path = CORPUS_DIR) -> list[ContextExample]:
    out = []
    for path in sorted(Path(corpus_dir, "replies").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                out.append(ContextExample(r["id"], normalize(r["text"]), ReplyContext(), bool(r["violation"]),
                                          r.get("category"), "replies", is_heldout(r["id"])))
    return out


def all_examples(corpus_dir: str | Path = CORPUS_DIR, data_dir: str | Path | None = None) -> list[ContextExample]:
    return stc3_examples(Path(corpus_dir) / "real" / "stc3_helpdesk.jsonl", data_dir) + \
        written_examples(corpus_dir) + presend_conversation_examples(corpus_dir) + standalone_examples(corpus_dir)


def rule_hits(examples: Sequence[ContextExample]) -> list[tuple[int, int]]:
    """Findings of the phrase rules and exemplars alone (no learned model) per reply, as
    `rule_evidence` counts them (other rules, behaviour rules)."""
    from ..qa import default_checker

    checker = default_checker(model="none")
    return [rule_evidence(f.rule_id for f in checker.scan(e.reply, e.reply)) for e in examples]


class _Design:
    """Vectoriser + dense scaler fitted on training rows."""

    def __init__(self, examples: Sequence[ContextExample], hits: Sequence[tuple[int, int]]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(analyzer=lambda terms: terms, sublinear_tf=True, min_df=2,
                                          max_features=60000, dtype=np.float32)
        self.vectorizer.fit([sparse_terms(e.reply, e.context) for e in examples])
        dense = np.array([dense_features(e.reply, e.context, *h) for e, h in zip(examples, hits)], dtype=np.float32)
        self.mean = dense.mean(0)
        self.scale = dense.std(0)
        self.scale[self.scale == 0] = 1.0

    def matrix(self, examples: Sequence[ContextExample], hits: Sequence[tuple[int, int]]) -> Any:
        from scipy.sparse import csr_matrix, hstack

        x = self.vectorizer.transform([sparse_terms(e.reply, e.context) for e in examples])
        dense = np.array([dense_features(e.reply, e.context, *h) for e, h in zip(examples, hits)],
                         dtype=np.float32).reshape(len(examples), len(DENSE))
        return hstack([x, csr_matrix((dense - self.mean) / self.scale)]).tocsr()


def _fit(examples: Sequence[ContextExample], hits: Sequence[tuple[int, int]]) -> tuple[_Design, Any]:
    from sklearn.linear_model import LogisticRegression

    design = _Design(examples, hits)
    x = design.matrix(examples, hits)
    y = np.array([e.violation for e in examples])
    w = np.array([SOURCE_WEIGHTS[e.source] for e in examples])
    clf = LogisticRegression(C=C_VIOLATION, max_iter=3000, class_weight="balanced")
    clf.fit(x, y, sample_weight=w)
    return design, clf


def cv_scores(examples: Sequence[ContextExample], hits: Sequence[tuple[int, int]]) -> np.ndarray:
    """Out-of-fold violation probabilities of the training rows (folds by dialogue/conversation)."""
    def unit(e: ContextExample) -> str:
        return e.id.rsplit("-", 1)[0] if e.source != "replies" else e.id

    folds = np.array([fold_of(unit(e), FOLDS) for e in examples])
    out = np.zeros(len(examples))
    for k in range(FOLDS):
        tr, te = np.where(folds != k)[0], np.where(folds == k)[0]
        design, clf = _fit([examples[i] for i in tr], [hits[i] for i in tr])
        out[te] = clf.predict_proba(design.matrix([examples[i] for i in te], [hits[i] for i in te]))[:, 1]
    return out


def _best_f1_threshold(scores: np.ndarray, gold: np.ndarray) -> float:
    best, best_f1 = 0.5, -1.0
    for t in np.linspace(0.2, 0.95, 76):
        pred = scores >= t
        tp = float((pred & gold).sum())
        f1 = 2 * tp / max(1.0, pred.sum() + gold.sum())
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def _precision_threshold(scores: np.ndarray, gold: np.ndarray, target: float) -> float:
    for t in np.linspace(0.05, 0.95, 91):
        pred = scores >= t
        if pred.sum() and (pred & gold).sum() / pred.sum() >= target:
            return float(t)
    return 0.95


def prf(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, Any]:
    g, p = np.array(gold, dtype=bool), np.array(pred, dtype=bool)
    tp = int((g & p).sum())
    return {"n": len(g), "violations": int(g.sum()), "flagged": int(p.sum()),
            "precision": round(tp / p.sum(), 3) if p.sum() else 0.0,
            "recall": round(tp / g.sum(), 3) if g.sum() else 0.0}


def to_model(design: _Design, clf: Any, cat_clf: Any, categories: Sequence[str], threshold: float,
             consider: float, meta: dict[str, Any]) -> ContextReplyModel:
    n_terms = len(design.vectorizer.vocabulary_)
    vocab = sorted(design.vectorizer.vocabulary_, key=design.vectorizer.vocabulary_.get)
    coef = clf.coef_[0]
    cat_coef = np.zeros((n_terms, len(categories)), dtype=np.float32)
    cat_intercept = np.full(len(categories), -30.0, dtype=np.float32)
    cat_coef[:, [categories.index(c) for c in cat_clf.classes_]] = cat_clf.coef_.T[:n_terms]
    cat_intercept[[categories.index(c) for c in cat_clf.classes_]] = cat_clf.intercept_
    return ContextReplyModel(vocab=vocab, idf=design.vectorizer.idf_, coef=coef[:n_terms],
                             dense_coef=coef[n_terms:], intercept=float(clf.intercept_[0]),
                             dense_mean=design.mean, dense_scale=design.scale, categories=categories,
                             cat_coef=cat_coef, cat_intercept=cat_intercept, threshold=threshold,
                             consider=consider, meta=meta)


def train_presend(out: str | Path, corpus_dir: str | Path = CORPUS_DIR,
                  data_dir: str | Path | None = None) -> dict[str, Any]:
    """Fit on the training rows, pick thresholds by cross-validation, report the held-out rows
    per source, write the weights (.npz) and a metrics JSON beside them."""
    from sklearn.linear_model import LogisticRegression

    from ..qa.packs import FORBIDDEN_PACK
    from ..rules import load_pack

    started = time.perf_counter()
    examples = all_examples(corpus_dir, data_dir)
    train = [e for e in examples if not e.heldout]
    held = [e for e in examples if e.heldout]
    if len({e.violation for e in train}) < 2:
        raise ModelError("AF202", "(the pre-send training rows need both violations and compliant replies)")
    hits_train, hits_held = rule_hits(train), rule_hits(held)
    gold = np.array([e.violation for e in train])
    oof = cv_scores(train, hits_train)
    # the thresholds are chosen on the rows that occur as they do in a centre (real helpdesk turns and
    # whole written conversations): corpus/presend/ was written to be hard (a third violations, many of
    # them subtle), and letting it pick the threshold lowered it until the simulator's plain empathy
    # opener to an angry customer was must-fix (5-fold CV, MODEL_CARD.md)
    in_context = np.array([e.source in ("stc3", "written") for e in train])
    threshold = _best_f1_threshold(oof[in_context], gold[in_context])
    consider = min(threshold, _precision_threshold(oof[in_context], gold[in_context], CONSIDER_PRECISION))
    design, clf = _fit(train, hits_train)
    categories = list(load_pack(FORBIDDEN_PACK)["categories"])
    bad = [e for e in train if e.violation and e.category in categories]
    cat_clf = LogisticRegression(C=C_CATEGORY, max_iter=3000)
    cat_clf.fit(design.vectorizer.transform([sparse_terms(e.reply, e.context) for e in bad]), [e.category for e in bad])
    meta = {"trained_at": time.strftime("%Y-%m-%d"), "train_rows": dict(Counter(e.source for e in train)),
            "threshold": round(threshold, 3), "consider": round(consider, 3)}
    model = to_model(design, clf, cat_clf, categories, threshold, consider, meta)
    held_scores = clf.predict_proba(design.matrix(held, hits_held))[:, 1] if held else np.zeros(0)
    metrics: dict[str, Any] = {
        "model": "reply_context", "weights": str(out), "threshold": round(threshold, 3),
        "consider": round(consider, 3), "train_rows": meta["train_rows"],
        "cv_in_context": {src: prf(gold[[e.source == src for e in train]],
                                   (oof >= threshold)[[e.source == src for e in train]])
                          for src in ("stc3", "written", "presend")},
        "heldout_model": {src: prf([e.violation for e in held if e.source == src],
                                   [s >= threshold for e, s in zip(held, held_scores) if e.source == src])
                          for src in ("stc3", "written", "replies")},
        "fit_seconds": round(time.perf_counter() - started, 1),
    }
    model.meta["heldout_model"] = metrics["heldout_model"]
    path = model.save(out)
    metrics["size_bytes"] = path.stat().st_size
    path.with_suffix(".metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n",
                                                 encoding="utf-8")
    return metrics
