"""Service health and identity."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ... import __version__
from ..deps import Authed, Ctx
from ..schemas import WhoAmIPublic

router = APIRouter(tags=["meta"])


class HealthPublic(BaseModel):
    status: str
    version: str
    components: list[str]


@router.get("/health", response_model=HealthPublic)
def health(ctx: Ctx) -> HealthPublic:
    """Liveness: the analyzer is loaded and the database answers."""
    ctx.store.count_users()
    return HealthPublic(status="ok", version=__version__, components=ctx.analyzer.component_names)


@router.get("/me", response_model=WhoAmIPublic)
def me(auth: Authed) -> WhoAmIPublic:
    p = auth.principal
    return WhoAmIPublic(tenant_id=p.tenant_id, role=p.role, name=p.name, user_id=p.user_id,
                        team_id=p.team_id, via=auth.via)
