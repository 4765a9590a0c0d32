"""Private notes (内部备注) on conversations and tickets over REST: staff of the tenant who may
see the conversation or ticket read them; those who may work on it add them (auditors read
only; API tokens never, AF417). Never part of a ticket's history, webhooks or exports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from ...errors import InputError, NotFoundError
from ...service.notes import MAX_NOTE, NoteTarget
from ..deps import Authed, Ctx, client_ip
from ..idempotency import IdempotencyKey, once
from ..schemas import MAX_ID, Id, _In

router = APIRouter(tags=["notes"])


class NotePublic(BaseModel):
    id: int
    conversation_id: int | None
    ticket_id: int | None
    author: str
    text: str
    created_at: datetime


class NoteListPublic(BaseModel):
    items: list[NotePublic]


class NoteCreate(_In):
    conversation_id: Id | None = None
    ticket_id: Id | None = None
    text: str = Field(min_length=1, max_length=MAX_NOTE)

    @model_validator(mode="after")
    def _one_target(self) -> "NoteCreate":
        if (self.conversation_id is None) == (self.ticket_id is None):
            raise ValueError("name exactly one of conversation_id and ticket_id")
        return self


def target_of(conversation_id: int | None, ticket_id: int | None) -> NoteTarget:
    if (conversation_id is None) == (ticket_id is None):
        raise InputError("AF505", "name exactly one of conversation_id and ticket_id", kind="note target")
    return NoteTarget("conversation", conversation_id) if conversation_id is not None \
        else NoteTarget("ticket", ticket_id)  # type: ignore[arg-type]


def note_public(note: Any) -> NotePublic:
    return NotePublic(id=note.id, conversation_id=note.conversation_id, ticket_id=note.ticket_id,
                      author=note.author, text=note.text, created_at=note.created_at)


@router.get("/notes", response_model=NoteListPublic)
def list_notes(ctx: Ctx, auth: Authed,
               conversation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
               ticket_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> NoteListPublic:
    """The private notes of one conversation or one ticket (exactly one of the two), oldest first."""
    notes = ctx.services.notes.list(auth.principal, target_of(conversation_id, ticket_id))
    return NoteListPublic(items=[note_public(n) for n in notes])


@router.post("/notes", response_model=NotePublic, status_code=201)
def add_note(body: NoteCreate, ctx: Ctx, auth: Authed, request: Request, response: Response,
             key: IdempotencyKey) -> NotePublic:
    """Add a private note to a conversation or a ticket; audited (not its text). With an
    `Idempotency-Key`, a retry with the same body returns the note already added (AF445 for the
    same key with another body)."""
    notes, target = ctx.services.notes, target_of(body.conversation_id, body.ticket_id)

    def replay(note_id: int) -> Any:
        found = next((n for n in notes.list(auth.principal, target) if n.id == note_id), None)
        if found is None:
            raise NotFoundError("AF503", note_id, kind="note")
        return found

    note = once(ctx.services.idempotency, auth.principal, "POST /notes", key, body, response,
                lambda: notes.add(auth.principal, target, body.text, ip=client_ip(request)), replay,
                lambda n: n.id)
    return note_public(note)
