"""The pre-send check of a draft reply (发送前检查) with what the conversation tells about the
customer (their last words, emotion and cause), so the rewrite fits the situation."""

from __future__ import annotations

from typing import Any, Sequence

from ..components.normalize import Normalizer
from ..components.presend import PreSend
from ..pipeline import Analyzer
from ..qa import check_reply
from ..qa.context import CONTEXT_TURNS
from ..types import Assessment, Conversation


def reply_context(data: dict[str, Any] | None, customer_text: str | None = None) -> dict[str, Any]:
    """`check_reply` context from an assessment dict (`Assessment.to_dict()` of a conversation)."""
    out: dict[str, Any] = {}
    turns = (data or {}).get("turns") or []
    customer = [t for t in turns if t.get("speaker") == "customer"]
    if customer:
        last = customer[-1]
        if last.get("emotion"):
            out["emotion"] = last["emotion"]
        if last.get("cause"):
            out["cause"] = last["cause"]
    if customer_text:
        out["customer_text"] = customer_text
    return out


_PRESEND: PreSend | None = None


def _presend() -> PreSend:
    global _PRESEND
    if _PRESEND is None:
        _PRESEND = PreSend()
    return _PRESEND


def check_in_context(draft: str, recent: Sequence[tuple[str, str]], context: dict[str, Any]) -> dict[str, Any]:
    """The draft judged as the next agent turn after the `recent` (speaker, text) turns, exactly
    as the analyzer's pre-send component judges a sent reply (must fix / consider / fine)."""
    window = [(s, t) for s, t in recent if t.strip()][-CONTEXT_TURNS:]
    doc = Assessment.start(Conversation.from_texts([*window, ("agent", draft)], industry=context.get("industry")))
    for turn in reversed(doc.turns[:-1]):
        if turn.speaker == "customer":  # what the conversation knows of the customer shapes the rewrite
            turn.emotion, turn.cause = context.get("emotion"), context.get("cause")
            break
    Normalizer()(doc)
    _presend()(doc)
    last = doc.turns[-1]
    return {"violation": bool(last.violation), "findings": [f.to_dict() for f in last.findings],
            "rewrite": last.rewrite}


def check_draft(draft: str, data: dict[str, Any] | None, customer_text: str | None,
                recent: Sequence[tuple[str, str]] = (), industry: str | None = None) -> dict[str, Any]:
    """The pre-send check of a draft: in context when the conversation's recent turns include a
    customer turn (`recent`: (speaker, text), oldest first), else on the draft alone; the
    conversation's `industry` shapes the rewrite."""
    context = reply_context(data, customer_text)
    if industry:
        context["industry"] = industry
    if any(s == "customer" for s, _ in recent):
        result = check_in_context(draft, recent, context)
    else:
        result = check_reply(draft, context).to_dict()
    result["context"] = context
    return result


def run_presend(analyzer: Analyzer, draft: str, conversation: Conversation) -> dict[str, Any]:
    """Analyse the conversation so far (when there is one) and check the draft against it."""
    customer = [t.text for t in conversation.turns if t.speaker == "customer"]
    data = analyzer(conversation).to_dict() if conversation.turns else None
    return check_draft(draft, data, customer[-1] if customer else None,
                       [(t.speaker, t.text) for t in conversation.turns], conversation.industry)
