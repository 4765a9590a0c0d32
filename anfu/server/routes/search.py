"""Global search (全局搜索): conversations by their messages' words, tickets and customers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ...service.search import KINDS
from ..deps import Authed, Ctx

router = APIRouter(tags=["search"])


class SearchResultPublic(BaseModel):
    kind: str = Field(description="conversation, ticket or customer")
    id: int = Field(description="the conversation's, ticket's or customer's id")
    title: str
    snippet: str = Field(description="the matching text around the first word found, masked for your role")
    highlights: list[tuple[int, int]] = Field(description="[start, end) of the query's words in `snippet`")
    at: datetime
    link: str | None = Field(description="the web page that opens it")
    conversation_id: int | None = None
    message_id: int | None = None
    speaker: str | None = None
    status: str | None = None
    channel: str | None = None


class SearchPublic(BaseModel):
    query: str
    terms: list[str] = Field(description="the query's words (jieba), all of which a result holds")
    kinds: list[str]
    results: dict[str, list[SearchResultPublic]] = Field(description="per kind, best first")
    more: dict[str, bool] = Field(description="per kind: more results than `limit`")
    total: int
    masked: bool = Field(description="personal data in the results is masked for your role")
    elapsed_ms: float


@router.get("/search", response_model=SearchPublic)
def search(ctx: Ctx, auth: Authed,
           q: Annotated[str | None, Query(description="words to find (Chinese is cut with jieba); at most 100 "
                                                      "characters")] = None,
           kind: Annotated[str | None, Query(description="all (default), " + ", ".join(KINDS))] = None,
           limit: Annotated[int, Query(ge=1, le=50, description="results per kind")] = 20) -> SearchPublic:
    """Search the conversations (message text), tickets and customers you may open, in your
    tenant; personal data masked for your role as everywhere else."""
    found = ctx.services.search.search(auth.principal, q, kind, limit=limit)
    return SearchPublic(query=found.query, terms=found.terms, kinds=list(found.kinds),
                        results={k: [SearchResultPublic.model_validate(r, from_attributes=True) for r in v]
                                 for k, v in found.results.items()},
                        more=found.more, total=found.total, masked=found.masked, elapsed_ms=found.elapsed_ms)
