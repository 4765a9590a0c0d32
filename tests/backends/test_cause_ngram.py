"""The shipped char n-gram cause classifier: loads, is calibrated-ish, errors are coded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anfu.backends.cause_ngram import DEFAULT_CAUSE_WEIGHTS, NgramCauseModel, load_cause_cached
from anfu.errors import ModelError
from anfu.glossary import CAUSES
from anfu.text.normalize import normalize


@pytest.fixture(scope="module")
def model() -> NgramCauseModel:
    return load_cause_cached(DEFAULT_CAUSE_WEIGHTS)


def test_shipped_weights_are_compact_and_labelled(model: NgramCauseModel) -> None:
    assert DEFAULT_CAUSE_WEIGHTS.stat().st_size < 2_000_000
    assert model.labels == CAUSES and len(model.vocab_) > 1000


@pytest.mark.parametrize("text,cause", [
    ("这个月电费怎么多了两百块", "billing"),
    ("家里停电一整天了", "outage"),
    ("快递到现在都没送到", "delivery"),
    ("卡被人盗刷了", "fraud_security"),
])
def test_obvious_texts(model: NgramCauseModel, text: str, cause: str) -> None:
    proba = model.predict_proba([normalize(text)])
    assert proba.shape == (1, len(CAUSES)) and np.isclose(proba.sum(), 1.0, atol=1e-4)
    assert CAUSES[int(proba.argmax())] == cause


def test_empty_batch(model: NgramCauseModel) -> None:
    assert model.predict_proba([]).shape == (0, len(CAUSES))


def test_missing_and_damaged_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        NgramCauseModel.load(tmp_path / "none.npz")
    assert err.value.code == "AF201"
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelError) as err:
        NgramCauseModel.load(bad)
    assert err.value.code == "AF204"
