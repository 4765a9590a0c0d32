"""Routing a conversation: assign to an agent, transfer to another team, claim it, close it.
Each change is checked by the store's access rules, audited, and announced on the live hub
(the agents and supervisors watching it see it at once)."""

from __future__ import annotations

from typing import Any

from ..errors import AuthError
from ..store import ConversationRecord, Store
from ..store.access import Principal, require
from .live import Hub


class Routing:
    def __init__(self, store: Store, hub: Hub) -> None:
        self.store = store
        self.hub = hub

    def _done(self, principal: Principal, record: ConversationRecord, action: str, ip: str | None,
              **detail: Any) -> ConversationRecord:
        self.store.audit(principal.tenant_id, principal.actor, f"conversation.{action}",
                         target=f"conversation:{record.id}", detail=detail, ip=ip)
        self.store.add_event(record.tenant_id, f"conversation.{action}", {"by": principal.actor, **detail},
                             conversation_id=record.id)
        self.hub.publish_control(record, {"type": action, "conversation_id": record.id, "by": principal.actor,
                                          "conversation": record.to_dict()})
        return record

    def assign(self, principal: Principal, conversation_id: int, agent_id: int,
               ip: str | None = None) -> ConversationRecord:
        """Give the conversation to an agent (supervisors: agents of their team; admins: any)."""
        record = self.store.update_conversation(conversation_id, by=principal, agent_id=agent_id)
        return self._done(principal, record, "assigned", ip, agent_id=agent_id)

    def transfer(self, principal: Principal, conversation_id: int, team_id: int, agent_id: int | None = None,
                 ip: str | None = None) -> ConversationRecord:
        """Move the conversation to another team (admins), optionally to one of its agents."""
        if principal.role != "admin":
            raise AuthError("AF417", "transfer a conversation to another team (admins)")
        record = self.store.update_conversation(conversation_id, by=principal, team_id=team_id, agent_id=agent_id)
        return self._done(principal, record, "transferred", ip, team_id=team_id, agent_id=agent_id)

    def claim(self, principal: Principal, conversation_id: int, ip: str | None = None) -> ConversationRecord:
        """Become the conversation's handler: an agent takes an unassigned conversation of their
        team (first come, first served); supervisors (their team) and admins any."""
        if principal.user_id is None:
            raise AuthError("AF417", "claim a conversation with an API token (it is nobody to hand it to)")
        if principal.role == "agent":
            record = self.store.claim_unassigned(conversation_id, by=principal)
        else:
            require(principal, "supervise")
            record = self.store.update_conversation(conversation_id, by=principal, agent_id=principal.user_id)
        return self._done(principal, record, "claimed", ip, agent_id=principal.user_id)

    def unassigned(self, principal: Principal, limit: int = 100) -> list[ConversationRecord]:
        """Open conversations nobody handles yet: the team's (agents, supervisors) or the
        tenant's (admins, auditors), oldest first."""
        return self.store.unassigned_conversations(principal, limit=limit)

    def close(self, principal: Principal, conversation_id: int, ip: str | None = None) -> ConversationRecord:
        record = self.store.update_conversation(conversation_id, by=principal, status="closed")
        return self._done(principal, record, "closed", ip)
