from __future__ import annotations

from hypothesis import given, strategies as st

from anfu.text.normalize import normalize


def test_traditional_fullwidth_and_punctuation() -> None:
    assert normalize("這個電費怎麼這麼貴!!!") == "这个电费怎么这么贵！！！"
    assert normalize("ＡＢＣ１２３，我要投訴?") == "abc123，我要投诉？"


@given(st.text(max_size=200))
def test_length_is_preserved(text: str) -> None:
    assert len(normalize(text)) == len(text)
