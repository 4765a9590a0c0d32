"""Administration pages (系统管理) for admins, and the audit log for admins and auditors: users
(create, deactivate and reactivate, role, team, a one-time password reset, switch TOTP off for
a lost phone) and the audit log with filters (action, actor, object, date range) and paging.
Every change goes through `anfu.security.Authenticator` and `anfu.service.staff.Staff`, which
check the role and write the audit log.

`admin_user` / `admin_form_user` guard every admin page and form: anyone else gets the 403
page (`Forbidden`, rendered by `forbidden_page`), before any form is read or any change made.
The other admin pages (API tokens, webhooks, connectors, settings) are the `admin_*` modules."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import AnfuError, InputError
from ...store.access import can, require
from ...store.tables import ROLES
from ...web.render import DISPLAY_TZ
from ..deps import client_ip
from .page_errors import form_status
from .common import WebUser, optional_id, render, web_form_user, web_user

router = APIRouter()
AUDIT_PAGE = 50
# the families the audit page offers as filters (an action ending in "." matches its family)
AUDIT_FAMILIES = ("auth.", "user.", "team.", "token.", "webhook.", "connector.", "tenant.", "conversation.",
                  "alert.", "supervisor.", "reply.", "ticket.", "export.", "inspection.", "review.")
# the admin console's sections, in the order of its tabs
ADMIN_TABS = ("users", "tokens", "webhooks", "connectors", "settings", "audit")


class Forbidden(Exception):
    """A signed-in user opened or posted to a page their role may not use."""

    def __init__(self, user: WebUser) -> None:
        super().__init__("forbidden")
        self.user = user


async def forbidden_page(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, Forbidden)
    return render(request, "error.html", user=exc.user, code="AF417", forbidden=True, status_code=403)


def admin_user(request: Request) -> WebUser:
    """Dependency of the admin pages: a signed-in admin, else the 403 page."""
    user = web_user(request)
    if not can(user.principal, "users.manage"):
        raise Forbidden(user)
    return user


async def admin_form_user(request: Request) -> WebUser:
    """Dependency of the admin forms: an admin (403 page otherwise) with the session's CSRF token."""
    admin_user(request)
    return await web_form_user(request)


def audit_user(request: Request) -> WebUser:
    user = web_user(request)
    if not can(user.principal, "audit.view"):
        raise Forbidden(user)
    return user


def error_status(exc: AnfuError) -> int:
    """How an admin page answers a refused change: `page_errors.form_status` (403, 404 not in the
    tenant, 409 taken or saved by someone else meanwhile, else 422)."""
    return form_status(exc)


def _users_page(request: Request, user: WebUser, *, error: AnfuError | str | None = None, created: Any = None,
                reset: tuple[Any, str] | None = None, status_code: int = 200) -> HTMLResponse:
    services = request.app.state.ctx.services
    require(user.principal, "users.manage")
    users = sorted(services.staff.users(user.principal), key=lambda u: (not u.active, u.role, u.username))
    teams = services.staff.teams(user.principal)
    code = error.code if isinstance(error, AnfuError) else error
    return render(request, "admin_users.html", user=user, users=users, teams={t.id: t for t in teams},
                  roles=ROLES, error=code, created=created, reset=reset, tab="users", status_code=status_code)


@router.get("/admin", include_in_schema=False)
def admin_home(user: WebUser = Depends(admin_user)) -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users", include_in_schema=False)
def admin_users(request: Request, user: WebUser = Depends(admin_user)) -> HTMLResponse:
    return _users_page(request, user)


def _team(value: str) -> int | None:
    return optional_id(value, "team")


@router.post("/admin/users", include_in_schema=False)
def admin_create_user(request: Request, username: str = Form(..., max_length=150),
                      display_name: str = Form("", max_length=100), password: str = Form(..., max_length=1024),
                      role: str = Form(...), team_id: str = Form(""),
                      user: WebUser = Depends(admin_form_user)) -> HTMLResponse:
    """A new account with a one-time password (changed at first sign-in)."""
    ctx = request.app.state.ctx
    try:
        if role not in ROLES:
            raise AnfuError("AF505", f"role {role!r}", kind="user")
        created = ctx.auth.create_user(user.principal, username.strip(), password, role, team_id=_team(team_id),
                                       display_name=display_name.strip(), ip=client_ip(request))
    except AnfuError as exc:
        return _users_page(request, user, error=exc, status_code=422 if exc.code != "AF417" else 403)
    return _users_page(request, user, created=created)


@router.post("/admin/users/{user_id}", include_in_schema=False)
def admin_update_user(user_id: int, request: Request, role: str = Form(""), team_id: str = Form(""),
                      active: str = Form(""), reset_mfa: str = Form(""),
                      user: WebUser = Depends(admin_form_user)) -> HTMLResponse:
    """Change one user: `active` (`1`/`0`), `role` and `team_id`, or `reset_mfa=1`."""
    ctx = request.app.state.ctx
    ip = client_ip(request)
    staff = ctx.services.staff
    try:
        target = next((u for u in staff.users(user.principal) if u.id == user_id), None)
        if target is None:
            raise AnfuError("AF503", user_id, kind="user")
        # the form is checked before anything is written, and the role (which may still be refused:
        # a team of another tenant) is changed before the account is (de)activated: a refused form
        # no longer leaves the user deactivated
        team = _team(team_id) if role else None
        if role and role not in ROLES:
            raise AnfuError("AF505", f"role {role[:20]!r}", kind="user")
        if role:
            if role != target.role:
                ctx.auth.set_role(user.principal, user_id, role, team_id=team, ip=ip)
            elif team != target.team_id:
                staff.update(user.principal, user_id, team_id=team, ip=ip)
        if active in ("0", "1"):
            staff.update(user.principal, user_id, active=active == "1", ip=ip)
        if reset_mfa == "1":
            ctx.auth.reset_mfa(user.principal, user_id, ip=ip)
    except AnfuError as exc:
        return _users_page(request, user, error=exc, status_code=error_status(exc))
    return _users_page(request, user)


@router.post("/admin/users/{user_id}/password", include_in_schema=False)
def admin_reset_password(user_id: int, request: Request, user: WebUser = Depends(admin_form_user)) -> HTMLResponse:
    """A new one-time password for the user, shown on this page once (audited `user.password_reset`)."""
    ctx = request.app.state.ctx
    try:
        temporary, target = ctx.auth.reset_password(user.principal, user_id, ip=client_ip(request))
    except AnfuError as exc:
        return _users_page(request, user, error=exc, status_code=error_status(exc))
    return _users_page(request, user, reset=(target, temporary))


def _day(value: str, name: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError("AF505", f"{name} {value[:20]!r}: use YYYY-MM-DD", kind="date") from None


def _start_of(day: date) -> datetime:
    """Midnight of a day on the service centre's clock (Beijing time), as an aware datetime."""
    return datetime.combine(day, time(), tzinfo=DISPLAY_TZ)


@router.get("/admin/audit", include_in_schema=False)
def admin_audit(request: Request, action: str = Query("", max_length=64), actor: str = Query("", max_length=160),
                target: str = Query("", max_length=160), since: str = Query("", max_length=20),
                until: str = Query("", max_length=20), page: int = Query(1, ge=1, le=100_000),
                user: WebUser = Depends(audit_user)) -> HTMLResponse:
    """The audit log, newest first, filtered by action (or family, e.g. `alert.`), actor, object
    (target) and a date range (`since`..`until`, both days included, Beijing time)."""
    ctx = request.app.state.ctx
    filters = {"action": action, "actor": actor, "target": target, "since": since, "until": until}
    try:
        first, last = _day(since, "since"), _day(until, "until")
        try:
            start = _start_of(first).astimezone(timezone.utc) if first else None
            end = _start_of(last + timedelta(days=1)).astimezone(timezone.utc) if last else None
        except OverflowError:
            raise InputError("AF505", f"{since or until!r}: a day between 0001 and 9998", kind="date") from None
        result = ctx.store.list_audit(user.principal, action=action.strip() or None, actor=actor.strip() or None,
                                      target=target.strip() or None, page=page, page_size=AUDIT_PAGE,
                                      since=start, until=end)
    except AnfuError as exc:
        return render(request, "admin_audit.html", user=user, entries=[], total=0, page=1, pages=0, filters=filters,
                      families=AUDIT_FAMILIES, tab="audit", error=exc.code, status_code=422)
    return render(request, "admin_audit.html", user=user, entries=result.items, total=result.total, page=result.page,
                  pages=result.pages, filters=filters, families=AUDIT_FAMILIES, tab="audit", error=None)


__all__ = ["ADMIN_TABS", "Forbidden", "admin_form_user", "admin_user", "audit_user", "error_status",
           "forbidden_page", "router"]
