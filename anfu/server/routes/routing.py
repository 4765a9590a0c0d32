"""Routing over REST (issue 13): team settings (rename, auto-assignment), queues by industry and
channel, agents' skills, cap and team, an agent's presence (示闲/示忙/签出) and the queue
figures of the wallboard. Decisions and checks live in `anfu.service.routing`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field, model_validator

from ...store.routing_tables import PRESENCE
from ..deps import Authed, Ctx, client_ip
from ..schemas import MAX_ID, Id, Industry, _In
from ..views import _dump

router = APIRouter(tags=["routing"])
Channel = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Presence = Literal[PRESENCE]  # type: ignore[valid-type]


class TeamRoutingPublic(BaseModel):
    id: int
    tenant_id: int
    name: str
    auto_assign: bool
    created_at: datetime


class TeamUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200, description="rename the team")
    auto_assign: bool | None = Field(default=None, description="hand new conversations of the team's queues "
                                                               "to its agents by load")


class QueuePublic(BaseModel):
    id: int
    tenant_id: int
    team_id: int
    name: str
    industry: str | None
    channel: str | None
    created_at: datetime


class QueueListPublic(BaseModel):
    items: list[QueuePublic]


class QueueCreate(_In):
    team_id: Id
    name: str = Field(min_length=1, max_length=200)
    industry: Industry = Field(default=None, description="only conversations of this industry (none: any)")
    channel: Channel | None = Field(default=None, description="only conversations of this channel (none: any)")


class QueueUpdate(_In):
    team_id: Id | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    industry: Industry = None
    channel: Channel | None = None
    any_industry: bool = Field(default=False, description="true: the queue takes every industry")
    any_channel: bool = Field(default=False, description="true: the queue takes every channel")


class AgentRoutingPublic(BaseModel):
    user_id: int
    username: str
    display_name: str
    team_id: int | None
    active: bool
    industries: list[str]
    channels: list[str]
    max_open: int
    presence: str
    presence_since: datetime | None
    last_assigned_at: datetime | None
    open_count: int


class AgentRoutingListPublic(BaseModel):
    items: list[AgentRoutingPublic]


class AgentRoutingUpdate(_In):
    industries: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, max_length=32, description="industry skills (empty: any industry)")
    channels: list[Channel] | None = Field(default=None, max_length=32,
                                           description="channel skills (empty: any channel)")
    max_open: int | None = Field(default=None, ge=0, le=100, description="concurrent open conversations at most")
    team_id: Id | None = Field(default=None, description="move the agent to this team")

    @model_validator(mode="after")
    def _industries_known(self) -> "AgentRoutingUpdate":
        from ...errors import AnfuError
        from ...rules import check_industry

        for value in self.industries or []:
            try:
                check_industry(value)
            except AnfuError as exc:
                raise ValueError(exc.message) from None
        return self


class PresenceUpdate(_In):
    presence: Presence


class QueueFiguresPublic(BaseModel):
    queue_id: int | None
    team_id: int | None
    name: str | None
    open: int
    unassigned: int
    waiting: int
    oldest_unassigned_at: datetime | None


class QueueFiguresListPublic(BaseModel):
    items: list[QueueFiguresPublic]


def _agent(profile: Any) -> AgentRoutingPublic:
    return AgentRoutingPublic.model_validate(_dump(profile))


QueueId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.patch("/teams/{team_id}", response_model=TeamRoutingPublic)
def update_team(team_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: TeamUpdate, ctx: Ctx, auth: Authed,
                request: Request) -> TeamRoutingPublic:
    """Rename a team or switch its auto-assignment (admins; audited)."""
    team = ctx.services.routing.update_team(auth.principal, team_id, name=body.name, auto_assign=body.auto_assign,
                                            ip=client_ip(request))
    return TeamRoutingPublic.model_validate(_dump(team))


@router.get("/routing/queues", response_model=QueueListPublic)
def list_queues(ctx: Ctx, auth: Authed) -> QueueListPublic:
    """Routing queues: the tenant's (admins, auditors) or your team's."""
    return QueueListPublic(items=[QueuePublic.model_validate(_dump(q)) for q in ctx.services.routing.queues(auth.principal)])


@router.post("/routing/queues", response_model=QueuePublic, status_code=201)
def create_queue(body: QueueCreate, ctx: Ctx, auth: Authed, request: Request) -> QueuePublic:
    """A queue of a team for an industry and/or channel (admins; audited)."""
    queue = ctx.services.routing.create_queue(auth.principal, body.team_id, body.name, industry=body.industry,
                                              channel=body.channel, ip=client_ip(request))
    return QueuePublic.model_validate(_dump(queue))


@router.patch("/routing/queues/{queue_id}", response_model=QueuePublic)
def update_queue(queue_id: QueueId, body: QueueUpdate, ctx: Ctx, auth: Authed, request: Request) -> QueuePublic:
    """Rename a queue, move it to another team, change its industry or channel (admins; audited)."""
    changes: dict[str, Any] = {k: v for k, v in (("team_id", body.team_id), ("name", body.name),
                                                 ("industry", body.industry), ("channel", body.channel))
                               if v is not None}
    if body.any_industry:
        changes["industry"] = None
    if body.any_channel:
        changes["channel"] = None
    queue = ctx.services.routing.update_queue(auth.principal, queue_id, ip=client_ip(request), **changes)
    return QueuePublic.model_validate(_dump(queue))


@router.delete("/routing/queues/{queue_id}", response_model=QueuePublic)
def delete_queue(queue_id: QueueId, ctx: Ctx, auth: Authed, request: Request) -> QueuePublic:
    """Remove a queue; its conversations stay in their team (admins; audited)."""
    queue = ctx.services.routing.delete_queue(auth.principal, queue_id, ip=client_ip(request))
    return QueuePublic.model_validate(_dump(queue))


@router.get("/routing/agents", response_model=AgentRoutingListPublic)
def list_agents(ctx: Ctx, auth: Authed,
                team_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> AgentRoutingListPublic:
    """Agents' skills, cap, presence and open conversations: the tenant's (admins, auditors),
    your team's (supervisors), your own (agents)."""
    return AgentRoutingListPublic(items=[_agent(p) for p in ctx.services.routing.profiles(auth.principal,
                                                                                          team_id=team_id)])


@router.patch("/routing/agents/{user_id}", response_model=AgentRoutingPublic)
def update_agent(user_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: AgentRoutingUpdate, ctx: Ctx, auth: Authed,
                 request: Request) -> AgentRoutingPublic:
    """Set an agent's industry and channel skills, cap and team (admins; audited)."""
    ip = client_ip(request)
    if body.team_id is not None:
        ctx.services.routing.agent(auth.principal, user_id)  # AF503 before anything is written
        ctx.services.staff.update(auth.principal, user_id, team_id=body.team_id, ip=ip)
    profile = ctx.services.routing.set_profile(auth.principal, user_id, industries=body.industries,
                                               channels=body.channels, max_open=body.max_open, ip=ip)
    return _agent(profile)


@router.put("/routing/presence", response_model=AgentRoutingPublic)
def set_presence(body: PresenceUpdate, ctx: Ctx, auth: Authed, request: Request) -> AgentRoutingPublic:
    """Your routing presence (agents): `available` receives new conversations, `busy` and
    `offline` do not; becoming available hands you what waits in your team's queues."""
    return _agent(ctx.services.routing.set_presence(auth.principal, body.presence, ip=client_ip(request)))


@router.get("/routing/figures", response_model=QueueFiguresListPublic)
def queue_figures(ctx: Ctx, auth: Authed) -> QueueFiguresListPublic:
    """Open, unassigned and waiting conversations per queue (supervisors: their team; admins,
    auditors: the tenant)."""
    return QueueFiguresListPublic(items=[QueueFiguresPublic.model_validate(_dump(f))
                                         for f in ctx.services.routing.figures(auth.principal)])
