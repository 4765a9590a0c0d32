"""`anfu analyze` follows the contract of DESIGN.md, bad lines included."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from anfu.cli import _register_commands, app
from anfu.glossary import EMOTIONS

_register_commands()
runner = CliRunner()


def _run(lines: list[bytes], tmp_path: Path) -> list[dict]:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["analyze", str(src), "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _j(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def test_utterance_and_conversation_follow_the_contract(tmp_path: Path) -> None:
    rows = _run([
        _j({"id": "u1", "text": "停电三天了还没人来修！！！再不来我就打12345投诉！"}),
        _j({"id": "c1", "turns": [
            {"speaker": "customer", "text": "你们这个月电费怎么扣了我八百多？是不是搞错了"},
            {"speaker": "agent", "text": "非常抱歉让您担心了，我马上为您核对电表读数，十分钟内回复您。"},
            {"speaker": "customer", "text": "好的，谢谢你"},
        ]}),
    ], tmp_path)
    assert [r["id"] for r in rows] == ["u1", "c1"]
    u = rows[0]
    assert u["emotion"] in EMOTIONS and 0 <= u["intensity"] <= 4 and -1 <= u["valence"] <= 1
    assert set(u["scores"]) == set(EMOTIONS) and abs(sum(u["scores"].values()) - 1) < 0.01
    assert u["escalation_risk"] is True and isinstance(u["abusive"], bool)
    assert u["intensity"] >= 3 and u["emotion"] in ("angry", "dissatisfied")
    assert any(t["kind"] == "escalation" and t["text"] in ("12345", "投诉") for t in u["triggers"])
    c = rows[1]
    assert [t["speaker"] for t in c["turns"]] == ["customer", "agent", "customer"]
    assert c["turns"][0]["emotion"] in EMOTIONS
    assert set(c["trajectory"]) == {"start", "peak", "end", "trend"}
    assert isinstance(c["calmed"], bool)


def test_bad_lines_get_coded_errors_and_the_run_goes_on(tmp_path: Path) -> None:
    rows = _run([
        b'{"id": "bad-json", "text": ',
        _j({"id": "empty", "text": "   "}),
        _j({"id": "number", "text": 42}),
        _j({"id": "huge", "text": "投诉" * 10001}),
        _j({"id": "speaker", "turns": [{"speaker": "robot", "text": "你好"}]}),
        _j({"id": "noturns", "turns": []}),
        _j({"id": "keys", "message": "你好"}),
        _j(["not", "an", "object"]),
        "电费太贵了".encode("gb18030"),
        b'{"id": NaN, "text": "\xe7\x94\xb5\xe8\xb4\xb9\xe5\xa4\xaa\xe8\xb4\xb5"}',  # not an id: AF016, not "nan"
        _j({"id": {"ticket": 7}, "text": "电费太贵了"}),
        _j({"id": "turn-ids", "turns": [{"speaker": "customer", "text": "你好", "id": True}]}),
        _j({"id": 12.0, "text": "电费太贵了"}),  # a spreadsheet's number: "12"
        _j({"id": "ok", "text": "谢谢你们，问题解决了"}),
    ], tmp_path)
    codes = [r.get("error", {}).get("code") for r in rows]
    assert codes == ["AF001", "AF004", "AF003", "AF005", "AF007", "AF008", "AF002", "AF009", "AF006",
                     "AF016", "AF016", "AF016", None, None]
    assert [r.get("id") for r in rows[9:]] == [None, None, "turn-ids", "12", "ok"]
    assert rows[1]["id"] == "empty" and rows[-1]["id"] == "ok" and rows[-1]["emotion"] in EMOTIONS
    for row in rows[:-2]:
        assert row["error"]["message"]


def test_stdin_and_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", "-"], input=_j({"id": "s", "text": "请问怎么交电费"}).decode())
    assert result.exit_code == 0
    assert json.loads(result.stdout.splitlines()[0])["id"] == "s"
    missing = runner.invoke(app, ["analyze", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "AF011" in missing.output
