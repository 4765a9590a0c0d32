"""Analytics dashboards (数据分析) with date / channel / team / agent filters, and the same
report exported to Excel and PDF."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...analytics import Report
from ...errors import AnfuError
from ...exporters.pdf import PdfExporter
from ...exporters.xlsx import XlsxExporter
from ...service import reports
from ...service.presend_overrides import override_rates
from ...store.access import can, require
from ...web.charts import BOARDS, build_charts
from ...web.i18n import translations
from ..deps import client_ip
from .common import WebUser, locale_of, render, state, web_user

router = APIRouter()


def _gettext(locale: str) -> Any:
    t = translations(locale)

    def gettext(text: str, **values: Any) -> str:
        out = t.gettext(text)
        return out % values if values else out
    return gettext


def make_report(request: Request, user: WebUser, query: dict[str, str]) -> tuple[Report, dict[str, list[str]]]:
    ctx = request.app.state.ctx
    return reports.make_report(ctx.store, ctx.desk, user.principal, query)


def _query(request: Request) -> dict[str, str]:
    return {k: v[:64] for k, v in request.query_params.items() if k in reports.FILTER_KEYS and v}


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
    overrides = None  # the pre-send rules agents override most: supervisors and admins tune them
    if board == "overview" and can(user.principal, "supervise"):
        overrides = override_rates(request.app.state.ctx.store, user.principal)
    return render(request, "analytics.html", user=user, board=board, boards=BOARDS, report=data, charts=charts,
                  query=query, options=options, export_query="&".join(f"{k}={v}" for k, v in query.items()),
                  overrides=overrides)


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
