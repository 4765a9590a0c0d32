"""Blind probe sets (corpus/probe/): written by someone who never saw the rules, code or
training data. Nothing is tuned on them; this benchmark only reports.

- utterances_probe.jsonl: emotion macro-F1, escalation-risk and abuse precision/recall, cause
  accuracy, intensity MAE, through the full default pipeline;
- replies_probe.jsonl: pre-send check precision/recall (violation yes/no).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROBE_DIR = Path(__file__).resolve().parents[1] / "corpus" / "probe"


def _read(name: str) -> list[dict[str, Any]]:
    path = PROBE_DIR / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _pr(gold: list[bool], pred: list[bool]) -> dict[str, float]:
    tp = sum(g and p for g, p in zip(gold, pred))
    fp = sum(p and not g for g, p in zip(gold, pred))
    fn = sum(g and not p for g, p in zip(gold, pred))
    return {"precision": round(tp / max(tp + fp, 1), 4), "recall": round(tp / max(tp + fn, 1), 4),
            "positives": sum(gold)}


def run() -> dict[str, Any]:
    from sklearn.metrics import f1_score

    import anfu
    from anfu.qa import check_reply
    from anfu.types import Conversation, Utterance

    analyzer = anfu.load()
    rows = _read("utterances_probe.jsonl")
    docs = [Conversation(turns=(Utterance(r["text"]),), industry=r.get("industry")) for r in rows]
    turns = [a.turns[0] for a in analyzer.pipe(docs)]
    gold = [r["emotion"] for r in rows]
    pred = [t.emotion for t in turns]
    replies = _read("replies_probe.jsonl")
    verdicts = [check_reply(r["text"]).violation for r in replies]
    return {
        "utterances": {
            "n": len(rows),
            "emotion_macro_f1": round(float(f1_score(gold, pred, average="macro")), 4),
            "emotion_accuracy": round(sum(g == p for g, p in zip(gold, pred)) / len(rows), 4),
            "intensity_mae": round(sum(abs(t.intensity - r["intensity"]) for t, r in zip(turns, rows)) / len(rows), 3),
            "escalation": _pr([r["escalation_risk"] for r in rows], [bool(t.escalation_risk) for t in turns]),
            "abuse": _pr([r["abusive"] for r in rows], [bool(t.abusive) for t in turns]),
            "cause_accuracy": round(sum((t.cause or "other") == r["cause"] for t, r in zip(turns, rows)) / len(rows), 4),
        },
        "replies": {"n": len(replies), **_pr([r["violation"] for r in replies], verdicts)},
        "targets": {
            "utterances.emotion_macro_f1": [">=", 0.85],
            "utterances.escalation.recall": [">=", 0.95],
            "utterances.escalation.precision": [">=", 0.90],
            "replies.precision": [">=", 0.95],
            "replies.recall": [">=", 0.95],
        },
        "headline": ["utterances.abuse.precision", "utterances.abuse.recall", "utterances.cause_accuracy",
                     "utterances.intensity_mae"],
    }
