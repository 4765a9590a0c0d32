"""Training the reply violation classifier: loaders with coded errors, fit/save/load, threshold,
and `anfu train-replies` on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from anfu.backends.reply_ngram import NgramReplyModel
from anfu.errors import ModelError
from anfu.text.normalize import normalize
from anfu.training.replies import (ReplyExample, load_reply_file, pack_categories, pick_threshold,
                                   sentence_rows, train_replies)

BAD = [("这是公司规定，我也没办法。", "policy_wall"), ("您自己操作错了，怪不了我们。", "blaming"),
       ("这个我不清楚，您问别人吧。", "ignorance"), ("不归我们管，您找物业去。", "buck_passing"),
       ("不行，办不了。", "bare_refusal"), ("这么简单的事您都不会？", "belittling")]
GOOD = ["非常抱歉给您添麻烦了，我马上帮您核实，半小时内给您回电。", "您好，请问有什么可以帮您？",
        "好的，已经为您登记了，师傅明天上午九点前上门。", "我理解您的心情，这就为您申请补偿，今天下班前答复您。",
        "感谢您的耐心，退款已经为您办好了。", "请您稍等，我这边为您查询一下账单明细。"]


def _examples(copies: int = 5) -> list[ReplyExample]:
    out = []
    for k in range(copies):
        out += [ReplyExample(f"b{k}-{i}", f"您好。{t}" if k % 2 else t, True, c, "user") for i, (t, c) in enumerate(BAD)]
        out += [ReplyExample(f"g{k}-{i}", t, False, None, "user") for i, t in enumerate(GOOD)]
    return out


def test_pick_threshold_keeps_precision() -> None:
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    gold = np.array([1, 1, 1, 0, 1, 0, 0])
    assert pick_threshold(scores, gold, 0.95) == pytest.approx(0.8)
    assert pick_threshold(scores, gold, 0.75) == pytest.approx(0.6)


def test_sentence_rows_put_the_positive_on_the_offending_sentence() -> None:
    from anfu.qa import ReplyChecker

    rules = ReplyChecker(model=None)
    rows = sentence_rows([ReplyExample("x1", "您好，感谢来电。这是公司规定，我也没办法。", True, "policy_wall", "user"),
                          ReplyExample("x2", GOOD[0], False, None, "user")], rules)
    positives = [t for t, y in zip(rows.texts, rows.labels) if y == 1]
    assert positives == [normalize("这是公司规定，我也没办法")]
    assert normalize(GOOD[0]).rstrip("。") in rows.texts


def test_train_save_load_roundtrip(tmp_path: Path) -> None:
    out = tmp_path / "reply.npz"
    metrics = train_replies(_examples(), out, evaluate=False)
    assert out.is_file() and json.loads(out.with_suffix(".metrics.json").read_text(encoding="utf-8"))["threshold"]
    model = NgramReplyModel.load(out)
    assert metrics["vocabulary"] == len(model.vocab_) and set(model.categories) == set(pack_categories())
    bad, good = model.predict_proba([normalize("这是规定，我也没办法。"), normalize("我马上帮您核实，半小时内回电。")])
    assert bad > good


def test_needs_both_classes(tmp_path: Path) -> None:
    rows = [ReplyExample(f"x{i}", "不行。", True, "bare_refusal", "user") for i in range(10)]
    with pytest.raises(ModelError) as err:
        train_replies(rows, tmp_path / "r.npz", evaluate=False)
    assert err.value.code == "AF202"


@pytest.mark.parametrize("line,needle", [
    ('{"text": "", "violation": true, "category": "blaming"}', "text"),
    ('{"text": "不行。", "violation": "maybe", "category": "bare_refusal"}', "violation"),
    ('{"text": "不行。", "violation": true, "category": "rude"}', "category"),
    ('{"text": "好的。", "violation": false, "category": "blaming"}', "compliant"),
    ('["not", "an", "object"]', "object"),
    ('{"text": "不行。", ', "JSON"),
])
def test_bad_rows_are_coded(tmp_path: Path, line: str, needle: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ModelError) as err:
        load_reply_file(path, pack_categories())
    assert err.value.code == "AF203" and needle in str(err.value)


def test_csv_and_empty_files(tmp_path: Path) -> None:
    good = tmp_path / "ok.csv"
    good.write_text("text,violation,category\n不行，办不了。,true,bare_refusal\n好的，马上为您处理。,false,\n", encoding="utf-8")
    rows = load_reply_file(good, pack_categories())
    assert [r.violation for r in rows] == [True, False] and rows[0].category == "bare_refusal"
    header = tmp_path / "header.csv"
    header.write_text("text,label\n不行,1\n", encoding="utf-8")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    for path in (header, empty):
        with pytest.raises(ModelError) as err:
            load_reply_file(path, pack_categories())
        assert err.value.code == "AF202"


def test_cli_trains_on_tiny_data(tmp_path: Path) -> None:
    from anfu.cli import app

    data = tmp_path / "ours.jsonl"
    data.write_text("\n".join(json.dumps({"id": e.id, "text": e.text, "violation": e.violation,
                                          "category": e.category}, ensure_ascii=False) for e in _examples()) + "\n",
                    encoding="utf-8")
    out = tmp_path / "ours.npz"
    result = CliRunner().invoke(app, ["train-replies", "--no-corpus", "--no-evaluate", "--data", str(data),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "threshold=" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "不行。", "violation": true, "category": "rude"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["train-replies", "--no-corpus", "--data", str(bad), "--out", str(out)])
    assert result.exit_code != 0 and "AF203" in result.output
