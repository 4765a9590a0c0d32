"""Teams and routing (班组与路由) for admins: create and rename teams, switch a team's
auto-assignment, its queues (industry, channel), and each agent's team, skills and cap. Every
change goes through `anfu.service.routing.Routing` and `anfu.service.staff.Staff`, which check
the role and write the audit log; a refused or invalid change shows its AF code on the page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import AnfuError
from ...glossary import INDUSTRIES
from ...store.access import require
from ...web.labels import CHANNELS, N_
from ..deps import client_ip
from .page_errors import form_status
from .common import WebUser, as_id, optional_id, render, web_form_user, web_user

router = APIRouter()
INDUSTRY_NAMES = {"power": N_("电力"), "telecom": N_("通信"), "ecommerce": N_("电商"), "after_sales": N_("售后"),
                  "logistics": N_("物流"), "banking": N_("银行"), "generic": N_("通用")}
PRESENCE_NAMES = {"available": N_("示闲"), "busy": N_("示忙"), "offline": N_("签出")}


def _page(request: Request, user: WebUser, *, error: str | None = None, done: str | None = None,
          status_code: int = 200) -> HTMLResponse:
    services = request.app.state.ctx.services
    require(user.principal, "users.manage")
    teams = services.staff.teams(user.principal)
    queues = services.routing.queues(user.principal)
    agents = services.routing.profiles(user.principal)
    industries = [i for i in INDUSTRIES]
    return render(request, "admin_teams.html", user=user, teams=teams, queues=queues, agents=agents,
                  industries=industries, industry_names=INDUSTRY_NAMES, channels=CHANNELS,
                  presence_names=PRESENCE_NAMES, error=error, done=done, status_code=status_code)


def _failed(request: Request, user: WebUser, exc: AnfuError) -> HTMLResponse:
    return _page(request, user, error=exc.code, status_code=form_status(exc))


def _after(request: Request, user: WebUser, done: str) -> Response:
    return RedirectResponse(f"/admin/teams?done={done}", status_code=303)


@router.get("/admin/teams", include_in_schema=False)
def admin_teams(request: Request, done: str = "", user: WebUser = Depends(web_user)) -> HTMLResponse:
    return _page(request, user, done=done[:32] or None)


@router.post("/admin/teams", include_in_schema=False)
def admin_create_team(request: Request, name: str = Form("", max_length=200),
                      user: WebUser = Depends(web_form_user)) -> Response:
    """A new team (班组)."""
    try:
        if not name.strip():
            raise AnfuError("AF505", "team name (empty)", kind="team")
        request.app.state.ctx.services.staff.create_team(user.principal, name.strip(), ip=client_ip(request))
    except AnfuError as exc:
        return _failed(request, user, exc)
    return _after(request, user, "team")


@router.post("/admin/teams/{team_id}", include_in_schema=False)
def admin_update_team(team_id: int, request: Request, name: str = Form("", max_length=200),
                      auto_assign: str = Form(""), user: WebUser = Depends(web_form_user)) -> Response:
    """Rename a team (`name`) and/or switch its auto-assignment (`auto_assign` `1`/`0`)."""
    try:
        switch = {"1": True, "0": False}.get(auto_assign)
        request.app.state.ctx.services.routing.update_team(user.principal, team_id, name=name.strip() or None,
                                                           auto_assign=switch, ip=client_ip(request))
    except AnfuError as exc:
        return _failed(request, user, exc)
    return _after(request, user, "team")


@router.post("/admin/teams/{team_id}/queues", include_in_schema=False)
def admin_create_queue(team_id: int, request: Request, name: str = Form("", max_length=200),
                       industry: str = Form("", max_length=32), channel: str = Form("", max_length=32),
                       user: WebUser = Depends(web_form_user)) -> Response:
    """A queue of the team for an industry and/or channel (empty: any)."""
    try:
        if industry and industry not in INDUSTRIES:
            raise AnfuError("AF505", f"industry {industry!r}", kind="queue")
        request.app.state.ctx.services.routing.create_queue(user.principal, team_id, name, industry=industry or None,
                                                            channel=channel or None, ip=client_ip(request))
    except AnfuError as exc:
        return _failed(request, user, exc)
    return _after(request, user, "queue")


@router.post("/admin/queues/{queue_id}/delete", include_in_schema=False)
def admin_delete_queue(queue_id: int, request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    """Remove a queue (its conversations stay in their team)."""
    try:
        request.app.state.ctx.services.routing.delete_queue(user.principal, queue_id, ip=client_ip(request))
    except AnfuError as exc:
        return _failed(request, user, exc)
    return _after(request, user, "queue")


@router.post("/admin/agents/{user_id}", include_in_schema=False)
def admin_update_agent(user_id: int, request: Request, team_id: str = Form(""), max_open: str = Form(""),
                       industries: list[str] = Form([]), channels: list[str] = Form([]),
                       user: WebUser = Depends(web_form_user)) -> Response:
    """An agent's team, industry and channel skills (none ticked: any) and cap."""
    ctx = request.app.state.ctx
    ip = client_ip(request)
    try:
        require(user.principal, "users.manage")
        unknown = [i for i in industries if i not in INDUSTRIES]
        if unknown:
            raise AnfuError("AF505", f"industry {unknown[0]!r}", kind="agent")
        cap = as_id(max_open)
        if cap is None:
            raise AnfuError("AF505", f"cap {max_open[:20]!r} (a whole number 0..100)", kind="agent")
        profile = ctx.services.routing.profiles(user.principal)
        current: Any = next((p for p in profile if p.user_id == user_id), None)
        if current is None:
            raise AnfuError("AF503", user_id, kind="agent")
        team = optional_id(team_id, "team")
        if team != current.team_id:
            ctx.services.staff.update(user.principal, user_id, team_id=team, ip=ip)
        ctx.services.routing.set_profile(user.principal, user_id, industries=industries, channels=channels,
                                         max_open=cap, ip=ip)
    except AnfuError as exc:
        return _failed(request, user, exc)
    return _after(request, user, "agent")


__all__ = ["router"]
