"""`anfu.text.names.display_name`: the rule for names staff read in lists."""

from __future__ import annotations

import pytest

from anfu.errors import StoreError
from anfu.text.names import display_name


@pytest.mark.parametrize("value,expected", [("一组", "一组"), ("  投诉  专席 ", "投诉 专席"), ("95598\t夜班", "95598 夜班")])
def test_names_are_tidied(value: str, expected: str) -> None:
    assert display_name(value, "team") == expected


@pytest.mark.parametrize("value", ["", "   ", "\u3000", "一\u200b组", "\u202e组一", "一\x00组", "组" * 201, None])
def test_blank_long_and_invisible_names_are_refused(value: str | None) -> None:
    with pytest.raises(StoreError) as refused:
        display_name(value, "team")
    assert refused.value.code == "AF505"
