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
