"""One analytics report: every dashboard figure for a filter selection, as a dict for the
web UI (`to_dict`) and as titled tables for the exporters (`tables`), so the screens, the
Excel file and the PDF always show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from ..errors import AnalyticsError
from ..glossary import CAUSE_NAMES, EMOTION_NAMES, EMOTIONS, display
from ..workflow.sla import SlaPolicies
from ..workflow.tickets import Ticket, aware
from . import figures
from .buckets import Bucket
from .records import ConversationRecord, Filters

# column kinds the exporters format: text, int, float (2 decimals), percent
TEXT, INT, FLOAT, PERCENT = "text", "int", "float", "percent"


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    headers: tuple[str, ...]
    kinds: tuple[str, ...]                                   # per column
    rows: tuple[tuple[Any, ...], ...]
    cell_kinds: tuple[tuple[str, ...], ...] | None = None    # per cell, when rows differ

    def kind(self, row: int, column: int) -> str:
        return self.cell_kinds[row][column] if self.cell_kinds else self.kinds[column]

    def formatted(self) -> list[list[str]]:
        """The rows as display strings (what the PDF prints)."""
        return [[format_cell(v, self.kind(i, j)) for j, v in enumerate(row)] for i, row in enumerate(self.rows)]


def format_cell(value: Any, kind: str) -> str:
    """Display form of a figure: a missing value (a rate over nothing) is "—"."""
    if value is None:
        return "—"
    if kind == PERCENT:
        return f"{value * 100:.1f}%"
    if kind == FLOAT:
        return f"{value:.2f}"
    return str(value)


@dataclass(frozen=True)
class Report:
    generated_at: datetime
    filters: Filters
    conversations: int
    tickets: int
    emotion_trend: list[dict[str, Any]]
    causes: list[dict[str, Any]]
    escalation: figures.Rate
    calming: figures.Rate
    csat: dict[str, Any]
    complaint_rate: dict[str, Any]
    sla: dict[str, Any]
    agents: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    low_csat: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(), "filters": self.filters.to_dict(),
            "conversations": self.conversations, "tickets": self.tickets,
            "emotion_trend": self.emotion_trend, "causes": self.causes,
            "escalation": self.escalation.to_dict(), "calming": self.calming.to_dict(),
            "csat": self.csat, "complaint_rate": self.complaint_rate, "sla": self.sla,
            "agents": self.agents, "teams": self.teams, "low_csat": self.low_csat,
        }

    def tables(self) -> list[Table]:
        """The report as tables with zh-CN headings, in reading order."""
        def rate(d: dict[str, Any] | figures.Rate) -> float | None:
            return d.value if isinstance(d, figures.Rate) else d["value"]

        f = self.filters
        period = f"{f.date_from or '…'} 至 {f.date_to or '…'}"
        summary = (
            ("统计区间", period, "—"),
            ("会话数", self.conversations, "已分析的会话"),
            ("工单数（投诉）", self.tickets, "区间内新建的投诉工单"),
            ("接触量", self.complaint_rate["contacts"], "计算投诉率的分母"),
            ("投诉率（每十万接触）", self.complaint_rate["per_100k"], "工单数 ÷ 接触量 × 100000"),
            ("升级率", rate(self.escalation), f"{self.escalation.numerator} / {self.escalation.denominator}"),
            ("安抚成功率", rate(self.calming), f"{self.calming.numerator} / {self.calming.denominator}（峰值强度≥3）"),
            ("满意度平均分", self.csat["average"], f"{self.csat['responses']} 份评价"),
            ("满意率（4-5 分）", rate(self.csat["satisfied"]), "—"),
            ("响应及时率", rate(self.sla["response"]), "首次响应在时限内"),
            ("解决及时率", rate(self.sla["resolution"]), "解决在时限内"),
            ("超时未办结工单", self.sla["breached_open"], "需立即跟进"),
        )
        kinds = {"升级率": PERCENT, "安抚成功率": PERCENT, "满意率（4-5 分）": PERCENT, "响应及时率": PERCENT,
                 "解决及时率": PERCENT, "满意度平均分": FLOAT, "投诉率（每十万接触）": FLOAT}
        value_kinds = tuple((TEXT, kinds.get(name, INT if isinstance(value, int) else TEXT), TEXT)
                            for name, value, _ in summary)
        tables = [Table("summary", "核心指标", ("指标", "数值", "说明"), (TEXT, TEXT, TEXT), summary, value_kinds)]

        emo = tuple(display(e, EMOTION_NAMES) for e in EMOTIONS)
        tables.append(Table(
            "emotion_trend", "情绪趋势（按日）",
            ("日期", "会话数", "平均峰值强度", "平均结束强度", "平均情绪值", "强烈情绪占比", *emo),
            (TEXT, INT, FLOAT, FLOAT, FLOAT, PERCENT, *([INT] * len(emo))),
            tuple((d["date"], d["conversations"], d["mean_peak"], d["mean_end"], d["mean_valence"],
                   d["strong"]["value"], *(d["emotions"][e] for e in EMOTIONS)) for d in self.emotion_trend)))
        tables.append(Table(
            "causes", "投诉原因", ("原因", "会话数", "工单数"), (TEXT, INT, INT),
            tuple((display(c["cause"], CAUSE_NAMES), c["conversations"], c["tickets"]) for c in self.causes)))
        responses = self.csat["responses"]
        tables.append(Table(
            "csat", "满意度分布", ("评分", "份数", "占比"), (TEXT, INT, PERCENT),
            tuple((f"{s} 分", n, n / responses if responses else None)
                  for s, n in sorted(self.csat["distribution"].items(), reverse=True))))
        for key, title, who, rows in (("agents", "坐席视图", "坐席", self.agents),
                                      ("teams", "班组视图", "班组", self.teams)):
            tables.append(Table(
                key, title, (who, "会话数", "升级率", "安抚成功率", "平均质检分", "工单数", "满意度平均分",
                             "响应及时率", "解决及时率"),
                (TEXT, INT, PERCENT, PERCENT, FLOAT, INT, FLOAT, PERCENT, PERCENT),
                tuple((r[key[:-1]], r["conversations"], r["escalation"]["value"], r["calming"]["value"],
                       r["mean_quality"], r["tickets"], r["csat_average"], r["sla_response"]["value"],
                       r["sla_resolution"]["value"]) for r in rows)))
        tables.append(Table(
            "low_csat", "低分评价（≤2 分，已重开工单）", ("工单", "坐席", "原因", "评分", "评价"),
            (TEXT, TEXT, TEXT, INT, TEXT),
            tuple((r["ticket_id"], r["agent"] or figures.UNASSIGNED, display(r["cause"], CAUSE_NAMES),
                   r["score"], r["comment"]) for r in self.low_csat)))
        return tables


def _records(items: Iterable[Any], tz: str) -> list[ConversationRecord]:
    out = []
    for item in items:
        out.append(item if isinstance(item, ConversationRecord) else ConversationRecord.from_assessment(item, tz))
    return out


def build_report(
    assessments: Iterable[dict[str, Any] | ConversationRecord],
    tickets: Iterable[Ticket] = (),
    *,
    filters: Filters | None = None,
    now: datetime | None = None,
    contacts: int | None = None,
    policies: SlaPolicies | None = None,
) -> Report:
    """All figures for the selection, from `anfu analyze` output objects (or records).
    `contacts` is the number of customer contacts in the period (calls, chats…) when only part
    of them was analysed; by default the number of conversations selected."""
    filters = filters or Filters()
    buckets = [r.bucket() for r in _records(assessments, filters.timezone)]
    return report_from_buckets(buckets, tickets, filters=filters, now=now, contacts=contacts, policies=policies)


def report_from_buckets(
    buckets: Iterable[Bucket],
    tickets: Iterable[Ticket] = (),
    *,
    filters: Filters | None = None,
    now: datetime | None = None,
    contacts: int | None = None,
    policies: SlaPolicies | None = None,
) -> Report:
    """All figures for the selection from buckets (the database's sums per day, channel, team
    and agent, or one bucket per analysed conversation)."""
    filters = filters or Filters()
    now = aware(now, "now") if now is not None else datetime.now(timezone.utc)
    if contacts is not None and (isinstance(contacts, bool) or not isinstance(contacts, int) or contacts < 0):
        raise AnalyticsError("AF651", f"contacts={contacts!r}", reason="must be a whole number ≥ 0")
    policies = policies or SlaPolicies.load()
    kept_buckets = [b for b in buckets if filters.keep_bucket(b)]
    conversations = sum(b.conversations for b in kept_buckets)
    kept = [t for t in tickets if filters.keep_ticket(t)]
    statuses = figures.sla_statuses(kept, now, policies)
    low = [{"ticket_id": t.id, "agent": t.owner, "cause": t.cause, "score": t.csat_score,
            "comment": t.csat_comment or ""}
           for t in kept if t.csat_score is not None and t.csat_score <= figures.LOW_SCORE]
    return Report(
        generated_at=now,
        filters=filters,
        conversations=conversations,
        tickets=len(kept),
        emotion_trend=figures.emotion_trend(kept_buckets),
        causes=figures.cause_counts(kept_buckets, kept),
        escalation=figures.escalation_rate(kept_buckets),
        calming=figures.calming_rate(kept_buckets),
        csat=figures.csat_summary(kept),
        complaint_rate=figures.complaint_rate(len(kept), conversations if contacts is None else contacts),
        sla=figures.sla_compliance(kept, now, policies, statuses),
        agents=figures.breakdown(kept_buckets, kept, "agent", now, policies, statuses),
        teams=figures.breakdown(kept_buckets, kept, "team", now, policies, statuses),
        low_csat=low,
    )
