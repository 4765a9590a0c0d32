"""`POST /messages`: durable, idempotent ingestion of one message, with its live assessment."""

from __future__ import annotations

import asyncio
import functools

from fastapi import APIRouter, Response

from ...channels.base import CustomerHints
from ...errors import InputError
from ..deps import Authed, Ctx
from ..schemas import MessageCreate, MessageIngestPublic
from ..views import ingest_public

router = APIRouter(tags=["messages"])


def hints(body: MessageCreate) -> CustomerHints | None:
    """The customer the body names; a customer object with no external_ref, phone or e-mail (a name
    alone, empty strings) is AF505: it could never find the customer again, and was dropped."""
    c = body.customer
    if c is None:
        return None
    if not any((value or "").strip() for value in (c.external_ref, c.phone, c.email)):
        raise InputError("AF505", "give external_ref, phone or email (a name alone cannot find the customer "
                                  "again)", kind="customer")
    return CustomerHints(name=c.name, phone=c.phone, email=c.email, external_id=c.external_ref)


@router.post("/messages", response_model=MessageIngestPublic, status_code=201,
             responses={200: {"model": MessageIngestPublic, "description": "A retry: already stored"}})
async def ingest_message(body: MessageCreate, ctx: Ctx, auth: Authed) -> Response:
    """Store a message (on disk before the reply), analyse its conversation, store the
    assessment and emit events. A retry with the same `client_msg_id` answers 200 with the
    stored message and changes nothing.

    The turn runs on the turn executor (`ctx.executor`, as the agent WebSocket's turns do), off
    the event loop and with a bounded number of turns at once per process, so a burst of
    requests queues there instead of holding more database connections than the pool has."""
    turn = functools.partial(ctx.turns.ingest, auth.principal, body.speaker, body.text,
                             conversation_id=body.conversation_id, conversation_ref=body.conversation_ref,
                             channel=body.channel, industry=body.industry, customer=hints(body),
                             agent_id=body.agent_id, client_msg_id=body.client_msg_id, sent_at=body.sent_at)
    result = await asyncio.get_running_loop().run_in_executor(ctx.executor, turn)
    # serialised once here (FastAPI would validate the model again against `response_model`,
    # which documents the shape)
    return Response(ingest_public(result).model_dump_json(), status_code=201 if result.created else 200,
                    media_type="application/json")
