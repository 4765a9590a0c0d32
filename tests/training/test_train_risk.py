"""Training the escalation-risk head: features, the design chosen out of fold, fit/save/load,
and `anfu train-risk` options documented."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from anfu.backends.risk_ngram import DENSE, RiskNgramModel
from anfu.errors import ModelError
from anfu.training.data import Example
from anfu.training.risk import (
    NEVER,
    RiskExample,
    choose,
    decisions,
    featurise,
    train_risk,
)

THREATS = ["再不处理我就打12345投诉！", "我要去工信部申诉你们", "明天就找记者曝光你们", "我要投诉你们客服",
           "不给说法我就起诉你们", "我要找你们领导！", "再拖我就打12315", "我已经录音了，法院见"]
CALM = ["上次投诉的事已经解决了，谢谢", "请问宽带怎么办理", "我不是要投诉，就是问问", "好的，谢谢你们",
        "电费怎么这么高？", "投诉了三次都没用，算了", "师傅来修好了，辛苦了", "我想查一下话费"]


def _examples(copies: int = 6) -> list[Example]:
    out = []
    for k in range(copies):
        for i, t in enumerate(THREATS):
            out.append(Example(id=f"stc3-{(100 + 10 * k + i) * 5 + 1}-{i}", text=t, emotion="angry", intensity=3,
                               source="stc3", escalation_risk=True))
        for i, t in enumerate(CALM):
            out.append(Example(id=f"stc3-{(300 + 10 * k + i) * 5 + 2}-{i}", text=t, emotion="neutral", intensity=0,
                               source="stc3", escalation_risk=False))
    return out


@pytest.fixture(scope="module")
def rows() -> list[RiskExample]:
    return featurise(_examples())


def test_features_carry_the_rules_and_the_emotion_model(rows: list[RiskExample]) -> None:
    assert all(len(r.dense) == len(DENSE) for r in rows)
    threat = next(r for r in rows if r.norm.startswith("再不处理"))
    calm = next(r for r in rows if r.norm.startswith("上次投诉"))
    assert threat.rule and threat.dense[DENSE.index("threat.regulator")] == 1.0
    assert not calm.rule and calm.dense[DENSE.index("verdict.past_resolved")] == 1.0
    emotions = [i for i, name in enumerate(DENSE) if name.startswith("emotion.")]
    assert sum(threat.dense[i] for i in emotions) == pytest.approx(1.0, abs=1e-3)
    # an STC-3 dialogue is one cross-validation unit
    assert threat.unit == threat.id.split("-")[1] and threat.source == "stc3"


def test_choose_prefers_precision_at_the_recall_floor(rows: list[RiskExample]) -> None:
    # the rules wrongly flag some calm turns (as on real text, a story told about a complaint)
    rows = [replace(r, rule=True) if not r.risk and i % 3 == 0 else r for i, r in enumerate(rows)]
    gold = np.array([r.risk for r in rows])
    # a perfect out-of-fold score beats the rules alone
    best = choose(rows, gold.astype(float) * 0.9 + 0.05)
    assert best["real"]["precision"] == 1.0 and best["real"]["recall"] == 1.0
    assert best["design"] != "rules"
    # scores that say nothing leave the rules alone in charge
    flat = choose(rows, np.full(len(rows), 0.5))
    assert flat["design"] == "rules" and flat["real"]["precision"] < 1.0


def test_decisions_rescore_hits_and_flag_the_rest() -> None:
    rule = np.array([True, True, False, False])
    proba = np.array([0.9, 0.2, 0.95, 0.3])
    assert decisions(rule, proba, 0.5, NEVER).tolist() == [True, False, False, False]
    assert decisions(rule, proba, 0.5, 0.9).tolist() == [True, False, True, False]


def test_train_save_load_roundtrip(tmp_path: Path, rows: list[RiskExample]) -> None:
    out = tmp_path / "risk.npz"
    metrics = train_risk(out, examples=rows, heldout=False)
    assert out.is_file()
    written = json.loads(out.with_suffix(".metrics.json").read_text(encoding="utf-8"))
    assert written["design"] == metrics["design"] and len(written["cv"]["folds"]) == 5
    model = RiskNgramModel.load(out)
    assert model.hit_threshold == pytest.approx(metrics["hit_threshold"], abs=1e-6)
    threat = next(r for r in rows if r.norm.startswith("我要去工信部"))
    calm = next(r for r in rows if r.norm.startswith("请问宽带"))
    p_threat, p_calm = model.predict([threat.norm, calm.norm], [threat.dense, calm.dense])
    assert p_threat > 0.5 > p_calm


def test_damaged_or_foreign_weights_are_coded_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as missing:
        RiskNgramModel.load(tmp_path / "nope.npz")
    assert missing.value.code == "AF201"
    bad = tmp_path / "bad.npz"
    np.savez(bad, format_version=np.int32(1), dense=np.array(["other"]))
    with pytest.raises(ModelError) as damaged:
        RiskNgramModel.load(bad)
    assert damaged.value.code == "AF204"


def test_too_few_rows_is_af202(tmp_path: Path, rows: list[RiskExample]) -> None:
    with pytest.raises(ModelError) as exc:
        train_risk(tmp_path / "x.npz", examples=[r for r in rows if not r.risk], heldout=False)
    assert exc.value.code == "AF202"
