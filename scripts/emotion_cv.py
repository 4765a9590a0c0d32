"""Cross-validation of emotion-model candidates on the training folds only (issue 9).

Four folds of the non-held-out rows: STC-3 turns by dialogue id % 5 (1..4), every other source by
sha1(id) % 5 (1..4), the same split `anfu.training.data.is_heldout` extends. Each fold's model is
fitted on the other three folds' rows that are not dev rows (`anfu.training.train.is_dev`); the
dev rows fit its temperature; it then scores the left-out fold. Reported out of fold, pooled and
fold by fold:

- `stc3_model` / `stc3_pipe`: macro-F1 (7 labels) on the real STC-3 turns, model alone and through
  the pipeline (lexicon boosts, threat/insult override of `anfu.emotion.v1`, in context);
- `written_pipe`: our written service utterances through the pipeline;
- `smp5_pipe`: SMP2020 virus posts with SMP's own labels, mapped to its 5 classes, through the pipeline.

    .venv/bin/python scripts/emotion_cv.py context            # once: the pipeline context of each row
    .venv/bin/python scripts/emotion_cv.py run baseline mlp64  # candidates (see CANDIDATES)
    .venv/bin/python scripts/emotion_cv.py mix baseline mlp64 0.3,0.5,0.7  # p ∝ p_a^(1-m) p_b^m
    .venv/bin/python scripts/emotion_cv.py blend baseline,mlp64 smp_head 0.1,0.2  # (1-c) p + c p_b
    .venv/bin/python scripts/emotion_cv.py general_share 0,0.15,0.3,0.5  # our posts' share, general head
    .venv/bin/python scripts/emotion_cv.py inertia baseline 0,0.5,1,1.5  # previous customer turn as a prior

The held-out rows are never read. Results go to $ANFU_CV_DIR (default /tmp/anfu_emotion_cv).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anfu.glossary import EMOTIONS  # noqa: E402
from anfu.training.data import Example, default_examples, public_data_dir, stc3_conversation  # noqa: E402

CV_DIR = Path(os.environ.get("ANFU_CV_DIR", "/tmp/anfu_emotion_cv"))
SMP5 = {"dissatisfied": "angry", "doubtful": "neutral"}
NEGATIVE = [i for i, e in enumerate(EMOTIONS) if e not in ("neutral", "satisfied")]


def fold_of(e: Example) -> int:
    if e.id.startswith("stc3-"):
        return int(e.id.split("-")[1]) % 5
    return int(hashlib.sha1(e.id.encode("utf-8")).hexdigest(), 16) % 5


def training_rows() -> list[Example]:
    return [e for e in default_examples() if not e.heldout]


def build_context() -> dict[str, Any]:
    """Per training row: the normalised text, follow-up flag, lexicon boosts, threat, insult, as
    the default pipeline sees it (STC-3 turns in their dialogues, the rest as single utterances)."""
    import anfu
    from anfu.components.emotion_lexicon import Lexicon
    from anfu.types import Utterance

    rows = training_rows()
    analyzer = anfu.load({"pipeline": {"components": ["anfu.normalize.v1", "anfu.risk.v1", "anfu.abuse.v1"]}})
    lexicon = Lexicon.from_pack(None)
    ctx: dict[str, Any] = {}

    def keep(key: str, turn: Any) -> None:
        scan = lexicon.scan(turn.norm)
        ctx[key] = {"norm": turn.norm, "follow_up": bool(turn.follow_up), "boosts": dict(scan.boosts),
                    "threat": bool(turn.escalation_risk), "insult": bool(turn.abusive)}

    wanted = {e.id for e in rows if e.source == "stc3"}
    data = json.loads((public_data_dir() / "stc3" / "train_data_cn.json").read_text(encoding="utf-8"))
    convs = [stc3_conversation(d) for d in data if int(d["id"]) % 5]
    for doc in analyzer.pipe(convs, batch_size=32):
        for i, turn in enumerate(doc.turns):
            key = f"stc3-{doc.conversation.id}-{i}"
            if key in wanted:
                keep(key, turn)
    others = [e for e in rows if e.source != "stc3"]
    for e, doc in zip(others, analyzer.pipe([Utterance(text=e.text) for e in others], batch_size=64)):
        keep(e.id, doc.turns[0])
    return ctx


def pipeline_labels(proba: np.ndarray, rows: list[Example], ctx: dict[str, Any]) -> list[str]:
    """What `anfu.emotion.v1` decides from model probabilities: lexicon boosts, then a threat or
    insult never calm."""
    logits = np.log(np.clip(proba.astype(np.float64), 1e-9, 1.0))
    out = []
    for row, e in enumerate(rows):
        c = ctx[e.id]
        for label, boost in c["boosts"].items():
            logits[row, EMOTIONS.index(label)] += boost
        best = int(logits[row].argmax())
        if (c["threat"] or c["insult"]) and EMOTIONS[best] in ("neutral", "satisfied"):
            best = max(NEGATIVE, key=lambda i: logits[row, i])
        out.append(EMOTIONS[best])
    return out


def macro_f1(gold: list[str], pred: list[str]) -> float:
    from anfu.training.train import classification_scores

    return classification_scores(gold, pred).get("macro_f1", 0.0)


def scores(rows: list[Example], proba: np.ndarray, ctx: dict[str, Any]) -> dict[str, float]:
    model = [EMOTIONS[i] for i in proba.argmax(axis=1)]
    pipe = pipeline_labels(proba, rows, ctx)

    def pick(source: str) -> list[int]:
        return [i for i, e in enumerate(rows) if e.source == source]

    stc, svc, smp = pick("stc3"), pick("service"), pick("smp2020_mapped")
    return {
        "stc3_model": macro_f1([rows[i].emotion for i in stc], [model[i] for i in stc]),
        "stc3_pipe": macro_f1([rows[i].emotion for i in stc], [pipe[i] for i in stc]),
        "written_pipe": macro_f1([rows[i].emotion for i in svc], [pipe[i] for i in svc]),
        "smp5_pipe": macro_f1([SMP5.get(rows[i].emotion, rows[i].emotion) for i in smp],
                              [SMP5.get(pipe[i], pipe[i]) for i in smp]),
    }


# ---------------------------------------------------------------- candidates
# A candidate: fit(train rows) -> predict(rows) -> calibrated probabilities [n, 7].
Fit = Callable[[list[Example]], Callable[[list[Example]], np.ndarray]]


def _temperature(logits_fn: Callable[[list[Example]], np.ndarray], dev: list[Example]) -> float:
    from anfu.training.train import _fit_temperature

    return _fit_temperature(logits_fn(dev), np.array([EMOTIONS.index(e.emotion) for e in dev]))


def fit_baseline(train: list[Example]) -> Callable[[list[Example]], np.ndarray]:
    from anfu.training.train import _fit_model, example_input, is_dev

    core, dev = [e for e in train if not is_dev(e.id)], [e for e in train if is_dev(e.id)]
    model = _fit_model(core, 1.0, {})
    logits = lambda rows: model.predict_logits([example_input(e) for e in rows])[0]  # noqa: E731
    t = _temperature(logits, dev)
    from anfu.backends.ngram import softmax

    return lambda rows: softmax(logits(rows) / t)


def _features(train: list[Example], max_features: int = 60000) -> tuple[Any, Callable[[list[Example]], Any]]:
    """The recipe's TF-IDF char 1-3-grams fitted on `train`: (matrix, transform)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from anfu.training.train import _analyzer, example_input

    vec = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=2, max_features=max_features,
                          dtype=np.float32)
    x = vec.fit_transform([example_input(e) for e in train])
    return x, lambda rows: vec.transform([example_input(e) for e in rows])


def fit_mlp(train: list[Example], hidden: int = 64, epochs: int = 4, max_features: int = 60000,
            seed: int = 0, scale: dict[str, float] | None = None) -> Callable[[list[Example]], np.ndarray]:
    """The hidden layer alone (`anfu.training.train._fit_hidden`: one ReLU layer over the TF-IDF
    char n-grams, Adam, class-balanced source weights), with its own temperature."""
    from anfu.backends.ngram import softmax
    from anfu.training.train import _fit_hidden, balanced, is_dev

    core, dev = [e for e in train if not is_dev(e.id)], [e for e in train if is_dev(e.id)]
    x, transform = _features(core, max_features)
    y = np.array([EMOTIONS.index(e.emotion) for e in core])
    weights = np.array([e.weight * (scale or {}).get(e.source, 1.0) for e in core])
    w1, b1, w2, b2 = _fit_hidden(x, y, balanced(y.tolist(), weights),
                                 units=hidden, epochs=epochs, seed=seed)

    def logits(rows: list[Example]) -> np.ndarray:
        return np.maximum(transform(rows) @ w1 + b1, 0) @ w2 + b2

    t = _temperature(logits, dev)
    return lambda rows: softmax(logits(rows) / t)


def fit_smp_head(train: list[Example]) -> Callable[[list[Example]], np.ndarray]:
    """A general-Weibo head: logistic regression on SMP2020's own labels (mapped) only."""
    from anfu.backends.ngram import softmax
    from anfu.training.train import C_EMOTION, _fit_head, balanced, is_dev

    smp = [e for e in train if e.source in GENERAL_SOURCES]
    core, dev = [e for e in smp if not is_dev(e.id)], [e for e in smp if is_dev(e.id)]
    x, transform = _features(core)
    y = np.array([EMOTIONS.index(e.emotion) for e in core])
    coef, intercept = _fit_head(x, y, balanced(y.tolist(), balanced([e.source for e in core], np.ones(len(core)))),
                                len(EMOTIONS), C_EMOTION)
    logits = lambda rows: transform(rows) @ coef + intercept  # noqa: E731
    t = _temperature(logits, dev)
    return lambda rows: softmax(logits(rows) / t)


def fit_words(train: list[Example]) -> Callable[[list[Example]], np.ndarray]:
    """A word head: logistic regression over TF-IDF jieba word 1-2-grams of the same model input
    (a third member for the ensemble: `mix baseline,mlp64 words 0.15`)."""
    from functools import lru_cache

    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer

    from anfu.backends.ngram import softmax
    from anfu.training.train import C_EMOTION, _fit_head, balanced, example_input, is_dev

    jieba.setLogLevel(60)

    @lru_cache(maxsize=None)
    def words(norm: str) -> list[str]:
        tokens = [t for t in jieba.lcut(norm) if t.strip()]
        return tokens + [a + "_" + b for a, b in zip(tokens, tokens[1:])]

    core, dev = [e for e in train if not is_dev(e.id)], [e for e in train if is_dev(e.id)]
    vec = TfidfVectorizer(analyzer=words, sublinear_tf=True, min_df=2, max_features=60000, dtype=np.float32)
    x = vec.fit_transform([example_input(e) for e in core])
    y = np.array([EMOTIONS.index(e.emotion) for e in core])
    coef, intercept = _fit_head(x, y, balanced(y.tolist(), np.array([e.weight for e in core])), len(EMOTIONS),
                                C_EMOTION)
    logits = lambda rows: vec.transform([example_input(e) for e in rows]) @ coef + intercept  # noqa: E731
    t = _temperature(logits, dev)
    return lambda rows: softmax(logits(rows) / t)


# general talk (SMP's own labels, mapped; our posts) against customers writing to a service
from anfu.training.train import GATE_SOURCES as GENERAL_SOURCES, SERVICE_SOURCES  # noqa: E402


def with_general_posts(train: list[Example]) -> list[Example]:
    """`train` plus our general-talk posts (corpus/general, not held out) of the same folds: the
    scored rows stay the same, the general head and the gate see everyday talk too."""
    from anfu.training.data import load_general

    folds = {fold_of(e) for e in train}
    return train + [e for e in load_general() if not e.heldout and fold_of(e) in folds]


def fit_gate(train: list[Example]) -> Callable[[list[Example]], np.ndarray]:
    """A domain gate: logistic regression over the same char n-grams, general Weibo talk (1)
    against customers writing to a service (0), classes balanced; predicts P(general) in column 0
    (the other six columns are zero, so the file has the candidates' shape)."""
    from anfu.training.train import _fit_head, balanced

    general = [e for e in train if e.source in GENERAL_SOURCES]
    rows = general + [e for e in train if e.source in SERVICE_SOURCES]
    x, transform = _features(rows)
    y = np.array([int(e.source in GENERAL_SOURCES) for e in rows])
    # each general source the same share of its side (as anfu.training.train._fit_general)
    share = np.r_[balanced([e.source for e in general], np.ones(len(general))), np.ones(len(rows) - len(general))]
    coef, intercept = _fit_head(x, y, balanced(y.tolist(), np.ones(len(y))) * share, 2, 1.0)

    def predict(rows: list[Example]) -> np.ndarray:
        logits = transform(rows) @ coef + intercept
        out = np.zeros((len(rows), len(EMOTIONS)))
        out[:, 0] = 1 / (1 + np.exp(-(logits[:, 1] - logits[:, 0])))
        return out
    return predict


def with_soft_labels(train: list[Example], share: float) -> list[Example]:
    """The labelling passes' second label (`anfu.training.data.with_pass_labels`) at `share`. The
    `fit_*` functions here call `_fit_model` directly, so `baseline` and `mlp64` stay without it."""
    from anfu.training.data import with_pass_labels

    return with_pass_labels(train, share)


CANDIDATES: dict[str, Fit] = {
    "gate": fit_gate,
    "gate_g": lambda train: fit_gate(with_general_posts(train)),
    "smp_head_g": lambda train: fit_smp_head(with_general_posts(train)),
    "baseline": fit_baseline,
    "mlp64": fit_mlp,
    "mlp32": lambda train: fit_mlp(train, hidden=32),
    "mlp64_30k": lambda train: fit_mlp(train, max_features=30000),
    "mlp64_s1": lambda train: fit_mlp(train, seed=1),
    "mlp64_e3": lambda train: fit_mlp(train, epochs=3),
    "mlp64_stc8": lambda train: fit_mlp(train, scale={"stc3": 2.0}),
    "mlp128_30k": lambda train: fit_mlp(train, hidden=128, max_features=30000),
    "smp_head": fit_smp_head,
    "words": fit_words,
    "baseline_soft25": lambda train: fit_baseline(with_soft_labels(train, 0.25)),
    "mlp64_soft25": lambda train: fit_mlp(with_soft_labels(train, 0.25)),
    "baseline_soft40": lambda train: fit_baseline(with_soft_labels(train, 0.4)),
    "mlp64_soft40": lambda train: fit_mlp(with_soft_labels(train, 0.4)),
}


def run(name: str, fit: Fit, rows: list[Example], ctx: dict[str, Any]) -> dict[str, Any]:
    folds = np.array([fold_of(e) for e in rows])
    proba = np.zeros((len(rows), len(EMOTIONS)))
    per_fold = {}
    for k in (1, 2, 3, 4):
        started = time.process_time()
        test = [e for e, f in zip(rows, folds) if f == k]
        predict = fit([e for e, f in zip(rows, folds) if f != k])
        p = predict(test)
        proba[folds == k] = p
        per_fold[k] = {**scores(test, p, ctx), "cpu_s": round(time.process_time() - started, 1)}
        print(name, k, per_fold[k], flush=True)
    np.save(CV_DIR / f"oof_{name}.npy", proba)
    result = {"name": name, "pooled": scores(rows, proba, ctx), "folds": per_fold}
    (CV_DIR / f"cv_{name}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(name, "pooled", result["pooled"], flush=True)
    return result


def general_share(shares: list[float]) -> None:
    """Our everyday posts' share of the general head's weight (`GENERAL_HEAD_SHARE`), out of fold
    on training rows only: SMP2020 virus posts with SMP's labels in 4 folds by sha1(id), our posts
    (corpus/general) leaving one writer's file out at a time. Features, service heads and gate are
    the shipped model's; each fold refits the general head alone. Macro-F1 on SMP's 5 classes, the
    head alone and blended as the model blends it."""
    import scipy.sparse as sp

    from anfu.backends.ngram import load_cached, softmax
    from anfu.training.data import load_general, load_smp2020
    from anfu.training.train import C_EMOTION, _fit_head, balanced, classification_scores, example_input, source_shares

    model, k = load_cached(), len(EMOTIONS)

    def features(rows: list[Example]) -> tuple[Any, np.ndarray, np.ndarray]:
        off, idx, vals = model.transform([example_input(e) for e in rows])
        out = model._linear((off, idx, vals), model._heads, model._biases)
        h = model._hidden_end
        service = out[:, :k] / model.temperature_
        if model.hidden_ is not None:
            service = model.hidden_.mix_logits(service, out[:, k + 5:h])
        return (sp.csr_matrix((vals, idx, off), shape=(len(rows), len(model._keys))),
                softmax(service.astype(np.float64)), model.general_.gate(out[:, h + k])[:, None])

    def f1(rows: list[Example], p: np.ndarray) -> float:
        return classification_scores([SMP5.get(e.emotion, e.emotion) for e in rows],
                                     [SMP5.get(EMOTIONS[i], EMOTIONS[i]) for i in p.argmax(1)])["macro_f1"]

    smp = [e for e in load_smp2020() if not e.heldout]
    ours = [e for e in load_general() if not e.heldout]
    rows = smp + ours
    x, service, gate = features(rows)
    y = np.array([EMOTIONS.index(e.emotion) for e in rows])
    is_ours = np.array([e.source == "general" for e in rows])
    group = np.array([f"smp{int(hashlib.sha1(e.id.encode()).hexdigest(), 16) % 4}" if e.source != "general"
                      else e.id.split("-")[0] for e in rows])
    t = model.general_.temperature
    for share in shares:
        head, blended = np.zeros((len(rows), k)), np.zeros((len(rows), k))
        for g in sorted(set(group)):
            test = group == g
            train = ~test & (~is_ours if share == 0 else True)
            w = source_shares([rows[i].source for i in np.flatnonzero(train)],
                              balanced(y[train].tolist(), np.ones(int(train.sum()))), {"general": share})
            coef, intercept = _fit_head(x[train], y[train], w, k, C_EMOTION)
            p = softmax((x[test] @ coef + intercept) / t)
            head[test], blended[test] = p, (1 - gate[test]) * service[test] + gate[test] * p
        smp_rows, our_rows = np.flatnonzero(~is_ours), np.flatnonzero(is_ours)
        writers = " ".join(f"{w_} {f1([rows[i] for i in np.flatnonzero(group == w_)], blended[group == w_]):.3f}"
                           for w_ in sorted(set(group[is_ours])))
        print(f"share {share:.2f}  SMP virus head {f1(smp, head[smp_rows]):.3f} blended "
              f"{f1(smp, blended[smp_rows]):.3f} | our posts, writer out: head {f1(ours, head[our_rows]):.3f} "
              f"blended {f1(ours, blended[our_rows]):.3f} ({writers})", flush=True)


def inertia(rows: list[Example], ctx: dict[str, Any], proba: np.ndarray, strengths: list[float],
            recursive: bool = True) -> None:
    """Emotional inertia on the STC-3 follow-up turns, out of fold: a turn's probabilities times
    (p_prev · A / marginal) ** strength, A the customer-to-customer label transitions of the other
    three folds' dialogues, p_prev the previous customer turn's (already adjusted when `recursive`)."""
    k = len(EMOTIONS)
    folds = np.array([fold_of(e) for e in rows])
    y = np.array([EMOTIONS.index(e.emotion) for e in rows])
    where = {e.id: i for i, e in enumerate(rows)}
    prev = np.full(len(rows), -1)
    for i, e in enumerate(rows):
        if e.source == "stc3":
            _, dialogue, turn = e.id.split("-")
            prev[i] = next((where[f"stc3-{dialogue}-{t}"] for t in range(int(turn) - 1, -1, -1)
                            if f"stc3-{dialogue}-{t}" in where), -1)
    order = sorted(np.flatnonzero(prev >= 0), key=lambda i: (rows[i].id.split("-")[1], int(rows[i].id.split("-")[2])))
    for strength in strengths:
        q = proba.copy()
        for fold in (1, 2, 3, 4):
            train = (folds != fold) & (prev >= 0)
            a = np.ones((k, k))
            np.add.at(a, (y[prev[train]], y[train]), 1.0)
            a /= a.sum(axis=1, keepdims=True)
            marginal = (np.bincount(y[train], minlength=k) + 1.0) / (train.sum() + k)
            for i in (i for i in order if folds[i] == fold):
                p = (q if recursive else proba)[prev[i]] @ a / marginal
                q[i] = proba[i] * p ** strength
                q[i] /= q[i].sum()
        per = [scores([rows[i] for i in np.flatnonzero(folds == f)], q[folds == f], ctx)["stc3_pipe"] for f in (1, 2, 3, 4)]
        print(f"inertia {strength:.2f} pooled {scores(rows, q, ctx)} folds " + " ".join(f"{v:.4f}" for v in per),
              flush=True)


def main(argv: list[str]) -> None:
    CV_DIR.mkdir(parents=True, exist_ok=True)
    if argv[0] == "general_share":
        general_share([float(v) for v in argv[1].split(",")])
        return
    if argv[0] == "context":
        ctx = build_context()
        (CV_DIR / "context.pkl").write_bytes(pickle.dumps(ctx))
        print(len(ctx), "rows")
        return
    ctx = pickle.loads((CV_DIR / "context.pkl").read_bytes())
    rows = [e for e in training_rows() if e.id in ctx]
    if argv[0] == "inertia":  # inertia CANDIDATE STRENGTHS [flat]
        inertia(rows, ctx, np.load(CV_DIR / f"oof_{argv[1]}.npy"), [float(v) for v in argv[2].split(",")],
                recursive=argv[3:] != ["flat"])
        return
    if argv[0] == "run":
        for name in argv[1:]:
            run(name, CANDIDATES[name], rows, ctx)
        return
    folds = np.array([fold_of(e) for e in rows])

    def oof(names: str) -> np.ndarray:
        """Out-of-fold probabilities of one candidate, or the equal-weight product of several."""
        logp = np.mean([np.log(np.clip(np.load(CV_DIR / f"oof_{n}.npy"), 1e-9, 1.0)) for n in names.split(",")],
                       axis=0)
        p = np.exp(logp - logp.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)

    if argv[0] == "gated":  # gated MAIN GENERAL GATE_NAME powers: p = (1 - g^k) p_main + g^k p_general
        main_p, general, gate = oof(argv[1]), oof(argv[2]), np.load(CV_DIR / f"oof_{argv[3]}.npy")[:, :1]
        for k in (float(x) for x in argv[4].split(",")):
            g = gate ** k
            p = (1 - g) * main_p + g * general
            print("gated", k, "pooled", scores(rows, p, ctx), "mean gate stc3 %.3f svc %.3f smp %.3f" % tuple(
                float(np.mean(g[[i for i, e in enumerate(rows) if e.source == src]])) for src in
                ("stc3", "service", "smp2020_mapped")))
            for f in (1, 2, 3, 4):
                print("   fold", f, scores([e for e, ff in zip(rows, folds) if ff == f], p[folds == f], ctx))
        return
    a, b = oof(argv[1]), oof(argv[2])
    for m in (float(x) for x in argv[3].split(",")):
        if argv[0] == "mix":
            p = oof(argv[1]) ** (1 - m) * b ** m
            p /= p.sum(axis=1, keepdims=True)
        else:
            p = (1 - m) * a + m * b
        print(argv[0], m, "pooled", scores(rows, p, ctx))
        for k in (1, 2, 3, 4):
            print("   fold", k, scores([e for e, f in zip(rows, folds) if f == k], p[folds == k], ctx))


if __name__ == "__main__":
    main(sys.argv[1:])
