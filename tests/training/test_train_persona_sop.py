"""Training the learned persona and SOP models: loaders with coded errors, the held-out
figures of the shipped weights (floors at what they achieved), `anfu train-persona` /
`anfu train-sop` on a tiny set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anfu.errors import ModelError
from anfu.training.conversations import default_conversations, load_conversation_file

WEIGHTS = Path(__file__).resolve().parents[2] / "anfu" / "backends" / "weights"


@pytest.fixture(scope="module")
def heldout():  # noqa: ANN201
    rows = [r for r in default_conversations() if r.heldout]
    if len(rows) < 50:
        pytest.skip("the written conversations (corpus/conversations/) are not in this checkout")
    from anfu.training.conversations import analyse

    return rows, analyse(rows)


def test_persona_v2_heldout_floors(heldout) -> None:  # noqa: ANN001
    from anfu.backends.text_dense import DEFAULT_PERSONA_WEIGHTS
    from anfu.training.persona import evaluate

    rows, docs = heldout
    report = evaluate(rows, docs, range(len(rows)), DEFAULT_PERSONA_WEIGHTS)
    v1, v2 = report["anfu.persona.v1"], report["anfu.persona.v2"]
    assert v2["n"] >= 90
    # achieved (persona.metrics.json): accuracy 0.879, abstention 0.071, counting abstentions 0.816.
    # With the corroboration rule (before the typedness gate and the real typed dialogues in
    # training) 0.941 / 0.133 / 0.816, before it 0.935 / 0.061 / 0.878; on real dialogues both
    # named a type far too often. The target: accuracy >= 0.60, abstention <= 20 %.
    assert v2["accuracy"] >= 0.85 and v2["abstention"] <= 0.20
    assert v2["accuracy_all"] >= 0.78
    assert v2["accuracy_all"] > v1["accuracy_all"] and v2["abstention"] < v1["abstention"]


def test_sop_v2_heldout_floors(heldout) -> None:  # noqa: ANN001
    from anfu.components.sop import LearnedSop, Sop
    from anfu.training.sop import sop_scores

    rows, docs = heldout
    v2 = LearnedSop()
    scores = sop_scores(rows, [v2.stages(d.turns) for d in docs])
    rules = Sop().model_
    v1_final = sum(rules.stage(d.turns) == r.stages[-1] for r, d in zip(rows, docs)) / len(rows)
    assert scores["final_accuracy"] >= SOP_FINAL_FLOOR and scores["turn_accuracy"] >= SOP_TURN_FLOOR
    assert scores["final_accuracy"] > v1_final


# achieved (sop.metrics.json): final stage 0.721, per turn 0.796 (v1: 0.144, 0.378)
SOP_FINAL_FLOOR = 0.70
SOP_TURN_FLOOR = 0.77


def test_metrics_files_hold_the_heldout_figures() -> None:
    for name in ("persona", "sop"):
        metrics = json.loads((WEIGHTS / f"{name}.metrics.json").read_text(encoding="utf-8"))
        assert set(metrics["heldout"]) == {f"anfu.{name}.v1", f"anfu.{name}.v2"}
        assert all(s["n"] > 0 for s in metrics["heldout"].values())


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_bad_rows_are_coded(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.jsonl", [{"id": "x", "persona": "暴躁型", "turns": []}])
    with pytest.raises(ModelError) as err:
        load_conversation_file(bad)
    assert err.value.code == "AF203"
    no_stage = _write(tmp_path / "s.jsonl", [{"id": "x", "persona": "沉默型",
                                            "turns": [{"speaker": "customer", "text": "嗯"}]}])
    with pytest.raises(ModelError, match="sop_stage"):
        load_conversation_file(no_stage)


def test_train_commands_without_rows_fail_with_af202(tmp_path: Path) -> None:
    from anfu.cli import _register_commands, app

    _register_commands()
    for command in ("train-persona", "train-sop"):
        result = CliRunner().invoke(app, [command, "--no-corpus", "--out", str(tmp_path / "w.npz")])
        assert result.exit_code == 2 and "AF202" in result.output
        # the conversation trainers' refusal does not ask for the emotion trainer's columns
        assert "emotion" not in result.output and "--help" in result.output


def test_training_without_real_labels_writes_no_gate_and_removes_a_stale_one(tmp_path: Path) -> None:
    """`anfu train-persona --no-real` (or no ../shared/data/stc3): the abstention threshold of the
    model alone, and no typedness gate beside the weights: a gate left there by an earlier training
    would not match them, so it is removed and `anfu.persona.v2` (gate "auto") runs without one."""
    from anfu.components.persona import LearnedPersona
    from anfu.training.conversations import default_conversations
    from anfu.training.persona import train_persona

    out = tmp_path / "persona.npz"
    stale = tmp_path / "persona_gate.npz"
    stale.write_bytes((WEIGHTS / "persona_gate.npz").read_bytes())
    metrics = train_persona(default_conversations()[:160], out, real=False)
    assert metrics["gate"] is None and metrics["min_probability"] > 0
    assert out.is_file() and not stale.exists()
    component = LearnedPersona(model=str(out))
    assert component.gate_ is None and component.corroboration_ == 3.0
