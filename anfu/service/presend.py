"""The pre-send check of a draft reply (发送前检查) with what the conversation tells about the
customer (their last words, emotion and cause), so the rewrite fits the situation."""

from __future__ import annotations

from typing import Any

from ..pipeline import Analyzer
from ..qa import check_reply
from ..types import Conversation


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


def check_draft(draft: str, data: dict[str, Any] | None, customer_text: str | None) -> dict[str, Any]:
    context = reply_context(data, customer_text)
    result = check_reply(draft, context).to_dict()
    result["context"] = context
    return result


def run_presend(analyzer: Analyzer, draft: str, conversation: Conversation) -> dict[str, Any]:
    """Analyse the conversation so far (when there is one) and check the draft against it."""
    customer = [t.text for t in conversation.turns if t.speaker == "customer"]
    data = analyzer(conversation).to_dict() if conversation.turns else None
    return check_draft(draft, data, customer[-1] if customer else None)
