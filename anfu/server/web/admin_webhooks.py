"""The admin console's outgoing webhooks page: register a URL and the events it receives (the
signing secret shown once), list, disable, and each webhook's delivery log (state, attempts,
last HTTP status or error). `anfu.service.webhooks.Webhooks` checks the role, scopes to the
tenant and audits (`webhook.registered`, `webhook.deactivated`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from ...errors import AnfuError
from ...service.webhooks import EVENTS
from ..deps import client_ip
from .admin import admin_form_user, admin_user, error_status
from .common import WebUser, render

router = APIRouter()
DELIVERIES_SHOWN = 200


def _page(request: Request, user: WebUser, *, error: AnfuError | None = None, registered: tuple[Any, str] | None = None,
          form: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    hooks = request.app.state.ctx.services.webhooks.list(user.principal)
    return render(request, "admin_webhooks.html", user=user, hooks=sorted(hooks, key=lambda h: (not h.active, -h.id)),
                  events=EVENTS, error=error, registered=registered, form=form or {"url": "", "events": []},
                  tab="webhooks", status_code=status_code)


@router.get("/admin/webhooks", include_in_schema=False)
def admin_webhooks(request: Request, user: WebUser = Depends(admin_user)) -> HTMLResponse:
    return _page(request, user)


@router.post("/admin/webhooks", include_in_schema=False)
def admin_register_webhook(request: Request, url: str = Form(..., max_length=1000),
                           events: list[str] = Form(default=[], max_length=64),
                           user: WebUser = Depends(admin_form_user)) -> HTMLResponse:
    """Register a webhook; the page shows its signing secret once."""
    try:
        hook, secret = request.app.state.ctx.services.webhooks.register(user.principal, url.strip(), events[:64],
                                                                        ip=client_ip(request))
    except AnfuError as exc:
        return _page(request, user, error=exc, form={"url": url, "events": events}, status_code=error_status(exc))
    return _page(request, user, registered=(hook, secret), status_code=201)


@router.post("/admin/webhooks/{webhook_id}/disable", include_in_schema=False)
def admin_disable_webhook(webhook_id: int, request: Request, user: WebUser = Depends(admin_form_user)) -> HTMLResponse:
    try:
        request.app.state.ctx.services.webhooks.deactivate(user.principal, webhook_id, ip=client_ip(request))
    except AnfuError as exc:
        return _page(request, user, error=exc, status_code=error_status(exc))
    return _page(request, user)


@router.get("/admin/webhooks/{webhook_id}", include_in_schema=False)
def admin_webhook_deliveries(webhook_id: int, request: Request, user: WebUser = Depends(admin_user)) -> HTMLResponse:
    """One webhook and its delivery log, newest first."""
    webhooks = request.app.state.ctx.services.webhooks
    try:
        hook = webhooks.get(user.principal, webhook_id)
        deliveries = webhooks.deliveries(user.principal, webhook_id, limit=DELIVERIES_SHOWN)
    except AnfuError as exc:
        return render(request, "error.html", user=user, code=exc.code, status_code=error_status(exc))
    counts = {state: sum(1 for d in deliveries if d.state == state) for state in ("pending", "delivered", "failed")}
    return render(request, "admin_webhook.html", user=user, hook=hook, deliveries=deliveries, counts=counts,
                  tab="webhooks")


__all__ = ["router"]
