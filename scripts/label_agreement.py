"""Agreement between two independent labelling passes of the same real turns.

    python scripts/label_agreement.py FIRST_customer.jsonl SECOND_customer.jsonl \
        [--helpdesk FIRST_helpdesk.jsonl SECOND_helpdesk.jsonl] [--json OUT]

Reports, on the turns both passes labelled: emotion macro-F1 (one pass as reference) and Cohen's
κ, escalation-risk and abuse κ and F1, and for helpdesk turns violation κ, precision and recall
of one pass against the other, and category agreement on shared violations.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sklearn.metrics import cohen_kappa_score, f1_score, precision_score, recall_score


def _rows(path: str) -> dict[tuple[str, int], dict]:
    out = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            out[(str(r["dialogue_id"]), int(r["turn"]))] = r
    return out


def agreement(first: str, second: str, helpdesk: tuple[str, str] | None = None) -> dict:
    a, b = _rows(first), _rows(second)
    keys = sorted(set(a) & set(b))
    ea, eb = [a[k]["emotion"] for k in keys], [b[k]["emotion"] for k in keys]
    out: dict = {"customer_turns": len(keys)}
    if keys:
        out["emotion"] = {"macro_f1": round(f1_score(ea, eb, average="macro"), 3),
                          "kappa": round(cohen_kappa_score(ea, eb), 3),
                          "accuracy": round(sum(x == y for x, y in zip(ea, eb)) / len(keys), 3)}
        ia, ib = [a[k]["intensity"] for k in keys], [b[k]["intensity"] for k in keys]
        out["intensity"] = {"within_1": round(sum(abs(x - y) <= 1 for x, y in zip(ia, ib)) / len(keys), 3),
                            "weighted_kappa": round(cohen_kappa_score(ia, ib, weights="quadratic"), 3)}
        for field in ("escalation_risk", "abusive"):
            fa, fb = [a[k][field] for k in keys], [b[k][field] for k in keys]
            out[field] = {"kappa": round(cohen_kappa_score(fa, fb), 3), "f1": round(f1_score(fa, fb), 3),
                          "positives": [sum(fa), sum(fb)]}
    if helpdesk:
        ha, hb = _rows(helpdesk[0]), _rows(helpdesk[1])
        hk = sorted(set(ha) & set(hb))
        va, vb = [ha[k]["violation"] for k in hk], [hb[k]["violation"] for k in hk]
        both = [k for k in hk if ha[k]["violation"] and hb[k]["violation"]]
        out["helpdesk"] = {"turns": len(hk), "kappa": round(cohen_kappa_score(va, vb), 3),
                           "precision": round(precision_score(vb, va), 3), "recall": round(recall_score(vb, va), 3),
                           "violations": [sum(va), sum(vb)],
                           "agree_on_flagged": round(sum(x == y for x, y in zip(va, vb) if x or y)
                                                     / max(1, sum(x or y for x, y in zip(va, vb))), 3),
                           "same_category_on_shared": round(sum(ha[k]["category"] == hb[k]["category"] for k in both)
                                                            / max(1, len(both)), 3)}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("first")
    p.add_argument("second")
    p.add_argument("--helpdesk", nargs=2)
    p.add_argument("--json")
    args = p.parse_args()
    result = agreement(args.first, args.second, tuple(args.helpdesk) if args.helpdesk else None)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
