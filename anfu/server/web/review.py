"""Quality review (质检复核) for auditors (and admins, and supervisors for their team): a queue
of conversations to inspect — a low quality score, a forbidden phrase (服务忌语) or escalation
L2 and above, plus the inspection workflow's pending 复核 — and one conversation with the
rubric findings, the quality score's contributions and the turns with their evidence marked,
and a score (0–100) with a comment that are stored as the inspection's re-check
(`anfu.store.InspectionStore.review`, audited). Read-only otherwise: no reply, take-over or
ticket buttons here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import AnfuError, AuthError
from ...inspection.scorecard import load_scorecard
from ...inspection.service import inspect_messages
from ...store import ConversationFilter, InspectionStore
from ...store.facts_repo import FactsStore, violations_of
from ...store.inspection_repo import REVIEWERS
from ..deps import client_ip
from ..views import as_seen_by
from .common import WebUser, render, web_form_user, web_user

router = APIRouter()
LOW_SCORE = 60
SCAN = 200
SCORECARD = "default"


def _reviewer(user: WebUser) -> None:
    if user.principal.role not in REVIEWERS:
        raise AuthError("AF417", "review conversations (auditors, supervisors, admins)")


def inspections(request: Request) -> InspectionStore:
    store = request.app.state.ctx.store
    return InspectionStore(store.engine, mask_text=store.mask_text, clock=store.clock)


def _signals(data: dict[str, Any], level: int) -> list[str]:
    """Why a conversation is in the queue (codes the template names)."""
    return _signals_of(data.get("quality_score"), violations_of(data), level)


def _signals_of(score: Any, violations: int, level: int) -> list[str]:
    why = []
    if isinstance(score, (int, float)) and score < LOW_SCORE:
        why.append("low")
    if violations:
        why.append("violation")
    if level >= 2:
        why.append("escalated")
    return why


def _scores(request: Request, user: WebUser, ids: list[int]) -> dict[int, tuple[Any, int]]:
    """(quality score, violations) of each conversation's newest assessment: from its facts row
    (`conversation_facts`, one narrow query), and from the assessment itself only for one
    without facts (an utterance-level result)."""
    store = request.app.state.ctx.store
    out = {cid: (f.quality_score, f.violations)
           for cid, f in FactsStore(store.engine).of_conversations(user.principal, ids).items()
           if f.violations is not None}
    missing = [cid for cid in ids if cid not in out]
    for cid, latest in store.latest_assessments(user.principal, missing).items():
        out[cid] = (latest.data.get("quality_score"), violations_of(latest.data))
    return out


def review_queue(request: Request, user: WebUser) -> list[dict[str, Any]]:
    ctx = request.app.state.ctx
    done = {r.conversation_id: r for r in
            inspections(request).list_inspections(user.principal, page_size=500).items}
    rows = []
    conversations = ctx.store.list_conversations(user.principal, ConversationFilter(), page_size=SCAN).items
    scores = _scores(request, user, [c.id for c in conversations])
    for conversation in conversations:
        score, violations = scores.get(conversation.id, (None, 0))
        why = _signals_of(score, violations, conversation.escalation_level or 0)
        record = done.get(conversation.id)
        if record is not None and record.review_status == "pending":
            why.append("sampled" if record.sampled and not record.low else "inspection")
        if not why:
            continue
        rows.append({"conversation": conversation, "why": why, "score": score, "inspection": record,
                     "violations": violations})
    # not yet re-checked first, then the lowest score
    rows.sort(key=lambda r: (r["inspection"] is not None and r["inspection"].review_status == "done",
                             r["score"] if isinstance(r["score"], (int, float)) else 100))
    return rows


@router.get("/review", include_in_schema=False)
def review(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    _reviewer(user)
    return render(request, "review.html", user=user, rows=review_queue(request, user), low_score=LOW_SCORE)


def _inspection_of(request: Request, user: WebUser, conversation_id: int) -> Any:
    for record in inspections(request).list_inspections(user.principal, page_size=500).items:
        if record.conversation_id == conversation_id and record.scorecard == SCORECARD:
            return record
    return None


@router.get("/review/{conversation_id}", include_in_schema=False)
def review_conversation(conversation_id: int, request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    _reviewer(user)
    ctx = request.app.state.ctx
    conversation = ctx.store.get_conversation(conversation_id, visible_to=user.principal)
    messages = [as_seen_by(user.principal, m, "text")
                for m in ctx.store.list_messages(conversation.id, visible_to=user.principal, limit=500)]
    latest = ctx.store.latest_assessment(conversation.id, visible_to=user.principal)
    data = as_seen_by(user.principal, latest, "data").data if latest is not None else {}
    turns = data.get("turns") or []
    offset = len(messages) - len(turns)
    rows = []
    for i, message in enumerate(messages):
        turn = turns[i - offset] if 0 <= i - offset < len(turns) else {}
        rows.append({"message": message, "turn": turn, "findings": turn.get("findings") or []})
    record = _inspection_of(request, user, conversation.id)
    # the scorecard's evidence quotes the turns: masked for admins and auditors, as in the API
    findings = [as_seen_by(user.principal, f, "evidence")
                for f in inspections(request).findings(user.principal, record.id)] if record is not None else []
    record = as_seen_by(user.principal, record, "review_note") if record is not None else None
    return render(request, "review_conversation.html", user=user, conversation=conversation, rows=rows, data=data,
                  inspection=record, findings=findings, why=_signals(data, conversation.escalation_level or 0),
                  saved=request.query_params.get("saved") == "1", error=request.query_params.get("error"))


@router.post("/review/{conversation_id}", include_in_schema=False)
def review_score(conversation_id: int, request: Request, score: float = Form(..., ge=0, le=100),
                 comment: str = Form("", max_length=2000), user: WebUser = Depends(web_form_user)) -> Response:
    """Store the reviewer's score and comment: the conversation is inspected with the default
    scorecard if it was not yet, then the inspection gets this re-check (final score, note)."""
    _reviewer(user)
    ctx = request.app.state.ctx
    store = inspections(request)
    conversation = ctx.store.get_conversation(conversation_id, visible_to=user.principal)
    try:
        record = _inspection_of(request, user, conversation.id)
        if record is None:
            card = load_scorecard(SCORECARD)
            messages = ctx.store.list_messages(conversation.id, visible_to=user.principal, limit=10_000)
            result, facts, _, drawn = inspect_messages(ctx.analyzer, card, str(conversation.id), messages,
                                                       industry=conversation.industry)
            record = store.save_inspection(user.principal, conversation.id, result, facts=facts,
                                           upto_seq=conversation.last_seq, review=True, sampled=drawn,
                                           pass_score=card.pass_score)
        store.review(user.principal, record.id, float(score), comment.strip() or None)
    except AnfuError as exc:
        return RedirectResponse(f"/review/{conversation.id}?error={exc.code}", status_code=303)
    ctx.store.audit(user.principal.tenant_id, user.principal.actor, "review.scored",
                    target=f"conversation:{conversation.id}", detail={"score": score, "inspection": record.id},
                    ip=client_ip(request))
    return RedirectResponse(f"/review/{conversation.id}?saved=1", status_code=303)


__all__ = ["router"]
