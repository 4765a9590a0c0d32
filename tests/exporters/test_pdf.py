from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from anfu import registry
from anfu.analytics import build_report
from sample_fortnight import demo_dataset
from anfu.errors import ExportError
from anfu.exporters.pdf import CJK_FONTS, PdfExporter, collection_index, find_cjk_font

NOW = datetime(2025, 7, 22, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HAS_FONT = any(Path(p).is_file() for p in CJK_FONTS)
needs_font = pytest.mark.skipif(not HAS_FONT, reason="no CJK font: apt-get install -y fonts-noto-cjk")


@pytest.fixture(scope="module")
def report():
    assessments, tickets = demo_dataset()
    report = build_report(assessments, tickets, now=NOW)
    assert any("13812345678" in r["comment"] for r in report.low_csat)  # something to mask
    return report


def test_registered_under_a_versioned_name() -> None:
    assert registry.exporters.get("anfu.pdf.v1") is PdfExporter
    assert "anfu.pdf.v1" in registry.exporters.names() and "anfu.xlsx.v1" in registry.exporters.names()


def test_missing_cjk_font_says_how_to_install_one(report, tmp_path: Path) -> None:
    with pytest.raises(ExportError) as err:
        find_cjk_font(candidates=(str(tmp_path / "none.ttc"),))
    assert err.value.code == "AF660" and "apt-get install -y fonts-noto-cjk" in err.value.message
    with pytest.raises(ExportError) as err:
        PdfExporter(font_path=tmp_path / "missing.otf").to_bytes(report)
    assert err.value.code == "AF660" and "missing.otf" in err.value.message


@needs_font
def test_noto_collection_uses_its_simplified_chinese_face() -> None:
    font = find_cjk_font()
    if font.suffix == ".ttc" and "NotoSansCJK" in font.name:
        from fontTools.ttLib import TTCollection

        index = collection_index(str(font))
        names = TTCollection(str(font), lazy=True).fonts[index]["name"].getDebugName(4)
        assert names.endswith("SC")


def _text_of(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@needs_font
def test_pdf_contains_the_chinese_figures_with_pii_masked(report, tmp_path: Path) -> None:
    data = PdfExporter().to_bytes(report)
    assert data.startswith(b"%PDF-") and len(data) > 5_000
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = _text_of(data, tmp_path)
    for heading in ("客户情绪分析报告", "核心指标", "安抚成功率", "情绪趋势", "投诉原因", "坐席视图", "班组视图"):
        assert heading in text, heading
    assert f"{report.calming.value * 100:.1f}%" in text
    assert "138****5678" in text and "13812345678" not in text


@needs_font
def test_write_to_a_file_object_and_a_path(report, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    PdfExporter().write(report, buffer)
    assert buffer.getvalue().startswith(b"%PDF-")
    path = tmp_path / "安抚月报.pdf"
    PdfExporter(mask_pii=False).write(report, path)
    assert path.read_bytes().startswith(b"%PDF-")
