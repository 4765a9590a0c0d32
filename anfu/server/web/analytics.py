"""Analytics dashboards (数据分析) with date / channel / team / agent filters, and the same
report exported to Excel and PDF."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...analytics import Filters, Report, build_report
from ...errors import AnfuError
from ...exporters.pdf import PdfExporter
from ...exporters.xlsx import XlsxExporter
from ...store import ConversationFilter
from ...store.access import require
from ...web.charts import BOARDS, build_charts
from ...web.i18n import translations
from ..deps import client_ip
from .common import WebUser, locale_of, render, state, web_user

router = APIRouter()
MAX_CONVERSATIONS = 5000


def _gettext(locale: str) -> Any:
    t = translations(locale)

    def gettext(text: str, **values: Any) -> str:
        out = t.gettext(text)
        return out % values if values else out
    return gettext


def agent_labels(accounts: list[Any]) -> dict[str, str]:
    """Username -> the name dashboards show: the display name (李强), with the username
    added where two accounts share it."""
    names = [a.display_name or a.username for a in accounts]
    return {a.username: (name if names.count(name) == 1 else f"{name}（{a.username}）")
            for a, name in zip(accounts, names)}


def report_inputs(request: Request, user: WebUser) -> tuple[list[dict[str, Any]], list[Any], dict[str, list[str]]]:
    """Assessments with their metadata (day, channel, team, agent) and tickets the user may
    see, plus the values the filter menus offer."""
    ctx = request.app.state.ctx
    teams = {t.id: t.name for t in ctx.store.list_teams(user.principal.tenant_id)}
    accounts = ctx.store.list_users(user.principal.tenant_id)
    labels = agent_labels(accounts)
    users = {u.id: labels[u.username] for u in accounts}
    items: list[dict[str, Any]] = []
    page, fetched = 1, 0
    while fetched < MAX_CONVERSATIONS:
        batch = ctx.store.list_conversations(user.principal, ConversationFilter(), page=page, page_size=200)
        for conversation in batch.items:
            latest = ctx.store.latest_assessment(conversation.id)
            if latest is None or "turns" not in latest.data:
                continue
            data = dict(latest.data)
            data.update(id=str(conversation.id), date=conversation.created_at.isoformat(),
                        channel=conversation.channel, team=teams.get(conversation.team_id),
                        agent=users.get(conversation.agent_id))
            items.append(data)
        fetched += len(batch.items)
        if page >= batch.pages:
            break
        page += 1
    desk = ctx.desk
    tickets = [desk.ticket(r) for r in desk.workflow.all_tickets(user.principal)]
    for ticket in tickets:  # owners are usernames: show them as the agents are shown
        ticket.owner = labels.get(ticket.owner, ticket.owner) if ticket.owner else ticket.owner
    options = {"channels": sorted({i["channel"] for i in items if i.get("channel")} | {t.channel for t in tickets}),
               "teams": sorted({i["team"] for i in items if i.get("team")} | {t.team for t in tickets if t.team}),
               "agents": sorted({i["agent"] for i in items if i.get("agent")} | {t.owner for t in tickets if t.owner})}
    return items, tickets, options


def make_report(request: Request, user: WebUser, query: dict[str, str]) -> tuple[Report, dict[str, list[str]]]:
    items, tickets, options = report_inputs(request, user)
    filters = Filters.make(query.get("date_from") or None, query.get("date_to") or None,
                           channels=[query["channel"]] if query.get("channel") else [],
                           teams=[query["team"]] if query.get("team") else [],
                           agents=[query["agent"]] if query.get("agent") else [])
    desk = request.app.state.ctx.desk
    return build_report(items, tickets, filters=filters, now=datetime.now(timezone.utc), policies=desk.policies), options


def _query(request: Request) -> dict[str, str]:
    keys = ("date_from", "date_to", "channel", "team", "agent")
    return {k: v[:64] for k, v in request.query_params.items() if k in keys and v}


@router.get("/analytics", include_in_schema=False)
@router.get("/analytics/{board}", include_in_schema=False)
def analytics(request: Request, board: str = "overview", user: WebUser = Depends(web_user)) -> Response:
    if board not in BOARDS:
        return render(request, "error.html", user=user, code="AF434", status_code=404)
    query = _query(request)
    locale = locale_of(request)
    try:
        report, options = make_report(request, user, query)
    except AnfuError as exc:
        return render(request, "error.html", user=user, code=exc.code, message=exc.message, status_code=422)
    data = report.to_dict()
    charts = build_charts(data, board, _gettext(locale), locale)
    return render(request, "analytics.html", user=user, board=board, boards=BOARDS, report=data, charts=charts,
                  query=query, options=options, export_query="&".join(f"{k}={v}" for k, v in query.items()))


@router.get("/analytics-export/report.{fmt}", include_in_schema=False)
def export(fmt: str, request: Request, user: WebUser = Depends(web_user)) -> Response:
    """The report as Excel or PDF (personal information masked); audited."""
    require(user.principal, "export")
    if fmt not in ("xlsx", "pdf"):
        return render(request, "error.html", user=user, code="AF434", status_code=404)
    report, _ = make_report(request, user, _query(request))
    if fmt == "xlsx":
        body = XlsxExporter(mask_pii=True).to_bytes(report)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = PdfExporter(mask_pii=True).to_bytes(report)
        media = "application/pdf"
    ctx = request.app.state.ctx
    ctx.store.audit(user.principal.tenant_id, user.principal.actor, "analytics.exported",
                    detail={"format": fmt, **_query(request)}, ip=client_ip(request))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="anfu-report-{stamp}.{fmt}"',
                             "Cache-Control": "no-store"})
