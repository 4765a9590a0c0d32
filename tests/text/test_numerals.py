"""Numbers as customers write them: 三天, 两个小时, 第3次, 十几次, 好几次, 半天."""

from __future__ import annotations

import pytest

from anfu.text.numerals import parse_number


@pytest.mark.parametrize("text,value", [
    ("三", 3), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20), ("一百二十", 120), ("3", 3), ("15", 15),
    ("半", 0.5), ("几", 3), ("好几", 3), ("十几", 13),
])
def test_numbers(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "次", "abc", "三次"])
def test_not_numbers(text: str) -> None:
    assert parse_number(text) is None
