"""Workflow events (noun.verb), for polling integrations: `GET /events?after=<last id>`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ..deps import Authed, Ctx
from ..schemas import EventPublic
from ..views import event_public

router = APIRouter(tags=["events"])


class EventListPublic(BaseModel):
    items: list[EventPublic]
    next_after: int


@router.get("/events", response_model=EventListPublic)
def list_events(ctx: Ctx, auth: Authed,
                after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                name: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_.]+$")] = None,
                conversation_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> EventListPublic:
    """Events after the id `after`, oldest first; pass `next_after` back to continue."""
    events = ctx.store.list_events(auth.principal, after_id=after, name=name,
                                   conversation_id=conversation_id, limit=limit)
    return EventListPublic(items=[event_public(e, auth.principal) for e in events],
                           next_after=events[-1].id if events else after)
