from __future__ import annotations

import pickle

import pytest

import anfu
from anfu import Conversation, Utterance
from anfu.errors import InputError

TEXTS = [
    "你们的宽带又断了！！！这个月第三次了，到底还能不能用？",
    "请问一下电费可以在支付宝上交吗",
    "退款申请七天了还没到账，我真的很着急，下周就要交房租了",
    "太感谢了，师傅上门很及时，服务很好👍",
]


def test_pipe_matches_call_and_survives_pickling(analyzer) -> None:  # noqa: ANN001
    one = [analyzer(Utterance(t)).to_dict() for t in TEXTS]
    many = [a.to_dict() for a in analyzer.pipe([Utterance(t) for t in TEXTS], batch_size=3)]
    assert one == many
    clone = pickle.loads(pickle.dumps(analyzer))
    assert [clone(Utterance(t)).to_dict() for t in TEXTS] == one


def test_plain_string_and_conversation(analyzer) -> None:  # noqa: ANN001
    assert analyzer("我要投诉你们").to_dict()["escalation_risk"] is True
    conv = Conversation.from_texts([("customer", TEXTS[0]), ("agent", "非常抱歉，我马上为您报障，两小时内工程师联系您。"),
                                    ("customer", "好的谢谢")], id="c9")
    result = analyzer(conv)
    assert result.conversation.id == "c9" and len(result.turns) == 3
    assert result.turns[1].emotion is None  # agent turns get no customer emotion


@pytest.mark.parametrize("bad, code", [("", "AF004"), ("  \n ", "AF004"), ("好" * 20001, "AF005")])
def test_bad_text_is_refused_with_a_code(analyzer, bad: str, code: str) -> None:  # noqa: ANN001
    with pytest.raises(InputError) as info:
        analyzer(bad)
    assert info.value.code == code


def test_public_api() -> None:
    assert callable(anfu.load) and anfu.Analyzer and anfu.Assessment


# -- the component contract across a pipeline (issue 11) --------------------------------------
def test_a_misordered_pipeline_is_a_clear_error_when_built() -> None:
    """The trajectory needs turn intensities: built before the emotion model, the pipeline
    refuses to load (AF105) and names what provides the missing field."""
    from anfu.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        anfu.load({"pipeline": {"components": ["anfu.normalize.v1", "anfu.trajectory.v2", "anfu.emotion.v1"]}})
    assert info.value.code == "AF105"
    assert "anfu.trajectory.v2" in info.value.message and "turn.intensity" in info.value.message
    assert "anfu.emotion.v1" in info.value.message  # the component that provides it
    # the same components in order load and run
    doc = anfu.load({"pipeline": {"components": ["anfu.normalize.v1", "anfu.emotion.v1", "anfu.trajectory.v2"]}})(
        anfu.Conversation.from_texts(["停电三天了还没人来修！！", "好的，那我等着。"]))
    assert doc.trajectory is not None and doc.trajectory.peak >= 2


def test_optional_reads_do_not_block_a_pipeline() -> None:
    """Emotion uses the threat and abuse flags when present (`reads`), and runs without them."""
    from anfu.components.emotion import Emotion

    assert "turn.escalation_risk" in Emotion.reads and "turn.escalation_risk" not in Emotion.requires
    analyzer = anfu.load({"pipeline": {"components": ["anfu.normalize.v1", "anfu.emotion.v1"]}})
    assert analyzer("你们这什么破服务，气死我了！").turns[0].emotion == "angry"


def test_undeclared_fields_in_a_plugin_are_caught() -> None:
    from anfu.components.base import Component
    from anfu.errors import ConfigError
    from anfu.pipeline import Analyzer, check_pipeline

    class Typo(Component):
        name = "test.typo.v1"
        provides = ("turn.emotoin",)

        def predict(self, docs):  # noqa: ANN001, ANN202
            return [None for _ in docs]

        def set_annotations(self, docs, outputs):  # noqa: ANN001, ANN202
            pass

    with pytest.raises(ConfigError) as info:
        Analyzer([Typo()])
    assert info.value.code == "AF106" and "turn.emotoin" in info.value.message
    check_pipeline(anfu.load().components)  # the shipped pipeline keeps the contract
