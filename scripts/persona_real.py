"""The persona on real helpdesk dialogues (issue 9): our labels of STC-3 dialogues against
`anfu.persona.v2`, and its corroboration rule measured on the development dialogues.

Labels: `corpus/real/stc3_persona.jsonl` (dialogue id, SHA-1 of the customer's joined text, the
type a team lead would name or `unknown`; the texts stay in `../shared/data/stc3`), a blind second
pass of a random 100 in `corpus/real/stc3_persona_second_pass.jsonl` (agreement in
`corpus/real/persona_agreement.json`). Dialogues with id % 5 == 0 are held out, as everywhere:
`policies` reads only the others; `bench/bench_real.py` reports the held-out ones.

    .venv/bin/python scripts/persona_real.py signals    # the model's reading of each labelled dialogue
    .venv/bin/python scripts/persona_real.py policies   # corroboration rules on the development dialogues
    .venv/bin/python scripts/persona_real.py agreement  # the two passes
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anfu.training.persona import STC3_PERSONA_LABELS, real_persona_scores, stc3_persona_labels  # noqa: E402

SECOND = ROOT / "corpus" / "real" / "stc3_persona_second_pass.jsonl"
OUT = Path(os.environ.get("ANFU_PERSONA_DIR", "/tmp/anfu_persona_real"))
UNKNOWN = "unknown"
WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
CONFIDENT = (0.95, 0.96, 0.97, 0.98, 0.99, 1.01)


def signals() -> None:
    """Per labelled dialogue: the model's best type and probability, the pack's cue weight per
    type, the rules' own answer and the customer's character count."""
    import numpy as np

    import anfu
    from anfu.components.persona import LearnedPersona, persona_inputs
    from anfu.glossary import PERSONAS
    from anfu.text.overlap import content
    from anfu.training.data import stc3_conversation
    from anfu.types import TurnAssessment

    analyzer = anfu.load()
    v2 = LearnedPersona()
    rows = []
    for label, d in stc3_persona_labels():
        doc = analyzer(stc3_conversation(d))
        turns = [TurnAssessment(speaker=t.speaker, text=t.text, norm=t.norm, emotion=t.emotion, intensity=t.intensity,
                                abusive=t.abusive, escalation_risk=t.escalation_risk) for t in doc.turns]
        _text, dense, clues = persona_inputs(v2.model_, turns)
        proba = v2.linear_.predict_proba([_text], np.array([dense]))[0]
        weight: Counter[str] = Counter()
        for c in clues:
            weight[c.persona] += c.weight
        best = int(proba.argmax())
        rows.append({"dialogue_id": d["id"], "heldout": int(d["id"]) % 5 == 0, "label": label,
                     "shipped": doc.persona.type, "model": PERSONAS[best], "p": round(float(proba[best]), 4),
                     "clues": dict(weight), "rules": v2.model_.decide(clues).type,
                     "chars": sum(len(content(t.norm or t.text)) for t in turns if t.speaker == "customer")})
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "signals.json").write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")
    print(len(rows), "dialogues")


def answer(r: dict[str, Any], weight: float, confident: float, threshold: float) -> str:
    """`anfu.persona.v2`'s decision with the corroboration rule (weight, confident probability)."""
    if r["p"] < threshold:
        return r["rules"]
    if r["clues"].get(r["model"], 0.0) >= weight or r["p"] >= confident:
        return r["model"]
    return r["rules"]


def main(argv: list[str]) -> None:
    if argv[0] == "signals":
        signals()
        return
    if argv[0] == "agreement":
        from sklearn.metrics import cohen_kappa_score

        first = {d["id"]: label for label, d in stc3_persona_labels(STC3_PERSONA_LABELS)}
        pairs = [(first[d["id"]], label) for label, d in stc3_persona_labels(SECOND) if d["id"] in first]
        a, b = zip(*pairs)
        print({"n": len(pairs), "agree": round(sum(x == y for x, y in pairs) / len(pairs), 3),
               "kappa": round(float(cohen_kappa_score(a, b)), 3),
               "typed_kappa": round(float(cohen_kappa_score([x != UNKNOWN for x in a], [x != UNKNOWN for x in b])), 3)})
        return
    from anfu.components.persona import LearnedPersona

    threshold = LearnedPersona().threshold_
    dev = [r for r in json.loads((OUT / "signals.json").read_text(encoding="utf-8")) if not r["heldout"]]
    gold = [r["label"] for r in dev]
    print("rules alone (v1):", real_persona_scores(gold, [r["rules"] for r in dev]))
    for w in WEIGHTS:
        for c in CONFIDENT:
            print(f"corroboration {w} confident {c}:", real_persona_scores(gold, [answer(r, w, c, threshold) for r in dev]))


if __name__ == "__main__":
    main(sys.argv[1:])
