"""The 话术库 page (canned replies by scenario, emotion and customer type: everyone reads,
supervisors and admins add and edit; an entry that fails the pre-send check is refused with its
code, findings and the compliant rewrite shown in the form) and the composer's 话术 picker
(`/` in an empty draft): the entries matching the words typed, those suited to the current
customer's emotion and persona first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import AnfuError, InputError
from ...glossary import EMOTIONS, PERSONAS
from ...service.replies import WRITERS, ReplyRejected
from .common import WebUser, is_htmx, render, web_form_user, web_user
from .page_errors import form_status

router = APIRouter()
MAX_TITLE = 200
MAX_REPLY = 2000


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def library_view(request: Request, user: WebUser, *, q: str = "", category: str | None = None,
                 emotion: str | None = None, persona: str | None = None,
                 include_inactive: bool = False) -> dict[str, Any]:
    replies = request.app.state.ctx.services.replies
    emotion, persona = _choice(emotion, EMOTIONS), _choice(persona, PERSONAS)
    category = category or None
    if q.strip():
        items = [p.reply for p in replies.pick(user.principal, q, category=category, emotion=emotion,
                                               persona=persona, limit=500)]
    else:
        items = replies.list(user.principal, category=category, emotion=emotion, persona=persona,
                             include_inactive=include_inactive)
    return {"items": items, "q": q, "category": category, "emotion": emotion, "persona": persona,
            "categories": replies.categories(user.principal), "emotions": EMOTIONS, "personas": PERSONAS,
            "can_edit": user.principal.role in WRITERS, "include_inactive": include_inactive}


@router.get("/replies", include_in_schema=False)
def replies_page(request: Request, q: str = "", category: str | None = None, emotion: str | None = None,
                 persona: str | None = None, inactive: int = 0, edit: int | None = None,
                 user: WebUser = Depends(web_user)) -> HTMLResponse:
    view = library_view(request, user, q=q[:200], category=category, emotion=emotion, persona=persona,
                        include_inactive=bool(inactive))
    editing = None
    if edit is not None and view["can_edit"]:
        editing = request.app.state.ctx.services.replies.get(user.principal, edit)
    return render(request, "replies.html", user=user, form=_form_of(editing), editing=editing, error=None,
                  **view)


def _form_of(reply: Any) -> dict[str, Any]:
    if reply is None:
        return {"title": "", "text": "", "category": "", "emotion": "", "persona": ""}
    return {"title": reply.title, "text": reply.text, "category": reply.category or "",
            "emotion": reply.emotion or "", "persona": reply.persona or ""}


def _saved(request: Request, user: WebUser, form: dict[str, Any], editing: Any, save: Any) -> Response:
    """Save through the service; a refusal (pre-send check, role, bad label) is shown in the
    form with its code and the entry as typed, with status 200 for HTMX and otherwise
    `form_status`'s: 409 for a 话术 changed since the form was opened (AF673), 422 for the
    form's input (AF505, the pre-send check's AF670, a bad label)."""
    try:
        saved = save()
    except ReplyRejected as exc:
        error = {"code": exc.code, "findings": exc.findings, "rewrite": exc.rewrite}
        status = form_status(exc)
    except AnfuError as exc:
        if exc.code in ("AF417", "AF503"):
            raise
        error = {"code": exc.code, "message": exc.message, "findings": [], "rewrite": None}
        status = form_status(exc)
    else:
        target = f"/replies?saved={saved.id}"
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    view = library_view(request, user)
    return render(request, "replies.html", user=user, form=form, editing=editing, error=error,
                  status_code=200 if is_htmx(request) else status, **view)


@router.post("/replies", include_in_schema=False)
def replies_create(request: Request, title: str = Form("", max_length=MAX_TITLE),
                   text: str = Form("", max_length=MAX_REPLY), category: str = Form("", max_length=64),
                   emotion: str = Form("", max_length=32), persona: str = Form("", max_length=32),
                   user: WebUser = Depends(web_form_user)) -> Response:
    """Add a 话术 (supervisors, admins)."""
    form = {"title": title, "text": text, "category": category, "emotion": emotion, "persona": persona}
    library = request.app.state.ctx.services.replies
    return _saved(request, user, form, None, lambda: library.create(
        user.principal, title=_required(title, "title"), text=_required(text, "text"), category=category.strip() or None,
        emotion=emotion or None, persona=persona or None))


@router.post("/replies/{reply_id}", include_in_schema=False)
def replies_update(reply_id: int, request: Request, title: str = Form("", max_length=MAX_TITLE),
                   text: str = Form("", max_length=MAX_REPLY), category: str = Form("", max_length=64),
                   emotion: str = Form("", max_length=32), persona: str = Form("", max_length=32),
                   active: str = Form("yes"), version: str = Form("", max_length=40),
                   user: WebUser = Depends(web_form_user)) -> Response:
    """Edit or retire a 话术 (supervisors, admins); a new text is checked again. The form posts
    every field and the version it shows (`updated_at`): over a 话术 changed since, it is refused
    (AF673) instead of putting back what the other person changed."""
    library = request.app.state.ctx.services.replies
    editing = library.get(user.principal, reply_id)
    form = {"title": title, "text": text, "category": category, "emotion": emotion, "persona": persona}
    return _saved(request, user, form, editing, lambda: library.update(
        user.principal, reply_id, title=_required(title, "title"), text=_required(text, "text"),
        category=category.strip() or None, emotion=emotion or None, persona=persona or None,
        active=active == "yes", expected_updated_at=_version(version)))


def _version(value: str) -> datetime | None:
    """The edit form's version (the 话术's `updated_at`, ISO 8601); None when the form has none."""
    if not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InputError("AF505", "reload the page to edit the latest version", kind="form version")
    return when


def _required(value: str, what: str) -> str:
    if not value.strip():
        raise InputError("AF505", f"{what} is empty", kind="canned reply")
    return value.strip()


def customer_state(request: Request, user: WebUser, conversation_id: int | None) -> tuple[str | None, str | None]:
    """The current customer's emotion and persona in a conversation you may see."""
    if conversation_id is None:
        return None, None
    ctx = request.app.state.ctx
    conversation = ctx.store.get_conversation(conversation_id, visible_to=user.principal)
    latest = ctx.store.latest_assessment(conversation.id, visible_to=user.principal)
    data = latest.data if latest is not None else {}
    persona = (data.get("persona") or {}).get("type") if isinstance(data.get("persona"), dict) else None
    return conversation.emotion, (persona if persona in PERSONAS else None)


@router.get("/replies/pick", include_in_schema=False)
def replies_pick(request: Request, conversation_id: int | None = None, q: str = "", category: str | None = None,
                 emotion: str | None = None, persona: str | None = None,
                 user: WebUser = Depends(web_user)) -> HTMLResponse:
    """Fragment: the composer's 话术 picker results."""
    customer_emotion, customer_persona = customer_state(request, user, conversation_id)
    picked = request.app.state.ctx.services.replies.pick(
        user.principal, q[:200], category=category or None, emotion=_choice(emotion, EMOTIONS),
        persona=_choice(persona, PERSONAS), customer_emotion=customer_emotion, customer_persona=customer_persona)
    return render(request, "replies.html", block="picked", user=user, picked=picked,
                  customer_emotion=customer_emotion, customer_persona=customer_persona)
