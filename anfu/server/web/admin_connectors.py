"""The admin console's connectors page (连接器): each helpdesk's base URL, account, API token
and webhook secret for this tenant (secrets masked once saved; a generated webhook secret
shown once), the webhook address to paste into the helpdesk, and a connection test with its
last result. `anfu.service.helpdesks.Helpdesks` validates, seals, scopes and audits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from ...errors import AnfuError
from ..deps import client_ip, public_base
from .admin import admin_form_user, admin_user, error_status
from .common import WebUser, render

router = APIRouter()


def _page(request: Request, user: WebUser, *, error: AnfuError | None = None, error_kind: str | None = None,
          saved: Any = None, tested: Any = None, status_code: int = 200) -> HTMLResponse:
    ctx = request.app.state.ctx
    views = ctx.services.helpdesks.overview(user.principal)
    tenant = ctx.store.get_tenant(user.principal.tenant_id)
    return render(request, "admin_connectors.html", user=user, connectors=views, tenant=tenant, error=error,
                  error_kind=error_kind, saved=saved, tested=tested, base_url=public_base(request).rstrip("/"),
                  tab="connectors", status_code=status_code)


@router.get("/admin/connectors", include_in_schema=False)
def admin_connectors(request: Request, user: WebUser = Depends(admin_user)) -> HTMLResponse:
    return _page(request, user)


@router.post("/admin/connectors/{kind}", include_in_schema=False)
def admin_save_connector(kind: str, request: Request, base_url: str = Form("", max_length=1000),
                         account: str = Form("", max_length=64), api_token: str = Form("", max_length=500),
                         webhook_secret: str = Form("", max_length=500), active: str = Form(""),
                         user: WebUser = Depends(admin_form_user)) -> HTMLResponse:
    """Save a connector; empty secret fields keep the saved secrets."""
    try:
        saved = request.app.state.ctx.services.helpdesks.save(
            user.principal, kind, base_url=base_url, account=account, api_token=api_token,
            webhook_secret=webhook_secret, active=active == "1", ip=client_ip(request))
    except AnfuError as exc:
        return _page(request, user, error=exc, error_kind=kind[:16], status_code=error_status(exc))
    return _page(request, user, saved=saved)


@router.post("/admin/connectors/{kind}/test", include_in_schema=False)
def admin_test_connector(kind: str, request: Request, user: WebUser = Depends(admin_form_user)) -> HTMLResponse:
    """Call the helpdesk with the saved token and show (and keep) the result."""
    try:
        tested = request.app.state.ctx.services.helpdesks.test(user.principal, kind, ip=client_ip(request))
    except AnfuError as exc:
        return _page(request, user, error=exc, error_kind=kind[:16], status_code=error_status(exc))
    return _page(request, user, tested=tested)


__all__ = ["router"]
