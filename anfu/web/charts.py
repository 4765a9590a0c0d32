"""ECharts options for the analytics dashboards, built in Python from one `Report.to_dict()`
so every chart shows exactly the figures of the Excel and PDF exports. Options are plain
JSON (no functions): the page hands them to `echarts.setOption` unchanged, drawn with the
SVG renderer in the page's locale."""

from __future__ import annotations

from typing import Any, Callable

from ..glossary import EMOTIONS
from . import labels

BOARDS: tuple[str, ...] = ("overview", "emotion", "causes", "escalation", "csat", "sla", "agents", "teams")
EMOTION_COLOURS = {"neutral": "#94a3b8", "satisfied": "#16a34a", "anxious": "#f59e0b", "doubtful": "#8b5cf6",
                   "disappointed": "#3b82f6", "dissatisfied": "#f97316", "angry": "#dc2626"}
PALETTE = ["#0f766e", "#2563eb", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#65a30d", "#db2777"]


def _pct(rate: dict[str, Any] | None) -> float | None:
    value = (rate or {}).get("value")
    return None if value is None else round(value * 100, 1)


def _base(title: str) -> dict[str, Any]:
    return {"title": {"text": title, "left": 8, "top": 4, "textStyle": {"fontSize": 14, "fontWeight": 600}},
            "color": PALETTE, "tooltip": {"trigger": "axis"},
            "grid": {"left": 48, "right": 24, "top": 56, "bottom": 40, "containLabel": True},
            "animation": False}


def gauge(title: str, value: float | None, name: str, max_value: float = 100, unit: str = "%") -> dict[str, Any]:
    option = _base(title)
    option.pop("grid")
    option["tooltip"] = {"trigger": "item"}
    option["series"] = [{"type": "gauge", "min": 0, "max": max_value, "radius": "88%", "center": ["50%", "60%"],
                         "progress": {"show": True, "width": 14}, "axisLine": {"lineStyle": {"width": 14}},
                         "pointer": {"show": False}, "axisTick": {"show": False}, "splitLine": {"show": False},
                         "axisLabel": {"show": False},
                         "detail": {"valueAnimation": False, "fontSize": 26, "offsetCenter": [0, "10%"],
                                    "formatter": "{value}" + unit},
                         "title": {"offsetCenter": [0, "45%"], "fontSize": 12},
                         "data": [{"value": value if value is not None else 0, "name": name}]}]
    return option


def build_charts(report: dict[str, Any], board: str, _: Callable[[str], str], locale: str) -> list[dict[str, Any]]:
    """The charts of one dashboard: [{"id", "option", "wide"}]."""
    charts: list[dict[str, Any]] = []

    def add(chart_id: str, option: dict[str, Any], wide: bool = False, names: bool = False) -> None:
        # names: the chart's axis shows agents' or teams' names (tenant data, not page chrome)
        charts.append({"id": chart_id, "option": option, "wide": wide, "names": names})

    trend = report["emotion_trend"]
    days = [d["date"][5:] for d in trend]
    emotion_names = {e: labels.emotion_name(e, locale) for e in EMOTIONS}
    if board in ("overview", "emotion"):
        option = _base(_("情绪趋势（客户各轮情绪，按日）"))
        option["legend"] = {"top": 28, "type": "scroll"}
        option["xAxis"] = {"type": "category", "data": days}
        option["yAxis"] = [{"type": "value", "name": _("轮次")}, {"type": "value", "name": _("强度"), "max": 4}]
        option["series"] = [{"type": "bar", "stack": "e", "name": emotion_names[e], "itemStyle": {"color": EMOTION_COLOURS[e]},
                             "data": [d["emotions"][e] for d in trend]} for e in EMOTIONS]
        option["series"].append({"type": "line", "name": _("平均峰值强度"), "yAxisIndex": 1, "smooth": True,
                                  "itemStyle": {"color": "#111827"},
                                  "data": [None if d["mean_peak"] is None else round(d["mean_peak"], 2) for d in trend]})
        add("emotion-trend", option, wide=True)
    if board == "emotion":
        option = _base(_("情绪值与强烈情绪占比"))
        option["legend"] = {"top": 28}
        option["xAxis"] = {"type": "category", "data": days}
        option["yAxis"] = [{"type": "value", "name": _("情绪值"), "min": -1, "max": 1},
                           {"type": "value", "name": "%", "max": 100}]
        option["series"] = [
            {"type": "line", "name": _("平均情绪值"), "data": [None if d["mean_valence"] is None else round(d["mean_valence"], 2) for d in trend]},
            {"type": "bar", "name": _("强烈情绪占比"), "yAxisIndex": 1, "data": [_pct(d["strong"]) for d in trend]}]
        add("emotion-valence", option, wide=True)
    if board in ("overview", "causes"):
        causes = report["causes"]
        option = _base(_("投诉原因"))
        option["legend"] = {"top": 28}
        option["yAxis"] = {"type": "category", "data": [labels.cause_name(c["cause"], locale) for c in causes][::-1]}
        option["xAxis"] = {"type": "value"}
        option["series"] = [{"type": "bar", "name": _("会话数"), "data": [c["conversations"] for c in causes][::-1]},
                            {"type": "bar", "name": _("工单数"), "data": [c["tickets"] for c in causes][::-1]}]
        add("causes", option, wide=board == "causes")
    if board == "causes":
        option = _base(_("工单原因占比"))
        option.pop("grid")
        option["tooltip"] = {"trigger": "item"}
        option["series"] = [{"type": "pie", "radius": ["35%", "65%"], "center": ["50%", "58%"],
                             "data": [{"name": labels.cause_name(c["cause"], locale), "value": c["tickets"]}
                                      for c in report["causes"] if c["tickets"]]}]
        add("causes-share", option)
    if board in ("overview", "escalation"):
        add("escalation-rate", gauge(_("升级率"), _pct(report["escalation"]), _("升级到班长及以上")))
        add("calming-rate", gauge(_("安抚成功率"), _pct(report["calming"]), _("强烈情绪后平复")))
    if board == "escalation":
        add("complaint-rate", gauge(_("投诉率（每十万接触）"), report["complaint_rate"]["per_100k"] and
                                    round(report["complaint_rate"]["per_100k"]),
                                    _("工单数 ÷ 接触量 × 100000"), max_value=max(100000, 1), unit=""))
    if board in ("overview", "csat"):
        dist = report["csat"]["distribution"]
        option = _base(_("满意度分布"))
        option["xAxis"] = {"type": "category", "data": [_("%(score)s 分", score=s) for s in sorted(dist, key=int)]}
        option["yAxis"] = {"type": "value", "name": _("份数")}
        option["series"] = [{"type": "bar", "name": _("份数"), "data": [
            {"value": dist[s], "itemStyle": {"color": ["#dc2626", "#f97316", "#facc15", "#84cc16", "#16a34a"][int(s) - 1]}}
            for s in sorted(dist, key=int)]}]
        add("csat-distribution", option)
    if board == "csat":
        avg = report["csat"]["average"]
        add("csat-average", gauge(_("满意度平均分"), None if avg is None else round(avg, 2), _("满分 5 分"),
                                  max_value=5, unit=""))
        add("csat-satisfied", gauge(_("满意率（4-5 分）"), _pct(report["csat"]["satisfied"]), _("4-5 分占比")))
    if board in ("overview", "sla"):
        sla = report["sla"]
        option = _base(_("SLA 达标率"))
        option["xAxis"] = {"type": "category", "data": [_("响应及时率"), _("解决及时率")]}
        option["yAxis"] = {"type": "value", "max": 100, "name": "%"}
        option["series"] = [{"type": "bar", "name": _("达标率"), "barWidth": "40%",
                             "data": [_pct(sla["response"]), _pct(sla["resolution"])]}]
        add("sla-compliance", option)
    if board == "sla":
        add("sla-breached", gauge(_("超时未办结工单"), report["sla"]["breached_open"], _("需立即跟进"),
                                  max_value=max(10, report["tickets"]), unit=""))
    for key in ("agents", "teams"):
        if board != key and not (board == "escalation" and key == "agents"):
            continue
        rows = report[key]
        who = key[:-1]
        names = [r[who] for r in rows]
        option = _base(_("坐席视图") if key == "agents" else _("班组视图"))
        option["legend"] = {"top": 28}
        option["xAxis"] = {"type": "category", "data": names, "axisLabel": {"interval": 0}}
        option["yAxis"] = [{"type": "value", "name": _("数量")}, {"type": "value", "name": "%", "max": 100}]
        option["series"] = [
            {"type": "bar", "name": _("会话数"), "data": [r["conversations"] for r in rows]},
            {"type": "bar", "name": _("工单数"), "data": [r["tickets"] for r in rows]},
            {"type": "line", "name": _("升级率"), "yAxisIndex": 1, "data": [_pct(r["escalation"]) for r in rows]},
            {"type": "line", "name": _("安抚成功率"), "yAxisIndex": 1, "data": [_pct(r["calming"]) for r in rows]},
            {"type": "line", "name": _("响应及时率"), "yAxisIndex": 1, "data": [_pct(r["sla_response"]) for r in rows]}]
        add(f"{key}-breakdown", option, wide=True, names=True)
    return charts
