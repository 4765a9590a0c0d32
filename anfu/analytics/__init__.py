"""Analytics (数据分析): dashboard figures from analysed conversations and tickets, with
date / channel / team / agent filters; the exporters write the same figures to Excel and PDF.

    >>> report = build_report(assessments, tickets, filters=Filters.make("2025-07-01", "2025-07-31"))
    >>> report.calming.value      # 安抚成功率
"""

from __future__ import annotations

from .buckets import AssessmentFacts, Bucket
from .figures import Rate
from .records import ConversationRecord, Filters
from .report import Report, Table, build_report, format_cell, report_from_buckets

__all__ = ["AssessmentFacts", "Bucket", "ConversationRecord", "Filters", "Rate", "Report", "Table", "build_report",
           "format_cell", "report_from_buckets"]
