"""anfu.batch.work: the per-chunk work every back-end shares."""

from __future__ import annotations

import json

import pytest

from anfu.batch.sources import Item
from anfu.batch.work import _decode, process_chunk
from anfu.errors import InputError
from anfu.intake import MAX_DEPTH, _problem


def _nested(levels: int, inner: str = '"投诉"') -> str:
    return '{"id": "n", "text": "网费又多扣了", "x": ' + "[" * levels + inner + "]" * levels + "}"


@pytest.mark.parametrize("line", [
    '{"id": 1, "text": "停电三天了还没人来修！"}',
    '{"id": 2, "text": "bad \\udc00 surrogate"}',
    '{"id": 3, "text": "BAD \\uD83D alone"}',
    '{"id": 4, "text": "a pair \\ud83d\\ude00 is fine"}',
    '{"id": 5, "text": "a backslash \\\\ud not an escape"}',
    '{"\\udc01": "a key"}',
    _nested(MAX_DEPTH - 3), _nested(MAX_DEPTH - 2), _nested(MAX_DEPTH - 1), _nested(MAX_DEPTH),
    _nested(MAX_DEPTH - 2, "[]"), _nested(MAX_DEPTH - 1, "[]"),
    '{"id": 6, "text": "括号' + "[" * 70 + '不是嵌套"}',
])
def test_decode_refuses_exactly_what_the_full_walk_refuses(line: str) -> None:
    """The fast path of `_decode` (no walk for lines that cannot hold a problem) gives the same
    verdict, code and message as walking every value (`anfu.intake._problem`)."""
    problem = _problem(json.loads(line))
    if problem is None:
        assert _decode(line.encode("utf-8"), 7) == json.loads(line)
    else:
        with pytest.raises(InputError) as caught:
            _decode(line.encode("utf-8"), 7)
        assert caught.value.code == ("AF001" if problem.startswith("nested") else "AF006")
        assert problem in str(caught.value)


def test_chunk_keeps_input_order_and_reports_bad_lines(analyzer) -> None:
    lines = ['{"id": "a", "text": "宽带又断了，再修不好我就去工信部投诉！"}', '{"id": "b", "text": "坏 \\udc00"}',
             '{"id": "c", "text": "谢谢你，问题解决了。"}', _nested(MAX_DEPTH)]
    result = process_chunk(analyzer, [Item("in.jsonl", i + 1, line.encode("utf-8")) for i, line in enumerate(lines)])
    assert [json.loads(x)["id"] for x in result.lines] == ["a", "c"]
    assert json.loads(result.lines[0])["escalation_risk"] is True
    assert [(json.loads(e)["line"], json.loads(e)["error"]["code"]) for e in result.errors] == [(2, "AF006"), (4, "AF001")]
