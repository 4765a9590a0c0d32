"""Supervisor actions shared by REST and the supervisor WebSocket: join (listen in on) and
take over a conversation. Both are audited and announced to everyone watching it."""

from __future__ import annotations

from typing import Any

from ..store.access import Principal, require
from ..store.records import ConversationRecord


def join(ctx: Any, principal: Principal, conversation_id: int, ip: str | None) -> ConversationRecord:
    require(principal, "supervise")
    record = ctx.store.get_conversation(conversation_id, visible_to=principal)
    ctx.store.audit(principal.tenant_id, principal.actor, "conversation.joined",
                    target=f"conversation:{record.id}", ip=ip)
    ctx.hub.publish_control(record, {"type": "supervisor_joined", "conversation_id": record.id, "by": principal.actor})
    return record


def take_over(ctx: Any, principal: Principal, conversation_id: int, ip: str | None,
              release: bool = False) -> ConversationRecord:
    """The store records the event and the audit entry; agents watching are told at once."""
    record = ctx.store.take_over(conversation_id, by=principal, release=release, ip=ip)
    ctx.hub.publish_control(record, {"type": "released" if release else "taken_over",
                                     "conversation_id": record.id, "by": principal.actor,
                                     "conversation": record.to_dict()})
    return record


WHISPER_EVENT = "supervisor.whispered"
WHISPER_DELIVERED = "supervisor.whisper_delivered"  # the agent's console socket received a whisper
ESCALATED_EVENT = "conversation.escalated"


def whisper(ctx: Any, principal: Principal, conversation_id: int, hint: str, ip: str | None) -> Any:
    """A hint only the agent sees (悄悄话), e.g. 先道歉，再给出抢修时限: an event, an audit entry
    and a live notice to the agent's console. Returns the event."""
    record = ctx.store.get_conversation(conversation_id, visible_to=principal)
    require(principal, "supervise")
    text = hint.strip()
    if not text:
        from ..errors import InputError

        raise InputError("AF004")
    event = ctx.store.add_event(record.tenant_id, WHISPER_EVENT, {"text": text, "by": principal.name},
                                conversation_id=record.id)
    ctx.store.audit(record.tenant_id, principal.actor, WHISPER_EVENT, target=f"conversation:{record.id}", ip=ip)
    ctx.hub.publish_control(record, {"type": "whisper", "conversation_id": record.id, "by": principal.name,
                                     "text": text, "event_id": event.id, "agent_id": record.agent_id})
    return event


def escalate(ctx: Any, principal: Principal, conversation_id: int, who: str) -> tuple[Any, Any, bool]:
    """升级 by the agent: open (or find) the complaint ticket and alert the supervisors with the
    ladder's reasons. Returns (ticket record, event, whether the ticket is new)."""
    record, created = ctx.desk.open_for_conversation(principal, conversation_id)
    conversation = ctx.store.get_conversation(conversation_id)
    latest = ctx.store.latest_assessment(conversation.id)
    ladder = ((latest.data if latest else {}).get("escalation") or {}).get("reasons") or []
    reasons = [f"坐席 {who} 申请升级", *ladder]
    event = ctx.store.add_event(conversation.tenant_id, ESCALATED_EVENT,
                                {"by": principal.actor, "ticket": record.number,
                                 "level": conversation.escalation_level, "reasons": reasons},
                                conversation_id=conversation.id)
    ctx.hub.publish_alert(conversation, {"type": "alert", "name": ESCALATED_EVENT, "event_id": event.id,
                                         "conversation": conversation.to_dict(),
                                         "level": conversation.escalation_level, "reasons": reasons,
                                         "ticket": record.number})
    return record, event, created
