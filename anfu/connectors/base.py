"""What every connector writes back: one short zh-CN note and a few labels, from the live
view of a turn (`anfu.service.turns.live_view`)."""

from __future__ import annotations

import hashlib
import html
import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import AnfuError
from ..glossary import EMOTION_NAMES, display
from ..store.access import Principal

if TYPE_CHECKING:
    from ..service.turns import TurnService

LABEL_PREFIX = "anfu"
TOP_REPLIES = 3


@dataclass
class Handled:
    """What a connector did with one webhook: `action` is "analysed", "stored", "closed" or
    "ignored" (with `why`)."""

    action: str
    why: str = ""
    conversation_id: int | None = None
    level: int | None = None
    emotion: str | None = None
    note: str | None = None
    labels: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def connector_principal(tenant_id: int, team_id: int | None, name: str) -> Principal:
    """The connector acts for a tenant (and team, so its supervisors see the conversations);
    it is not a person: no user id."""
    return Principal(tenant_id=tenant_id, role="supervisor" if team_id is not None else "admin", user_id=None,
                     team_id=team_id, name=name)


def note_text(live: dict[str, Any]) -> str:
    """The private note: emotion and intensity, ladder level and reasons, the top 话术."""
    lines = ["【安抚 Anfu】"]
    emotion = live.get("emotion")
    if emotion:
        lines.append(f"情绪：{display(emotion, EMOTION_NAMES)}（强度{live.get('intensity')}）")
    escalation = live.get("escalation") or {}
    level = int(escalation.get("level") or 0)
    label = escalation.get("label") or ""
    lines.append(f"升级：L{level} {label}".rstrip())
    for reason in escalation.get("reasons") or []:
        lines.append(f"· {reason}")
    turn = live.get("turn") or {}
    causes = [t.get("text") for t in turn.get("triggers") or [] if t.get("kind") in ("escalation", "abuse")]
    if causes:
        lines.append("触发：" + "、".join(dict.fromkeys(str(c) for c in causes[:5])))
    suggestions = (live.get("suggestions") or [])[:TOP_REPLIES]
    if suggestions:
        lines.append("推荐话术：")
        for i, item in enumerate(suggestions, 1):
            method = f"（{item.get('method')}）" if item.get("method") else ""
            lines.append(f"{i}. {item.get('text')}{method}")
    return "\n".join(lines)


def labels_for(live: dict[str, Any]) -> list[str]:
    """`anfu-emotion-<label>` and `anfu-level-<0..3>`."""
    out = []
    if live.get("emotion"):
        out.append(f"{LABEL_PREFIX}-emotion-{live['emotion']}")
    level = int((live.get("escalation") or {}).get("level") or 0)
    out.append(f"{LABEL_PREFIX}-level-{level}")
    return out


MAX_DELIVERY_ID = 100


def delivery_id(channel: str, scope: int, value: Any, created_at: Any = None, *content: Any) -> str | None:
    """The idempotency key (`client_msg_id`) of a helpdesk message: `<channel>:<scope>:<id>`.
    A payload without a usable id (a relay or a custom trigger that drops it) is keyed by its
    creation time and content instead, `<channel>:<scope>:t<digest>`, so that a redelivery is
    still stored once; with neither, None (two equal messages such as "好的" may both be real).
    An id too long for a message id is refused (AF677) rather than stored past the column or
    refused by the database."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
        if isinstance(created_at, bool) or not isinstance(created_at, (int, float, str)) or created_at == "":
            return None
        digest = hashlib.sha256(json.dumps([created_at, *content], ensure_ascii=False, default=str)
                                .encode("utf-8")).hexdigest()[:32]
        return f"{channel}:{scope}:t{digest}"
    value = str(value)
    if len(value) > MAX_DELIVERY_ID:
        raise AnfuError("AF677", channel.capitalize(),
                        why=f"the message id is longer than {MAX_DELIVERY_ID} characters")
    return f"{channel}:{scope}:{value}"


def plain_text(body: str, content_type: Any) -> str:
    """The text of an HTML article body (Zammad sends text/html)."""
    if not isinstance(content_type, str) or "html" not in content_type:
        return body.strip()
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", body)
    text = re.sub(r"(?s)<(script|style)\b.*?</\1>", "", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


class HelpdeskClient(ABC):
    """What both connectors hold: the turn service they feed, the principal they act as, and an
    HTTP client for the helpdesk's API (`auth_headers` differ per helpdesk)."""

    def __init__(self, turns: "TurnService", principal: Principal, base_url: str, api_token: str, *,
                 transport: httpx.BaseTransport | None = None, timeout: float = 10.0) -> None:
        self.turns = turns
        self.principal = principal
        self.base_url = base_url.rstrip("/")
        self.api_token = api_token
        self.transport = transport
        self.timeout = timeout

    @abstractmethod
    def auth_headers(self) -> dict[str, str]:
        """The helpdesk's own token header."""

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, transport=self.transport, timeout=self.timeout,
                            headers={**self.auth_headers(), "Content-Type": "application/json"})
