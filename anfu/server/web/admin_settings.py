"""The admin console's settings page (设置): the tenant's own settings, editable (its display
name), and the server settings in force for it, read-only with their effective values (set by
`ANFU_*` variables for the whole server; secrets only as set or unset).
`anfu.service.tenant_settings.TenantSettings` checks the role and audits (`tenant.renamed`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from ...errors import AnfuError
from ..deps import client_ip
from .admin import admin_form_user, admin_user, error_status
from .common import WebUser, render

router = APIRouter()


def _page(request: Request, user: WebUser, *, error: AnfuError | None = None, saved: bool = False,
          status_code: int = 200) -> HTMLResponse:
    ctx = request.app.state.ctx
    view = ctx.services.tenant_settings.view(user.principal, ctx.settings)
    return render(request, "admin_settings.html", user=user, view=view, error=error, saved=saved, tab="settings",
                  status_code=status_code)


@router.get("/admin/settings", include_in_schema=False)
def admin_settings(request: Request, user: WebUser = Depends(admin_user)) -> HTMLResponse:
    return _page(request, user)


@router.post("/admin/settings", include_in_schema=False)
def admin_save_settings(request: Request, name: str = Form("", max_length=400),
                        user: WebUser = Depends(admin_form_user)) -> HTMLResponse:
    try:
        request.app.state.ctx.services.tenant_settings.rename(user.principal, name, ip=client_ip(request))
    except AnfuError as exc:
        return _page(request, user, error=exc, status_code=error_status(exc))
    return _page(request, user, saved=True)


__all__ = ["router"]
