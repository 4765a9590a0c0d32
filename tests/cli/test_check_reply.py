"""`anfu check-reply`: JSON Lines in, one result per line out; bad lines become errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from anfu.cli import _register_commands, app

_register_commands()
runner = CliRunner()


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_checks_replies_from_stdin() -> None:
    data = "\n".join([
        json.dumps({"id": "r1", "text": "这是我们公司的规定。", "context": {"what": "电费明细", "when": "30分钟内"}}, ensure_ascii=False),
        json.dumps({"id": "r2", "text": "不行的话我们还有另一个方案，今天下午给您回电。"}, ensure_ascii=False),
    ]) + "\n"
    result = runner.invoke(app, ["check-reply", "-"], input=data)
    assert result.exit_code == 0, result.output
    first, second = _lines(result.stdout)
    assert first["id"] == "r1" and first["violation"] is True
    assert set(first) == {"id", "violation", "findings", "rewrite"}
    finding = first["findings"][0]
    assert set(finding) == {"rule_id", "category", "start", "end", "message"}
    assert finding["category"] == "policy_wall"
    assert "电费明细" in first["rewrite"] and "30分钟内" in first["rewrite"]
    assert second == {"id": "r2", "violation": False, "findings": [], "rewrite": None}


def test_bad_lines_become_errors_and_the_run_continues(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    src.write_bytes("\n".join([
        '{"id": "a", "text": "我不大清楚。"}',
        "not json",
        '{"id": "b"}',
        '{"id": "c", "text": ""}',
        '{"id": "d", "text": 5}',
        '{"id": "e", "text": "不行", "context": "billing"}',
        "[1, 2]",
        '{"id": "f", "text": "总会有办法的。"}',
        '{"id": {"reply": 9}, "text": "好的，我马上为您查询。"}',
    ]).encode("utf-8") + b"\n\xff\xfe\n")
    result = runner.invoke(app, ["check-reply", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = _lines(out.read_text(encoding="utf-8"))
    assert [r.get("id") for r in rows] == ["a", None, "b", "c", "d", "e", None, "f", None, None]
    codes = [r["error"]["code"] for r in rows if "error" in r]
    assert codes == ["AF001", "AF002", "AF004", "AF003", "AF013", "AF009", "AF016", "AF006"]
    assert rows[0]["violation"] and rows[7]["violation"]


def test_missing_file_is_a_coded_error() -> None:
    result = runner.invoke(app, ["check-reply", "/nonexistent/replies.jsonl"])
    assert result.exit_code == 2
    assert "AF011" in result.output
