"""Private notes (内部备注) on the pages: the notes card of the console's customer panel (the
conversation's notes) and of the ticket page. Reading and writing go through
`anfu.service.notes` (staff who may see the conversation or ticket; auditors read only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from ...errors import AnfuError
from ...service.notes import MAX_NOTE, NoteTarget
from ...store.access import can
from ..deps import client_ip
from .common import WebUser, render, web_form_user

router = APIRouter()


def notes_view(request: Request, user: WebUser, target: NoteTarget, *, writable: bool) -> dict[str, Any]:
    """What the notes card shows: the notes and whether the form is offered."""
    notes = request.app.state.ctx.services.notes.list(user.principal, target)
    return {"target": target, "notes": notes, "can_note": writable, "max_note": MAX_NOTE}


def conversation_notes(request: Request, user: WebUser, conversation: Any) -> dict[str, Any]:
    return notes_view(request, user, NoteTarget("conversation", conversation.id),
                      writable=can(user.principal, "conversation.write", conversation))


def ticket_notes(request: Request, user: WebUser, ticket_id: int) -> dict[str, Any]:
    return notes_view(request, user, NoteTarget("ticket", ticket_id), writable=user.principal.role != "auditor")


@router.post("/notes/{kind}/{target_id}", include_in_schema=False)
def add_note(kind: str, target_id: int, request: Request, text: str = Form("", max_length=MAX_NOTE),
             user: WebUser = Depends(web_form_user)) -> HTMLResponse:
    """Add a note to a conversation (`kind` conversation) or a ticket (`kind` ticket); answers
    the notes list (HTMX), with the error's code when the note was refused for its text."""
    target = NoteTarget(kind, target_id)
    error = None
    try:
        request.app.state.ctx.services.notes.add(user.principal, target, text, ip=client_ip(request))
    except AnfuError as exc:
        if exc.code in ("AF417", "AF503"):
            raise
        error = exc
    view = notes_view(request, user, target, writable=True)
    return render(request, "_notes.html", block="notes_list", user=user, note_error=error, note_view=view,
                  note_items=view["notes"])
