from __future__ import annotations

from pathlib import Path

import pytest

from anfu.batch.sources import input_files, iter_items, parse_txt
from anfu.errors import AnfuError, InputError


def test_folder_order_and_kinds(archive: Path) -> None:
    names = [f.relative_to(archive).as_posix() for f in input_files(archive)]
    assert names == ["a.jsonl", "b.csv", "c.xlsx", "calls/d.txt", "calls/e.srt", "calls/f.eml", "calls/g.txt"]


def test_items_with_line_numbers_and_errors(archive: Path) -> None:
    items = list(iter_items(archive))
    by = {(i.source, i.line): i.payload for i in items}
    # JSONL: raw lines (parsed by the worker), blank lines skipped, line numbers kept
    assert [(i.line) for i in items if i.source == "a.jsonl"] == [1, 2, 4, 5]
    assert isinstance(by[("a.jsonl", 2)], bytes)
    # CSV: rows grouped per conversation, meta columns kept, a returning id is AF036
    k1 = by[("b.csv", 2)]
    assert k1["id"] == "k1" and k1["agent"] == "A02" and k1["team"] == "二班" and len(k1["turns"]) == 2
    assert isinstance(by[("b.csv", 5)], InputError) and by[("b.csv", 5)].code == "AF036"
    assert isinstance(by[("b.csv", 6)], AnfuError) and by[("b.csv", 6)].code == "AF007"
    assert by[("c.xlsx", 2)]["team"] == "三班" and [t["speaker"] for t in by[("c.xlsx", 2)]["turns"]] == ["customer", "agent"]
    assert by[("calls/d.txt", 0)]["id"] == "calls/d" and len(by[("calls/d.txt", 0)]["turns"]) == 3
    assert by[("calls/e.srt", 0)]["turns"][1]["speaker"] == "agent"
    assert by[("calls/f.eml", 0)]["turns"][0]["text"].startswith("你们的快递")
    assert by[("calls/g.txt", 0)].code == "AF030"


def test_txt_continuation_lines() -> None:
    turns = parse_txt("[09:30:01] 客户：第一句\n接着说\n坐席: 好的\n", "x.txt")
    assert turns == [{"speaker": "customer", "text": "第一句\n接着说"}, {"speaker": "agent", "text": "好的"}]


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        input_files(tmp_path / "missing.jsonl")
    assert exc.value.code == "AF011"
    (tmp_path / "x.doc").write_text("x")
    with pytest.raises(InputError) as exc:
        input_files(tmp_path / "x.doc")
    assert exc.value.code == "AF012"
    gb = tmp_path / "gb.csv"
    gb.write_bytes("会话ID,角色,内容\nk1,客户,电费太贵\n".encode("gb18030"))
    (item,) = list(iter_items(gb))
    assert isinstance(item.payload, InputError) and item.payload.code == "AF031"
