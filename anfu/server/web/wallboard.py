"""Supervisor wallboard (班长监控墙): the live queue with emotion heat (unassigned conversations
highlighted, assigned to an agent of the team from the row), ladder alerts with their reasons
and state (acknowledge, assign, resolve: audited), 旁听 (opens the live conversation read-only),
take over, whisper a hint (shown "delivered" once the agent's console socket received it), and
the team's state. L2+ alerts nobody has acknowledged yet are counted for the page's title badge
"(N) …", the browser notification and the sound (static/js/wallboard-alerts.js)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import InputError
from ...store import ConversationFilter
from ...store.access import require
from .. import supervision
from ..deps import client_ip
from ..views import as_seen_by
from .common import WebUser, is_htmx, render, web_form_user, web_user
from ...service.supervision import WHISPER_DELIVERED, whisper
from .console import WHISPER_EVENT

URGENT_LEVEL = 2

router = APIRouter()
ALERT_EVENTS = ("escalation.raised", "conversation.escalated", "supervisor.alerted", "negative_energy.flagged")
MAX_HINT = 500


def _first_events(ctx: Any, user: WebUser, names: tuple[str, ...], limit: int) -> list[Any]:
    """The first `limit` visible events of each kind: one query while the kinds together have
    fewer than a thousand (the usual case), else one per kind."""
    batch = ctx.store.list_events(user.principal, names=names, limit=1000)
    if len(batch) >= 1000:
        return [e for name in names for e in ctx.store.list_events(user.principal, name=name, limit=limit)]
    taken: dict[str, int] = defaultdict(int)
    out = []
    for event in batch:
        if taken[event.name] < limit:
            taken[event.name] += 1
            out.append(event)
    return out


def board(request: Request, user: WebUser) -> dict[str, Any]:
    ctx = request.app.state.ctx
    require(user.principal, "supervise")
    page = ctx.store.list_conversations(user.principal, ConversationFilter(status="open"), page_size=200)
    queue = page.items  # the rows drawn (200 at most); the tiles count them all
    queue = sorted(queue, key=lambda c: (-(c.escalation_level or 0), -(c.intensity or 0), -c.updated_at.timestamp()))
    # alerts quote the customer (reasons, detail): masked for admins, as on the API
    events = [as_seen_by(user.principal, e, "payload") for e in _first_events(ctx, user, ALERT_EVENTS, 200)]
    # newest first; one alert per conversation and kind is enough on a wall
    alerts, seen = [], set()
    for event in sorted(events, key=lambda e: e.id, reverse=True):
        key = (event.conversation_id, event.name, event.payload.get("level"), event.payload.get("ticket_id"))
        if key in seen:
            continue
        seen.add(key)
        alerts.append(event)
    users = {u.id: u for u in ctx.store.list_users(user.principal.tenant_id)}
    team: dict[int | None, dict[str, Any]] = defaultdict(lambda: {"open": 0, "hot": 0, "alerts": 0, "taken": 0})
    for conversation in queue:
        row = team[conversation.agent_id]
        row["open"] += 1
        row["hot"] += int((conversation.intensity or 0) >= 3)
        row["alerts"] += int((conversation.escalation_level or 0) >= 1)
        row["taken"] += int(conversation.taken_over_by is not None)
    members = [u for u in users.values() if u.role == "agent" and
               (user.principal.role == "admin" or u.team_id == user.principal.team_id)]
    staff = [{"user": u, **team[u.id]} for u in sorted(members, key=lambda u: u.username)]
    by_id = {c.id: c for c in queue}
    states = {a.event.id: a for a in ctx.services.alerts.list(user.principal, limit=200)}
    for alert in states.values():  # the title badge quotes the newest urgent alert's reason
        alert.event = as_seen_by(user.principal, alert.event, "payload")
    queue = sorted(queue, key=lambda c: c.agent_id is not None)  # the stranded ones first
    urgent = sorted(a.event.id for a in states.values() if a.state in ("open", "assigned")
                    and isinstance(a.event.payload.get("level"), int) and a.event.payload["level"] >= URGENT_LEVEL)
    return {"queue": queue, "alerts": alerts[:30], "staff": staff, "users": users, "by_id": by_id,
            "states": states, "agents": sorted(members, key=lambda u: u.username), "urgent": urgent,
            "whispers": whisper_states(ctx, user,
                                       {a.conversation_id for a in alerts[:30] if a.conversation_id in by_id},
                                       min((a.id for a in alerts[:30]), default=1) - 1),
            "totals": {"open": page.total,
                       "hot": _count(ctx, user, min_intensity=3),  # unassigned angry customers too
                       "unassigned": _count(ctx, user, unassigned=True),
                       "alerts": _count(ctx, user, min_escalation=1),
                       "taken": sum(1 for c in queue if c.taken_over_by is not None)}}


def _count(ctx: Any, user: WebUser, **where: Any) -> int:
    """How many open conversations `user` sees that match `where` (a count, not a page)."""
    return ctx.store.list_conversations(user.principal, ConversationFilter(status="open", **where), page_size=1).total


def _events_since(ctx: Any, user: WebUser, name: str, after_id: int, pages: int = 10) -> list[Any]:
    out: list[Any] = []
    for _ in range(pages):
        batch = ctx.store.list_events(user.principal, name=name, after_id=after_id, limit=1000)
        out.extend(batch)
        if len(batch) < 1000:
            break
        after_id = batch[-1].id
    return out


def whisper_states(ctx: Any, user: WebUser, conversations: set[int], since_id: int) -> dict[int, dict[str, Any]]:
    """The newest whisper of each conversation with an alert on the board (whispers are sent
    from an alert, so only those after the oldest alert shown, `since_id`) and when the agent's
    console received it (None while it has not). Two queries, whatever the number of alerts."""
    newest: dict[int, Any] = {}
    for event in _events_since(ctx, user, WHISPER_EVENT, since_id):
        if event.conversation_id in conversations:
            newest[event.conversation_id] = event  # ascending ids: the last one wins
    if not newest:
        return {}
    delivered: dict[int, Any] = {}
    for event in _events_since(ctx, user, WHISPER_DELIVERED, min(e.id for e in newest.values())):
        delivered.setdefault(event.payload.get("whisper_id"), event.created_at)
    # a whisper may quote the customer (先给138…回电): masked for admins, as on the API
    return {cid: {"event": as_seen_by(user.principal, e, "payload"), "delivered_at": delivered.get(e.id)}
            for cid, e in newest.items()}


@router.get("/wallboard", include_in_schema=False)
def wallboard(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    return render(request, "wallboard.html", user=user, **board(request, user))


@router.get("/wallboard/board", include_in_schema=False)
def wallboard_board(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    return render(request, "wallboard.html", block="board", user=user, **board(request, user))


def _board_response(request: Request, user: WebUser) -> HTMLResponse:
    response = render(request, "wallboard.html", block="board", user=user, **board(request, user))
    response.headers["HX-Trigger"] = "anfu-refresh"
    return response


@router.post("/wallboard/{conversation_id}/join", include_in_schema=False)
def wall_join(conversation_id: int, request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    """旁听: join (audited, the agent is told) and open the live conversation read-only."""
    supervision.join(request.app.state.ctx, user.principal, conversation_id, client_ip(request))
    target = f"/console/{conversation_id}?listen=1"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.post("/wallboard/{conversation_id}/take-over", include_in_schema=False)
def wall_take_over(conversation_id: int, request: Request, release: str = Form(""),
                   user: WebUser = Depends(web_form_user)) -> Response:
    supervision.take_over(request.app.state.ctx, user.principal, conversation_id, client_ip(request),
                          release=release == "yes")
    return _board_response(request, user)


@router.post("/wallboard/{conversation_id}/assign", include_in_schema=False)
def wall_assign(conversation_id: int, request: Request, agent_id: int = Form(...),
                user: WebUser = Depends(web_form_user)) -> Response:
    """分配/转派: give the conversation to an agent of your team (admins: any agent); audited."""
    request.app.state.ctx.services.routing.assign(user.principal, conversation_id, agent_id, client_ip(request))
    return _board_response(request, user)


@router.post("/wallboard/alerts/{alert_id}/{action}", include_in_schema=False)
def wall_alert(alert_id: int, action: str, request: Request, user_id: int | None = Form(None),
               note: str = Form("", max_length=500), user: WebUser = Depends(web_form_user)) -> Response:
    """An alert's state: `acknowledge`, `assign` (form `user_id`) or `resolve`; audited."""
    alerts = request.app.state.ctx.services.alerts
    ip = client_ip(request)
    if action == "acknowledge":
        alerts.acknowledge(user.principal, alert_id, note, ip=ip)
    elif action == "resolve":
        alerts.resolve(user.principal, alert_id, note, ip=ip)
    elif action == "assign" and user_id is not None:
        alerts.assign(user.principal, alert_id, user_id, note, ip=ip)
    else:
        raise InputError("AF505", f"alert action {action!r}", kind="alert")
    return _board_response(request, user)


@router.post("/wallboard/{conversation_id}/whisper", include_in_schema=False)
def wall_whisper(conversation_id: int, request: Request, hint: str = Form("", max_length=MAX_HINT),
                 user: WebUser = Depends(web_form_user)) -> Response:
    """A hint only the agent sees (悄悄话), e.g. 先道歉，再给出抢修时限."""
    ctx = request.app.state.ctx
    require(user.principal, "supervise")
    conversation = ctx.store.get_conversation(conversation_id, visible_to=user.principal)
    if hint.strip():
        whisper(ctx, user.principal, conversation.id, hint, client_ip(request))
    return _board_response(request, user)
