"""Fit and evaluate the learned persona model of `anfu.persona.v2` (persona.npz).

Rows are our written conversations labelled with one of the nine types (`unknown` ones are
only used to report how often the model abstains on them). Inputs are
`anfu.components.persona.persona_inputs`: char n-grams of everything the customer wrote plus
the personas pack's evidence and the customer's behaviour; never an agent turn or a label.

On the non-held-out conversations, 5-fold cross-validation (folds by a hash of the id)
chooses the regularisation and the weight of the dense block, then, from the out-of-fold
predictions, the temperature and the abstention threshold (`ABSTAIN_SHARE` of the training
conversations). The model is refit on all of them and scored, with `anfu.persona.v1` beside
it, on the held-out conversations. `anfu train-persona` wraps `train_persona`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..backends.text_dense import TextDenseModel
from ..components.persona import (DENSE_FEATURES, GATE_LABELS, STRONG_CUES, LearnedPersona, Persona, gate_answer,
                                  load_model, persona_inputs)
from ..errors import ModelError
from ..glossary import PERSONAS
from .conversations import UNKNOWN, LabelledConversation, analyse, fold_of, split
from .train import _analyzer, _fit_temperature

MAX_FEATURES = 6000
GRID_C = (16.0,)
GRID_DENSE = (0.05, 0.15)
ABSTAIN_SHARE = 0.05  # out-of-fold share of typed training conversations the model may abstain on
# The typedness gate (typed vs unknown; issue 9): a balanced logistic regression over the same
# inputs, learnt on our labels of real STC-3 development dialogues and the written conversations.
# Its threshold is the one of GATE_GRID with the best out-of-fold accuracy on the real dialogues
# (unknown counted as a class) that keeps the written typed conversations' abstention within
# MAX_WRITTEN_ABSTENTION (the 20 %).
GATE_C = 1.0
GATE_DENSE = 0.3
GATE_GRID = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
MAX_WRITTEN_ABSTENTION = 0.20


def _fit(texts: Sequence[str], dense: np.ndarray, y: np.ndarray, c: float, dense_weight: float,
         temperature: float = 1.0, meta: dict[str, Any] | None = None,
         labels: Sequence[str] = PERSONAS, balanced: bool = False) -> TextDenseModel:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=2, max_features=MAX_FEATURES,
                                 dtype=np.float32)
    x_text = vectorizer.fit_transform(texts)
    mean, scale = dense.mean(axis=0), dense.std(axis=0)
    scale[scale == 0] = 1.0
    x = sp.hstack([x_text, sp.csr_matrix((dense - mean) / scale * dense_weight)]).tocsr()
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None)
    clf.fit(x, y)
    coef = np.zeros((x.shape[1], len(labels)), dtype=np.float32)
    intercept = np.full(len(labels), -30.0, dtype=np.float32)
    if clf.coef_.shape[0] == 1:  # two classes: scikit-learn keeps one row, the logits are (0, z)
        coef[:, clf.classes_[1]] = clf.coef_[0]
        intercept[clf.classes_] = (0.0, clf.intercept_[0])
    else:
        coef[:, clf.classes_] = clf.coef_.T
        intercept[clf.classes_] = clf.intercept_
    terms = x_text.shape[1]
    vocab = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    return TextDenseModel(labels, vocab, vectorizer.idf_, coef[:terms], DENSE_FEATURES, mean, scale,
                          coef[terms:] * dense_weight, intercept, temperature, meta=meta)


Ruled = tuple[str, dict[str, float]]  # the personas pack's answer and the weight of its cues per type


def _inputs(docs: Sequence[Any]) -> tuple[list[str], np.ndarray, list[Ruled]]:
    """What the models read of each conversation (text, dense features) and, from the same clues,
    the personas pack's answer with the weight of its cues per type (the gate's strong-cue rule)."""
    rules = load_model()
    texts, dense, ruled = [], [], []
    for doc in docs:
        text, features, clues = persona_inputs(rules, doc.turns)
        texts.append(text)
        dense.append(features)
        support: dict[str, float] = {}
        for c in clues:
            support[c.persona] = support.get(c.persona, 0.0) + c.weight
        ruled.append((rules.decide(clues).type, support))
    return texts, np.array(dense, dtype=np.float64), ruled


def cross_validate(texts: list[str], dense: np.ndarray, y: np.ndarray, ids: list[str], c: float,
                   dense_weight: float) -> np.ndarray:
    """Out-of-fold logits (temperature 1) of the typed training conversations."""
    folds = np.array([fold_of(i) for i in ids])
    logits = np.zeros((len(y), len(PERSONAS)))
    for k in sorted(set(folds)):
        fit_on, score_on = np.where(folds != k)[0], np.where(folds == k)[0]
        model = _fit([texts[i] for i in fit_on], dense[fit_on], y[fit_on], c, dense_weight)
        logits[score_on] = model.predict_logits([texts[i] for i in score_on], dense[score_on])
    return logits


def persona_scores(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """n, accuracy over the answered conversations, accuracy counting an abstention as wrong,
    abstention, and per type (n, recall = share named correctly, abstained)."""
    answered = [(g, p) for g, p in zip(gold, pred) if p != UNKNOWN]
    out: dict[str, Any] = {
        "n": len(gold),
        "accuracy": round(sum(g == p for g, p in answered) / len(answered), 4) if answered else 0.0,
        "accuracy_all": round(sum(g == p for g, p in zip(gold, pred)) / len(gold), 4) if gold else 0.0,
        "abstention": round(1 - len(answered) / len(gold), 4) if gold else 0.0,
        "per_type": {},
    }
    for persona in PERSONAS:
        rows = [p for g, p in zip(gold, pred) if g == persona]
        named = sum(p == persona for p in pred)
        if rows:
            out["per_type"][persona] = {
                "n": len(rows), "recall": round(sum(p == persona for p in rows) / len(rows), 4),
                "precision": round(sum(g == p == persona for g, p in zip(gold, pred)) / named, 4) if named else 0.0,
                "abstained": sum(p == UNKNOWN for p in rows)}
    return out


def real_development_rows(data_dir: str | Path | None = None) -> list[tuple[str, str, Any]]:
    """(label, dialogue id, assessed conversation) for our persona labels of the development
    STC-3 dialogues (never the held-out ones, id % 5 == 0); empty without ../shared/data/stc3."""
    from ..pipeline import load
    from .conversations import TURN_PIPELINE
    from .data import stc3_conversation

    labelled = [(label, d) for label, d in stc3_persona_labels(data_dir=data_dir) if int(d["id"]) % 5]
    if not labelled:
        return []
    analyzer = load({"pipeline": {"components": TURN_PIPELINE}})
    docs = analyzer.pipe([stc3_conversation(d) for _, d in labelled], batch_size=64)
    return [(label, d["id"], doc) for (label, d), doc in zip(labelled, docs)]


def _gate_decisions(gate_p: np.ndarray, types: Sequence[str], rules: Sequence[Ruled],
                    threshold: float) -> list[str]:
    """What `anfu.persona.v2` answers with a gate at `threshold` (thin text aside)."""
    out = []
    for g, t, (ruled, support) in zip(gate_p, types, rules):
        answer = gate_answer(float(g), threshold, ruled, support.get(ruled, 0.0), STRONG_CUES)
        out.append(t if answer is None else answer)
    return out


def choose_gate(texts: list[str], dense: np.ndarray, gold: list[str], ids: list[str], real: list[bool],
                rules: list[Ruled], c: float, dense_weight: float) -> dict[str, Any]:
    """Out of fold (folds by `fold_of`), over every non-held-out conversation, written and real:
    the gate's probability and the type model's answer, and the gate threshold of GATE_GRID with
    the best accuracy on the real ones that keeps written abstention within the cap."""
    folds = np.array([fold_of(i) for i in ids])
    typed_rows = np.array([g != UNKNOWN for g in gold])
    gate_p, types = np.zeros(len(gold)), [UNKNOWN] * len(gold)
    for k in sorted(set(folds)):
        fit_on, score_on = np.where(folds != k)[0], np.where(folds == k)[0]
        t_on = fit_on[typed_rows[fit_on]]
        model = _fit([texts[i] for i in t_on], dense[t_on], np.array([PERSONAS.index(gold[i]) for i in t_on]),
                     c, dense_weight)
        for i, row in zip(score_on, model.predict_logits([texts[i] for i in score_on], dense[score_on])):
            types[i] = PERSONAS[int(np.argmax(row))]
        gate = _fit([texts[i] for i in fit_on], dense[fit_on], typed_rows[fit_on].astype(int), GATE_C, GATE_DENSE,
                    labels=GATE_LABELS, balanced=True)
        gate_p[score_on] = gate.predict_proba([texts[i] for i in score_on], dense[score_on])[:, 1]
    r_idx = [i for i in range(len(gold)) if real[i]]
    w_idx = [i for i in range(len(gold)) if not real[i] and typed_rows[i]]
    grid = []
    for threshold in GATE_GRID:
        pred = _gate_decisions(gate_p, types, rules, threshold)
        scores = real_persona_scores([gold[i] for i in r_idx], [pred[i] for i in r_idx])
        abstention = round(sum(pred[i] == UNKNOWN for i in w_idx) / len(w_idx), 4) if w_idx else 0.0
        grid.append({"min_typed": threshold, "real": scores, "written_abstention": abstention})
    allowed = [g for g in grid if g["written_abstention"] <= MAX_WRITTEN_ABSTENTION] or grid[:1]
    best = max(allowed, key=lambda g: (g["real"]["accuracy"], -g["min_typed"]))
    return {"min_typed": best["min_typed"], "grid": grid, "C": GATE_C, "dense_weight": GATE_DENSE,
            "strong_cues": STRONG_CUES}


def train_persona(rows: Sequence[LabelledConversation], out: str | Path,
                  metrics_path: str | Path | None = None, real: bool = True,
                  data_dir: str | Path | None = None) -> dict[str, Any]:
    """Choose, fit and score the persona model (and, with our labels of real dialogues, its
    typedness gate); write the weights and the metrics JSON."""
    started = time.perf_counter()
    docs = analyse(rows)
    texts, dense, ruled = _inputs(docs)
    train_idx, held_idx = split(rows)
    real_rows = real_development_rows(data_dir) if real else []
    r_texts, r_dense, r_ruled = (_inputs([doc for _, _, doc in real_rows]) if real_rows
                                 else ([], np.zeros((0, dense.shape[1])), []))
    # every non-held-out conversation: written first, then the real development dialogues
    a_texts = [texts[i] for i in train_idx] + r_texts
    a_dense = np.vstack([dense[train_idx], r_dense])
    a_gold = [rows[i].persona for i in train_idx] + [label for label, _, _ in real_rows]
    a_ids = [rows[i].id for i in train_idx] + [rid for _, rid, _ in real_rows]
    a_real = [False] * len(train_idx) + [True] * len(real_rows)
    typed = [i for i, g in enumerate(a_gold) if g != UNKNOWN]
    if len({a_gold[i] for i in typed}) < 2 or len(typed) < 5 * 5:
        raise ModelError("AF202", "(persona training needs non-held-out conversations of several types)")
    y = np.array([PERSONAS.index(a_gold[i]) for i in typed])
    t_texts, t_dense, t_ids = [a_texts[i] for i in typed], a_dense[typed], [a_ids[i] for i in typed]

    grid = []
    for c in GRID_C:
        for w in GRID_DENSE:
            logits = cross_validate(t_texts, t_dense, y, t_ids, c, w)
            grid.append((float((logits.argmax(1) == y).mean()), c, w, logits))
    cv_accuracy, c, w, logits = max(grid, key=lambda g: (g[0], g[2]))
    temperature = _fit_temperature(logits, y)
    proba = np.exp(logits / temperature - (logits / temperature).max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    gate_choice = None
    if real_rows:
        gate_choice = choose_gate(a_texts, a_dense, a_gold, a_ids, a_real,
                                  [ruled[i] for i in train_idx] + r_ruled, c, w)
        threshold = 0.0  # past the gate the model answers its most probable type
    else:
        threshold = round(float(np.quantile(proba.max(1), ABSTAIN_SHARE)), 3)
    oof = [PERSONAS[k] if p >= threshold else UNKNOWN for k, p in zip(proba.argmax(1), proba.max(1))]
    meta = {"trained_at": time.strftime("%Y-%m-%d"), "train_conversations": len(typed),
            "train_rows": {"written": sum(not a_real[i] for i in typed), "stc3": sum(a_real[i] for i in typed)},
            "C": c, "dense_weight": w, "temperature": round(temperature, 4), "min_probability": threshold,
            "cv": {"folds": 5, "grid": [{"C": g[1], "dense_weight": g[2], "accuracy": round(g[0], 4)} for g in grid],
                   **persona_scores([a_gold[i] for i in typed], oof)}}
    if gate_choice is not None:  # the gate replaces the corroboration rule
        meta.update({"corroboration": 0.0, "confident_probability": 1.0})
    model = _fit(t_texts, t_dense, y, c, w, temperature, meta)
    path = model.save(out)
    gate_file = path.with_name(path.stem + "_gate.npz")
    if gate_choice is not None:
        gate = _fit(a_texts, a_dense, np.array([g != UNKNOWN for g in a_gold], dtype=int), GATE_C, GATE_DENSE,
                    meta={"trained_at": meta["trained_at"], "min_typed": gate_choice["min_typed"],
                          "rows": {"written": a_real.count(False), "stc3": a_real.count(True),
                                   "typed": len(typed)}},
                    labels=GATE_LABELS, balanced=True)
        gate.save(gate_file)
    elif gate_file.exists():  # a gate from an earlier training would not match these weights
        gate_file.unlink()

    heldout = evaluate(rows, docs, held_idx, path)
    model.meta["heldout"] = heldout["anfu.persona.v2"]
    model.save(out)
    metrics = {"model": "anfu.persona.v2", "weights": str(out), "vocabulary": len(model.vocab_),
               "size_bytes": path.stat().st_size, "C": c, "dense_weight": w,
               "temperature": round(temperature, 4), "min_probability": threshold,
               "cv": meta["cv"], "gate": gate_choice, "heldout": heldout,
               "fit_seconds": round(time.perf_counter() - started, 1)}
    metrics_file = Path(metrics_path) if metrics_path else path.with_suffix(".metrics.json")
    metrics_file.write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return metrics


def evaluate(rows: Sequence[LabelledConversation], docs: Sequence[Any], indices: Sequence[int],
             weights: str | Path) -> dict[str, Any]:
    """Scores of v1 and v2 (through the components themselves) on the conversations `indices`:
    the typed ones scored by `persona_scores`, plus the share of `unknown` ones abstained on."""
    report: dict[str, Any] = {}
    for component in (Persona(), LearnedPersona(model=str(weights))):
        preds = [component.predict([docs[i]])[0].type for i in indices]
        gold = [rows[i].persona for i in indices]
        typed = [(g, p) for g, p in zip(gold, preds) if g != UNKNOWN]
        scores = persona_scores([g for g, _ in typed], [p for _, p in typed])
        unknown = [p for g, p in zip(gold, preds) if g == UNKNOWN]
        scores["unknown_labelled"] = {"n": len(unknown), "abstained": sum(p == UNKNOWN for p in unknown)}
        report[component.name] = scores
    return report


# -- real dialogues: our persona labels of STC-3 dialogues (issue 9) ---------------------------
STC3_PERSONA_LABELS = Path(__file__).resolve().parents[2] / "corpus" / "real" / "stc3_persona.jsonl"


def stc3_customer_text(dialogue: dict[str, Any]) -> str:
    """What a persona label's hash covers: the customer's non-empty turns, joined by newlines."""
    from .data import stc3_turn_text

    return "\n".join(t for t in (stc3_turn_text(x).strip() for x in dialogue["turns"]
                                 if x["sender"] == "customer") if t)


def stc3_persona_labels(path: str | Path = STC3_PERSONA_LABELS, data_dir: str | Path | None = None
                        ) -> list[tuple[str, dict[str, Any]]]:
    """(label, STC-3 dialogue) for each of our persona labels whose dialogue exists and whose
    customer text still has the labelled hash; nothing when the data or the labels are absent."""
    import hashlib

    from .data import public_data_dir

    source = Path(data_dir or public_data_dir()) / "stc3" / "train_data_cn.json"
    path = Path(path)
    if not source.is_file() or not path.is_file():
        return []
    dialogues = {d["id"]: d for d in json.loads(source.read_text(encoding="utf-8"))}
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        d = dialogues.get(str(row.get("dialogue_id")))
        if d is None or row.get("persona") not in (*PERSONAS, UNKNOWN):
            continue
        digest = hashlib.sha1(stc3_customer_text(d).encode("utf-8")).hexdigest()[: len(str(row.get("sha1", "")))]
        if digest == row.get("sha1"):
            out.append((row["persona"], d))
    return out


def real_persona_scores(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """On real dialogues, where most show no type: how many dialogues a type was named for, the
    share of those named right, the share of the labelled types found, how often a dialogue the
    labellers left `unknown` got a type, and the accuracy counting `unknown` as a class."""
    pairs = list(zip(gold, pred))
    named = [(g, p) for g, p in pairs if p != UNKNOWN]
    typed = [(g, p) for g, p in pairs if g != UNKNOWN]
    untyped = [(g, p) for g, p in pairs if g == UNKNOWN]
    ratio = lambda a, b: round(a / b, 3) if b else 0.0  # noqa: E731
    return {"n": len(pairs), "labelled_typed": len(typed), "named": len(named),
            "precision_named": ratio(sum(g == p for g, p in named), len(named)),
            "recall_typed": ratio(sum(g == p for g, p in typed), len(typed)),
            "named_when_unknown": ratio(sum(p != UNKNOWN for _, p in untyped), len(untyped)),
            "accuracy": ratio(sum(g == p for g, p in pairs), len(pairs))}


if __name__ == "__main__":  # python -m anfu.training.persona: rebuild the shipped weights
    from ..backends.text_dense import DEFAULT_PERSONA_WEIGHTS
    from .conversations import default_conversations

    print(json.dumps(train_persona(default_conversations(), DEFAULT_PERSONA_WEIGHTS), ensure_ascii=False, indent=2))
