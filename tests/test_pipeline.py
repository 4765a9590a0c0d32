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
