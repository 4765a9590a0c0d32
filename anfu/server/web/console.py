"""Agent console (坐席工作台): the conversation list with live emotion colours (and the team's
unassigned conversations to claim), one conversation with its gauge, trajectory, triggers,
persona card and playbook, SOP stepper, suggested replies, supervisor hints, the customer panel
(identity masked by role, past conversations and tickets with their emotion trajectory), the
draft's pre-send check and the escalate button."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import AnfuError
from ...glossary import SOP_STAGES
from ...pii import mask_identity
from ...service.presend_overrides import must_fix, record_blocked
from ...store import ConversationFilter
from ...store.access import can, sees_identity
from ..deps import client_ip
from ..presend import check_draft
from ..turns import live_view
from ..views import as_seen_by
from .common import WebUser, is_htmx, render, state, web_form_user, web_user
from .notes import conversation_notes

router = APIRouter()
WHISPER_EVENT = "supervisor.whispered"
FLAGGED_EVENT = "reply.flagged_sent"
MAX_DRAFT = 2000
PAST_CONVERSATIONS = 10


def conversation_list(request: Request, user: WebUser) -> list[Any]:
    ctx = request.app.state.ctx
    return ctx.store.list_conversations(user.principal, ConversationFilter(status="open"), page_size=100).items


def unassigned_list(request: Request, user: WebUser) -> list[Any]:
    """The team's open conversations that nobody handles yet (routing's queue)."""
    return request.app.state.ctx.services.routing.unassigned(user.principal, limit=50)


def customer_panel(request: Request, user: WebUser, conversation: Any) -> dict[str, Any] | None:
    """Who the customer is (name and contact in clear only for the roles that handle cases,
    `anfu.store.access.sees_identity`), and their other conversations you may see with each
    one's emotion trajectory and tickets."""
    if conversation.customer_id is None:
        return None
    ctx = request.app.state.ctx
    web = state(request)
    customer = ctx.store.get_customer(conversation.customer_id, visible_to=user.principal)
    identity = {key: getattr(customer, key) for key in ("display_name", "phone", "email", "external_ref")}
    if not sees_identity(user.principal):
        identity = {k: (mask_identity(k, v) if v else v) for k, v in identity.items()}
    past = []
    others = ctx.store.list_conversations(user.principal, ConversationFilter(customer_id=customer.id),
                                          page_size=PAST_CONVERSATIONS + 1).items
    for other in [c for c in others if c.id != conversation.id][:PAST_CONVERSATIONS]:
        latest = ctx.store.latest_assessment(other.id, visible_to=user.principal)
        data = latest.data if latest is not None else {}
        points = trajectory(data)
        tickets = web.workflow.list_tickets(user.principal, conversation_id=other.id, page_size=5).items
        past.append({"conversation": other, "trajectory": points, "tickets": tickets,
                     "quality": data.get("quality_score"),
                     "trend": ((data.get("trajectory") or {}).get("trend") if isinstance(data.get("trajectory"), dict)
                               else None)})
    return {"customer": customer, "identity": identity, "past": past,
            "masked": not sees_identity(user.principal)}


def trajectory(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One point per customer turn: intensity and emotion (the trajectory chart's series)."""
    points = []
    for i, turn in enumerate(data.get("turns") or []):
        if turn.get("speaker") == "customer" and turn.get("intensity") is not None:
            points.append({"turn": i + 1, "intensity": turn["intensity"], "emotion": turn.get("emotion")})
    return points


def conversation_view(request: Request, user: WebUser, conversation_id: int, *, listen: bool = False
                      ) -> dict[str, Any]:
    """Everything the conversation panel shows. `listen` (旁听 from the wallboard): the same live
    conversation, read-only (no composer, no escalation, no note form)."""
    ctx = request.app.state.ctx
    web = state(request)
    conversation = ctx.store.get_conversation(conversation_id, visible_to=user.principal)
    messages = [as_seen_by(user.principal, m, "text")
                for m in ctx.store.list_messages(conversation.id, visible_to=user.principal, limit=500)]
    latest = ctx.store.latest_assessment(conversation.id, visible_to=user.principal)
    data = latest.data if latest is not None else {}
    live = live_view(data) if latest is not None else {}
    turns = data.get("turns") or []
    # the analysed window ends at the newest messages: align turns to messages from the end
    offset = len(messages) - len(turns)
    rows = []
    for i, message in enumerate(messages):
        turn = turns[i - offset] if 0 <= i - offset < len(turns) else {}
        spans = [(t["start"], t["end"]) for t in turn.get("triggers") or []
                 if t.get("kind") in ("escalation", "emotion", "abuse") and "start" in t]
        rows.append({"message": message, "turn": turn, "spans": spans,
                     "findings": turn.get("findings") or []})
    last_customer = next((r["turn"] for r in reversed(rows) if r["message"].speaker == "customer"), {})
    triggers = []
    seen = set()
    for t in last_customer.get("triggers") or []:
        key = (t.get("kind"), t.get("text"))
        if key not in seen:
            seen.add(key)
            triggers.append(t)
    whispers = [as_seen_by(user.principal, e, "payload") for e in
                ctx.store.list_events(user.principal, name=WHISPER_EVENT, conversation_id=conversation.id, limit=20)]
    tickets = web.workflow.list_tickets(user.principal, conversation_id=conversation.id, page_size=5).items
    stage = live.get("sop_stage")
    return {
        "customer": customer_panel(request, user, conversation),
        "conversation": conversation, "rows": rows, "live": live, "triggers": triggers,
        "trajectory": trajectory(data), "whispers": whispers, "tickets": tickets,
        "stage_index": SOP_STAGES.index(stage) if stage in SOP_STAGES else -1, "stages": SOP_STAGES,
        "can_reply": not listen and can(user.principal, "conversation.reply_as_agent", conversation),
        "can_write": not listen and can(user.principal, "conversation.write", conversation),
        "listening": listen,
        "notes": {**conversation_notes(request, user, conversation),
                  **({"can_note": False} if listen else {})},
        "taken_over": conversation.taken_over_by is not None,
        "taken_over_by_me": conversation.taken_over_by == user.principal.user_id,
    }


@router.get("/console", include_in_schema=False)
def console(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    return render(request, "console.html", user=user, conversations=conversation_list(request, user), view=None,
                  selected=None, unassigned=unassigned_list(request, user))


@router.get("/console/list", include_in_schema=False)
def console_list(request: Request, selected: int | None = None, user: WebUser = Depends(web_user)) -> HTMLResponse:
    return render(request, "console.html", block="conv_list", user=user,
                  conversations=conversation_list(request, user), selected=selected,
                  unassigned=unassigned_list(request, user))


@router.post("/console/{conversation_id}/claim", include_in_schema=False)
def console_claim(conversation_id: int, request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    """认领: take an unassigned conversation of your team and open it (first come, first served)."""
    request.app.state.ctx.services.routing.claim(user.principal, conversation_id, client_ip(request))
    target = f"/console/{conversation_id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def send_key() -> str:
    """A new key for the composer's next message (its `client_msg_id`, hidden `send_id`): the same
    draft posted twice (a double click, the browser retrying a slow send) is stored once."""
    return "console:" + secrets.token_urlsafe(16)


def _posted_key(value: str) -> str:
    """The composer's key as posted (kept while the draft is not sent yet), or a new one."""
    value = value.strip()
    return value if value.startswith("console:") and 16 < len(value) <= 64 and value.isascii() else send_key()


@router.get("/console/{conversation_id}", include_in_schema=False)
def console_conversation(conversation_id: int, request: Request, listen: int = 0,
                         user: WebUser = Depends(web_user)) -> HTMLResponse:
    view = conversation_view(request, user, conversation_id, listen=bool(listen))
    return render(request, "console.html", user=user, conversations=conversation_list(request, user), view=view,
                  selected=conversation_id, draft="", check=None, send_id=send_key(),
                  unassigned=unassigned_list(request, user),
                  reply_categories=request.app.state.ctx.services.replies.categories(user.principal))


@router.get("/console/{conversation_id}/live", include_in_schema=False)
def console_live(conversation_id: int, request: Request, listen: int = 0,
                 user: WebUser = Depends(web_user)) -> HTMLResponse:
    """The live parts of the panel (messages, gauge, persona, SOP, suggestions, hints)."""
    view = conversation_view(request, user, conversation_id, listen=bool(listen))
    return render(request, "console.html", block="live_panel", user=user, view=view)


@router.get("/console/{conversation_id}/composer", include_in_schema=False)
def console_composer(conversation_id: int, request: Request, locked: int = 0,
                     user: WebUser = Depends(web_user)) -> Response:
    """Has replying as the agent become (im)possible since the page showed the composer (a
    supervisor took the conversation over, or handed it back)? 204 when nothing changed, else
    the composer in its new state, swapped out of band."""
    view = conversation_view(request, user, conversation_id)
    if bool(locked) == (not view["can_reply"]):
        return Response(status_code=204)
    return render(request, "console.html", block="composer_region", user=user, view=view, oob=True,
                  draft="", check=None, send_id=send_key())


def _last_customer_text(request: Request, conversation_id: int
                        ) -> tuple[dict[str, Any] | None, str | None, list[tuple[str, str]]]:
    ctx = request.app.state.ctx
    latest = ctx.store.latest_assessment(conversation_id)
    messages = ctx.store.list_messages(conversation_id, limit=500)
    customer = [m.text for m in messages if m.speaker == "customer"]
    recent = [(m.speaker, m.text) for m in messages[-10:]]
    return (latest.data if latest else None), (customer[-1] if customer else None), recent


@router.post("/console/{conversation_id}/check", include_in_schema=False)
def console_check(conversation_id: int, request: Request, draft: str = Form("", max_length=MAX_DRAFT),
                  user: WebUser = Depends(web_form_user)) -> HTMLResponse:
    """The pre-send check of the draft as the agent types (HTMX, debounced)."""
    ctx = request.app.state.ctx
    conversation = ctx.store.get_conversation(conversation_id, visible_to=user.principal)
    check = None
    if draft.strip():
        data, customer_text, recent = _last_customer_text(request, conversation.id)
        check = check_draft(draft, data, customer_text, recent, conversation.industry)
    return render(request, "console.html", block="presend", user=user, draft=draft, check=check,
                  view={"conversation": conversation})


@router.post("/console/{conversation_id}/send", include_in_schema=False)
def console_send(conversation_id: int, request: Request, draft: str = Form("", max_length=MAX_DRAFT),
                 confirm: str = Form(""), send_id: str = Form("", max_length=64),
                 user: WebUser = Depends(web_form_user)) -> HTMLResponse:
    """Send the draft as the agent. A draft the pre-send check flags is only sent with the
    explicit confirmation box ticked; that decision is recorded (event + audit log). The answer
    is always the composer fragment with status 200 (HTMX swaps only successful responses). The
    composer's key (`send_id`) is the message's `client_msg_id`: the same form posted twice stores
    one message (an edited draft is another); the composer shown after a send has a new key."""
    ctx = request.app.state.ctx
    conversation = ctx.store.get_conversation(conversation_id, visible_to=user.principal)
    text = draft.strip()
    key = _posted_key(send_id)
    if not text:
        return render(request, "console.html", block="composer", user=user, draft="", check=None, send_id=key,
                      view={"conversation": conversation, "can_reply": True})
    # the key with the draft's digest: the same form twice is one message, an edited draft a new one
    client_msg_id = f"{key}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"
    if ctx.store.sent_message(conversation.id, client_msg_id) is not None:
        return _sent(request, user, conversation)  # a double click: the first click sent it
    data, customer_text, recent = _last_customer_text(request, conversation.id)
    check = check_draft(text, data, customer_text, recent, conversation.industry)
    if check["violation"] and confirm != "yes" and ctx.store.sent_message(conversation.id, client_msg_id) is not None:
        # the other click stored it while this one was checked (and read it as a repeated reply)
        return _sent(request, user, conversation)
    if check["violation"] and confirm != "yes":
        record_blocked(ctx.store, conversation, user.principal.actor, check)  # per-rule override rates
        return render(request, "console.html", block="composer", user=user, draft=text, check=check,
                      needs_confirm=True, send_id=key, view={"conversation": conversation, "can_reply": True})
    try:
        result = ctx.turns.add_turn(user.principal, conversation, "agent", text, client_msg_id=client_msg_id)
    except AnfuError as exc:
        if exc.code == "AF417":  # taken over meanwhile: show the locked composer, not a failed send
            view = conversation_view(request, user, conversation_id)
            if not view["taken_over"]:  # not a take-over: this role may not reply at all (403)
                raise
            response = render(request, "console.html", block="composer_region", user=user, view=view,
                              send_id=send_key())
            response.headers.update({"HX-Retarget": "#composer", "HX-Reswap": "outerHTML"})
            return response
        return render(request, "console.html", block="composer", user=user, draft=text, check=check,
                      error=exc.code, send_id=key, view={"conversation": conversation, "can_reply": True})
    if check["violation"] and result.created:  # a repeated send of the same form was recorded once
        rules = [f["rule_id"] for f in must_fix(check)] or [f["rule_id"] for f in check["findings"]]
        ctx.store.add_event(conversation.tenant_id, FLAGGED_EVENT,
                            {"message_id": result.message.id, "rules": rules, "by": user.principal.actor},
                            conversation_id=conversation.id)
        ctx.store.audit(conversation.tenant_id, user.principal.actor, FLAGGED_EVENT,
                        target=f"conversation:{conversation.id}", detail={"rules": rules}, ip=client_ip(request))
    return _sent(request, user, conversation)


def _sent(request: Request, user: WebUser, conversation: Any) -> HTMLResponse:
    """The composer after a send: empty, a new key, the conversation refreshed."""
    response = render(request, "console.html", block="composer", user=user, draft="", check=None, sent=True,
                      send_id=send_key(), view={"conversation": conversation, "can_reply": True})
    response.headers["HX-Trigger"] = "anfu-refresh"
    return response


@router.post("/console/{conversation_id}/escalate", include_in_schema=False)
def console_escalate(conversation_id: int, request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    """升级: open (or find) the complaint ticket and alert the supervisors."""
    ctx = request.app.state.ctx
    web = state(request)
    desk = ctx.desk
    record, created = desk.open_for_conversation(user.principal, conversation_id)
    conversation = ctx.store.get_conversation(conversation_id)
    latest = ctx.store.latest_assessment(conversation.id)
    ladder = ((latest.data if latest else {}).get("escalation") or {}).get("reasons") or []
    reasons = [f"坐席 {user.name} 申请升级", *ladder]
    ctx.store.add_event(conversation.tenant_id, "conversation.escalated",
                        {"by": user.principal.actor, "ticket": record.number, "level": conversation.escalation_level,
                         "reasons": reasons}, conversation_id=conversation.id)
    ctx.hub.publish_alert(conversation, {"type": "alert", "name": "conversation.escalated",
                                         "conversation": conversation.to_dict(),
                                         "level": conversation.escalation_level, "reasons": reasons,
                                         "ticket": record.number})
    view = conversation_view(request, user, conversation_id)
    response = render(request, "console.html", block="live_panel", user=user, view=view)
    response.headers["HX-Trigger"] = "anfu-refresh"
    return response
