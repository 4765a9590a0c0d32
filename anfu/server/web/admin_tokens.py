"""The admin console's API tokens page (API 令牌): the tenant's integration tokens (never the
token itself again), issuing one (its secret shown on this page exactly once) and revoking
one. `anfu.security.Authenticator` checks the role, scopes to the tenant and audits
(`token.created`, `token.revoked`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from ...errors import AnfuError, NotFoundError
from ...store.tables import ROLES
from ..deps import client_ip
from .admin import admin_form_user, admin_user, error_status
from .common import WebUser, optional_id, render

router = APIRouter()


def _page(request: Request, user: WebUser, *, error: AnfuError | None = None, issued: tuple[Any, str] | None = None,
          revoked: Any = None, status_code: int = 200) -> HTMLResponse:
    ctx = request.app.state.ctx
    tokens = ctx.auth.api_tokens(user.principal)
    teams = {t.id: t for t in ctx.services.staff.teams(user.principal)}
    users = {u.id: u for u in ctx.services.staff.users(user.principal)}
    return render(request, "admin_tokens.html", user=user, tokens=tokens, teams=teams, users=users, roles=ROLES,
                  error=error, issued=issued, revoked=revoked, tab="tokens", status_code=status_code)


@router.get("/admin/tokens", include_in_schema=False)
def admin_tokens(request: Request, user: WebUser = Depends(admin_user)) -> HTMLResponse:
    return _page(request, user)


@router.post("/admin/tokens", include_in_schema=False)
def admin_issue_token(request: Request, name: str = Form(..., max_length=200), role: str = Form("supervisor"),
                      team_id: str = Form("", max_length=20),
                      user: WebUser = Depends(admin_form_user)) -> HTMLResponse:
    """Issue a token for an integration; the page shows it once."""
    ctx = request.app.state.ctx
    try:
        team = optional_id(team_id, "team")
        if not name.strip():
            raise AnfuError("AF505", "name: give the integration a name", kind="API token")
        if role not in ROLES:
            raise AnfuError("AF505", f"role {role[:20]!r}", kind="API token")
        if team is not None and team not in {t.id for t in ctx.services.staff.teams(user.principal)}:
            raise NotFoundError("AF503", team, kind="team")
        token, record = ctx.auth.issue_api_token(user.principal, " ".join(name.split()), role, team_id=team,
                                                 ip=client_ip(request))
    except AnfuError as exc:
        return _page(request, user, error=exc, status_code=error_status(exc))
    return _page(request, user, issued=(record, token), status_code=201)


@router.post("/admin/tokens/{token_id}/revoke", include_in_schema=False)
def admin_revoke_token(token_id: int, request: Request, user: WebUser = Depends(admin_form_user)) -> HTMLResponse:
    """Revoke one of the tenant's tokens; another tenant's (or an unknown) id is not found."""
    ctx = request.app.state.ctx
    try:
        ctx.auth.revoke_api_token(user.principal, token_id, ip=client_ip(request))  # AF503 for another's
    except AnfuError as exc:
        return _page(request, user, error=exc, status_code=error_status(exc))
    return _page(request, user, revoked=token_id)


__all__ = ["router"]
