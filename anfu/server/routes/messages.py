"""`POST /messages`: durable, idempotent ingestion of one message, with its live assessment."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ...channels.base import CustomerHints
from ..deps import Authed, Ctx
from ..schemas import MessageCreate, MessageIngestPublic
from ..views import ingest_public

router = APIRouter(tags=["messages"])


def hints(body: MessageCreate) -> CustomerHints | None:
    c = body.customer
    return None if c is None else CustomerHints(name=c.name, phone=c.phone, email=c.email,
                                                 external_id=c.external_ref)


@router.post("/messages", response_model=MessageIngestPublic, status_code=201,
             responses={200: {"model": MessageIngestPublic, "description": "A retry: already stored"}})
def ingest_message(body: MessageCreate, ctx: Ctx, auth: Authed, response: Response) -> MessageIngestPublic:
    """Store a message (on disk before the reply), analyse its conversation, store the
    assessment and emit events. A retry with the same `client_msg_id` answers 200 with the
    stored message and changes nothing."""
    conversation = ctx.turns.resolve(auth.principal, conversation_id=body.conversation_id,
                                     conversation_ref=body.conversation_ref, channel=body.channel,
                                     industry=body.industry, customer=hints(body), agent_id=body.agent_id)
    result = ctx.turns.add_turn(auth.principal, conversation, body.speaker, body.text,
                                client_msg_id=body.client_msg_id, sent_at=body.sent_at, channel=body.channel)
    if not result.created:
        response.status_code = 200
    return ingest_public(result)
