"""Outgoing webhooks over REST (admins): register a URL and events, list, deactivate, and
read the delivery log. Deliveries are signed with HMAC-SHA256 (`X-Anfu-Signature`) and
retried with backoff by the scheduler (`anfu.service.webhooks`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from ...service.webhooks import EVENTS
from ..deps import Authed, Ctx, client_ip
from ..idempotency import IdempotencyKey, once
from ..schemas import MAX_ID, _In

router = APIRouter(tags=["webhooks"])
WebhookId = Annotated[int, Path(ge=1, le=MAX_ID)]


class WebhookCreate(_In):
    url: str = Field(min_length=8, max_length=1000, description="http(s) URL that receives POSTed JSON")
    events: list[str] = Field(min_length=1, max_length=len(EVENTS), description="; ".join(EVENTS))


class WebhookPublic(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    created_by: str
    created_at: datetime


class WebhookCreatedPublic(WebhookPublic):
    secret: str = Field(description="the signing secret, shown only in this reply")


class WebhookListPublic(BaseModel):
    items: list[WebhookPublic]


class DeliveryPublic(BaseModel):
    id: int
    event: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None


class DeliveryListPublic(BaseModel):
    items: list[DeliveryPublic]


def _public(hook: Any) -> WebhookPublic:
    return WebhookPublic(id=hook.id, url=hook.url, events=list(hook.events), active=hook.active,
                         created_by=hook.created_by, created_at=hook.created_at)


@router.post("/webhooks", response_model=WebhookCreatedPublic, status_code=201)
def register(body: WebhookCreate, ctx: Ctx, auth: Authed, request: Request, response: Response,
             key: IdempotencyKey) -> WebhookCreatedPublic:
    """Register a webhook (admins; audited); the reply holds its signing secret once. With an
    `Idempotency-Key`, a retry with the same body (its first reply lost) returns the webhook
    already registered, with its secret, instead of a second one (AF445 for another body)."""
    hooks = ctx.services.webhooks
    hook, secret = once(ctx.services.idempotency, auth.principal, "POST /webhooks", key, body, response,
                        lambda: hooks.register(auth.principal, body.url, body.events, ip=client_ip(request)),
                        lambda hook_id: hooks.registered(auth.principal, hook_id), lambda made: made[0].id)
    return WebhookCreatedPublic(**_public(hook).model_dump(), secret=secret)


@router.get("/webhooks", response_model=WebhookListPublic)
def list_webhooks(ctx: Ctx, auth: Authed) -> WebhookListPublic:
    """The tenant's webhooks (admins)."""
    return WebhookListPublic(items=[_public(h) for h in ctx.services.webhooks.list(auth.principal)])


@router.delete("/webhooks/{webhook_id}", response_model=WebhookPublic)
def deactivate(webhook_id: WebhookId, ctx: Ctx, auth: Authed, request: Request) -> WebhookPublic:
    """Stop a webhook (admins; audited); pending deliveries fail on their next try."""
    hook = ctx.services.webhooks.deactivate(auth.principal, webhook_id, ip=client_ip(request))
    return _public(hook)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryListPublic)
def deliveries(webhook_id: WebhookId, ctx: Ctx, auth: Authed,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> DeliveryListPublic:
    """The webhook's delivery log, newest first (admins)."""
    items = ctx.services.webhooks.deliveries(auth.principal, webhook_id, limit=limit)
    return DeliveryListPublic(items=[DeliveryPublic.model_validate(d.to_dict()) for d in items])
