"""Analytics (数据分析) over REST: the dashboards' report as JSON with the boards' filters,
and the same report as Excel or PDF (personal information masked; audited)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ...exporters.pdf import PdfExporter
from ...exporters.xlsx import XlsxExporter
from ...service import reports
from ...service.presend_overrides import override_rates
from ...store.access import require
from ..deps import Authed, Ctx, client_ip

router = APIRouter(tags=["analytics"])
Text64 = Annotated[str | None, Query(max_length=64)]
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


def _query(date_from: date | None, date_to: date | None, channel: str | None, team: str | None,
           agent: str | None) -> dict[str, str]:
    values = {"date_from": date_from.isoformat() if date_from else None,
              "date_to": date_to.isoformat() if date_to else None, "channel": channel, "team": team, "agent": agent}
    return {k: v for k, v in values.items() if v}


@router.get("/analytics", response_model=dict[str, Any])
def analytics(ctx: Ctx, auth: Authed, date_from: date | None = None, date_to: date | None = None,
              channel: Text64 = None, team: Text64 = None, agent: Text64 = None) -> dict[str, Any]:
    """The report the dashboards draw (emotion mix, trends, causes, escalations, SLA, CSAT,
    agents…), over what you may see, with the boards' filters; plus the filter menus' values."""
    report, options = reports.make_report(ctx.store, ctx.desk, auth.principal,
                                          _query(date_from, date_to, channel, team, agent))
    return {"report": report.to_dict(), "options": options}


@router.get("/analytics/presend-overrides", response_model=dict[str, Any])
def presend_overrides(ctx: Ctx, auth: Authed) -> dict[str, Any]:
    """How often agents sent a reply anyway after the pre-send check stopped it, per rule, over
    the conversations you may see, most overridden first: the noisy rules to tune (supervisors,
    admins)."""
    return {"rules": [r.to_dict() for r in override_rates(ctx.store, auth.principal)]}


@router.get("/analytics/export.{fmt}", response_class=Response,
            responses={200: {"content": {MEDIA["xlsx"]: {}, MEDIA["pdf"]: {}},
                             "description": "the report as a file"}})
def export(fmt: Literal["xlsx", "pdf"], ctx: Ctx, auth: Authed, request: Request, date_from: date | None = None,
           date_to: date | None = None, channel: Text64 = None, team: Text64 = None,
           agent: Text64 = None) -> Response:
    """The report as Excel or PDF (supervisors, admins, auditors; personal data masked; audited)."""
    require(auth.principal, "export")
    query = _query(date_from, date_to, channel, team, agent)
    report, _ = reports.make_report(ctx.store, ctx.desk, auth.principal, query)
    exporter = XlsxExporter(mask_pii=True) if fmt == "xlsx" else PdfExporter(mask_pii=True)
    body = exporter.to_bytes(report)
    ctx.store.audit(auth.principal.tenant_id, auth.principal.actor, "analytics.exported",
                    detail={"format": fmt, "via": "api", **query}, ip=client_ip(request))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    return Response(body, media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="anfu-report-{stamp}.{fmt}"',
                             "Cache-Control": "no-store"})
