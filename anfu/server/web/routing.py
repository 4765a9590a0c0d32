"""Routing on the working pages (issue 13): an agent's presence switch on the console (示闲 /
示忙 / 签出: whether routing hands them new conversations) and the wallboard's queue table
(open, unassigned and waiting conversations per queue, unassigned ones highlighted). Both are
HTMX fragments the pages load; the decisions are `anfu.service.routing.Routing`'s."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import AuthError
from ...store.routing_tables import PRESENCE
from ..deps import client_ip
from .admin_teams import PRESENCE_NAMES
from .common import WebUser, is_htmx, render, web_form_user, web_user

router = APIRouter()


def _presence(request: Request, user: WebUser) -> HTMLResponse:
    if user.principal.role != "agent":
        raise AuthError("AF417", "set routing presence (agents, for themselves)")
    profile = request.app.state.ctx.services.routing.profiles(user.principal)[0]
    return render(request, "_presence.html", user=user, profile=profile, presence=PRESENCE,
                  presence_names=PRESENCE_NAMES)


@router.get("/routing/presence", include_in_schema=False)
def presence(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    """Fragment: the agent's presence and the switch (agents)."""
    return _presence(request, user)


@router.post("/routing/presence", include_in_schema=False)
def set_presence(request: Request, presence: str = Form("", max_length=16),
                 user: WebUser = Depends(web_form_user)) -> Response:
    """Form `presence` (`available`, `busy`, `offline`); available hands you what waits."""
    request.app.state.ctx.services.routing.set_presence(user.principal, presence, ip=client_ip(request))
    if not is_htmx(request):
        return RedirectResponse("/console", status_code=303)
    response = _presence(request, user)
    response.headers["HX-Trigger"] = "anfu-refresh"
    return response


@router.get("/wallboard/queues", include_in_schema=False)
def wallboard_queues(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    """Fragment: the routing queues with their open, unassigned and waiting conversations."""
    ctx = request.app.state.ctx
    figures = ctx.services.routing.figures(user.principal)
    teams = {t.id: t for t in ctx.services.staff.teams(user.principal)}
    return render(request, "_routing_queues.html", user=user, figures=figures, teams=teams)


__all__ = ["router"]
