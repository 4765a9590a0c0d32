from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from anfu.cli import _register_commands, app


def _run(*args: str):  # noqa: ANN202
    _register_commands()
    return CliRunner().invoke(app, list(args))


def test_batch_qa_cli_writes_results_errors_and_reports(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "qa.jsonl"
    result = _run("batch", "qa", str(archive), "-o", str(out), "--workers", "1", "--chunk-size", "3")
    assert result.exit_code == 0, result.output
    assert "13 records (8 written, 5 errors" in result.output
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert all(0 <= r["score"] <= 100 and r["items"] for r in recs)
    xlsx, pdf = Path(f"{out}.report.xlsx"), Path(f"{out}.report.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and len(pdf.read_bytes()) > 5000
    import openpyxl

    book = openpyxl.load_workbook(xlsx, read_only=True)
    assert book.sheetnames[:4] == ["批量分析概览", "情绪分布（客户发言）", "问题原因", "升级等级（会话）"]
    rows = list(book["坐席质量得分（由低到高）"].iter_rows(values_only=True))
    assert rows[1] == ("名称", "平均质检得分", "会话数", "一票否决")
    assert {r[0] for r in rows[2:]} >= {"A01", "A02", "A03"}
    assert list(book["坐席高频服务忌语"].iter_rows(values_only=True))[2] == ("不归我们管", 1)


def test_batch_errors_are_coded(tmp_path: Path) -> None:
    result = _run("batch", "analyze", str(tmp_path / "nope"), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 2 and "error AF011" in result.output
    (tmp_path / "in.jsonl").write_text('{"id": "u1", "text": "你好"}\n', encoding="utf-8")
    result = _run("batch", "analyze", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o.csv"), "--format", "csv")
    assert result.exit_code == 2 and "error AF012" in result.output
    result = _run("batch", "qa", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--scorecard", "nope")
    assert result.exit_code == 2 and "error AF302" in result.output


def test_batch_pdf_report_reads_back_in_chinese(archive: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess

    import pytest

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; .ci/run installs it")
    out = tmp_path / "an.jsonl"
    result = _run("batch", "analyze", str(archive), "-o", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", "-layout", f"{out}.report.pdf", "-"], capture_output=True, text=True,
                          check=True).stdout
    for heading in ("批量分析与质检报告", "情绪分布（客户发言）", "问题原因", "升级等级（会话）", "坐席质量得分", "坐席高频服务忌语"):
        assert heading in text, heading
    assert "不归我们管" in text and "A01" in text
