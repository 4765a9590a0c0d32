"""Training: loaders with coded errors, `fit`/`train`, the `anfu train` CLI, and a floor for the shipped model."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from anfu.backends.ngram import DEFAULT_WEIGHTS, NgramEmotionModel
from anfu.errors import ModelError
from anfu.glossary import EMOTIONS
from anfu.text.normalize import normalize
from anfu.training.data import (Example, is_heldout, load_labelled_file, load_service, load_stc3, map_smp_label,
                                 stc3_turn_text)
from anfu.training.train import classification_scores, evaluate, train

ROWS = [
    ("请问峰谷电价怎么申请", "neutral", 0), ("我想把宽带移到新家", "neutral", 0), ("快递单号帮我查一下", "neutral", 0),
    ("谢谢师傅，电已经来了", "satisfied", 1), ("处理得很快，辛苦你们了", "satisfied", 1), ("退款收到了，谢谢", "satisfied", 0),
    ("家里有老人，能不能快点来修", "anxious", 3), ("明天就要交材料，急死了", "anxious", 3),
    ("电费怎么这么高，是不是算错了", "doubtful", 2), ("我没办过这个套餐，凭什么扣钱", "doubtful", 2),
    ("本来很信任你们的，太失望了", "disappointed", 2), ("算了，不指望你们了", "disappointed", 2),
    ("怎么还没处理，太慢了", "dissatisfied", 2), ("说好的下午上门，人呢", "dissatisfied", 2),
    ("气死我了！！！到底管不管", "angry", 4), ("什么破公司，受够了！", "angry", 4),
]


def write_jsonl(path, rows, copies: int = 3) -> None:  # noqa: ANN001
    with path.open("w", encoding="utf-8") as fh:
        for k in range(copies):
            for i, (text, emotion, intensity) in enumerate(rows):
                fh.write(json.dumps({"id": f"c{k}-{i}", "text": text, "emotion": emotion, "intensity": intensity},
                                    ensure_ascii=False) + "\n")


def test_heldout_split_is_fixed() -> None:
    assert is_heldout("pw-0001") == (int(hashlib.sha1(b"pw-0001").hexdigest(), 16) % 5 == 0)
    share = sum(is_heldout(f"x-{i}") for i in range(2000)) / 2000
    assert 0.15 < share < 0.25


def test_train_write_load_predict(tmp_path) -> None:  # noqa: ANN001
    data = tmp_path / "centre.jsonl"
    write_jsonl(data, ROWS)
    examples = load_labelled_file(data)
    assert len(examples) == 3 * len(ROWS) and all(e.source == "user" for e in examples)
    metrics = train(examples, tmp_path / "w.npz")
    assert (tmp_path / "w.metrics.json").is_file()
    assert json.loads((tmp_path / "w.metrics.json").read_text(encoding="utf-8"))["vocabulary"] == metrics["vocabulary"]
    model = NgramEmotionModel.load(tmp_path / "w.npz")
    assert model.predict([normalize("气死我了！！！到底管不管")]) == ["angry"]
    assert model.predict([normalize("谢谢师傅，电已经来了")]) == ["satisfied"]


def test_csv_training_data(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "rows.csv"
    path.write_text("text,emotion,intensity\n电费怎么这么高,doubtful,2\n谢谢你们,satisfied,\n", encoding="utf-8")
    rows = load_labelled_file(path)
    assert [(r.emotion, r.intensity) for r in rows] == [("doubtful", 2), ("satisfied", None)]


@pytest.mark.parametrize("content, code, fragment", [
    ('{"text": "电费太高了", "emotion": "furious"}\n', "AF203", ":1"),
    ('{"text": "电费太高了", "emotion": "angry"}\n{"emotion": "angry"}\n', "AF203", ":2"),
    ('{"text": "电费太高了", "emotion": "angry", "intensity": 7}\n', "AF203", "intensity"),
    ('{"text": "电费太高了", "emotion": "angry"\n', "AF203", "JSON"),
    ("\n\n", "AF202", ""),
])
def test_bad_rows_give_coded_errors(tmp_path, content: str, code: str, fragment: str) -> None:  # noqa: ANN001
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError) as err:
        load_labelled_file(path)
    assert err.value.code == code and fragment in err.value.message


def test_csv_without_columns_af202(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "bad.csv"
    path.write_text("content,label\n电费太高了,angry\n", encoding="utf-8")
    with pytest.raises(ModelError) as err:
        load_labelled_file(path)
    assert err.value.code == "AF202"


def test_one_label_only_af202() -> None:
    rows = [Example(id=f"n{i}", text="请问怎么交电费", emotion="neutral", intensity=0, source="user") for i in range(30)]
    with pytest.raises(ModelError) as err:
        train(rows, "unused.npz")
    assert err.value.code == "AF202"


def test_smp_label_mapping() -> None:
    assert map_smp_label("happy", "开心") == "satisfied"
    assert map_smp_label("fear", "好怕") == "anxious"
    assert map_smp_label("sad", "难过") == "disappointed"
    assert map_smp_label("angry", "气死我了！！") == "angry"
    assert map_smp_label("angry", "这服务有点让人不爽") == "dissatisfied"
    assert map_smp_label("surprise", "居然这样") is None


def test_stc3_labels_joined_and_verified(tmp_path) -> None:  # noqa: ANN001
    turns = [{"sender": "customer", "utterances": ["宽带又断了", "三天了还没修好"]},
             {"sender": "helpdesk", "utterances": ["抱歉，马上处理"]},
             {"sender": "customer", "utterances": ["谢谢"]}]
    (tmp_path / "stc3").mkdir()
    (tmp_path / "stc3" / "train_data_cn.json").write_text(json.dumps([{"id": "42", "turns": turns}]), encoding="utf-8")
    good = hashlib.sha1(stc3_turn_text(turns[0]).encode("utf-8")).hexdigest()[:10]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(r) for r in (
        {"dialogue_id": "42", "turn": 0, "sha1": good, "emotion": "dissatisfied", "intensity": 2},
        {"dialogue_id": "42", "turn": 2, "sha1": "0000000000", "emotion": "satisfied", "intensity": 1},
    )) + "\n", encoding="utf-8")
    rows = load_stc3(labels, tmp_path)
    assert [(r.id, r.text, r.emotion) for r in rows] == [("stc3-42-0", "宽带又断了 三天了还没修好", "dissatisfied")]
    assert load_stc3(labels, tmp_path / "absent") == []


def test_cli_train(tmp_path) -> None:  # noqa: ANN001
    from anfu.cli import _register_commands, app

    _register_commands()
    data = tmp_path / "centre.jsonl"
    write_jsonl(data, ROWS)
    out = tmp_path / "model.npz"
    result = CliRunner().invoke(app, ["train", "--data", str(data), "--out", str(out), "--no-public", "--no-corpus"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and out.is_file()
    assert NgramEmotionModel.load(out).predict([normalize("怎么还没处理，太慢了")]) == ["dissatisfied"]

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "电费太高", "emotion": "生气"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--data", str(bad), "--out", str(out), "--no-public", "--no-corpus"])
    assert result.exit_code == 2
    assert "AF203" in result.output and "Traceback" not in result.output


def test_shipped_model_floor_on_heldout_service_split() -> None:
    """A broken retrain (wrong labels, lost data, bad features) falls below this floor."""
    held = [e for e in load_service() if e.heldout]
    assert len(held) >= 100
    scores = evaluate(NgramEmotionModel.load(DEFAULT_WEIGHTS), held)
    assert scores["macro_f1"] >= 0.65 and scores["accuracy"] >= 0.65


def test_shipped_component_floor_on_heldout_service_split() -> None:
    from anfu.components.emotion import Emotion
    from anfu.components.normalize import Normalizer
    from anfu.types import Assessment, Utterance

    held = [e for e in load_service() if e.heldout]
    docs = [Assessment.start(Utterance(text=e.text)) for e in held]
    Normalizer().pipe(docs)
    Emotion().pipe(docs)
    scores = classification_scores([e.emotion for e in held], [d.turns[0].emotion for d in docs])
    assert scores["macro_f1"] >= 0.7


def test_fit_adds_the_hidden_layer_with_its_own_temperature(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """Past HIDDEN_MIN_ROWS rows the model gains the hidden layer (mixed with the linear head);
    below it the model stays linear (a centre's small file)."""
    import anfu.training.train as training

    data = tmp_path / "centre.jsonl"
    write_jsonl(data, ROWS, copies=12)
    examples = load_labelled_file(data)
    assert NgramEmotionModel.load(train(examples, tmp_path / "small.npz")["weights"]).hidden_ is None
    monkeypatch.setattr(training, "HIDDEN_MIN_ROWS", 50)
    metrics = train(examples, tmp_path / "net.npz")
    model = NgramEmotionModel.load(tmp_path / "net.npz")
    assert model.hidden_ is not None and model.hidden_.size == training.HIDDEN_UNITS
    assert model.hidden_.mix == pytest.approx(training.HIDDEN_MIX)
    assert model.meta["hidden_temperature"] == pytest.approx(model.hidden_.temperature, abs=1e-3)
    assert metrics["heldout"]["ours"]["n"] > 0
    texts = [normalize("气死我了！！！到底管不管"), normalize("谢谢师傅，电已经来了")]
    assert model.predict(texts) == ["angry", "satisfied"]


def test_hidden_layer_fit_is_reproducible() -> None:
    """`make train` reproduces the shipped weights: the hidden layer's fit is seeded end to end."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from anfu.backends.ngram import char_ngrams
    from anfu.glossary import EMOTIONS
    from anfu.training.train import _fit_hidden

    x = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True).fit_transform([normalize(t) for t, _, _ in ROWS] * 3)
    y = np.array([EMOTIONS.index(e) for _, e, _ in ROWS] * 3)
    first = _fit_hidden(x, y, np.ones(len(y)), units=8, epochs=3)
    second = _fit_hidden(x, y, np.ones(len(y)), units=8, epochs=3)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert first[0].shape == (x.shape[1], 8) and first[2].shape == (8, len(EMOTIONS))


GENERAL_ROWS = [
    ("今天和闺蜜去看电影，开心死了", "satisfied"), ("周末终于可以睡懒觉啦", "satisfied"),
    ("想家了，好久没见到妈妈", "disappointed"), ("考试又没过，好难过", "disappointed"),
    ("晚上一个人走夜路好害怕", "anxious"), ("疫情又严重了，好担心家人", "anxious"),
    ("今天天气不错", "neutral"), ("刚吃完午饭", "neutral"),
]


def test_a_general_head_and_its_gate_are_fitted_from_enough_general_and_service_rows() -> None:
    """`fit` adds the general head (issue 9) when the general-talk source and the service sources
    each have GENERAL_MIN_ROWS rows; a centre's small file stays without one."""
    from anfu.training.train import GENERAL_MIN_ROWS, fit

    copies = 2 * GENERAL_MIN_ROWS // len(GENERAL_ROWS)  # one row in five is held out
    general = [Example(id=f"g{i}-{k}", text=text, emotion=emotion, intensity=None, source="smp2020_mapped",
                       weight=1.0) for k in range(copies) for i, (text, emotion) in enumerate(GENERAL_ROWS)]
    copies = 2 * GENERAL_MIN_ROWS // len(ROWS)
    service = [Example(id=f"s{i}-{k}", text=text, emotion=emotion, intensity=intensity, source="service",
                       weight=1.0) for k in range(copies) for i, (text, emotion, intensity) in enumerate(ROWS)]
    model = fit(general + service)
    assert model.general_ is not None and model.meta["general_temperature"] > 0
    share = model.general_share([normalize("周末和闺蜜去看电影"), normalize("说好的下午上门，人呢，太慢了")])
    assert share[0] > 0.5 > share[1]
    assert model.predict([normalize("说好的下午上门，人呢")]) == ["dissatisfied"]
    assert fit(service).general_ is None


def test_source_shares_give_each_named_source_its_share_of_the_total_weight() -> None:
    """`source_shares` (the general head's GENERAL_HEAD_SHARE): a named source carries its share,
    the others the rest in their own proportions; a missing source gives its share back."""
    from anfu.training.train import source_shares

    weights = np.array([1.0, 3.0, 2.0, 2.0, 2.0])
    out = source_shares(["smp", "smp", "ours", "ours", "ours"], weights, {"ours": 0.5})
    assert out.sum() == pytest.approx(weights.sum())
    assert out[2:].sum() == pytest.approx(5.0) and out[0] * 3 == pytest.approx(out[1])
    assert np.array_equal(source_shares(["smp", "smp"], weights[:2], {"ours": 0.5}), weights[:2])


def test_our_everyday_posts_teach_the_general_head_but_never_the_service_heads() -> None:
    """General-talk-only rows (`general`, corpus/general) reach the general head with their share
    and the gate, while the vocabulary and the service heads stay those of a fit without them."""
    from anfu.training.train import GENERAL_MIN_ROWS, fit

    copies = 2 * GENERAL_MIN_ROWS // len(GENERAL_ROWS)
    smp = [Example(id=f"g{i}-{k}", text=text, emotion=emotion, intensity=None, source="smp2020_mapped",
                   weight=1.0) for k in range(copies) for i, (text, emotion) in enumerate(GENERAL_ROWS)]
    # everyday posts whose words SMP's rows never use for the feeling they carry
    ours = [Example(id=f"o{i}-{k}", text=text, emotion=emotion, intensity=None, source="general", weight=1.0)
            for k in range(copies) for i, (text, emotion) in enumerate([
                ("蚌埠住了，猫主子又把花瓶推下去了哈哈", "satisfied"), ("emo了，一个人过生日", "disappointed"),
                ("明天面试，紧张到睡不着", "anxious"), ("真的会谢，楼上又在装修", "dissatisfied")])]
    copies = 2 * GENERAL_MIN_ROWS // len(ROWS)
    service = [Example(id=f"s{i}-{k}", text=text, emotion=emotion, intensity=intensity, source="service",
                       weight=1.0) for k in range(copies) for i, (text, emotion, intensity) in enumerate(ROWS)]
    without, with_ours = fit(smp + service), fit(smp + service + ours)
    assert without.vocab_ == with_ours.vocab_
    assert np.array_equal(without._heads[:, :7], with_ours._heads[:, :7])
    post = [normalize("明天面试，紧张到睡不着")]
    assert with_ours.general_share(post)[0] > 0.5
    assert with_ours.predict(post) == ["anxious"]
    anxious = EMOTIONS.index("anxious")
    assert with_ours.general_logits(post)[0].argmax() == anxious
    assert with_ours.general_logits(post)[0, anxious] > without.general_logits(post)[0, anxious]


def test_a_turn_the_labelling_passes_disagreed_on_carries_both_labels() -> None:
    """`with_pass_labels`: the adjudicated emotion keeps 75 % of the turn's weight, the other
    pass's emotion gets 25 % as a second row with the same id; agreed turns and other sources
    are left alone, and no turn gains weight."""
    from anfu.training.data import PASS_SHARE, pass_emotions, with_pass_labels

    rows = [Example(id="stc3-1-0", text="又停电了，第三次了", emotion="dissatisfied", intensity=2, source="stc3", weight=4.0),
            Example(id="stc3-1-2", text="好的，谢谢", emotion="satisfied", intensity=1, source="stc3", weight=4.0),
            Example(id="svc-1", text="我家停电了", emotion="neutral", intensity=0, source="service", weight=3.0)]
    passes = {"stc3-1-0": {"dissatisfied", "angry"}, "stc3-1-2": {"satisfied"}, "svc-1": {"angry"}}
    out = with_pass_labels(rows, 0.25, passes)
    assert [(e.id, e.emotion, e.weight) for e in out] == [
        ("stc3-1-0", "dissatisfied", 3.0), ("stc3-1-0", "angry", 1.0), ("stc3-1-2", "satisfied", 4.0),
        ("svc-1", "neutral", 3.0)]
    assert with_pass_labels(rows, 0.0, passes) == rows
    # the shipped passes: labels only, every STC-3 customer turn twice
    shipped = pass_emotions()
    assert PASS_SHARE == 0.25 and len(shipped) == 8500
    assert sum(len(v) > 1 for v in shipped.values()) == 1677
