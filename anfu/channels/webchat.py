"""Web chat (网页在线客服): one JSON message per payload, as the chat widget or the agent
WebSocket sends it.

    {"conversation_id": "c-1",            # optional: the chat session
     "speaker": "customer" | "agent" | "客户" | "坐席",   # default customer
     "text": "在吗？我的订单三天了还没发货",
     "client_msg_id": "m-7f3a",           # optional: the sender's id, makes delivery idempotent
     "timestamp": "2024-05-01T09:30:00+08:00" | 1714527000,   # optional
     "customer": {"name": "王女士", "phone": "13800138000", "email": "...", "id": "..."}}  # optional
"""

from __future__ import annotations

import json
from typing import Any

from .. import registry
from ..errors import InputError
from ..text.normalize import is_blank
from ..types import Utterance
from .base import ChannelAdapter, CustomerHints, Thread, clean_text, decode_text, parse_time, speaker_of

KNOWN_KEYS = {"conversation_id", "speaker", "text", "client_msg_id", "timestamp", "customer"}
CUSTOMER_KEYS = {"name", "phone", "email", "id"}


def customer_hints(value: Any, channel: str) -> CustomerHints:
    """A `{"name", "phone", "email", "id"}` object → CustomerHints (AF030 on anything else)."""
    if value is None:
        return CustomerHints()
    if not isinstance(value, dict) or set(value) - CUSTOMER_KEYS:
        raise InputError("AF030", f"\"customer\" must be an object with {sorted(CUSTOMER_KEYS)}",
                         channel=channel)
    out = {}
    for key in CUSTOMER_KEYS:
        item = value.get(key)
        if item is not None and not isinstance(item, (str, int)):
            raise InputError("AF030", f"customer.{key} must be a string", channel=channel)
        out[key] = None if item is None or str(item).strip() == "" else str(item).strip()
    return CustomerHints(name=out["name"], phone=out["phone"], email=out["email"], external_id=out["id"])


@registry.channels.register("webchat.v1")
class WebChat(ChannelAdapter):
    channel = "webchat"

    def read(self, payload: Any) -> list[Thread]:
        if isinstance(payload, (bytes, str)):
            text = decode_text(payload, source="web chat message")
            try:
                payload = json.loads(text)
            except ValueError as exc:
                raise InputError("AF001", f"web chat message: {exc}") from None
        if not isinstance(payload, dict):
            raise InputError("AF009", type(payload).__name__)
        unknown = set(payload) - KNOWN_KEYS
        if unknown:
            raise InputError("AF030", f"unknown fields {sorted(unknown)}", channel=self.channel)
        text = payload.get("text")
        if not isinstance(text, str):
            raise InputError("AF003", "null" if text is None else type(text).__name__)
        text = clean_text(text)
        if is_blank(text):
            raise InputError("AF004")
        msg_id = payload.get("client_msg_id")
        conv = payload.get("conversation_id")
        utterance = Utterance(
            text=text,
            speaker=speaker_of(payload.get("speaker", "customer"), "speaker"),  # type: ignore[arg-type]
            id=None if msg_id is None else str(msg_id),
            timestamp=parse_time(payload.get("timestamp"), "timestamp"),
            channel=self.channel,
        )
        return [Thread(channel=self.channel, utterances=(utterance,),
                       key=None if conv is None else str(conv),
                       customer=customer_hints(payload.get("customer"), self.channel))]
