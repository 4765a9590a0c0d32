"""Learn the outcome model (quality score's experience part, 安抚成功, outcome) from real ratings.

Every STC-3 dialogue (NTCIR-14 STC-3, annotations CC BY 4.0) was rated by 19 annotators for
customer satisfaction S, task accomplished A and efficiency E (each −2..2). We analyse each
dialogue with the turn-level pipeline, compute `anfu.qa.outcome` features and fit:

- experience: bounded least squares on the mean of S, A and E (the signs of the behaviour
  features are fixed so that a required behaviour never lowers the score and a forbidden phrase
  never raises it), scaled so one standard deviation of the target is 20 points;
- calm: logistic regression of S ≥ 0 on the dialogues where the customer was upset;
- outcome: least squares on A, cut into resolved / in_progress / unresolved.

The held-out fold is fixed: dialogues whose numeric id modulo 5 is 0 are never used for
fitting or choosing anything; every reported figure is on that fold.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError
from ..qa.outcome import FEATURE_NAMES, UPSET_PEAK, OutcomeCues, OutcomeModel, outcome_features
from ..qa.quality import QualityRubric
from ..types import Conversation, Utterance
from .data import public_data_dir

# Components whose per-turn results the outcome features read (nothing conversation-level).
TURN_PIPELINE = ["anfu.normalize.v1", "anfu.risk.v1", "anfu.abuse.v1", "anfu.emotion.v1", "anfu.presend.v1"]
HELDOUT_MOD = 5
RIDGE = 1.0
POINTS_PER_SD = 20.0
# sign constraints on the experience weights: +1 never lowers the score, -1 never raises it
SIGNS: dict[str, int] = {
    "rubric": 1, "apology": 1, "agent_resolved": 1, "agent_action_time": 1, "agent_action": 1,
    "last_accept": 1, "violations": -1, "canned_only": -1, "repeat_request": -1,
    "unanswered_question": -1, "last_persist": -1, "last_reject": -1, "request_only": -1,
}


def stc3_heldout(dialogue_id: str) -> bool:
    """The fixed held-out fold of STC-3 dialogues (numeric id modulo 5 is 0)."""
    return int(dialogue_id) % HELDOUT_MOD == 0


@dataclass(frozen=True)
class RatedDialogue:
    id: str
    features: tuple[float, ...]
    s: float
    a: float
    e: float
    upset: bool
    heldout: bool


def stc3_conversations(data_dir: str | Path | None = None) -> list[tuple[Conversation, dict[str, float]]]:
    """(conversation, mean S/A/E) for every STC-3 dialogue; AF202 when the data is absent."""
    path = Path(data_dir or public_data_dir()) / "stc3" / "train_data_cn.json"
    if not path.is_file():
        raise ModelError("AF202", f"{path} (the STC-3 dialogues; set ANFU_PUBLIC_DATA)")
    out = []
    for d in json.loads(path.read_text(encoding="utf-8")):
        turns = []
        for t in d["turns"]:
            text = " ".join(t.get("utterances", [])).strip()
            if text:
                turns.append(Utterance(text=text, speaker="customer" if t["sender"] == "customer" else "agent"))
        if not turns:
            continue
        q = [a["quality"] for a in d["annotations"]]
        means = {k: float(np.mean([x[k] for x in q])) for k in ("S", "A", "E")}
        out.append((Conversation(turns=tuple(turns), id=str(d["id"])), means))
    return out


def rated_dialogues(data_dir: str | Path | None = None) -> list[RatedDialogue]:
    """Features and ratings of every STC-3 dialogue, analysed with the shipped turn models."""
    from ..pipeline import load

    analyzer = load({"pipeline": {"components": TURN_PIPELINE}})
    cues, rubric = OutcomeCues(), QualityRubric()
    pairs = stc3_conversations(data_dir)
    out = []
    for (conv, r), doc in zip(pairs, analyzer.pipe([c for c, _ in pairs], batch_size=64)):
        scored = rubric.score(doc.turns)
        x = outcome_features(doc.turns, cues, scored[0] if scored else None)
        peak = max((t.intensity or 0 for t in doc.turns if t.speaker == "customer"), default=0)
        out.append(RatedDialogue(id=conv.id or "", features=tuple(x), s=r["S"], a=r["A"], e=r["E"],
                                 upset=peak >= UPSET_PEAK, heldout=stc3_heldout(conv.id or "0")))
    return out


def _bounded_ridge(z: np.ndarray, y: np.ndarray, signs: Sequence[int]) -> tuple[np.ndarray, float]:
    from scipy.optimize import lsq_linear

    n, k = z.shape
    lo = np.array([0.0 if s > 0 else -np.inf for s in signs])
    hi = np.array([0.0 if s < 0 else np.inf for s in signs])
    # ridge as extra rows; the intercept is the target mean (z is centred)
    a = np.vstack([z, np.sqrt(RIDGE) * np.eye(k)])
    b = np.concatenate([y - y.mean(), np.zeros(k)])
    res = lsq_linear(a, b, bounds=(lo, hi))
    return res.x, float(y.mean())


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return round(float(spearmanr(x, y)[0]), 3)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(labels, scores)), 3)


def outcome_class(a: float) -> str:
    """The annotators' mean A read as an outcome: accomplished, partly, not."""
    return "resolved" if a >= 0.5 else "unresolved" if a < -0.5 else "in_progress"


def fit_outcome(rows: Sequence[RatedDialogue]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(weights, metrics): fit on the training folds, report on the held-out fold."""
    from sklearn.linear_model import LogisticRegression

    train = [r for r in rows if not r.heldout]
    test = [r for r in rows if r.heldout]
    if len(train) < 50 or len(test) < 20:
        raise ModelError("AF202", "too few rated dialogues to fit the outcome model")
    x = np.array([r.features for r in train])
    mean, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale

    target = np.array([(r.s + r.a + r.e) / 3 for r in train])
    signs = [SIGNS.get(n, 0) for n in FEATURE_NAMES]
    coef, intercept = _bounded_ridge(z, target, signs)
    sd = float(target.std()) or 1.0
    # 50 points at the average dialogue, POINTS_PER_SD points per standard deviation of the target
    points = POINTS_PER_SD / sd
    exp_intercept = 0.0  # centred: experience = 50 + points × (coef · z)

    upset = [i for i, r in enumerate(train) if r.upset]
    calm_y = np.array([train[i].s >= 0 for i in upset])
    clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    clf.fit(z[upset], calm_y)
    p = clf.predict_proba(z[upset])[:, 1]
    # threshold that best balances recall of calmed and not-calmed on the training folds
    grid = np.linspace(0.2, 0.8, 61)
    bal = [((p >= t) & calm_y).sum() / max(1, calm_y.sum()) + ((p < t) & ~calm_y).sum() / max(1, (~calm_y).sum())
           for t in grid]
    threshold = float(grid[int(np.argmax(bal))])

    a_y = np.array([r.a for r in train])
    out_coef, out_intercept = _bounded_ridge(z, a_y, [0] * len(FEATURE_NAMES))

    weights = {
        "features": list(FEATURE_NAMES),
        "mean": [round(float(v), 6) for v in mean], "scale": [round(float(v), 6) for v in scale],
        "experience": {"coef": [round(float(v), 6) for v in coef], "intercept": exp_intercept,
                       "points_per_unit": round(points, 6), "target": "mean of S, A, E"},
        "calm": {"coef": [round(float(v), 6) for v in clf.coef_[0]],
                 "intercept": round(float(clf.intercept_[0]), 6), "threshold": round(threshold, 3)},
        "outcome": {"coef": [round(float(v), 6) for v in out_coef], "intercept": round(out_intercept, 6),
                    "resolved_at": 0.5, "unresolved_below": -0.5},
        "info": {"trained_on": "STC-3 train_data_cn.json, dialogues with id % 5 != 0",
                 "n_train": len(train), "trained_at": time.strftime("%Y-%m-%d")},
    }
    metrics = evaluate_outcome(OutcomeModel(weights), test)
    weights["info"]["heldout"] = metrics
    return weights, metrics


def evaluate_outcome(model: OutcomeModel, rows: Sequence[RatedDialogue],
                     rubric_scores: Sequence[float] | None = None) -> dict[str, Any]:
    """Agreement of the model's outputs with the annotators on `rows` (the held-out fold)."""
    judged = [model.judge(r.features) for r in rows]
    s = np.array([r.s for r in rows])
    a = np.array([r.a for r in rows])
    e = np.array([r.e for r in rows])
    q = np.array([j.experience for j in judged])
    last = np.array([r.features[FEATURE_NAMES.index("last_valence")] for r in rows])
    upset = np.array([r.upset for r in rows])
    calm = np.array([j.calm_score for j in judged])
    flag = np.array([j.calmed for j in judged], dtype=float)
    out_pred = [j.outcome for j in judged]
    out_true = [outcome_class(v) for v in a]
    metrics: dict[str, Any] = {
        "n": len(rows), "n_upset": int(upset.sum()),
        "quality_spearman": {"S": _spearman(q, s), "A": _spearman(q, a), "E": _spearman(q, e)},
        "last_valence_spearman": {"S": _spearman(last, s), "A": _spearman(last, a), "E": _spearman(last, e)},
        "calm_auc_upset": _auc(s[upset] >= 0, calm[upset]),
        "calmed_flag_auc_upset": _auc(s[upset] >= 0, flag[upset]),
        "last_valence_auc_upset": _auc(s[upset] >= 0, last[upset]),
        "outcome_accuracy": round(float(np.mean([p == t for p, t in zip(out_pred, out_true)])), 3),
        "outcome_share": {k: round(out_true.count(k) / len(out_true), 3) for k in ("resolved", "in_progress", "unresolved")},
    }
    if rubric_scores is not None:
        rs = np.array(rubric_scores)
        metrics["rubric_only_spearman"] = {"S": _spearman(rs, s), "A": _spearman(rs, a), "E": _spearman(rs, e)}
    return metrics


def train_outcome(out: str | Path, data_dir: str | Path | None = None) -> dict[str, Any]:
    """Fit on STC-3, write the weights JSON to `out`, return the held-out metrics."""
    rows = rated_dialogues(data_dir)
    weights, metrics = fit_outcome(rows)
    Path(out).write_text(json.dumps(weights, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return metrics
