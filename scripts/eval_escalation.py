"""Precision and recall of escalation risk (`anfu.risk.v1`) on real and written customer turns.

    .venv/bin/python scripts/eval_escalation.py [--rules DIR] [--data DIR] [--errors train]

Prints P/R on the STC-3 customer turns we labelled (corpus/real/stc3_customer.jsonl joined with
the STC-3 texts under ../shared/data or $ANFU_PUBLIC_DATA), split into the training fold and the
held-out fold (dialogue id % 5 == 0), and on our written corpus (corpus/service/*.jsonl), split
by the fixed id hash. Develop on the training folds only: `--errors train` lists the training
fold's mistakes; the held-out rows are for the final report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anfu.components.risk import EscalationRisk  # noqa: E402
from anfu.text.normalize import normalize  # noqa: E402
from anfu.training.data import Example, load_service, load_stc3  # noqa: E402


def score(risk: EscalationRisk, examples: Iterable[Example]) -> dict[str, float]:
    """TP/FP/FN, precision and recall of the escalation flag over labelled examples."""
    tp = fp = fn = n = pos = 0
    for e in examples:
        if e.escalation_risk is None:
            continue
        n += 1
        pos += e.escalation_risk
        predicted, _ = risk.assess(normalize(e.text), e.text)
        tp += predicted and e.escalation_risk
        fp += predicted and not e.escalation_risk
        fn += e.escalation_risk and not predicted
    return {"n": n, "positives": pos, "tp": tp, "fp": fp, "fn": fn,
            "precision": tp / max(tp + fp, 1), "recall": tp / max(tp + fn, 1)}


def folds(data_dir: str | None) -> dict[str, list[Example]]:
    stc3 = load_stc3(data_dir=data_dir)
    service = load_service()
    return {
        "stc3 train": [e for e in stc3 if not e.heldout],
        "stc3 held-out": [e for e in stc3 if e.heldout],
        "written train": [e for e in service if not e.heldout],
        "written held-out": [e for e in service if e.heldout],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", help="a rules folder to evaluate instead of the packaged packs")
    ap.add_argument("--data", help="folder holding stc3/train_data_cn.json (default ../shared/data)")
    ap.add_argument("--errors", choices=["train"], help="list the STC-3 training fold's mistakes")
    args = ap.parse_args(argv)
    risk = EscalationRisk(rules_dir=args.rules)
    sets = folds(args.data)
    if not sets["stc3 train"]:
        print("STC-3 texts not found (../shared/data/stc3 or $ANFU_PUBLIC_DATA): real-text rows skipped")
    print(f"{'set':<18}{'n':>6}{'pos':>6}{'TP':>6}{'FP':>6}{'FN':>6}{'P':>8}{'R':>8}")
    for name, examples in sets.items():
        if not examples:
            continue
        s = score(risk, examples)
        print(f"{name:<18}{s['n']:>6}{s['positives']:>6}{s['tp']:>6}{s['fp']:>6}{s['fn']:>6}"
              f"{s['precision']:>8.3f}{s['recall']:>8.3f}")
    if args.errors:
        for e in sets["stc3 train"]:
            if e.escalation_risk is None:
                continue
            predicted, triggers = risk.assess(normalize(e.text), e.text)
            if predicted != e.escalation_risk:
                why = " ".join(f"{t.kind}:{t.label}:{t.text}" for t in triggers)
                print(f"{'FP' if predicted else 'FN'} {e.id} | {e.text[:200]} || {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
