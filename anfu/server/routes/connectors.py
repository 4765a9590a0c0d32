"""Helpdesk connectors' webhook endpoints: authenticate the helpdesk, then hand the payload to
the connector (`anfu.connectors`), which goes through the service layer and writes back
through the helpdesk's API. Not behind Anfu sign-in: Chatwoot authenticates with the
`token` query parameter, Zammad with its HMAC-SHA1 `X-Hub-Signature`.

With `?tenant=<slug>` the tenant's own connector, configured by its admin on the connectors
page (`anfu.service.helpdesks`), is used: its base URL, API token and webhook secret. Without
it, the server-wide `ANFU_CHATWOOT_*` / `ANFU_ZAMMAD_*` settings are."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel

from ...connectors.base import Handled, connector_principal
from ...connectors.chatwoot import ChatwootConnector
from ...connectors.zammad import ZammadConnector, signature_ok
from ...errors import AnfuError
from ...service.webhooks import network_transport
from ..deps import Ctx

router = APIRouter(tags=["connectors"])
MAX_PAYLOAD = 1_000_000


class HandledPublic(BaseModel):
    action: str
    why: str
    conversation_id: int | None
    level: int | None
    emotion: str | None
    note: str | None
    labels: list[str]
    writes: list[str]


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _principal(ctx: Any, name: str, spec: str) -> Any:
    """`tenant-slug` or `tenant-slug/team name` → the connector's principal."""
    slug, _, team_name = spec.partition("/")
    tenant = ctx.store.get_tenant_by_slug(slug)
    if tenant is None:
        raise AnfuError("AF675", name, settings=f"ANFU_{name.upper()}_TENANT to an existing tenant slug")
    team_id = None
    if team_name:
        teams = [t for t in ctx.store.list_teams(tenant.id) if t.name == team_name]
        if not teams:
            raise AnfuError("AF675", name, settings=f"ANFU_{name.upper()}_TENANT's team to an existing team")
        team_id = teams[0].id
    return connector_principal(tenant.id, team_id, f"connector-{name}")


@dataclass(frozen=True)
class _Target:
    base_url: str
    api_token: str
    secret: str
    principal: Any
    account: str | None = None  # the Chatwoot account a tenant's connector serves
    guarded: bool = False  # a tenant admin chose base_url: connect only to checked addresses


def _transport(request: Request, ctx: Any, target: _Target) -> Any:
    """The write-back's transport: a test's fake, else for a tenant's connector one that refuses
    private addresses at connection time, as webhook deliveries do (the server-wide connector is
    the operator's, who may run the helpdesk on the internal network)."""
    fake = getattr(request.app.state, "connector_transport", None)
    if fake is not None or not target.guarded:
        return fake
    return network_transport(ctx.services.helpdesks.allow_private)


def _payload_account(payload: Any) -> str | None:
    """The account id a Chatwoot event names (`account.id`, or the flat `account_id`)."""
    if not isinstance(payload, dict):
        return None
    account = payload.get("account")
    value = account.get("id") if isinstance(account, dict) else payload.get("account_id")
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _tenant_target(ctx: Any, name: str, slug: str) -> _Target:
    """The connector a tenant's admin configured (active, with a webhook secret)."""
    tenant = ctx.store.get_tenant_by_slug(slug)
    creds = ctx.services.helpdesks.credentials(tenant.id, name) if tenant is not None else None
    if creds is None or not creds.webhook_secret:
        raise AnfuError("AF675", name.capitalize(), settings="the connector on the admin console (/admin/connectors)")
    return _Target(creds.base_url, creds.api_token, creds.webhook_secret,
                   connector_principal(tenant.id, None, f"connector-{name}"), account=creds.account, guarded=True)


def _public(handled: Handled) -> HandledPublic:
    return HandledPublic(**handled.to_dict())


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_PAYLOAD:
        raise AnfuError("AF677", "webhook", why="the payload is larger than 1 MB")
    return body


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise AnfuError("AF677", "webhook", why="the body is not JSON") from None


async def _json(request: Request) -> tuple[bytes, Any]:
    body = await _body(request)
    return body, _parse(body)


@router.post("/connectors/chatwoot", response_model=HandledPublic)
async def chatwoot(request: Request, ctx: Ctx,
                   token: Annotated[str, Query(min_length=1, max_length=200)],
                   tenant: Annotated[str | None, Query(min_length=1, max_length=64)] = None) -> HandledPublic:
    """Chatwoot's account webhook (message_created, conversation_created/updated/status_changed)."""
    s = ctx.settings
    if tenant is not None:
        target = _tenant_target(ctx, "chatwoot", tenant)
    else:
        expected = _secret(s.chatwoot_webhook_token)
        if not (s.chatwoot_url and _secret(s.chatwoot_api_token) and expected and s.chatwoot_tenant):
            raise AnfuError("AF675", "Chatwoot", settings="ANFU_CHATWOOT_URL, ANFU_CHATWOOT_API_TOKEN, "
                                                          "ANFU_CHATWOOT_WEBHOOK_TOKEN and ANFU_CHATWOOT_TENANT")
        target = _Target(s.chatwoot_url, _secret(s.chatwoot_api_token) or "", expected,
                         _principal(ctx, "chatwoot", s.chatwoot_tenant))
    if not hmac.compare_digest(token.encode(), target.secret.encode()):
        raise AnfuError("AF676", "Chatwoot", why="wrong token")
    _, payload = await _json(request)
    if target.account is not None and _payload_account(payload) != target.account:
        raise AnfuError("AF676", "Chatwoot", why=f"the event is not of account {target.account}, the one configured")
    connector = ChatwootConnector(ctx.turns, target.principal, target.base_url, target.api_token,
                                  transport=_transport(request, ctx, target))
    from starlette.concurrency import run_in_threadpool

    return _public(await run_in_threadpool(connector.handle, payload))


@router.post("/connectors/zammad", response_model=HandledPublic)
async def zammad(request: Request, ctx: Ctx,
                 x_hub_signature: Annotated[str | None, Header(max_length=200)] = None,
                 tenant: Annotated[str | None, Query(min_length=1, max_length=64)] = None) -> HandledPublic:
    """Zammad's trigger webhook (ticket + article)."""
    s = ctx.settings
    if tenant is not None:
        target = _tenant_target(ctx, "zammad", tenant)
    else:
        secret = _secret(s.zammad_webhook_secret)
        if not (s.zammad_url and _secret(s.zammad_api_token) and secret and s.zammad_tenant):
            raise AnfuError("AF675", "Zammad", settings="ANFU_ZAMMAD_URL, ANFU_ZAMMAD_API_TOKEN, "
                                                        "ANFU_ZAMMAD_WEBHOOK_SECRET and ANFU_ZAMMAD_TENANT")
        target = _Target(s.zammad_url, _secret(s.zammad_api_token) or "", secret,
                         _principal(ctx, "zammad", s.zammad_tenant))
    body = await _body(request)
    # authenticate the raw body before parsing anything an unknown caller sent
    if not signature_ok(target.secret, body, x_hub_signature):
        raise AnfuError("AF676", "Zammad", why="missing or wrong X-Hub-Signature")
    payload = _parse(body)
    connector = ZammadConnector(ctx.turns, target.principal, target.base_url, target.api_token,
                                transport=_transport(request, ctx, target))
    from starlette.concurrency import run_in_threadpool

    return _public(await run_in_threadpool(connector.handle, payload))
