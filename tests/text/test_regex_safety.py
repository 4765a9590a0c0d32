"""`anfu.text.regex_safety.nested_repetition`: the exponential-backtracking shape is flagged; the
patterns our packs and trainers write every day are not."""

from __future__ import annotations

import pytest

from anfu.text.regex_safety import nested_repetition


@pytest.mark.parametrize("pattern", ["^(好+)+$", "(a*)*", r"(\w+\s?)+", "(a|b+)*", r"(?=(a+)+)b", r"(?:(?:快+)点)+",
                                     r"(\d{1,3}\.?)+"])
def test_nested_repetition_is_flagged(pattern: str) -> None:
    assert nested_repetition(pattern), pattern


@pytest.mark.parametrize("pattern", ["好+", r"(\d{3}-)+", "(ab)+", "(?:退款|退钱)+", r"(?:(?:快|赶紧)点?)+", "x{2,5}",
                                     "(?:再不|还不)(?:给|帮)我(?:处理|解决)", r"[0-9]{11}", "(", ""])
def test_everyday_patterns_and_bad_ones_are_not_flagged(pattern: str) -> None:
    assert not nested_repetition(pattern), pattern
