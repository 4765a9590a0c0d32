"""The char n-gram emotion model: numpy inference mirrors scikit-learn, files round-trip, bad files give coded errors."""

from __future__ import annotations

import numpy as np
import pytest

from anfu import registry
from anfu.backends.ngram import DEFAULT_WEIGHTS, NgramEmotionModel, char_ngrams, load_cached
from anfu.errors import ModelError
from anfu.glossary import EMOTIONS
from anfu.text.normalize import normalize
from anfu.training.data import Example
from anfu.training.train import fit

ROWS = [
    ("请问怎么查询本月电费", "neutral", 0), ("我想办理宽带移机", "neutral", 0), ("帮我查一下快递到哪了", "neutral", 0),
    ("谢谢你们，问题解决了", "satisfied", 1), ("师傅来得很快，辛苦了", "satisfied", 1), ("退款到账了，感谢", "satisfied", 1),
    ("家里有老人，停电了怎么办，能不能快点", "anxious", 3), ("明天要用，急死了", "anxious", 3), ("孩子电话一直打不通，好担心", "anxious", 2),
    ("电费怎么这么高，是不是算错了", "doubtful", 2), ("我没开通过这个业务，凭什么扣费", "doubtful", 2), ("真的假的，你们不会骗人吧", "doubtful", 2),
    ("本来很信任你们，太失望了", "disappointed", 2), ("算了，不指望你们了", "disappointed", 2), ("唉，白等了一个星期", "disappointed", 2),
    ("怎么还没处理，太慢了", "dissatisfied", 2), ("说好的今天上门呢", "dissatisfied", 2), ("推来推去的，不合理", "dissatisfied", 2),
    ("气死我了！！！到底管不管", "angry", 4), ("什么破公司，受够了！", "angry", 4), ("忍无可忍，马上给我处理！！", "angry", 4),
]


def tiny_examples(copies: int = 4) -> list[Example]:
    return [Example(id=f"t{i}-{k}", text=text, emotion=emotion, intensity=intensity, source="user", weight=1.0)
            for k in range(copies) for i, (text, emotion, intensity) in enumerate(ROWS)]


@pytest.fixture(scope="module")
def tiny_model() -> NgramEmotionModel:
    return fit(tiny_examples())


def test_registered_under_versioned_name() -> None:
    assert registry.emotion_models.get("anfu.ngram_emotion.v1") is NgramEmotionModel


def test_char_ngrams_mark_edges() -> None:
    grams = char_ngrams("停电了")
    assert "停" in grams and "停电了" in grams and "\x02停" in grams and "了\x03" in grams


def test_numpy_features_match_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [normalize(t) for t, _, _ in ROWS]
    vec = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, dtype=np.float32)
    expected = vec.fit_transform(texts).toarray()
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    size = len(vocab)
    model = NgramEmotionModel(vocab, vec.idf_, np.zeros((size, 7)), np.zeros(7), np.zeros((size, 5)), np.zeros(5))
    off, idx, vals = model.transform(texts)
    dense = np.zeros_like(expected)
    for row in range(len(texts)):
        dense[row, idx[off[row]:off[row + 1]]] = vals[off[row]:off[row + 1]]
    np.testing.assert_allclose(dense, expected, atol=1e-5)


def test_probabilities_are_distributions(tiny_model: NgramEmotionModel) -> None:
    proba = tiny_model.predict_proba(["电费怎么这么高，是不是算错了", "谢谢，辛苦了", "", "🙂"])
    assert proba.shape == (4, len(EMOTIONS))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert tiny_model.predict_proba([]).shape == (0, 7)
    emotion, intensity = tiny_model.predict_all(["气死我了！！！"])
    assert intensity.shape == (1, 5)
    assert EMOTIONS[int(emotion.argmax())] == "angry"


def test_learns_the_training_labels(tiny_model: NgramEmotionModel) -> None:
    labels = tiny_model.predict([normalize(t) for t, _, _ in ROWS])
    agree = sum(p == gold for p, (_, gold, _) in zip(labels, ROWS))
    assert agree >= len(ROWS) - 2


def test_save_load_round_trip(tiny_model: NgramEmotionModel, tmp_path) -> None:  # noqa: ANN001
    path = tiny_model.save(tmp_path / "m.npz")
    loaded = NgramEmotionModel.load(path)
    texts = ["说好的今天上门呢", "家里有老人，能不能快点"]
    np.testing.assert_allclose(loaded.predict_proba(texts), tiny_model.predict_proba(texts), atol=2e-3)
    assert loaded.temperature_ == pytest.approx(tiny_model.temperature_, rel=1e-4)
    assert load_cached(path) is load_cached(path)


def test_missing_weights_af201(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ModelError) as err:
        NgramEmotionModel.load(tmp_path / "absent.npz")
    assert err.value.code == "AF201"


@pytest.mark.parametrize("content", [b"not a zip file at all", b"PK\x03\x04broken"])
def test_damaged_weights_af204(tmp_path, content: bytes) -> None:  # noqa: ANN001
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelError) as err:
        NgramEmotionModel.load(path)
    assert err.value.code == "AF204"


def test_incomplete_or_mislabelled_weights_af204(tiny_model: NgramEmotionModel, tmp_path) -> None:  # noqa: ANN001
    good = dict(np.load(tiny_model.save(tmp_path / "good.npz")))
    partial = {k: v for k, v in good.items() if k != "coef"}
    np.savez(tmp_path / "partial.npz", **partial)
    relabelled = {**good, "labels": np.array(list(reversed(EMOTIONS)))}
    np.savez(tmp_path / "relabelled.npz", **relabelled)
    for name in ("partial.npz", "relabelled.npz"):
        with pytest.raises(ModelError) as err:
            NgramEmotionModel.load(tmp_path / name)
        assert err.value.code == "AF204"


def test_shipped_weights_are_compact_and_sensible() -> None:
    assert DEFAULT_WEIGHTS.stat().st_size < 5 * 1024 * 1024
    model = NgramEmotionModel.load(DEFAULT_WEIGHTS)
    labels = model.predict([normalize(t) for t in (
        "谢谢你们，抢修师傅很快就把电修好了",
        "我想咨询一下峰谷电价怎么申请",
        "你们这什么破服务，气死我了！！！",
    )])
    assert labels == ["satisfied", "neutral", "angry"]


def _tfidf_and_mlp(hidden: int = 8):  # noqa: ANN202
    """A scikit-learn TF-IDF + one-hidden-layer MLP fitted on ROWS (the reference for numpy inference)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neural_network import MLPClassifier

    texts = [normalize(t) for t, _, _ in ROWS]
    vec = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, dtype=np.float32)
    x = vec.fit_transform(texts)
    y = np.array([EMOTIONS.index(e) for _, e, _ in ROWS])
    with warnings.catch_warnings():  # a reference fit: it need not converge to the last digit
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=2000, tol=1e-6, random_state=0).fit(x, y)
    return vec, clf, texts


def test_hidden_layer_numpy_matches_scikit_learn() -> None:
    from anfu.backends.ngram import HiddenLayer

    vec, clf, texts = _tfidf_and_mlp()
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    size = len(vocab)
    net = HiddenLayer(w1=clf.coefs_[0], b1=clf.intercepts_[0], w2=clf.coefs_[1], b2=clf.intercepts_[1],
                      temperature=1.0, mix=1.0)
    model = NgramEmotionModel(vocab, vec.idf_, np.zeros((size, 7)), np.zeros(7), np.zeros((size, 5)), np.zeros(5),
                              hidden=net)
    queries = texts + [normalize("师傅很快就修好了，谢谢"), normalize("到底管不管！！")]
    np.testing.assert_allclose(model.predict_proba(queries), clf.predict_proba(vec.transform(queries)), atol=1e-5)

    # mixed with a linear head: the product of the two calibrated distributions, renormalised
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(size, 7)).astype(np.float32)
    half = HiddenLayer(w1=net.w1, b1=net.b1, w2=net.w2, b2=net.b2, temperature=2.0, mix=0.5)
    mixed = NgramEmotionModel(vocab, vec.idf_, coef, np.zeros(7), np.zeros((size, 5)), np.zeros(5),
                              temperature=1.5, hidden=half)
    linear = np.asarray(vec.transform(queries) @ coef) / 1.5
    network = np.log(clf.predict_proba(vec.transform(queries))) / 2.0
    expected = np.exp(0.5 * linear + 0.5 * network)
    np.testing.assert_allclose(mixed.predict_proba(queries), expected / expected.sum(axis=1, keepdims=True),
                               atol=1e-4)
    lin_logits, net_logits = mixed.head_logits(queries)
    np.testing.assert_allclose(lin_logits, linear * 1.5, atol=1e-4)
    assert net_logits is not None and net_logits.shape == (len(queries), 7)


def test_hidden_layer_round_trip_and_incomplete_file_af204(tmp_path) -> None:  # noqa: ANN001
    from anfu.backends.ngram import HiddenLayer

    vec, clf, texts = _tfidf_and_mlp()
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    size = len(vocab)
    q, scale = HiddenLayer.quantize(clf.coefs_[0])
    assert q.dtype == np.int8 and scale.shape == (8,)
    net = HiddenLayer(w1=q.astype(np.float32) * scale, b1=clf.intercepts_[0], w2=clf.coefs_[1],
                      b2=clf.intercepts_[1], temperature=1.3, mix=0.4)
    model = NgramEmotionModel(vocab, vec.idf_, np.zeros((size, 7)), np.zeros(7), np.zeros((size, 5)), np.zeros(5),
                              hidden=net)
    path = model.save(tmp_path / "net.npz")
    loaded = NgramEmotionModel.load(path)
    assert loaded.hidden_ is not None and loaded.hidden_.mix == pytest.approx(0.4)
    assert loaded.hidden_.temperature == pytest.approx(1.3)
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-4)
    assert "hidden 8" in repr(loaded)

    _assert_damaged_files_refused(tmp_path, path, "hidden_w2", "hidden_w2", np.float32)


def _assert_damaged_files_refused(tmp_path, path, missing: str, misshapen: str, dtype) -> None:  # noqa: ANN001
    """A weights file without `missing`, or with `misshapen` of the wrong shape, is refused (AF204)."""
    arrays = dict(np.load(path))
    np.savez(tmp_path / "partial.npz", **{k: v for k, v in arrays.items() if k != missing})
    np.savez(tmp_path / "wrong.npz", **{**arrays, misshapen: np.zeros((3, 7), dtype=dtype)})
    for name in ("partial.npz", "wrong.npz"):
        with pytest.raises(ModelError) as err:
            NgramEmotionModel.load(tmp_path / name)
        assert err.value.code == "AF204"


def _general_model(gate_intercept: float, gate_power: float = 2.0):  # noqa: ANN202
    """A model whose service head says `neutral` and whose general head says `satisfied`, with a
    constant gate logit (no gate weights): the blend can be computed by hand."""
    from anfu.backends.ngram import GeneralHead

    vec, _, texts = _tfidf_and_mlp()
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    size = len(vocab)
    service_bias = np.zeros(7, dtype=np.float32)
    service_bias[EMOTIONS.index("neutral")] = 2.0
    general_bias = np.zeros(7, dtype=np.float32)
    general_bias[EMOTIONS.index("satisfied")] = 3.0
    head = GeneralHead(coef=np.zeros((size, 7)), intercept=general_bias, temperature=1.5,
                       gate_coef=np.zeros(size), gate_intercept=gate_intercept, gate_power=gate_power)
    model = NgramEmotionModel(vocab, vec.idf_, np.zeros((size, 7)), service_bias, np.zeros((size, 5)), np.zeros(5),
                              general=head)
    return model, texts, service_bias, general_bias


def test_general_head_blends_by_the_domain_gate() -> None:
    """p = (1 - g) p_service + g p_general, g = sigmoid(gate) ** power (issue 9: general Weibo talk
    gets the general head, a customer's turn keeps the service heads)."""
    from anfu.backends.ngram import softmax

    for gate_intercept in (-8.0, 0.0, 8.0):
        model, texts, service_bias, general_bias = _general_model(gate_intercept)
        g = (1 / (1 + np.exp(-gate_intercept))) ** 2.0
        expected = (1 - g) * softmax(service_bias[None, :]) + g * softmax(general_bias[None, :] / 1.5)
        proba = model.predict_proba(texts[:3])
        np.testing.assert_allclose(proba, np.repeat(expected, 3, axis=0), atol=1e-5)
        np.testing.assert_allclose(model.general_share(texts[:3]), [g] * 3, atol=1e-6)
        assert model.predict(texts[:1]) == (["satisfied"] if gate_intercept > 0 else ["neutral"])
    assert "general head" in repr(model)


def test_general_head_round_trip_and_incomplete_file_af204(tmp_path) -> None:  # noqa: ANN001
    model, texts, _, _ = _general_model(0.5, gate_power=3.0)
    path = model.save(tmp_path / "general.npz")
    loaded = NgramEmotionModel.load(path)
    assert loaded.general_ is not None and loaded.general_.gate_power == pytest.approx(3.0)
    assert loaded.general_.temperature == pytest.approx(1.5)
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-4)
    _assert_damaged_files_refused(tmp_path, path, "gate_coef", "general_coef", np.float16)


def test_the_shipped_gate_tells_a_customer_turn_from_general_talk() -> None:
    """Customers writing to a service keep the service heads (g near 0); a post about one's own
    day gets the general head (issue 9: SMP2020 usual_eval is general Weibo talk)."""
    model = NgramEmotionModel.load(DEFAULT_WEIGHTS)
    assert model.general_ is not None
    service = model.general_share([normalize(t) for t in (
        "停电三天了还没人来修，你们到底管不管？",
        "@中国移动 我的宽带又断了，报修两次都没人上门",
        "快递显示签收了但我根本没收到，请尽快核实",
    )])
    general = model.general_share([normalize(t) for t in (
        "今天和闺蜜去看电影，开心死了哈哈哈",
        "又到周末了，躺在床上什么都不想干",
        "想念家乡的妈妈做的红烧肉了",
    )])
    assert service.max() < 0.2 and general.min() > 0.5, (service, general)
