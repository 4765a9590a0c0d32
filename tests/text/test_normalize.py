from __future__ import annotations

from hypothesis import given, strategies as st

from anfu.text.normalize import normalize


def test_traditional_fullwidth_and_punctuation() -> None:
    assert normalize("這個電費怎麼這麼貴!!!") == "这个电费怎么这么贵！！！"
    assert normalize("ＡＢＣ１２３，我要投訴?") == "abc123，我要投诉？"


@given(st.text(max_size=200))
def test_length_is_preserved(text: str) -> None:
    assert len(normalize(text)) == len(text)


def test_a_character_whose_lowercase_is_longer_keeps_the_length() -> None:
    """"İ".lower() is "i̇" (two characters): folded, not lowered, so offsets stay aligned."""
    text = "İlkay İnce：我要退款"
    assert len(normalize(text)) == len(text)
    assert normalize(text).index("退款") == text.index("退款")


def test_blank_means_nothing_visible() -> None:
    from anfu.text.normalize import is_blank

    for text in ("", "   ", "\u200b\u200b", "\u00ad\u00ad\u00ad", " \ufeff\n\u2060 "):
        assert is_blank(text), repr(text)
    for text in ("好", "🙏", "\u200b好", "。"):
        assert not is_blank(text), repr(text)
