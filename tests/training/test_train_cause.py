"""Training the cause classifier: loaders with coded errors, fit/save/load, `anfu train-cause`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anfu.backends.cause_ngram import NgramCauseModel
from anfu.errors import ModelError
from anfu.glossary import CAUSES
from anfu.text.normalize import normalize
from anfu.training.cause import CauseExample, default_cause_examples, load_cause_file, train_cause

ROWS = [
    ("电费怎么这么高", "billing"), ("话费多扣了二十", "billing"), ("这个月账单不对", "billing"),
    ("家里停电了", "outage"), ("小区断网一天了", "outage"), ("又停电了什么时候来电", "outage"),
    ("快递还没送到", "delivery"), ("包裹显示签收了没收到", "delivery"), ("物流三天没更新", "delivery"),
    ("我要退款", "refund"), ("东西不要了给我退货", "refund"), ("退款什么时候到", "refund"),
    ("你好在吗", "other"), ("好的谢谢", "other"), ("嗯知道了", "other"),
]


def _rows(n: int = 4) -> list[CauseExample]:
    return [CauseExample(f"r{k}-{i}", text, cause, None, "user")
            for k in range(n) for i, (text, cause) in enumerate(ROWS)]


def test_train_save_load_roundtrip(tmp_path: Path) -> None:
    out = tmp_path / "cause.npz"
    metrics = train_cause(_rows(), out)
    assert out.is_file() and out.with_suffix(".metrics.json").is_file()
    assert metrics["vocabulary"] > 10
    model = NgramCauseModel.load(out)
    proba = model.predict_proba([normalize("电费太高了")])
    assert CAUSES[int(proba.argmax())] == "billing"


def test_needs_two_causes(tmp_path: Path) -> None:
    rows = [CauseExample(f"x{i}", "电费", "billing", None, "user") for i in range(20)]
    with pytest.raises(ModelError) as err:
        train_cause(rows, tmp_path / "c.npz")
    assert err.value.code == "AF202"


def test_file_loader_checks_rows(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "停电了", "cause": "outage"}\n{"text": "只标了情绪", "emotion": "neutral"}\n',
                    encoding="utf-8")
    assert [e.cause for e in load_cause_file(good)] == ["outage"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "停电了", "cause": "weather"}\n', encoding="utf-8")
    with pytest.raises(ModelError) as err:
        load_cause_file(bad)
    assert err.value.code == "AF203"


def test_shipped_corpus_has_cause_labels() -> None:
    rows = default_cause_examples(public=False)
    assert len(rows) > 1000 and {r.cause for r in rows} == set(CAUSES)


def test_cli_train_cause(tmp_path: Path) -> None:
    from anfu.cli import _register_commands, app

    _register_commands()
    data = tmp_path / "mine.jsonl"
    data.write_text("".join(json.dumps({"id": f"m{k}-{i}", "text": t, "cause": c}, ensure_ascii=False) + "\n"
                            for k in range(4) for i, (t, c) in enumerate(ROWS)), encoding="utf-8")
    out = tmp_path / "cause.npz"
    result = CliRunner().invoke(app, ["train-cause", "--no-corpus", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "wrote" in result.output
    missing = CliRunner().invoke(app, ["train-cause", "--no-corpus"])
    assert missing.exit_code != 0 and "AF202" in missing.output
