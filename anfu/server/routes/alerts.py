"""Supervisor alerts (升级预警) over REST: list with their state, acknowledge, assign, resolve
(each change audited with who and when)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from ..deps import Authed, Ctx, client_ip
from ..schemas import MAX_ID, Id, _In
from ..views import _masked_for

router = APIRouter(tags=["alerts"])
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]


class AlertPublic(BaseModel):
    id: int = Field(description="the id of the event that raised it")
    name: str
    conversation_id: int | None
    level: int | None
    reasons: list[str]
    created_at: datetime
    state: Literal["open", "assigned", "acknowledged", "resolved"]
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    assigned_to: int | None
    resolved_by: str | None = None
    resolved_at: datetime | None = None


class AlertListPublic(BaseModel):
    items: list[AlertPublic]


class AlertAck(_In):
    note: str = Field(default="", max_length=500)


class AlertAssign(_In):
    user_id: Id
    note: str = Field(default="", max_length=500)


def alert_public(alert: Any, principal: Any) -> AlertPublic:
    from ...pii import mask

    payload = alert.event.payload
    reasons = payload.get("reasons") or ([payload["detail"]] if payload.get("detail") else [])
    reasons = [mask(str(r)) if _masked_for(principal) else str(r) for r in reasons]
    level = payload.get("level")
    return AlertPublic(id=alert.event.id, name=alert.event.name, conversation_id=alert.event.conversation_id,
                       level=int(level) if isinstance(level, int) else None, reasons=reasons,
                       created_at=alert.event.created_at, state=alert.state,
                       acknowledged_by=alert.acknowledged_by, acknowledged_at=alert.acknowledged_at,
                       assigned_to=alert.assigned_to, resolved_by=alert.resolved_by,
                       resolved_at=alert.resolved_at)


@router.get("/alerts", response_model=AlertListPublic)
def list_alerts(ctx: Ctx, auth: Authed, state: Literal["open", "assigned", "acknowledged", "resolved"] | None = None,
                conversation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> AlertListPublic:
    """Alerts of the conversations you may see, newest first."""
    alerts = ctx.services.alerts.list(auth.principal, state=state, conversation_id=conversation_id, limit=limit)
    return AlertListPublic(items=[alert_public(a, auth.principal) for a in alerts])


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertPublic)
def acknowledge_alert(alert_id: AlertId, body: AlertAck, ctx: Ctx, auth: Authed, request: Request) -> AlertPublic:
    """Acknowledge an alert (supervisors of its team, admins); audited."""
    return alert_public(ctx.services.alerts.acknowledge(auth.principal, alert_id, body.note, ip=client_ip(request)),
                        auth.principal)


@router.post("/alerts/{alert_id}/assign", response_model=AlertPublic)
def assign_alert(alert_id: AlertId, body: AlertAssign, ctx: Ctx, auth: Authed, request: Request) -> AlertPublic:
    """Give an alert to someone to handle (supervisors: their team; admins); audited."""
    return alert_public(ctx.services.alerts.assign(auth.principal, alert_id, body.user_id, body.note,
                                                   ip=client_ip(request)), auth.principal)


@router.post("/alerts/{alert_id}/resolve", response_model=AlertPublic)
def resolve_alert(alert_id: AlertId, body: AlertAck, ctx: Ctx, auth: Authed, request: Request) -> AlertPublic:
    """Mark an alert dealt with (supervisors of its team, admins); audited."""
    return alert_public(ctx.services.alerts.resolve(auth.principal, alert_id, body.note, ip=client_ip(request)),
                        auth.principal)
