"""Saved views of the conversation lists: each user's named list (mine / team / unassigned /
closed) with its filters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from ...service.lists import ListFilters
from ..deps import Authed, Ctx
from ..schemas import MAX_ID, ConversationPagePublic, _In, _Out
from ..views import conversation_public

router = APIRouter(tags=["conversations"])
Scope = Literal["mine", "team", "unassigned", "closed"]


class ListFiltersIn(_In):
    status: Literal["open", "pending", "closed"] | None = None
    channel: str | None = None
    industry: str | None = None
    emotion: str | None = None
    min_level: int | None = None
    date_from: date | None = None
    date_to: date | None = None


class SavedViewCreate(_In):
    name: str
    scope: Scope
    filters: ListFiltersIn = ListFiltersIn()


class SavedViewPublic(_Out):
    id: int
    name: str
    scope: str
    filters: dict[str, str | int]
    created_at: datetime


@router.get("/saved-views", response_model=list[SavedViewPublic])
def list_views(ctx: Ctx, auth: Authed) -> list[SavedViewPublic]:
    """Your saved views, by name (an API token has none)."""
    return [SavedViewPublic.model_validate(v) for v in ctx.services.lists.views(auth.principal)]


@router.post("/saved-views", response_model=SavedViewPublic, status_code=201)
def create_view(body: SavedViewCreate, ctx: Ctx, auth: Authed) -> SavedViewPublic:
    """Save a named list with its filters, for you only."""
    filters = ListFilters.parse(body.filters.model_dump(exclude_none=True))
    view = ctx.services.lists.save_view(auth.principal, body.name, body.scope, filters)
    return SavedViewPublic.model_validate(view)


@router.delete("/saved-views/{view_id}", status_code=204)
def delete_view(view_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed) -> Response:
    """Delete one of your saved views."""
    ctx.services.lists.delete_view(auth.principal, view_id)
    return Response(status_code=204)


@router.get("/saved-views/{view_id}/conversations", response_model=ConversationPagePublic)
def view_conversations(view_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed,
                       page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                       page_size: Annotated[int, Query(ge=1, le=200)] = 50) -> ConversationPagePublic:
    """The conversations of one of your saved views, newest activity first."""
    lists = ctx.services.lists
    view = lists.view(auth.principal, view_id)
    result = lists.conversations(auth.principal, view.scope, ListFilters.parse(view.filters), page=page,
                                 page_size=page_size)
    return ConversationPagePublic(items=[conversation_public(c) for c in result.items], total=result.total,
                                  page=result.page, page_size=result.page_size, pages=result.pages)
