"""The tenant's settings over REST, for admins: the effective values in force (the tenant's own
and the server's `ANFU_*` settings, secrets only as set/unset) and the editable one, the
tenant's display name. The same service as the admin console's settings page
(`anfu.service.tenant_settings.TenantSettings`), which checks the role and audits
(`tenant.renamed`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ...text.names import MAX_NAME
from ..deps import Authed, Ctx, client_ip
from ..schemas import _In

router = APIRouter(tags=["settings"])


class TenantPublic(BaseModel):
    id: int
    slug: str
    name: str
    created_at: datetime


class SettingValuePublic(BaseModel):
    name: str = Field(description="the ANFU_* variable")
    value: str = Field(description="the effective value; for a secret only 'set' or 'unset'")
    secret: bool
    default: bool = Field(description="equal to the built-in default")


class TenantSettingsPublic(BaseModel):
    tenant: TenantPublic
    server: list[SettingValuePublic] = Field(description="server-wide settings, read-only (ANFU_* variables)")


class TenantSettingsUpdate(_In):
    name: str = Field(min_length=1, max_length=MAX_NAME, description="the tenant's display name")


def _public(view: Any) -> TenantSettingsPublic:
    tenant = view.tenant
    return TenantSettingsPublic(
        tenant=TenantPublic(id=tenant.id, slug=tenant.slug, name=tenant.name, created_at=tenant.created_at),
        server=[SettingValuePublic(name=s.name, value=s.value, secret=s.secret, default=s.default)
                for s in view.server])


@router.get("/admin/settings", response_model=TenantSettingsPublic)
def read_settings(ctx: Ctx, auth: Authed) -> TenantSettingsPublic:
    """The settings in force for the caller's tenant (admins)."""
    return _public(ctx.services.tenant_settings.view(auth.principal, ctx.settings))


@router.patch("/admin/settings", response_model=TenantSettingsPublic)
def update_settings(body: TenantSettingsUpdate, ctx: Ctx, auth: Authed, request: Request) -> TenantSettingsPublic:
    """Change the tenant's editable settings (admins; audited `tenant.renamed`); the effective values."""
    ctx.services.tenant_settings.rename(auth.principal, body.name, ip=client_ip(request))
    return _public(ctx.services.tenant_settings.view(auth.principal, ctx.settings))
