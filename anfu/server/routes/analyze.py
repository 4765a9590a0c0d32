"""Analysis without storing anything: `POST /analyze` (the `anfu analyze` object) and
`POST /check-reply` (pre-send check of a draft, 发送前检查)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ...types import Conversation, Utterance
from ..deps import Authed, Ctx
from ..schemas import AnalyzeCreate, CheckReplyCreate
from ..turns import LIVE_WINDOW

router = APIRouter(tags=["analysis"])


@router.post("/analyze", response_model=dict[str, Any])
def analyze(body: AnalyzeCreate, ctx: Ctx, auth: Authed) -> dict[str, Any]:
    """Analyse a text or a conversation; the result is the `anfu analyze` output object."""
    if body.text is not None:
        doc: Utterance | Conversation = Utterance(text=body.text, id=body.id)
    else:
        doc = Conversation(turns=tuple(Utterance(text=t.text, speaker=t.speaker) for t in body.turns or ()),
                           id=body.id, industry=body.industry)
    return ctx.analyzer(doc).to_dict()


def presend_context(ctx: Any, auth: Any, body: CheckReplyCreate) -> Conversation:
    """The conversation the draft answers: stored (by id, if visible) or given in `context`."""
    if body.conversation_id is not None:
        record = ctx.store.get_conversation(body.conversation_id, visible_to=auth.principal)
        messages = ctx.store.list_messages(record.id, after_seq=max(0, record.last_seq - LIVE_WINDOW))
        turns = tuple(Utterance(text=m.text, speaker=m.speaker) for m in messages)
        return Conversation(turns=turns, id=str(record.id), industry=body.industry or record.industry)
    turns = tuple(Utterance(text=t.text, speaker=t.speaker) for t in body.context or ())
    return Conversation(turns=turns, industry=body.industry)


@router.post("/check-reply", response_model=dict[str, Any])
def check_reply(body: CheckReplyCreate, ctx: Ctx, auth: Authed) -> dict[str, Any]:
    """Pre-send check of an agent's draft: forbidden phrases (服务忌语), findings, a rewrite."""
    from ..presend import run_presend

    return run_presend(ctx.analyzer, body.text, presend_context(ctx, auth, body))
