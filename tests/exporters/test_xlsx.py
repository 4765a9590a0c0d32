from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from anfu import registry
from anfu.analytics import Filters, build_report
from sample_fortnight import demo_dataset
from anfu.errors import ExportError
from anfu.exporters.xlsx import XlsxExporter

NOW = datetime(2025, 7, 22, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def report():
    assessments, tickets = demo_dataset()
    return build_report(assessments, tickets, now=NOW, contacts=25_000)


def test_registered_under_a_versioned_name() -> None:
    assert registry.exporters.get("anfu.xlsx.v1") is XlsxExporter
    assert XlsxExporter.format == "xlsx"


def test_workbook_holds_the_same_figures_as_the_report(report, tmp_path: Path) -> None:
    path = tmp_path / "安抚报表.xlsx"
    XlsxExporter().write(report, path)
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == [t.title[:31] for t in report.tables()]
    summary = {row[0]: row[1] for row in book["核心指标"].iter_rows(min_row=4, values_only=True)}
    assert summary["会话数"] == report.conversations
    assert summary["安抚成功率"] == pytest.approx(report.calming.value)
    assert summary["投诉率（每十万接触）"] == pytest.approx(report.tickets * 100_000 / 25_000)
    assert summary["满意度平均分"] == pytest.approx(report.csat["average"])
    trend = list(book["情绪趋势（按日）"].iter_rows(min_row=2, values_only=True))
    assert trend[0][:2] == ("日期", "会话数") and "愤怒" in trend[0]
    assert len(trend) - 1 == len(report.emotion_trend)
    assert trend[1][0] == report.emotion_trend[0]["date"]
    assert trend[1][1] == report.emotion_trend[0]["conversations"]
    agents = list(book["坐席视图"].iter_rows(min_row=3, values_only=True))
    assert {row[0] for row in agents} == {r["agent"] for r in report.agents}


def test_percent_cells_are_numbers_with_a_percent_format(report) -> None:
    book = load_workbook(io.BytesIO(XlsxExporter().to_bytes(report)))
    sheet = book["核心指标"]
    cell = next(row[1] for row in sheet.iter_rows(min_row=4) if row[0].value == "升级率")
    assert isinstance(cell.value, float) and cell.number_format == "0.0%"


def test_personal_information_is_masked_unless_asked(report) -> None:
    masked = load_workbook(io.BytesIO(XlsxExporter().to_bytes(report)), read_only=True)
    comments = [row[4] for row in masked["低分评价（≤2 分，已重开工单）"].iter_rows(min_row=3, values_only=True)]
    assert any("138****5678" in str(c) for c in comments)
    assert not any("13812345678" in str(c) for c in comments)
    raw = load_workbook(io.BytesIO(XlsxExporter(mask_pii=False).to_bytes(report)), read_only=True)
    assert any("13812345678" in str(row[4]) for row in
               raw["低分评价（≤2 分，已重开工单）"].iter_rows(min_row=3, values_only=True))


def test_filtered_and_empty_reports_export(tmp_path: Path) -> None:
    assessments, tickets = demo_dataset(days=3)
    empty = build_report(assessments, tickets, now=NOW, filters=Filters.make(teams=["不存在的班组"]))
    book = load_workbook(io.BytesIO(XlsxExporter().to_bytes(empty)), read_only=True)
    values = {row[0]: row[1] for row in book["核心指标"].iter_rows(min_row=4, values_only=True)}
    assert values["会话数"] == 0 and values["安抚成功率"] == "—"


def test_unwritable_target_gives_a_coded_error(report, tmp_path: Path) -> None:
    with pytest.raises(ExportError) as err:
        XlsxExporter().write(report, tmp_path / "no-such-folder" / "r.xlsx")
    assert err.value.code == "AF661"


def test_text_from_the_data_never_becomes_a_formula(report) -> None:
    """A customer's comment or an agent's name that starts like a formula ("=HYPERLINK(…)", "@SUM",
    "+1", "-1") reaches the workbook as text with a leading ' (before, "=…" was written as a live
    formula: a link to an attacker's site in every exported report)."""
    from anfu.analytics.report import TEXT, Table

    evil = ('=HYPERLINK("http://evil.example/x","点此查看")', "@SUM(1+1)", "+86 1381234", "-2 分")
    table = Table(key="comments", title="评价", headers=("评价", "坐席"), kinds=(TEXT, TEXT),
                  rows=tuple((text, "王芳") for text in evil))

    class Injected:
        filters, generated_at = report.filters, report.generated_at

        @staticmethod
        def tables() -> list[Table]:
            return [table]

    book = load_workbook(io.BytesIO(XlsxExporter().to_bytes(Injected())))  # type: ignore[arg-type]
    cells = [c for row in book["评价"].iter_rows(min_row=3) for c in row]
    assert not [c.value for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells[::2]]
    assert texts[0].startswith("'=HYPERLINK(") and texts[1] == "'@SUM(1+1)"
    assert all(t.startswith("'") for t in texts)
