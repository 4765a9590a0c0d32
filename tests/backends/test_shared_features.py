"""The emotion and cause models share one n-gram pass per batch; results are unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from anfu.backends import ngram
from anfu.backends.cause_ngram import load_cause_cached
from anfu.backends.ngram import NgramEmotionModel, batch_ngrams, char_ngrams, gram_key, load_cached
from anfu.text.normalize import normalize

TEXTS = [normalize(t) for t in [
    "停电三天了还没人来修！！！你们到底管不管？",
    "我的退款申请十天了还没到账，你们是不是故意拖着？",
    "好的，谢谢你。",
    "宽带又断了，再修不好我就去工信部投诉！",
    "  ",
    "话费多扣了58块，我从来没订过什么视频会员😡",
]]


def test_batch_ngrams_are_every_char_ngram_of_each_text() -> None:
    grams = batch_ngrams(TEXTS)
    keys = grams.distinct[grams.inverse]
    for row, text in enumerate(TEXTS):
        expected = sorted(gram_key(g) for g in char_ngrams(text))
        assert sorted(keys[grams.owners == row].tolist()) == expected
    assert not grams.owners.flags.writeable and not grams.distinct.flags.writeable


def test_the_second_model_reuses_the_batch_and_gets_the_same_numbers() -> None:
    emotion = load_cached()
    cause = load_cause_cached()
    ngram._LAST_BATCH = None
    cold_emotion = emotion.predict_all(TEXTS)
    ngram._LAST_BATCH = None
    cold_cause = cause.predict_proba(TEXTS)
    # one after the other, as in the pipeline: the cause model reads the emotion model's n-grams
    warm_emotion = emotion.predict_all(TEXTS)
    shared = ngram._LAST_BATCH
    warm_cause = cause.predict_proba(TEXTS)
    assert ngram._LAST_BATCH is shared and shared[0][0] == tuple(TEXTS)
    for cold, warm in zip(cold_emotion, warm_emotion):
        assert np.array_equal(cold, warm)
    assert np.array_equal(cold_cause, warm_cause)
    # another batch is featurised afresh
    other = emotion.predict_all(TEXTS[:2])
    assert ngram._LAST_BATCH[0][0] == tuple(TEXTS[:2])
    assert np.array_equal(other[0], cold_emotion[0][:2])


def test_merged_heads_equal_the_separate_heads() -> None:
    model = load_cached()
    x = model.transform(TEXTS)
    emotion, intensity = model.predict_logits(TEXTS)
    linear = NgramEmotionModel._linear(x, np.ascontiguousarray(model.coef_), model.intercept_) / model.temperature_
    if model.hidden_ is not None:  # the shipped model mixes in its hidden layer, gathered with the heads
        net = model.hidden_
        linear = net.mix_logits(linear, NgramEmotionModel._linear(x, np.ascontiguousarray(net.w1), net.b1))
    if model.general_ is not None:  # and its general head behind the domain gate
        head = model.general_
        linear = head.blend(linear, NgramEmotionModel._linear(x, np.ascontiguousarray(head.coef), head.intercept),
                            NgramEmotionModel._linear(x, np.ascontiguousarray(head.gate_coef[:, None]),
                                                      np.array([head.gate_intercept], dtype=np.float32))[:, 0])
    assert np.array_equal(emotion, linear)
    assert np.array_equal(intensity, NgramEmotionModel._linear(x, np.ascontiguousarray(model.int_coef_),
                                                                model.int_intercept_))


@pytest.mark.parametrize("texts", [[], [""], ["a"]])
def test_tiny_batches(texts: list[str]) -> None:
    proba, intensity = load_cached().predict_all(texts)
    assert proba.shape == (len(texts), 7) and intensity.shape == (len(texts), 5)
