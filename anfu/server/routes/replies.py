"""The canned-reply library (话术库) over REST: everyone reads it, supervisors and admins
write it; every saved text passes the pre-send check (AF670 with the findings otherwise). A 话术's
ETag is the time of its last change (`anfu.server.preconditions`): a PATCH with If-Match over
a 话术 changed since is AF673 with 412 Precondition Failed and changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import BaseModel, Field

from ..deps import Authed, Ctx
from ..preconditions import Versions, chosen, parse_if_match, precondition, time_etag, time_of
from ..schemas import MAX_ID, MAX_TEXT, _In
from ..views import _dump

router = APIRouter(tags=["replies"])
ReplyId = Annotated[int, Path(ge=1, le=MAX_ID)]


class CannedReplyPublic(BaseModel):
    id: int
    title: str
    text: str
    category: str | None
    emotion: str | None
    persona: str | None
    active: bool
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime


class CannedReplyListPublic(BaseModel):
    items: list[CannedReplyPublic]


class CannedReplyCreate(_In):
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    category: str | None = Field(default=None, max_length=64)
    emotion: str | None = Field(default=None, max_length=32)
    persona: str | None = Field(default=None, max_length=32)


class CannedReplyUpdate(_In):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    category: str | None = Field(default=None, max_length=64)
    emotion: str | None = Field(default=None, max_length=32)
    persona: str | None = Field(default=None, max_length=32)
    active: bool | None = None


def _public(reply: Any) -> CannedReplyPublic:
    return CannedReplyPublic.model_validate(_dump(reply))


def if_match(value: Annotated[str | None, Header(
        alias="If-Match", max_length=100,
        description='the 话术\'s ETag as read (strong; a weak W/"…" is AF505): a 话术 changed since is AF673 '
                    'with 412 Precondition Failed and nothing changes; leave it out (or send *) to apply the '
                    'change to the 话术 as it is')] = None) -> Versions:
    """The version(s) an If-Match header names (None: any version)."""
    return parse_if_match(value, "GET /api/v1/replies/{id}")


IfMatch = Annotated[Versions, Depends(if_match)]


def tagged(response: Response, reply: Any) -> CannedReplyPublic:
    """The 话术 as the API shows it, its version as the response's ETag."""
    response.headers["ETag"] = time_etag(reply.updated_at)
    return _public(reply)


@router.get("/replies", response_model=CannedReplyListPublic)
def list_replies(ctx: Ctx, auth: Authed, category: Annotated[str | None, Query(max_length=64)] = None,
                 emotion: Annotated[str | None, Query(max_length=32)] = None,
                 persona: Annotated[str | None, Query(max_length=32)] = None,
                 q: Annotated[str | None, Query(max_length=200)] = None,
                 include_inactive: bool = False) -> CannedReplyListPublic:
    """The tenant's canned replies (retired ones only for supervisors and admins, on request);
    `q` keeps those whose title, text or scenario contain every word of it."""
    if q:
        picked = ctx.services.replies.pick(auth.principal, q, category=category, emotion=emotion, persona=persona,
                                           limit=500)
        return CannedReplyListPublic(items=[_public(p.reply) for p in picked])
    items = ctx.services.replies.list(auth.principal, category=category, emotion=emotion,
                                      include_inactive=include_inactive, persona=persona)
    return CannedReplyListPublic(items=[_public(r) for r in items])


@router.post("/replies", response_model=CannedReplyPublic, status_code=201)
def create_reply(body: CannedReplyCreate, ctx: Ctx, auth: Authed, response: Response) -> CannedReplyPublic:
    """Add a canned reply (supervisors, admins); it must pass the pre-send check (AF670). Its
    version is the ETag."""
    return tagged(response, ctx.services.replies.create(auth.principal, title=body.title, text=body.text,
                                                        category=body.category, emotion=body.emotion,
                                                        persona=body.persona))


@router.get("/replies/{reply_id}", response_model=CannedReplyPublic)
def get_reply(reply_id: ReplyId, ctx: Ctx, auth: Authed, response: Response) -> CannedReplyPublic:
    """One canned reply; its version is the ETag."""
    return tagged(response, ctx.services.replies.get(auth.principal, reply_id))


@router.patch("/replies/{reply_id}", response_model=CannedReplyPublic)
def update_reply(reply_id: ReplyId, body: CannedReplyUpdate, ctx: Ctx, auth: Authed, version: IfMatch,
                 response: Response) -> CannedReplyPublic:
    """Edit or retire (`active: false`) a canned reply; a new text is checked again (AF670).
    With If-Match, only over that version (AF673, 412 Precondition Failed, otherwise)."""
    version = chosen(version, lambda: int(time_etag(ctx.services.replies.get(auth.principal, reply_id).updated_at)
                                          .strip('"')))
    with precondition(version):
        reply = ctx.services.replies.update(auth.principal, reply_id, expected_updated_at=time_of(version),
                                            **body.model_dump(exclude_unset=True))
    return tagged(response, reply)
