"""Our persona labels of real STC-3 dialogues (`corpus/real/stc3_persona.jsonl`) and the
persona on the development ones (never the held-out fold, which `bench/bench_real.py` reports)."""

from __future__ import annotations

import json
from pathlib import Path

from anfu.training.persona import STC3_PERSONA_LABELS, real_persona_scores

ROOT = Path(__file__).resolve().parents[2]
SECOND = ROOT / "corpus" / "real" / "stc3_persona_second_pass.jsonl"


def test_the_label_files_hold_labels_only() -> None:
    for path in (STC3_PERSONA_LABELS, SECOND):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert rows and all(set(r) == {"dialogue_id", "sha1", "persona"} for r in rows)
    assert len({r["dialogue_id"] for r in map(json.loads, STC3_PERSONA_LABELS.read_text(encoding="utf-8").splitlines())}) == 1600


def test_real_persona_scores_count_unknown_as_a_class() -> None:
    scores = real_persona_scores(["unknown", "unknown", "刚强型", "随和型"], ["虚荣型", "unknown", "刚强型", "unknown"])
    assert scores == {"n": 4, "labelled_typed": 2, "named": 2, "precision_named": 0.5, "recall_typed": 0.5,
                      "named_when_unknown": 0.5, "accuracy": 0.5}


def test_the_typedness_gate_was_chosen_out_of_fold_on_the_real_development_dialogues() -> None:
    """`anfu train-persona` scores the gate out of fold on our labels of the 1,440 development
    dialogues (the held-out ones are `bench/bench_real.py`'s). Before the gate (the corroboration
    rule alone, the same folds) the model named a type for 9 % of the dialogues the labellers left
    unknown, right on 27 % of its names, accuracy 0.750 — below answering unknown every time
    (0.790). The shipped gate must beat that baseline on every count."""
    from anfu.backends.text_dense import DEFAULT_PERSONA_WEIGHTS

    metrics = json.loads(DEFAULT_PERSONA_WEIGHTS.with_suffix(".metrics.json").read_text(encoding="utf-8"))
    gate = metrics["gate"]
    [chosen] = [g for g in gate["grid"] if g["min_typed"] == gate["min_typed"]]
    real, n = chosen["real"], chosen["real"]["n"]
    assert n == 1440 and real["labelled_typed"] >= 300
    always_unknown = (n - real["labelled_typed"]) / n
    assert real["accuracy"] > always_unknown > 0.75
    assert real["named_when_unknown"] <= 0.05 and real["precision_named"] >= 0.5, real
    assert chosen["written_abstention"] <= 0.20
    assert DEFAULT_PERSONA_WEIGHTS.with_name("persona_gate.npz").is_file()
