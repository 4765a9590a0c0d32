"""Chatwoot connector: its account webhooks in, a private note and labels out.

Chatwoot posts `{"event": "message_created", "id", "content", "message_type": "incoming" |
"outgoing", "private", "sender": {...}, "conversation": {"id", "status", "labels", ...},
"account": {"id"}, ...}` and `conversation_created` / `conversation_status_changed` /
`conversation_updated` with the conversation's fields at the top level. An incoming (customer)
message is analysed; an outgoing public one is stored as the agent's turn; private notes
(ours included) are ignored, so the write-back never loops. The write-back uses Chatwoot's
Application API with the `api_access_token` header:

- `POST /api/v1/accounts/{account}/conversations/{id}/messages`
  `{"content": note, "message_type": "outgoing", "private": true}`
- `POST /api/v1/accounts/{account}/conversations/{id}/labels` `{"labels": [...]}` (the call
  replaces the list, so the conversation's other labels are kept and only `anfu-*` change).
"""

from __future__ import annotations

from typing import Any


from ..channels.base import CustomerHints
from ..errors import AnfuError
from .base import HelpdeskClient, LABEL_PREFIX, Handled, delivery_id, labels_for, note_text

CHANNEL = "chatwoot"


def _bad(why: str) -> AnfuError:
    return AnfuError("AF677", "Chatwoot", why=why)


class ChatwootConnector(HelpdeskClient):
    def auth_headers(self) -> dict[str, str]:
        return {"api_access_token": self.api_token}

    @staticmethod
    def _ids(payload: dict[str, Any]) -> tuple[int, int, dict[str, Any]]:
        account = payload.get("account") or {}
        conversation = payload.get("conversation") if payload.get("event") == "message_created" else payload
        if not isinstance(conversation, dict) or not isinstance(account, dict):
            raise _bad("conversation and account must be objects")
        # message events carry "account": {"id"}; conversation events the flat "account_id"
        account_id = account.get("id", payload.get("account_id", conversation.get("account_id")))
        conversation_id = conversation.get("id")
        if not isinstance(account_id, int) or not isinstance(conversation_id, int) or \
                account_id < 1 or conversation_id < 1 or max(account_id, conversation_id) > 2**53:
            raise _bad("account.id and conversation.id must be positive integers")
        return account_id, conversation_id, conversation

    def _conversation(self, account_id: int, conversation_id: int, contact: dict[str, Any] | None) -> Any:
        hints = None
        if contact:
            hints = CustomerHints.of_payload(
                external_id=f"chatwoot:{account_id}:{contact['id']}" if contact.get("id") else None,
                phone=contact.get("phone_number"), email=contact.get("email"), name=contact.get("name"))
        return self.turns.resolve(self.principal, conversation_ref=f"{CHANNEL}:{account_id}:{conversation_id}",
                                  channel=CHANNEL, customer=hints)

    def handle(self, payload: Any) -> Handled:
        if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
            raise _bad("the body must be a JSON object with an \"event\"")
        event = payload["event"]
        if event == "message_created":
            return self._message(payload)
        if event in ("conversation_created", "conversation_status_changed", "conversation_updated"):
            account_id, conversation_id, conversation = self._ids(payload)
            contact = ((conversation.get("meta") or {}).get("sender")) if isinstance(conversation.get("meta"), dict) else None
            record = self._conversation(account_id, conversation_id, contact if isinstance(contact, dict) else None)
            if conversation.get("status") == "resolved" and record.status != "closed":
                self.turns.store.update_conversation(record.id, by=self.principal, status="closed")
                return Handled("closed", conversation_id=record.id)
            return Handled("stored", "conversation known", conversation_id=record.id)
        return Handled("ignored", f"event {event[:64]!r} is not used")

    def _message(self, payload: dict[str, Any]) -> Handled:
        if payload.get("private"):
            return Handled("ignored", "private note")
        kind = payload.get("message_type")
        if kind not in ("incoming", "outgoing"):
            return Handled("ignored", f"message_type {str(kind)[:32]!r}")
        content = payload.get("content")
        if not isinstance(content, str) or not content.strip():
            return Handled("ignored", "no text (attachment or empty message)")
        account_id, conversation_id, conversation = self._ids(payload)
        # checked before anything is written
        client_id = delivery_id(CHANNEL, account_id, payload.get("id"), payload.get("created_at"),
                                conversation_id, kind, content)
        sender = payload.get("sender") if isinstance(payload.get("sender"), dict) else {}
        contact = sender if kind == "incoming" else None
        record = self._conversation(account_id, conversation_id, contact)
        speaker = "customer" if kind == "incoming" else "agent"
        result = self.turns.add_turn(self.principal, record, speaker, content[:20_000], client_msg_id=client_id,
                                     channel=CHANNEL)
        live = result.live or {}
        handled = Handled("analysed" if speaker == "customer" else "stored", conversation_id=record.id,
                          level=result.conversation.escalation_level, emotion=live.get("emotion"))
        if speaker != "customer" or not result.created:
            return handled
        handled.note = note_text(live)
        handled.labels = labels_for(live)
        labels = conversation.get("labels")
        existing = [x for x in labels if isinstance(x, str) and not x.startswith(f"{LABEL_PREFIX}-")] \
            if isinstance(labels, list) else []
        base = f"/api/v1/accounts/{account_id}/conversations/{conversation_id}"
        with self._client() as client:
            note = client.post(f"{base}/messages", json={"content": handled.note, "message_type": "outgoing",
                                                         "private": True})
            labels = client.post(f"{base}/labels", json={"labels": existing + handled.labels})
        handled.writes = [f"messages {note.status_code}", f"labels {labels.status_code}"]
        return handled
