"""Agent wellbeing API: the signed-in agent's own load history, check-ins and peer-support
choice (`/wellbeing/me`), and a supervisor's team load with rotation suggestions and requests for
support (`/wellbeing/team`), which never carries an agent's self-check answers or notes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from ...errors import AuthError
from ...store.care_repo import MAX_NOTE, sees_team
from ..care import Care
from ..deps import Authed, Ctx
from ..schemas import _In

router = APIRouter(tags=["wellbeing"])


class ShiftLoadPublic(BaseModel):
    shift: date
    index: int = Field(description="emotional-load index 0-100 (wellbeing.yaml)")
    level: Literal["green", "amber", "red"]
    points: float
    contacts: int
    hard_contacts: int
    angry_minutes: float
    abusive_minutes: float
    negative_energy_contacts: int
    escalations: int
    csat_lows: int
    back_to_back: int
    parts: dict[str, float]


class CheckinPublic(BaseModel):
    id: int
    kind: str
    conversation_id: int | None
    self_check: list[int] | None
    note: str | None
    created_at: datetime
    handled_at: datetime | None


class PromptPublic(BaseModel):
    conversation_id: int
    ended_at: datetime
    break_minutes: int
    breathing: dict[str, int]
    reframes: list[str]
    self_check: list[str]


class WellbeingMePublic(BaseModel):
    user_id: int
    today: ShiftLoadPublic | None
    history: list[ShiftLoadPublic]
    checkins: list[CheckinPublic]
    peer_support: bool
    peers: list[str]
    prompt: PromptPublic | None


class TeamMemberPublic(BaseModel):
    user_id: int
    name: str
    load: ShiftLoadPublic


class RotationPublic(BaseModel):
    user_id: int | None
    name: str
    index: int
    break_minutes: int
    reason: str
    reason_en: str


class SupportRequestPublic(BaseModel):
    id: int
    user_id: int
    name: str
    kind: Literal["peer", "lead"]
    created_at: datetime
    handled_at: datetime | None


class WellbeingTeamPublic(BaseModel):
    shift: date
    members: list[TeamMemberPublic]
    rotation: list[RotationPublic]
    support_requests: list[SupportRequestPublic]


class CheckinCreate(_In):
    kind: Literal["break", "breathing", "reframe", "peer", "lead", "dismiss"]
    conversation_id: int | None = Field(None, ge=1, le=2**53)
    self_check: list[Annotated[int, Field(ge=0, le=4)]] | None = Field(None, max_length=10)
    note: str | None = Field(None, max_length=MAX_NOTE)


class PeerSupportUpdate(_In):
    enabled: bool


def _load(s: Any) -> ShiftLoadPublic:
    return ShiftLoadPublic(**{k: v for k, v in s.to_dict().items() if k != "agent_id"})


def me_view(ctx: Any, principal: Any, days: int = 14) -> WellbeingMePublic:
    care = Care(ctx)
    from ...wellbeing import load_wellbeing_rules, shift_of

    rules = load_wellbeing_rules()
    history = care.my_shifts(principal, days)
    today = next((s for s in history if s.shift == shift_of(care.now(), rules)), None)
    users = {u.id: u for u in ctx.store.list_users(principal.tenant_id)}
    pending = care.pending_prompt(principal)
    prompt = None
    if pending is not None:
        p = rules["prompt"]
        prompt = PromptPublic(conversation_id=int(pending.contact_id), ended_at=pending.ended_at,
                              break_minutes=p["break_minutes"], breathing=dict(p["breathing"]),
                              reframes=list(p["reframes"]), self_check=list(p["self_check"]))
    return WellbeingMePublic(
        user_id=principal.user_id, today=_load(today) if today else None, history=[_load(s) for s in history],
        checkins=[CheckinPublic(**{k: getattr(c, k) for k in CheckinPublic.model_fields})
                  for c in care.store.my_checkins(principal, limit=100)],
        peer_support=care.store.peer_support(principal),
        peers=[(users[i].display_name or users[i].username) for i in care.store.peers(principal) if i in users],
        prompt=prompt)


def team_view(ctx: Any, principal: Any, shift: date | None = None) -> WellbeingTeamPublic:
    if not sees_team(principal):
        raise AuthError("AF417", "see team wellbeing (supervisors and admins)")
    view = Care(ctx).team(principal, shift)
    users = view["users"]

    def name(user_id: int | None) -> str:
        user = users.get(user_id)
        return (user.display_name or user.username) if user else "—"

    return WellbeingTeamPublic(
        shift=view["shift"],
        members=[TeamMemberPublic(user_id=u.id, name=name(u.id), load=_load(load))
                 for u, load in zip(view["members"], view["loads"])],
        rotation=[RotationPublic(name=name(r.agent_id), **{"user_id": r.agent_id, "index": r.index,
                                                          "break_minutes": r.break_minutes, "reason": r.reason,
                                                          "reason_en": r.reason_en})
                  for r in view["rotation"]],
        support_requests=[SupportRequestPublic(id=r.id, user_id=r.user_id, name=name(r.user_id), kind=r.kind,
                                               created_at=r.created_at, handled_at=r.handled_at)
                          for r in view["requests"]])


def _user_principal(auth: Any) -> Any:
    if auth.principal.user_id is None:
        raise AuthError("AF417", "read wellbeing data with an API token (it belongs to a person; sign in)")
    return auth.principal


@router.get("/wellbeing/me", response_model=WellbeingMePublic)
def wellbeing_me(ctx: Ctx, auth: Authed,
                 days: Annotated[int, Query(ge=1, le=90, description="days of history")] = 14) -> WellbeingMePublic:
    """Your own emotional-load index per shift, your check-ins (with your private self-check and
    notes), your peer-support choice, colleagues available for peer support, and the pending
    after-contact prompt, if any."""
    return me_view(ctx, _user_principal(auth), days)


@router.get("/wellbeing/team", response_model=WellbeingTeamPublic)
def wellbeing_team(ctx: Ctx, auth: Authed,
                   shift: Annotated[date | None, Query(description="working day (default today, Beijing time)")] = None,
                   ) -> WellbeingTeamPublic:
    """Supervisors (their team) and admins (their tenant): each agent's load of a shift, rotation
    suggestions (most loaded first) and requests for a peer or the team lead. Never an agent's
    self-check answers or private notes. API tokens get AF417 (the data is about people)."""
    return team_view(ctx, _user_principal(auth), shift)


@router.post("/wellbeing/checkins", response_model=CheckinPublic, status_code=201)
def add_checkin(body: CheckinCreate, ctx: Ctx, auth: Authed) -> CheckinPublic:
    """Answer the after-contact prompt: a break, breathing, the reframing, a request for a peer or
    the team lead, or dismiss. The self-check answers and note stay private to you."""
    record = Care(ctx).store.add_checkin(_user_principal(auth), body.kind, conversation_id=body.conversation_id,
                                         self_check=body.self_check, note=body.note)
    return CheckinPublic(**{k: getattr(record, k) for k in CheckinPublic.model_fields})


@router.put("/wellbeing/me/peer-support", response_model=PeerSupportUpdate)
def set_peer_support(body: PeerSupportUpdate, ctx: Ctx, auth: Authed) -> PeerSupportUpdate:
    """Opt into (or out of) peer support: colleagues of your team may then ask you."""
    return PeerSupportUpdate(enabled=Care(ctx).store.set_peer_support(_user_principal(auth), body.enabled))


@router.post("/wellbeing/requests/{request_id}/handled", response_model=SupportRequestPublic)
def handle_support_request(request_id: Annotated[int, Path(ge=1, le=2**53)], ctx: Ctx,
                           auth: Authed) -> SupportRequestPublic:
    """Mark an agent's request for a peer or the team lead as handled (supervisors: their team;
    admins: their tenant). Never the agent's self-check or note. API tokens get AF417 (the team
    lead who handled it is recorded)."""
    record = Care(ctx).store.handle_request(_user_principal(auth), request_id)
    user = ctx.store.get_user(record.user_id)
    return SupportRequestPublic(id=record.id, user_id=record.user_id,
                                name=(user.display_name or user.username) if user else "—", kind=record.kind,
                                created_at=record.created_at, handled_at=record.handled_at)
