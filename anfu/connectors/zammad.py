"""Zammad connector: trigger webhooks in, an internal note and tags out.

A Zammad trigger (e.g. "article created") with a webhook posts
`{"ticket": {"id", "number", "title", "state", "customer": {...}, ...},
  "article": {"id", "ticket_id", "body", "content_type", "sender": "Customer" | "Agent" | "System",
              "from", "internal", "type", ...}}`
signed with the webhook's "HMAC SHA1 Signature Token" in `X-Hub-Signature: sha1=<hex>`. A
customer article is analysed; an agent's public article is stored as the agent's turn;
internal articles (our notes included) and system ones are ignored. A closed ticket closes
the Anfu conversation. The write-back uses Zammad's REST API with
`Authorization: Token token=…`:

- `POST /api/v1/ticket_articles` `{"ticket_id", "body", "content_type": "text/plain",
  "type": "note", "internal": true}`
- `POST /api/v1/tags/add` `{"object": "Ticket", "o_id": ticket id, "item": tag}` per tag.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any


from ..channels.base import CustomerHints
from ..errors import AnfuError
from .base import HelpdeskClient, Handled, delivery_id, labels_for, note_text, plain_text

CHANNEL = "zammad"
CLOSED_STATES = ("closed", "merged", "removed")


def _bad(why: str) -> AnfuError:
    return AnfuError("AF677", "Zammad", why=why)


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Zammad's `X-Hub-Signature: sha1=<HMAC-SHA1 of the raw body>`."""
    expected = "sha1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()
    return bool(header) and hmac.compare_digest(expected, header or "")


class ZammadConnector(HelpdeskClient):
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Token token={self.api_token}"}

    def handle(self, payload: Any) -> Handled:
        if not isinstance(payload, dict) or not isinstance(payload.get("ticket"), dict):
            raise _bad("the body must be a JSON object with a \"ticket\" object")
        ticket = payload["ticket"]
        ticket_id = ticket.get("id")
        if not isinstance(ticket_id, int) or not 1 <= ticket_id <= 2**53:
            raise _bad("ticket.id must be a positive integer")
        article = payload.get("article")
        # checked before anything is written
        client_id = delivery_id(CHANNEL, ticket_id, article.get("id"), article.get("created_at"),
                                article.get("sender"), article.get("body")) if isinstance(article, dict) else None
        customer = ticket.get("customer") if isinstance(ticket.get("customer"), dict) else {}
        name = " ".join(part for part in (CustomerHints.of_payload(name=customer.get(k)).name
                                          for k in ("lastname", "firstname")) if part) or None
        hints = CustomerHints.of_payload(external_id=f"zammad:{customer['id']}" if customer.get("id") else None,
                                         phone=customer.get("mobile") or customer.get("phone"),
                                         email=customer.get("email"), name=name)
        record = self.turns.resolve(self.principal, conversation_ref=f"{CHANNEL}:{ticket_id}", channel=CHANNEL,
                                    customer=None if hints.is_empty() else hints)
        state = ticket.get("state")
        state = state.get("name") if isinstance(state, dict) else state
        closing = state in CLOSED_STATES and record.status != "closed"
        if not isinstance(article, dict) or not article:
            if closing:
                self.turns.store.update_conversation(record.id, by=self.principal, status="closed")
                return Handled("closed", conversation_id=record.id)
            return Handled("stored", "ticket without article", conversation_id=record.id)
        handled = self._article(record, ticket_id, article, client_id)
        if closing:  # a closing trigger may carry the last article (the agent's final answer): stored first
            self.turns.store.update_conversation(record.id, by=self.principal, status="closed")
            handled.why = f"{handled.why}; ticket closed" if handled.why else "ticket closed"
        return handled

    def _article(self, record: Any, ticket_id: int, article: dict[str, Any], client_id: str | None) -> Handled:
        """One ticket article: a customer's is analysed and written back (note, tags), an agent's
        stored; internal, unknown-sender and empty articles are ignored."""
        if article.get("internal"):
            return Handled("ignored", "internal article", conversation_id=record.id)
        sender = article.get("sender")
        sender = sender.get("name") if isinstance(sender, dict) else sender
        if sender not in ("Customer", "Agent"):
            return Handled("ignored", f"sender {str(sender)[:32]!r}", conversation_id=record.id)
        body = article.get("body")
        if not isinstance(body, str):
            return Handled("ignored", "no article body", conversation_id=record.id)
        text = plain_text(body, article.get("content_type"))[:20_000]
        if not text:
            return Handled("ignored", "empty article", conversation_id=record.id)
        speaker = "customer" if sender == "Customer" else "agent"
        result = self.turns.add_turn(self.principal, record, speaker, text, client_msg_id=client_id, channel=CHANNEL)
        live = result.live or {}
        handled = Handled("analysed" if speaker == "customer" else "stored", conversation_id=record.id,
                          level=result.conversation.escalation_level, emotion=live.get("emotion"))
        if speaker != "customer" or not result.created:
            return handled
        handled.note = note_text(live)
        handled.labels = labels_for(live)
        with self._client() as client:
            note = client.post("/api/v1/ticket_articles", json={
                "ticket_id": ticket_id, "body": handled.note, "content_type": "text/plain", "type": "note",
                "internal": True})
            handled.writes.append(f"ticket_articles {note.status_code}")
            for tag in handled.labels:
                added = client.post("/api/v1/tags/add", json={"object": "Ticket", "o_id": ticket_id, "item": tag})
                handled.writes.append(f"tags/add {added.status_code}")
        return handled
