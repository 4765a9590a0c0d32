"""Staff and tenant administration over REST: users (list, deactivate, team, name), teams,
the API tokens' list and the audit log. Creating users, roles, MFA resets and issuing or
revoking tokens are in `routes/auth.py`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from ...errors import AnfuError
from ...store.access import require
from ..deps import Authed, Ctx, client_ip
from ..schemas import MAX_ID, Id, Paged, UserPublic, _In
from ..views import _dump

router = APIRouter()
Role = Literal["agent", "supervisor", "admin", "auditor"]


class StaffPublic(UserPublic):
    active: bool


class StaffListPublic(BaseModel):
    items: list[StaffPublic]


class UserUpdate(_In):
    active: bool | None = Field(default=None, description="false deactivates the account (sessions end at once)")
    team_id: Id | None = Field(default=None, description="move the user to this team")
    clear_team: bool = Field(default=False, description="true removes the user from their team")
    display_name: str | None = Field(default=None, min_length=1, max_length=200)


class TeamPublic(BaseModel):
    id: int
    tenant_id: int
    name: str
    created_at: datetime


class TeamListPublic(BaseModel):
    items: list[TeamPublic]


class TeamCreate(_In):
    name: str = Field(min_length=1, max_length=200)


class TokenInfoPublic(BaseModel):
    id: int
    name: str
    role: str
    prefix: str
    team_id: int | None
    created_at: datetime
    revoked_at: datetime | None


class TokenListPublic(BaseModel):
    items: list[TokenInfoPublic]


class AuditEntryPublic(BaseModel):
    id: int
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any]
    ip: str | None
    at: datetime


class AuditPagePublic(Paged):
    items: list[AuditEntryPublic]


def _staff(user: Any) -> StaffPublic:
    return StaffPublic.model_validate(_dump(user))


@router.get("/users", response_model=StaffListPublic, tags=["users"])
def list_users(ctx: Ctx, auth: Authed, team_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
               role: Role | None = None, active: bool | None = None) -> StaffListPublic:
    """Staff accounts: admins and auditors see the tenant, supervisors their team."""
    users = ctx.services.staff.users(auth.principal, team_id=team_id, role=role, active=active)
    return StaffListPublic(items=[_staff(u) for u in users])


@router.patch("/users/{user_id}", response_model=StaffPublic, tags=["users"])
def update_user(user_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: UserUpdate, ctx: Ctx, auth: Authed,
                request: Request) -> StaffPublic:
    """Deactivate or reactivate a user, change their team or display name (admins; audited)."""
    team: Any = None if body.clear_team else body.team_id if body.team_id is not None else ...
    user = ctx.services.staff.update(auth.principal, user_id, active=body.active, team_id=team,
                                     display_name=body.display_name, ip=client_ip(request))
    return _staff(user)


@router.get("/teams", response_model=TeamListPublic, tags=["users"])
def list_teams(ctx: Ctx, auth: Authed) -> TeamListPublic:
    """The tenant's teams (班组)."""
    return TeamListPublic(items=[TeamPublic.model_validate(_dump(t)) for t in ctx.services.staff.teams(auth.principal)])


@router.post("/teams", response_model=TeamPublic, status_code=201, tags=["users"])
def create_team(body: TeamCreate, ctx: Ctx, auth: Authed, request: Request) -> TeamPublic:
    """Create a team (admins; audited)."""
    team = ctx.services.staff.create_team(auth.principal, body.name, ip=client_ip(request))
    return TeamPublic.model_validate(_dump(team))


@router.get("/auth/tokens", response_model=TokenListPublic, tags=["auth"])
def list_tokens(ctx: Ctx, auth: Authed) -> TokenListPublic:
    """The tenant's API tokens, revoked ones included (admins); never the token itself."""
    require(auth.principal, "tokens.manage")
    tokens = ctx.store.list_api_tokens(auth.principal.tenant_id)
    return TokenListPublic(items=[TokenInfoPublic.model_validate(_dump(t)) for t in tokens])


@router.get("/audit", response_model=AuditPagePublic, tags=["audit"])
def audit_log(ctx: Ctx, auth: Authed, action: Annotated[str | None, Query(max_length=64)] = None,
              page: Annotated[int, Query(ge=1, le=100_000)] = 1,
              page_size: Annotated[int, Query(ge=1, le=200)] = 50,
              actor: Annotated[str | None, Query(max_length=160)] = None,
              target: Annotated[str | None, Query(max_length=160)] = None,
              since: Annotated[datetime | None, Query(description="entries at or after (ISO time with zone)")] = None,
              until: Annotated[datetime | None, Query(description="entries before (ISO time with zone)")] = None,
              ) -> AuditPagePublic:
    """The tenant's audit log, newest first (admins and auditors); filters as the admin console's."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise AnfuError("AF505", f"{name}: give a time zone, e.g. 2026-12-06T08:00:00+08:00", kind="time")
        if value is not None:
            try:
                value.astimezone(timezone.utc)
            except OverflowError:
                raise AnfuError("AF505", f"{name}: {value.isoformat()} is outside years 1–9999 in UTC",
                                kind="time") from None
    result = ctx.store.list_audit(auth.principal, action=action, page=page, page_size=page_size, actor=actor,
                                  target=target, since=since, until=until)
    return AuditPagePublic(items=[AuditEntryPublic.model_validate(_dump(e)) for e in result.items],
                           total=result.total, page=result.page, page_size=result.page_size, pages=result.pages)
