"""Administration pages (系统管理) for admins, and the audit log for admins and auditors: users
(create, deactivate and reactivate, role, team, switch TOTP off for a lost phone) and the audit
log with filters. Every change goes through `anfu.security.Authenticator` and
`anfu.service.staff.Staff`, which check the role and write the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import AnfuError
from ...store.access import require
from ...store.tables import ROLES
from ..deps import client_ip
from .common import WebUser, render, web_form_user, web_user

router = APIRouter()
AUDIT_PAGE = 50
# the families the audit page offers as filters (an action ending in "." matches its family)
AUDIT_FAMILIES = ("auth.", "user.", "team.", "conversation.", "alert.", "supervisor.", "reply.", "ticket.",
                  "export.", "inspection.", "review.")


def _users_page(request: Request, user: WebUser, *, error: str | None = None, created: Any = None,
                status_code: int = 200) -> HTMLResponse:
    services = request.app.state.ctx.services
    require(user.principal, "users.manage")
    users = sorted(services.staff.users(user.principal), key=lambda u: (not u.active, u.role, u.username))
    teams = services.staff.teams(user.principal)
    return render(request, "admin_users.html", user=user, users=users, teams={t.id: t for t in teams},
                  roles=ROLES, error=error, created=created, status_code=status_code)


@router.get("/admin", include_in_schema=False)
def admin_home(user: WebUser = Depends(web_user)) -> Response:
    require(user.principal, "users.manage")
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users", include_in_schema=False)
def admin_users(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    return _users_page(request, user)


def _team(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


@router.post("/admin/users", include_in_schema=False)
def admin_create_user(request: Request, username: str = Form(..., max_length=150),
                      display_name: str = Form("", max_length=100), password: str = Form(..., max_length=1024),
                      role: str = Form(...), team_id: str = Form(""),
                      user: WebUser = Depends(web_form_user)) -> HTMLResponse:
    """A new account with a one-time password (changed at first sign-in)."""
    ctx = request.app.state.ctx
    try:
        if role not in ROLES:
            raise AnfuError("AF505", f"role {role!r}", kind="user")
        created = ctx.auth.create_user(user.principal, username.strip(), password, role, team_id=_team(team_id),
                                       display_name=display_name.strip(), ip=client_ip(request))
    except AnfuError as exc:
        return _users_page(request, user, error=exc.code, status_code=422 if exc.code != "AF417" else 403)
    return _users_page(request, user, created=created)


@router.post("/admin/users/{user_id}", include_in_schema=False)
def admin_update_user(user_id: int, request: Request, role: str = Form(""), team_id: str = Form(""),
                      active: str = Form(""), reset_mfa: str = Form(""),
                      user: WebUser = Depends(web_form_user)) -> HTMLResponse:
    """Change one user: `active` (`1`/`0`), `role` and `team_id`, or `reset_mfa=1`."""
    ctx = request.app.state.ctx
    ip = client_ip(request)
    staff = ctx.services.staff
    try:
        require(user.principal, "users.manage")
        target = next((u for u in staff.users(user.principal) if u.id == user_id), None)
        if target is None:
            raise AnfuError("AF503", user_id, kind="user")
        if active in ("0", "1"):
            staff.update(user.principal, user_id, active=active == "1", ip=ip)
        if role:
            team = _team(team_id)
            if role not in ROLES:
                raise AnfuError("AF505", f"role {role!r}", kind="user")
            if role != target.role:
                ctx.auth.set_role(user.principal, user_id, role, team_id=team, ip=ip)
            elif team != target.team_id:
                staff.update(user.principal, user_id, team_id=team, ip=ip)
        if reset_mfa == "1":
            ctx.auth.reset_mfa(user.principal, user_id, ip=ip)
    except AnfuError as exc:
        return _users_page(request, user, error=exc.code, status_code=403 if exc.code == "AF417" else 422)
    return _users_page(request, user)


@router.get("/admin/audit", include_in_schema=False)
def admin_audit(request: Request, action: str = Query("", max_length=64), actor: str = Query("", max_length=160),
                target: str = Query("", max_length=160), page: int = Query(1, ge=1, le=100_000),
                user: WebUser = Depends(web_user)) -> HTMLResponse:
    """The audit log, newest first, filtered by action (or family, e.g. `alert.`), actor, target."""
    ctx = request.app.state.ctx
    result = ctx.store.list_audit(user.principal, action=action.strip() or None, actor=actor.strip() or None,
                                  target=target.strip() or None, page=page, page_size=AUDIT_PAGE)
    return render(request, "admin_audit.html", user=user, entries=result.items, total=result.total, page=result.page,
                  pages=result.pages, filters={"action": action, "actor": actor, "target": target},
                  families=AUDIT_FAMILIES)


__all__ = ["router"]
