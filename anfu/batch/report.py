"""The summary report of a batch run in zh-CN, through the shared exporters: the Excel file
(`anfu.xlsx.v1`, one sheet per table) and a PDF (`anfu.pdf.v1`'s document and tables) with a
bar chart under each table: emotion mix, causes, escalation, quality score by agent and team,
the phrases that drive anger and the agents' worst phrases. Personal data in phrases is masked
like every export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..analytics.report import FLOAT, INT, PERCENT, TEXT, Table
from ..glossary import CAUSE_NAMES, EMOTION_NAMES, display

LEVELS = {"L0": "L0 无需升级", "L1": "L1 提醒坐席", "L2": "L2 班长介入", "L3": "L3 紧急升级"}
TOP = 20


@dataclass(frozen=True)
class BatchReport:
    """Duck-types `analytics.Report` for the exporters: `generated_at`, `filters`, `tables()`."""

    figures: dict[str, Any]
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    filters: Any = None

    def tables(self) -> list[Table]:
        f = self.figures
        mode = "质检评分（anfu batch qa）" if f.get("mode") == "qa" else "情绪分析（anfu batch analyze）"
        esc = f["escalation"]
        calm = f["calmed"]
        rows = (("输入", str(f.get("input", "—")), "—"), ("任务", mode, "—"),
                ("记录数", f["records"], "成功分析的记录"), ("会话数", f["conversations"], "含多轮对话的记录"),
                ("客户发言数", f["customer_turns"], "—"), ("错误记录", f["errors"], "见 .errors.jsonl（含行号）"),
                ("升级风险发言占比", esc["rate"], f"{esc['turns']} 条客户发言含投诉/升级风险"),
                ("安抚成功率", calm["rate"], f"{calm['calmed']} / {calm['upset']}（峰值强度≥3 的会话）"))
        kinds = tuple((TEXT, PERCENT if isinstance(v, float) or v is None else (INT if isinstance(v, int) else TEXT), TEXT)
                      for _, v, _ in rows)
        tables = [Table("batch_summary", "批量分析概览", ("指标", "数值", "说明"), (TEXT, TEXT, TEXT), rows, kinds)]
        total = sum(f["emotions"].values()) or 1
        tables.append(Table("emotions", "情绪分布（客户发言）", ("情绪", "发言数", "占比"), (TEXT, INT, PERCENT),
                            tuple((display(e, EMOTION_NAMES), n, n / total) for e, n in f["emotions"].items())))
        total = sum(f["causes"].values()) or 1
        tables.append(Table("causes", "问题原因", ("原因", "发言数", "占比"), (TEXT, INT, PERCENT),
                            tuple((display(c, CAUSE_NAMES), n, n / total) for c, n in f["causes"].items())))
        levels = esc["levels"]
        total = sum(levels.values()) or 1
        tables.append(Table("escalation", "升级等级（会话）", ("等级", "会话数", "占比"), (TEXT, INT, PERCENT),
                            tuple((LEVELS.get(k, k), n, n / total) for k, n in sorted(levels.items()))))
        score = "质检得分" if f.get("mode") == "qa" else "服务质量分"
        for key, title, rows_ in (("agents", "坐席质量得分（由低到高）", f["agents"]), ("teams", "班组质量得分（由低到高）", f["teams"])):
            tables.append(Table(key, title, ("名称", f"平均{score}", "会话数", "一票否决"), (TEXT, FLOAT, INT, INT),
                                tuple((r["name"], r["mean"], r["count"], r["zeroed"]) for r in rows_[:200])))
        tables.append(Table("anger_phrases", "引发愤怒或不满的高频用语（客户）", ("用语", "次数"), (TEXT, INT),
                            tuple((p, n) for p, n in f["anger_phrases"][:TOP])))
        tables.append(Table("agent_phrases", "坐席高频服务忌语", ("用语", "次数"), (TEXT, INT),
                            tuple((p, n) for p, n in f["agent_phrases"][:TOP])))
        return tables


def write_xlsx(figures: dict[str, Any], target: str | Path) -> None:
    from ..exporters.xlsx import XlsxExporter

    XlsxExporter().write(BatchReport(figures), target)  # type: ignore[arg-type]


CHART_VALUE_COLUMN = {"emotions": 1, "causes": 1, "escalation": 1, "agents": 1, "teams": 1,
                      "anger_phrases": 1, "agent_phrases": 1}


def pdf_bytes(figures: dict[str, Any], font_path: str | Path | None = None) -> bytes:
    """The PDF: title line, then each table followed by its bar chart (top 12 rows)."""
    from ..exporters import pii_masker
    from ..exporters.pdf import BAR_FILL, FAMILY, PdfExporter

    exporter = PdfExporter(font_path=font_path)
    mask = pii_masker(True)
    report = BatchReport(figures)
    pdf = exporter._document()
    pdf.set_title("安抚 批量质检报告")
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 18)
    pdf.cell(0, 12, "安抚 · 批量分析与质检报告", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 9)
    pdf.cell(0, 6, f"生成时间 {report.generated_at.isoformat(timespec='minutes')}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for table in report.tables():
        exporter._table(pdf, table, mask)
        column = CHART_VALUE_COLUMN.get(table.key)
        values = [(str(r[0]), r[column]) for r in table.rows[:12] if column is not None and r[column] is not None]
        if not values:
            continue
        top = max(v for _, v in values) or 1
        if pdf.will_page_break(8 + 6 * len(values)):
            pdf.add_page()
        pdf.set_font(FAMILY, "", 8.5)
        left, width = pdf.l_margin + 42, 150
        for name, value in values:
            y = pdf.get_y()
            pdf.set_xy(pdf.l_margin, y)
            pdf.cell(40, 5, mask(name)[:18], align="R")
            pdf.set_fill_color(*BAR_FILL)
            pdf.rect(left, y + 0.8, max(0.5, width * value / top), 3.6, style="F")
            pdf.set_xy(left + width * value / top + 2, y)
            pdf.cell(20, 5, f"{value:.1f}" if isinstance(value, float) else str(value))
            pdf.set_y(y + 6)
        pdf.set_fill_color(255, 255, 255)
        pdf.ln(4)
    return bytes(pdf.output())


def write_pdf(figures: dict[str, Any], target: str | Path, font_path: str | Path | None = None) -> None:
    from ..exporters import write_bytes

    write_bytes(pdf_bytes(figures, font_path), target)
