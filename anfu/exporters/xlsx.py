"""Excel export of an analytics report: one sheet per table (核心指标, 情绪趋势…), numbers
kept as numbers with percent / decimal formats, written with openpyxl's write-only mode so
large reports stream instead of building the whole workbook in memory."""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from .. import registry
from ..analytics.report import FLOAT, INT, PERCENT, Report, Table
from . import pii_masker, write_bytes

NUMBER_FORMATS = {PERCENT: "0.0%", FLOAT: "0.00", INT: "0"}
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="2F5597")
TITLE_FONT = Font(bold=True, size=14)
MAX_TITLE = 31  # Excel's sheet-name limit
# Text that a spreadsheet would run as a formula when it starts with one of these: agent, team and
# customer names and phrases come from the data (an attacker's agent name "=HYPERLINK(…)"), so such
# text is written with a leading ' (the OWASP advice, which also holds once the sheet is saved as CSV).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: str) -> str:
    """`value` as a spreadsheet shows it as text, never as a formula; control characters that the
    file format cannot hold (a survey comment or a filter with \x0b) become U+FFFD instead of
    failing the whole export."""
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return "'" + value if value.startswith(FORMULA_START) else value


@registry.exporters.register("anfu.xlsx.v1")
class XlsxExporter:
    format = "xlsx"
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def __init__(self, mask_pii: bool = True) -> None:
        self.mask_pii = mask_pii

    def to_bytes(self, report: Report) -> bytes:
        mask = pii_masker(self.mask_pii)
        book = Workbook(write_only=True)
        for table in report.tables():
            sheet = book.create_sheet(title=table.title[:MAX_TITLE])
            self._widths(sheet, table)
            title = WriteOnlyCell(sheet, value=as_text(table.title))
            title.font = TITLE_FONT
            sheet.append([title])
            if table.key == "summary":
                f = report.filters
                sheet.append([as_text(f"生成时间 {report.generated_at.isoformat(timespec='minutes')}"),
                              as_text(f"渠道 {'、'.join(sorted(f.channels)) or '全部'}"),
                              as_text(f"班组 {'、'.join(sorted(f.teams)) or '全部'}"),
                              as_text(f"坐席 {'、'.join(sorted(f.agents)) or '全部'}")])
            sheet.append([self._header(sheet, h) for h in table.headers])
            for i, row in enumerate(table.rows):
                sheet.append([self._cell(sheet, value, table.kind(i, j), mask) for j, value in enumerate(row)])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    def write(self, report: Report, target: str | Path | IO[bytes]) -> None:
        write_bytes(self.to_bytes(report), target)

    @staticmethod
    def _widths(sheet: Any, table: Table) -> None:
        # column widths must be set before the first row in write-only mode
        for j, header in enumerate(table.headers):
            longest = max([len(str(header))] + [len(str(row[j])) for row in table.rows[:200]])
            sheet.column_dimensions[get_column_letter(j + 1)].width = min(60, max(10, longest * 2 + 2))

    @staticmethod
    def _header(sheet: Any, text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=as_text(str(text)))
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        return cell

    @staticmethod
    def _cell(sheet: Any, value: Any, kind: str, mask: Any) -> Any:
        if value is None:
            return "—"
        if isinstance(value, str):
            return as_text(mask(value))
        cell = WriteOnlyCell(sheet, value=value)
        if kind in NUMBER_FORMATS:
            cell.number_format = NUMBER_FORMATS[kind]
        return cell
