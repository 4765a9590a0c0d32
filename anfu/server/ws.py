"""Real-time WebSockets: `/ws/agent` (live assist) and `/ws/supervisor` (ladder alerts,
join, take-over).

Both check the Origin against `ANFU_ALLOWED_ORIGINS` (a browser page elsewhere may not open
them with the user's cookies) and authenticate by the session cookie or an API token. Frames
are JSON objects with a `type`; a bad frame gets an `error` frame with an AF code and the
socket stays open.

Agent frames in → out:
    {"type": "message", "conversation_id"|"conversation_ref", "speaker", "text", "client_msg_id", …}
        → {"type": "assessment", "client_msg_id", "conversation_id", "message_id", "seq",
           "created", "assessment": {turn, emotion, intensity, trajectory, persona, sop_stage,
           escalation, suggestions, presend}, "events": […], "server_ms"}
    {"type": "draft", "conversation_id", "text"} → {"type": "presend", "result": {violation, findings, rewrite}}
    {"type": "ping"} → {"type": "pong"}
and, unasked, {"type": "taken_over" | "released" | "supervisor_joined", "conversation_id", "by"} and a
supervisor's {"type": "whisper", "conversation_id", "by", "text", "event_id", "agent_id"}: once the
socket of the conversation's agent (`agent_id`) has sent a whisper on, a `supervisor.whisper_delivered`
event (`whisper_id`, `to`) records it; other consoles that see it record nothing. With
several server processes, {"type": "resync", "catch_up": "/api/v1/events"} says the fan-out between
them was interrupted (`anfu.service.fanout`): catch up from GET /api/v1/events.

Supervisor frames in → out: `join` / `leave` / `take_over` / `release` with a
`conversation_id`, `message` (as the agent's), `ping`; unasked: `alert` (escalation level ≥ 1
in a conversation they may see), `turn` (every turn of a joined conversation), control notices.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any, Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from ..errors import AnfuError
from ..service.supervision import WHISPER_DELIVERED
from ..store import ConversationFilter
from ..store.access import require
from . import supervision
from .context import AppContext
from .deps import Auth, identify
from .errors import ApiError, error_body, status_of
from .live import Subscriber
from .presend import check_draft
from .routes.messages import hints
from .schemas import MAX_ID, MAX_TEXT, MessageCreate
from .turns import ConnectionCache, live_view
from .views import as_seen_by, seen_by

router = APIRouter()
log = logging.getLogger("anfu.server.ws")
MAX_FRAME_CHARS = 64_000
REAUTH_SECONDS = 60.0
AGENT_TYPES = ("message", "draft", "ping")
SUPERVISOR_TYPES = ("message", "draft", "ping", "join", "leave", "take_over", "release")


class MessageFrame(MessageCreate):
    type: Literal["message"]


class DraftFrame(BaseModel):
    model_config = {"extra": "forbid"}
    type: Literal["draft"]
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ConversationFrame(BaseModel):
    model_config = {"extra": "forbid"}
    type: Literal["join", "leave", "take_over", "release"]
    conversation_id: int = Field(ge=1, le=MAX_ID)


def _error(exc: AnfuError, ref: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "error", **error_body(exc.code, exc.message)}
    if ref is not None:
        out["ref"] = ref
    return out


async def _open(ws: WebSocket, kind: str) -> Auth | None:
    """Origin check and authentication before the handshake completes; a refusal is an HTTP
    403/401 with the usual error body (where the server supports denial responses)."""
    ctx: AppContext = ws.app.state.ctx
    origin = ws.headers.get("origin")
    try:
        auth = await run_in_threadpool(identify, ctx, ws.headers, ws.cookies)
        # Browsers always send Origin; a cookie-authenticated socket must come from our pages.
        if origin is not None and origin.rstrip("/") not in ctx.settings.allowed_origins:
            raise ApiError("AF438", repr(origin), status=403)
        if auth.via == "session" and origin is None:
            raise ApiError("AF438", "(none)", status=403)
        if auth.identity.restricted:
            raise ApiError("AF443", "finish the account set-up over the REST API", status=403)
        if kind == "supervisor":
            require(auth.principal, "supervise")
    except AnfuError as exc:
        await _deny(ws, exc)
        return None
    await ws.accept()
    return auth


async def _deny(ws: WebSocket, exc: AnfuError) -> None:
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(JSONResponse(error_body(exc.code, exc.message), status_code=status_of(exc)))
    else:
        await ws.close(code=1008, reason=exc.code)


class Session:
    """One connected socket: reads frames, answers them in order, forwards hub messages."""

    def __init__(self, ws: WebSocket, auth: Auth, kind: str) -> None:
        self.ws = ws
        self.auth = auth
        self.kind = kind
        self.ctx: AppContext = ws.app.state.ctx
        self.send_lock = asyncio.Lock()
        self.checked_at = time.monotonic()
        self.sub: Subscriber | None = None
        self.conversations = ConnectionCache()

    async def send(self, data: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.ws.send_text(json.dumps(data, ensure_ascii=False, default=str))

    async def run(self) -> None:
        self.sub = self.ctx.hub.subscribe(self.auth.principal, self.kind)
        forward = asyncio.create_task(self._forward())
        try:
            await self.send(await run_in_threadpool(self._hello))
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if self.sub.overflowed:
                    await self.ws.close(code=1013, reason="too slow: reconnect and poll /api/v1/events")
                    break
                raw = message.get("text")
                if raw is None:
                    try:
                        raw = (message.get("bytes") or b"").decode("utf-8")
                    except UnicodeDecodeError as exc:
                        await self.send(_error(ApiError("AF433", f"byte {exc.start}")))
                        continue
                if not await self._still_signed_in():
                    break
                await self.send(await self._answer(raw))
        except WebSocketDisconnect:
            pass
        finally:
            forward.cancel()
            self.ctx.hub.unsubscribe(self.sub)

    async def _forward(self) -> None:
        assert self.sub is not None
        try:
            while True:
                message = await self.sub.queue.get()
                await self.send(message)
                if self._is_whisper_to_me(message):
                    await run_in_threadpool(self._whisper_delivered, message)
        except (WebSocketDisconnect, RuntimeError, asyncio.CancelledError):
            return

    def _is_whisper_to_me(self, message: dict[str, Any]) -> bool:
        """A whisper reached the console of the conversation's own agent: only that confirms
        delivery (a supervisor's, an admin's or an auditor's console also shows it)."""
        p = self.auth.principal
        return (self.kind == "agent" and message.get("type") == "whisper" and bool(message.get("event_id"))
                and p.user_id is not None and message.get("agent_id") == p.user_id)

    def _whisper_delivered(self, message: dict[str, Any]) -> None:
        """The agent's console received a supervisor's whisper: the wallboard shows it delivered.
        A failure to record it must not stop the socket's forwarding."""
        p = self.auth.principal
        try:
            self.ctx.store.add_event(p.tenant_id, WHISPER_DELIVERED, {"whisper_id": message["event_id"],
                                                                      "to": p.actor},
                                     conversation_id=message.get("conversation_id"))
        except Exception:  # noqa: BLE001  (e.g. the conversation was erased meanwhile)
            log.warning("whisper %s: delivery not recorded", message.get("event_id"), exc_info=True)

    async def _still_signed_in(self) -> bool:
        """Re-check a long-lived socket's session now and then, so sign-out and revocation
        reach it too."""
        if time.monotonic() - self.checked_at < REAUTH_SECONDS:
            return True
        self.checked_at = time.monotonic()
        try:
            await run_in_threadpool(identify, self.ctx, self.ws.headers, self.ws.cookies)
        except AnfuError as exc:
            await self.send(_error(exc))
            await self.ws.close(code=1008, reason=exc.code)
            return False
        return True

    def _hello(self) -> dict[str, Any]:
        p = self.auth.principal
        out: dict[str, Any] = {"type": "hello", "role": p.role, "name": p.name}
        if self.kind == "supervisor":
            page = self.ctx.store.list_conversations(p, ConversationFilter(min_escalation=1, status="open"),
                                                     page_size=50)
            out["open_alerts"] = [c.to_dict() for c in page.items]
        return out

    async def _answer(self, raw: str) -> dict[str, Any]:
        if len(raw) > MAX_FRAME_CHARS:
            return _error(ApiError("AF432", status=413, limit=MAX_FRAME_CHARS))
        try:
            frame = json.loads(raw)
        except ValueError as exc:
            return _error(ApiError("AF430", str(exc)))
        except RecursionError:
            return _error(ApiError("AF430", "nested too deeply"))
        if not isinstance(frame, dict):
            return _error(ApiError("AF430", "a frame must be a JSON object"))
        kind = frame.get("type")
        allowed = AGENT_TYPES if self.kind == "agent" else SUPERVISOR_TYPES
        ref = frame.get("client_msg_id") if isinstance(frame.get("client_msg_id"), (str, int)) else None
        if kind not in allowed:
            return _error(ApiError("AF441", repr(kind), allowed=", ".join(allowed)), ref)
        if kind == "ping":
            return {"type": "pong"}
        try:
            loop = asyncio.get_running_loop()
            if kind == "message":
                return await loop.run_in_executor(self.ctx.executor, self._message, MessageFrame.model_validate(frame))
            if kind == "draft":
                return await loop.run_in_executor(self.ctx.executor, self._draft, DraftFrame.model_validate(frame))
            return await self._conversation(ConversationFrame.model_validate(frame))
        except ValidationError as exc:
            from .errors import describe

            return _error(ApiError("AF431", describe(list(exc.errors()))), ref)
        except AnfuError as exc:
            return _error(exc, ref)
        except Exception as exc:  # a bug must cost one error frame, not the agent's socket
            ref_id = uuid.uuid4().hex[:12]
            log.error("unhandled error ref=%s in a %s frame: %r", ref_id, kind, exc, exc_info=exc)
            return _error(ApiError("AF440", ref_id, status=500), ref)

    def _message(self, frame: MessageFrame) -> dict[str, Any]:
        started = time.perf_counter()
        turns = self.ctx.turns
        conversation = turns.resolve(self.auth.principal, conversation_id=frame.conversation_id,
                                     conversation_ref=frame.conversation_ref, channel=frame.channel,
                                     industry=frame.industry, customer=hints(frame), agent_id=frame.agent_id,
                                     cache=self.conversations)
        result = turns.add_turn(self.auth.principal, conversation, frame.speaker, frame.text,
                                client_msg_id=frame.client_msg_id, sent_at=frame.sent_at, channel=frame.channel,
                                cache=self.conversations, check_text=True)
        if self.sub is not None and self.kind == "supervisor":
            self.sub.joined.add(conversation.id)
        return {"type": "assessment", "client_msg_id": frame.client_msg_id,
                "conversation_id": result.conversation.id, "message_id": result.message.id,
                "seq": result.message.seq, "created": result.created, "assessment": result.live,
                "events": [e.to_dict() for e in result.events],
                "server_ms": round((time.perf_counter() - started) * 1000, 2)}

    def _draft(self, frame: DraftFrame) -> dict[str, Any]:
        data = None
        customer_text = None
        recent: list[tuple[str, str]] = []
        industry = None
        if frame.conversation_id is not None:
            store = self.ctx.store
            record = store.get_conversation(frame.conversation_id, visible_to=self.auth.principal)
            industry = record.industry
            latest = store.latest_assessment(record.id)
            data = latest.data if latest else None
            messages = store.list_messages(record.id, after_seq=max(0, record.last_seq - 10))
            said = [m.text for m in messages if m.speaker == "customer"]
            customer_text = said[-1] if said else None
            recent = [(m.speaker, m.text) for m in messages]
        return {"type": "presend", "conversation_id": frame.conversation_id,
                "result": check_draft(frame.text, data, customer_text, recent, industry)}

    async def _conversation(self, frame: ConversationFrame) -> dict[str, Any]:
        assert self.sub is not None
        ip = self.ws.client.host if self.ws.client else None
        cid = frame.conversation_id
        if frame.type == "leave":
            self.sub.joined.discard(cid)
            return {"type": "left", "conversation_id": cid}
        if frame.type == "join":
            record = await run_in_threadpool(supervision.join, self.ctx, self.auth.principal, cid, ip)
            self.sub.joined.add(cid)
            messages, latest = await run_in_threadpool(self._recent, cid)
            return {"type": "joined", "conversation": record.to_dict(), "messages": messages,
                    "assessment": live_view(latest.data) if latest else None}
        record = await run_in_threadpool(supervision.take_over, self.ctx, self.auth.principal, cid, ip,
                                         frame.type == "release")
        if frame.type == "take_over":
            self.sub.joined.add(cid)
        return {"type": "taken_over" if frame.type == "take_over" else "released",
                "conversation": record.to_dict()}

    def _recent(self, cid: int) -> tuple[list[dict[str, Any]], Any]:
        """The last 50 messages and the latest assessment, as the REST API shows them to this
        principal (personal data masked for admins and auditors)."""
        store = self.ctx.store
        p = self.auth.principal
        record = store.get_conversation(cid, visible_to=p)
        messages = [m.to_dict() for m in store.list_messages(cid, after_seq=max(0, record.last_seq - 50))]
        latest = store.latest_assessment(cid)
        return seen_by(p, messages), None if latest is None else as_seen_by(p, latest, "data")


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket) -> None:
    auth = await _open(ws, "agent")
    if auth is not None:
        await Session(ws, auth, "agent").run()


@router.websocket("/ws/supervisor")
async def supervisor_socket(ws: WebSocket) -> None:
    auth = await _open(ws, "supervisor")
    if auth is not None:
        await Session(ws, auth, "supervisor").run()
