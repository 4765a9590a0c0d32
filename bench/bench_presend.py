"""Benchmark of the pre-send check (anfu.qa.check_reply) on the held-out replies.

`run()` returns precision and recall of `violation` on the held-out split of
corpus/replies/replies.jsonl (targets ≥ 0.95), category hit rate, and per-reply latency
p50/p99 in milliseconds with all packs loaded (target p99 ≤ 5 ms), for the hybrid check
(rules + the reply model, the default) and, under "rules_only", the rules alone. The shipped
model is fitted on every labelled reply, so its scores here are in-sample; the honest ones
(5-fold cross-validation and the held-out split with the model fitted without it) are in
anfu/backends/weights/reply_ngram.metrics.json (`make train-replies`). The fresh sets
(replies_fresh.jsonl, replies_fresh2.jsonl: other wordings, styles and near-misses written
to test generalisation) are reported under "fresh" with their own scores and latency.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

REPLIES = Path(__file__).resolve().parents[1] / "corpus" / "replies"
CORPUS = REPLIES / "replies.jsonl"
FRESH = ("replies_fresh.jsonl", "replies_fresh2.jsonl")


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_replies(heldout: bool | None = True) -> list[dict[str, Any]]:
    """The labelled replies; `heldout` True/False picks a split, None gives all."""
    from anfu.training.data import is_heldout

    return [r for r in _read(CORPUS) if heldout is None or is_heldout(r["id"]) == heldout]


def load_fresh(name: str = FRESH[0]) -> list[dict[str, Any]]:
    """A fresh labelled set of agent replies, all of it (no split: both sets were written before
    the rule families they exercise, then used to generalise them, so they are development
    sets, not a clean held-out)."""
    return _read(REPLIES / name)


def evaluate(rows: list[dict[str, Any]], model: str = "default") -> dict[str, Any]:
    """Precision, recall and category hit rate of the shared checker on `rows` (model "none": rules alone)."""
    from anfu.qa import default_checker

    checker = default_checker(model=model)
    tp = fp = fn = tn = cat_hits = 0
    for row in rows:
        result = checker.check(row["text"])
        if row["violation"]:
            if result.violation:
                tp += 1
                cat_hits += row["category"] in {f.category for f in result.findings}
            else:
                fn += 1
        elif result.violation:
            fp += 1
        else:
            tn += 1
    return {
        "n": len(rows), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
        "category_accuracy": round(cat_hits / tp, 4) if tp else 0.0,
    }


def latency(rows: list[dict[str, Any]], repeat: int = 3, model: str = "default") -> dict[str, float]:
    """Per-reply check latency (ms) over `repeat` passes, after the packs are loaded.

    Wall-clock times include waits for a busy shared CPU; CPU times (process_time) measure
    the check itself, and the p99 target is judged on them.
    """
    from anfu.qa import default_checker

    checker = default_checker(model=model)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        for row in rows:
            w0, c0 = time.perf_counter(), time.process_time()
            checker.check(row["text"])
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)

    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return round(values[min(len(values) - 1, int(len(values) * q))], 3)

    return {"p50_ms": pct(cpu, 0.5), "p99_ms": pct(cpu, 0.99),
            "wall_p50_ms": pct(wall, 0.5), "wall_p99_ms": pct(wall, 0.99)}


def run() -> dict[str, Any]:
    rows = load_replies(heldout=True)
    report = {"name": "presend", "split": "heldout", **evaluate(rows), **latency(load_replies(None))}
    report["fresh"] = {name: {**evaluate(rows), **latency(rows, repeat=1)}
                       for name in FRESH if (REPLIES / name).is_file() for rows in [load_fresh(name)]}
    report["rules_only"] = {"heldout": {**evaluate(rows, "none"), **latency(load_replies(None), model="none")},
                            **{name: evaluate(load_fresh(name), "none")
                               for name in FRESH if (REPLIES / name).is_file()}}
    report["targets"] = {"precision": 0.95, "recall": 0.95, "p99_ms": 5.0}
    report["meets_targets"] = (report["precision"] >= 0.95 and report["recall"] >= 0.95
                               and report["p99_ms"] <= 5.0)
    return report


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
