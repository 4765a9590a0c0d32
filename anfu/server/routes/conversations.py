"""Conversations with their messages and assessments; list filters; status; supervisor
join and take-over (audited)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from ...errors import InputError
from ...glossary import EMOTIONS
from ...service.lists import ListFilters
from ...store import ConversationFilter
from ..deps import Authed, Ctx, client_ip
from ..schemas import (MAX_ID, ConversationDetailPublic, ConversationPagePublic, ConversationPublic,
                       ConversationUpdate, Id, _In)
from ..views import assessment_public, conversation_public, message_public

router = APIRouter(tags=["conversations"])


def _day(value: date | None, end: bool = False) -> datetime | None:
    if value is None:
        return None
    if end and value >= date.max - timedelta(days=1):
        return None  # "up to 9999-12-31" filters nothing (and must not overflow)
    start = datetime.combine(value, time.min, tzinfo=timezone.utc)
    return start + timedelta(days=1) if end else start


@router.get("/conversations", response_model=ConversationPagePublic)
def list_conversations(
    ctx: Ctx, auth: Authed,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    status: Literal["open", "pending", "closed"] | None = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    emotion: Annotated[str | None, Query(max_length=32)] = None,
    min_level: Annotated[int | None, Query(ge=0, le=3, description="lowest escalation level")] = None,
    agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    team_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    date_from: Annotated[date | None, Query(description="last activity on or after this day (UTC)")] = None,
    date_to: Annotated[date | None, Query(description="last activity on or before this day (UTC)")] = None,
    scope: Annotated[Literal["mine", "team", "unassigned", "closed"] | None,
                     Query(description="one of the lists: mine, team, unassigned (the queue), closed")] = None,
    industry: Annotated[str | None, Query(max_length=32)] = None,
) -> ConversationPagePublic:
    """Conversations you may see, newest activity first; with `scope`, one of the lists (mine /
    team / unassigned / closed; see docs/lists.md) with the same filters."""
    if scope is not None:
        if agent_id is not None or team_id is not None or customer_id is not None:
            raise InputError("AF682", "agent_id/team_id/customer_id with scope", kind="filter",
                             allowed="status, channel, industry, emotion, min_level, date_from, date_to")
        filters_ = ListFilters.parse({"status": status, "channel": channel, "industry": industry,
                                      "emotion": emotion, "min_level": min_level, "date_from": date_from,
                                      "date_to": date_to})
        listed = ctx.services.lists.conversations(auth.principal, scope, filters_, page=page, page_size=page_size)
        return ConversationPagePublic(items=[conversation_public(c) for c in listed.items], total=listed.total,
                                      page=listed.page, page_size=listed.page_size, pages=listed.pages)
    if emotion is not None and emotion not in EMOTIONS:
        raise InputError("AF010", repr(emotion), allowed=", ".join(EMOTIONS))
    if industry is not None:
        ListFilters.parse({"industry": industry})
    filters = ConversationFilter(status=status, channel=channel, emotion=emotion, min_escalation=min_level,
                                 industry=industry,
                                 agent_id=agent_id, team_id=team_id, customer_id=customer_id,
                                 updated_since=_day(date_from), updated_until=_day(date_to, end=True))
    result = ctx.store.list_conversations(auth.principal, filters, page=page, page_size=page_size)
    return ConversationPagePublic(items=[conversation_public(c) for c in result.items], total=result.total,
                                  page=result.page, page_size=result.page_size, pages=result.pages)


@router.get("/conversations/{conversation_id}", response_model=ConversationDetailPublic)
def get_conversation(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed) -> ConversationDetailPublic:
    """One conversation with its messages and every stored assessment."""
    record = ctx.store.get_conversation(conversation_id, visible_to=auth.principal)
    messages = ctx.store.list_messages(record.id, visible_to=auth.principal, limit=10_000)
    assessments = ctx.store.list_assessments(record.id, visible_to=auth.principal)
    return ConversationDetailPublic(conversation=conversation_public(record),
                                    messages=[message_public(m, auth.principal) for m in messages],
                                    assessments=[assessment_public(a, auth.principal) for a in assessments])


@router.patch("/conversations/{conversation_id}", response_model=ConversationPublic)
def update_conversation(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: ConversationUpdate, ctx: Ctx, auth: Authed) -> ConversationPublic:
    """Change a conversation's status (open, pending, closed)."""
    record = ctx.store.update_conversation(conversation_id, by=auth.principal, status=body.status)
    return conversation_public(record)


@router.post("/conversations/{conversation_id}/join", response_model=ConversationPublic)
def join_conversation(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed, request: Request) -> ConversationPublic:
    """A supervisor joins (listens in on) a conversation; audited and announced."""
    from ..supervision import join

    return conversation_public(join(ctx, auth.principal, conversation_id, client_ip(request)))


@router.post("/conversations/{conversation_id}/take-over", response_model=ConversationPublic)
def take_over(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed, request: Request,
              release: bool = False) -> ConversationPublic:
    """A supervisor takes over (or with `release=true` hands back) a conversation; audited."""
    from ..supervision import take_over as _take_over

    return conversation_public(_take_over(ctx, auth.principal, conversation_id, client_ip(request), release))


class ConversationAssign(_In):
    agent_id: Id


class ConversationTransfer(_In):
    team_id: Id
    agent_id: Id | None = None


@router.post("/conversations/{conversation_id}/assign", response_model=ConversationPublic)
def assign_conversation(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: ConversationAssign,
                        ctx: Ctx, auth: Authed, request: Request) -> ConversationPublic:
    """Give a conversation to an agent (supervisors: their team's agents; admins); audited."""
    return conversation_public(ctx.services.routing.assign(auth.principal, conversation_id, body.agent_id,
                                                           client_ip(request)))


@router.post("/conversations/{conversation_id}/transfer", response_model=ConversationPublic)
def transfer_conversation(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: ConversationTransfer,
                          ctx: Ctx, auth: Authed, request: Request) -> ConversationPublic:
    """Move a conversation to another team, optionally to one of its agents (admins); audited."""
    return conversation_public(ctx.services.routing.transfer(auth.principal, conversation_id, body.team_id,
                                                             body.agent_id, client_ip(request)))


@router.post("/conversations/{conversation_id}/claim", response_model=ConversationPublic)
def claim_conversation(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed,
                       request: Request) -> ConversationPublic:
    """Become the conversation's handler: agents an unassigned one of their team, supervisors any
    of their team, admins any; audited."""
    return conversation_public(ctx.services.routing.claim(auth.principal, conversation_id, client_ip(request)))


@router.post("/conversations/{conversation_id}/close", response_model=ConversationPublic)
def close_conversation(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed,
                       request: Request) -> ConversationPublic:
    """Close a conversation you may write to; audited and announced."""
    return conversation_public(ctx.services.routing.close(auth.principal, conversation_id, client_ip(request)))


class WhisperCreate(_In):
    hint: str = Field(min_length=1, max_length=500)


class EventRefPublic(BaseModel):
    event_id: int
    name: str


class EscalationPublic(BaseModel):
    event_id: int
    ticket_id: int
    ticket_number: str
    ticket_created: bool


@router.post("/conversations/{conversation_id}/whisper", response_model=EventRefPublic, status_code=201)
def whisper(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: WhisperCreate, ctx: Ctx, auth: Authed,
            request: Request) -> EventRefPublic:
    """A hint only the agent sees (悄悄话) (supervisors of the team, admins); audited."""
    from ...service.supervision import whisper as _whisper

    event = _whisper(ctx, auth.principal, conversation_id, body.hint, client_ip(request))
    return EventRefPublic(event_id=event.id, name=event.name)


@router.post("/conversations/{conversation_id}/escalate", response_model=EscalationPublic, status_code=201)
def escalate(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed) -> EscalationPublic:
    """升级: open (or find) the conversation's ticket and alert the supervisors, as the console's button does."""
    from ...service.supervision import escalate as _escalate

    record, event, created = _escalate(ctx, auth.principal, conversation_id, auth.principal.name)
    return EscalationPublic(event_id=event.id, ticket_id=record.id, ticket_number=record.number,
                            ticket_created=created)
