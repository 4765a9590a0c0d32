"""The per-tenant helpdesk connectors (Chatwoot, Zammad) over REST, for admins: read them
masked, create or change one, and run its connection test. The same service as the admin
console's connectors page (`anfu.service.helpdesks.Helpdesks`): it checks the role, keeps
everything in the caller's tenant, seals the secrets and audits (`connector.configured`,
`connector.tested`). A secret is never returned, except a webhook secret Anfu generates,
once, in the reply that created it. The helpdesks' own webhooks are `routes/connectors.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from ...service.helpdesks import MAX_TOKEN
from ..deps import Authed, Ctx, client_ip
from ..schemas import _In

router = APIRouter(tags=["connectors"])
Kind = Annotated[str, Path(min_length=1, max_length=16, description="chatwoot or zammad")]


class HelpdeskPublic(BaseModel):
    kind: str
    label: str
    configured: bool
    base_url: str
    account: str | None
    token_hint: str = Field(description="the API token's last characters (…abcd); the token itself is never returned")
    has_webhook_secret: bool
    active: bool
    updated_by: str | None
    updated_at: datetime | None
    tested_at: datetime | None
    test_ok: bool | None
    test_detail: str | None


class HelpdeskListPublic(BaseModel):
    items: list[HelpdeskPublic]


class HelpdeskSavedPublic(BaseModel):
    connector: HelpdeskPublic
    new_webhook_secret: str | None = Field(description="a webhook secret Anfu generated: shown only in this reply")


class HelpdeskTestPublic(BaseModel):
    kind: str
    ok: bool
    detail: str
    tested_at: datetime


class HelpdeskSave(_In):
    base_url: str = Field(min_length=1, max_length=1000, description="https URL of the helpdesk")
    account: str = Field(default="", max_length=64, description="Chatwoot: the account id; Zammad: empty")
    api_token: str = Field(default="", max_length=MAX_TOKEN,
                           description="the token Anfu writes back with; empty keeps the saved one")
    webhook_secret: str = Field(default="", max_length=MAX_TOKEN,
                                description="empty keeps the saved one (a new connector gets a generated one)")
    active: bool = True


def _public(view: Any) -> HelpdeskPublic:
    return HelpdeskPublic(kind=view.kind, label=view.label, configured=view.configured, base_url=view.base_url,
                          account=view.account, token_hint=view.token_hint,
                          has_webhook_secret=view.has_webhook_secret, active=view.active,
                          updated_by=view.updated_by, updated_at=view.updated_at, tested_at=view.tested_at,
                          test_ok=view.test_ok, test_detail=view.test_detail)


@router.get("/admin/connectors", response_model=HelpdeskListPublic)
def list_helpdesks(ctx: Ctx, auth: Authed) -> HelpdeskListPublic:
    """Every helpdesk connector of the caller's tenant, configured or not, secrets masked (admins)."""
    return HelpdeskListPublic(items=[_public(v) for v in ctx.services.helpdesks.overview(auth.principal)])


@router.put("/admin/connectors/{kind}", response_model=HelpdeskSavedPublic)
def save_helpdesk(kind: Kind, body: HelpdeskSave, ctx: Ctx, auth: Authed, request: Request) -> HelpdeskSavedPublic:
    """Create or change the tenant's connector to `kind` (admins; audited `connector.configured`)."""
    saved = ctx.services.helpdesks.save(auth.principal, kind, base_url=body.base_url, account=body.account,
                                        api_token=body.api_token, webhook_secret=body.webhook_secret,
                                        active=body.active, ip=client_ip(request))
    return HelpdeskSavedPublic(connector=_public(saved.view), new_webhook_secret=saved.new_webhook_secret)


@router.post("/admin/connectors/{kind}/test", response_model=HelpdeskTestPublic)
def test_helpdesk(kind: Kind, ctx: Ctx, auth: Authed, request: Request) -> HelpdeskTestPublic:
    """Call the helpdesk with the saved token; the result is kept and audited (`connector.tested`)."""
    tested = ctx.services.helpdesks.test(auth.principal, kind, ip=client_ip(request))
    return HelpdeskTestPublic(kind=tested.kind, ok=tested.ok, detail=tested.detail, tested_at=tested.tested_at)
