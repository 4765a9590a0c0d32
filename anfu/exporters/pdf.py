"""PDF export of an analytics report with fpdf2 and a CJK font (Noto Sans CJK SC from
Debian's fonts-noto-cjk). Same tables as the Excel export, plus a bar chart of the causes.
Without a font that has Chinese glyphs the export stops with AF660, which says how to
install one: a PDF of empty boxes helps nobody."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import IO

from fpdf import FPDF
from fpdf.fonts import FontFace

from .. import registry
from ..analytics.report import TEXT, Report, Table
from ..errors import ExportError
from . import pii_masker, write_bytes

# Looked up in this order; a .ttc collection uses its Simplified Chinese face.
CJK_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
FAMILY = "cjk"
HEADING_FILL = (47, 85, 151)
MAX_COLUMN_WEIGHT = 60
BAR_FILL = (84, 130, 201)


@lru_cache(maxsize=16)
def collection_index(path: str) -> int:
    """Index of the Simplified Chinese face in a font collection (0 when there is none)."""
    if not path.lower().endswith(".ttc"):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(path, lazy=True)
    try:
        for i, font in enumerate(collection.fonts):
            name = str(font["name"].getDebugName(4) or "")
            if name.endswith(" SC") or "SC " in name or "Simplified" in name:
                return i
    finally:
        collection.close()
    return 0


def find_cjk_font(font_path: str | Path | None = None, candidates: tuple[str, ...] = CJK_FONTS) -> Path:
    """The font to use: `font_path` when given, else the first installed candidate (AF660)."""
    paths = (str(font_path),) if font_path else candidates
    for path in paths:
        if Path(path).is_file():
            return Path(path)
    raise ExportError("AF660", ", ".join(paths))


def _bold_of(path: Path) -> Path | None:
    bold = path.with_name(path.name.replace("Regular", "Bold"))
    return bold if bold != path and bold.is_file() else None


@registry.exporters.register("anfu.pdf.v1")
class PdfExporter:
    format = "pdf"
    media_type = "application/pdf"

    def __init__(self, mask_pii: bool = True, font_path: str | Path | None = None) -> None:
        self.mask_pii = mask_pii
        self.font_path = font_path

    def _document(self) -> FPDF:
        font = find_cjk_font(self.font_path)
        pdf = FPDF(orientation="landscape", format="A4")
        pdf.set_auto_page_break(auto=True, margin=12)
        pdf.add_font(FAMILY, "", str(font), collection_font_number=collection_index(str(font)))
        bold = _bold_of(font)
        pdf.add_font(FAMILY, "B", str(bold or font),
                     collection_font_number=collection_index(str(bold or font)))
        pdf.set_title("安抚 客户情绪分析报告")
        pdf.set_creator("Anfu")
        return pdf

    def to_bytes(self, report: Report) -> bytes:
        mask = pii_masker(self.mask_pii)
        pdf = self._document()
        pdf.add_page()
        pdf.set_font(FAMILY, "B", 18)
        pdf.cell(0, 12, "安抚 · 客户情绪分析报告", new_x="LMARGIN", new_y="NEXT")
        f = report.filters
        pdf.set_font(FAMILY, "", 9)
        pdf.cell(0, 6, f"统计区间 {f.date_from or '…'} 至 {f.date_to or '…'}    渠道 {'、'.join(sorted(f.channels)) or '全部'}"
                       f"    班组 {'、'.join(sorted(f.teams)) or '全部'}    坐席 {'、'.join(sorted(f.agents)) or '全部'}"
                       f"    生成时间 {report.generated_at.isoformat(timespec='minutes')}",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        for table in report.tables():
            self._table(pdf, table, mask)
            if table.key == "causes" and table.rows:
                self._bars(pdf, table)
        return bytes(pdf.output())

    def write(self, report: Report, target: str | Path | IO[bytes]) -> None:
        write_bytes(self.to_bytes(report), target)

    @staticmethod
    def _table(pdf: FPDF, table: Table, mask) -> None:  # noqa: ANN001
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.set_fill_color(255, 255, 255)  # table cells take the current fill colour
        pdf.set_font(FAMILY, "B", 12)
        pdf.cell(0, 9, table.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 8.5)
        if not table.rows:
            pdf.cell(0, 7, "（无数据）", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            return
        cells = table.formatted()
        # Widths follow the content, but no column may squeeze the others below one character:
        # a 400-character comment without spaces wraps inside its capped column.
        weights = [min(max([len(h)] + [len(row[j]) for row in cells]) + 2, MAX_COLUMN_WEIGHT)
                   for j, h in enumerate(table.headers)]
        if table.key in ("low_csat", "summary"):  # the free-text column takes the rest of the line
            weights[-1] = max(weights[-1], 40)
        if table.key == "summary":
            align: tuple[str, ...] = ("LEFT", "RIGHT", "LEFT")
        else:
            align = tuple("LEFT" if kind == TEXT else "RIGHT" for kind in table.kinds)
        headings = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=HEADING_FILL)
        with pdf.table(col_widths=tuple(weights), text_align=align, headings_style=headings,
                       line_height=5.5, first_row_as_headings=True) as out:
            row = out.row()
            for header in table.headers:
                row.cell(header)
            for values in cells:
                row = out.row()
                for value in values:
                    row.cell(mask(value))
        pdf.ln(4)

    @staticmethod
    def _bars(pdf: FPDF, table: Table) -> None:
        """Horizontal bars of conversations + tickets per cause."""
        totals = [(row[0], (row[1] or 0) + (row[2] or 0)) for row in table.rows[:10]]
        top = max(t for _, t in totals) or 1
        if pdf.will_page_break(8 + 6 * len(totals)):
            pdf.add_page()
        pdf.set_font(FAMILY, "", 8.5)
        pdf.cell(0, 6, "会话数 + 工单数（前 10 个原因）", new_x="LMARGIN", new_y="NEXT")
        left, width = pdf.l_margin + 30, 150
        for name, total in totals:
            y = pdf.get_y()
            pdf.set_xy(pdf.l_margin, y)
            pdf.cell(28, 5, str(name), align="R")
            pdf.set_fill_color(*BAR_FILL)
            pdf.rect(left, y + 0.8, max(0.5, width * total / top), 3.6, style="F")
            pdf.set_xy(left + width * total / top + 2, y)
            pdf.cell(20, 5, str(total))
            pdf.set_y(y + 6)
        pdf.set_fill_color(255, 255, 255)
        pdf.ln(4)
