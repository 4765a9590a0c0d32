"""The shipped reply violation classifier: compact, scores sentences, coded errors on bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anfu.backends.reply_ngram import DEFAULT_REPLY_WEIGHTS, NgramReplyModel, load_reply_cached
from anfu.errors import ModelError
from anfu.qa import default_checker
from anfu.text.normalize import normalize


@pytest.fixture(scope="module")
def model() -> NgramReplyModel:
    return load_reply_cached(DEFAULT_REPLY_WEIGHTS)


def test_shipped_weights_are_compact_and_follow_the_pack(model: NgramReplyModel) -> None:
    assert DEFAULT_REPLY_WEIGHTS.stat().st_size < 2_000_000
    assert DEFAULT_REPLY_WEIGHTS.with_suffix(".metrics.json").is_file()
    assert set(model.categories) == set(default_checker().categories_)
    assert 0.3 <= model.threshold_ < 1.0 and len(model.vocab_) > 1000


@pytest.mark.parametrize("text,category", [
    ("这个问题我们也没办法，您自己想办法吧。", None),
    ("您自己不看说明书，怪不了别人。", "blaming"),
    ("这种事情我怎么会知道呢。", "ignorance"),
])
def test_violating_sentences_score_high(model: NgramReplyModel, text: str, category: str | None) -> None:
    proba, cats = model.scores([normalize(text)])
    assert proba.shape == (1,) and cats.shape == (1, len(model.categories))
    assert np.isclose(cats.sum(), 1.0, atol=1e-4)
    assert proba[0] >= model.threshold_
    if category:
        assert model.categories[int(cats.argmax())] == category


@pytest.mark.parametrize("text", [
    "非常抱歉给您添麻烦了，我马上帮您核实，半小时内给您回电。",
    "您好，请问有什么可以帮您？",
    "好的，已经为您登记了，师傅明天上午九点前上门。",
])
def test_compliant_sentences_score_low(model: NgramReplyModel, text: str) -> None:
    assert model.predict_proba([normalize(text)])[0] < model.threshold_
    assert model.predict([normalize(text)]) == [None]


def test_empty_batch(model: NgramReplyModel) -> None:
    proba, cats = model.scores([])
    assert proba.shape == (0,) and cats.shape == (0, len(model.categories))


def test_save_load_roundtrip(model: NgramReplyModel, tmp_path: Path) -> None:
    path = model.save(tmp_path / "copy.npz")
    clone = NgramReplyModel.load(path)
    texts = [normalize("您自己不看说明书，怪不了别人。"), normalize("好的，马上为您处理。")]
    assert np.allclose(clone.predict_proba(texts), model.predict_proba(texts), atol=1e-3)
    assert clone.categories == model.categories and clone.threshold_ == pytest.approx(model.threshold_)


def test_missing_and_damaged_files_are_coded(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        NgramReplyModel.load(tmp_path / "nope.npz")
    assert err.value.code == "AF201"
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ModelError) as err:
        NgramReplyModel.load(bad)
    assert err.value.code == "AF204"
    np.savez(tmp_path / "partial.npz", format_version=np.int32(1), vocab=np.array(["a"]))
    with pytest.raises(ModelError) as err:
        NgramReplyModel.load(tmp_path / "partial.npz")
    assert err.value.code == "AF204" and "missing arrays" in str(err.value)


def test_shapes_are_checked() -> None:
    with pytest.raises(ModelError) as err:
        NgramReplyModel(categories=["a", "b"], vocab=["x", "y"], idf=np.ones(2), coef=np.ones(3),
                        intercept=np.zeros(1), cat_coef=np.ones((2, 2)), cat_intercept=np.zeros(2))
    assert err.value.code == "AF204"
