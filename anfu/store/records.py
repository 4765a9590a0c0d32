"""Plain, frozen records returned by the repository (`anfu.store.repo.Store`).

Callers outside `anfu/store/` never see SQLAlchemy rows: they get these records, which are
safe to keep after the database session closes and to serialise (`to_dict()`). Conversation,
message and assessment records carry a `Record` suffix so they never clash with the core
types `anfu.types.Conversation` and `anfu.types.Assessment`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Record:
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: datetimes as ISO 8601 strings."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True)
class Tenant(_Record):
    id: int
    slug: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Team(_Record):
    id: int
    tenant_id: int
    name: str
    created_at: datetime
    auto_assign: bool = False


@dataclass(frozen=True)
class User(_Record):
    """A staff account. `password_hash` and `totp_secret` never leave the server: `to_dict()`
    drops them."""

    id: int
    tenant_id: int
    team_id: int | None
    username: str
    display_name: str
    role: str
    password_hash: str
    must_change_password: bool
    totp_secret: str | None
    totp_pending: str | None
    totp_last_step: int | None
    mfa_enabled: bool
    failed_logins: int
    locked_until: datetime | None
    active: bool
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        for secret in ("password_hash", "totp_secret", "totp_pending", "totp_last_step"):
            out.pop(secret)
        return out


@dataclass(frozen=True)
class AuthSession(_Record):
    """A server-side sign-in session (the token itself is only ever in the client's cookie)."""

    id: int
    user_id: int
    token_hash: str
    mfa_verified: bool
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class ApiToken(_Record):
    id: int
    tenant_id: int
    team_id: int | None
    name: str
    role: str
    token_hash: str
    prefix: str
    created_by: int | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Customer(_Record):
    id: int
    tenant_id: int
    external_ref: str | None
    display_name: str
    phone: str | None
    email: str | None
    created_at: datetime


@dataclass(frozen=True)
class ConversationRecord(_Record):
    id: int
    tenant_id: int
    customer_id: int | None
    team_id: int | None
    agent_id: int | None
    taken_over_by: int | None
    external_ref: str | None
    channel: str
    industry: str | None
    status: str
    last_seq: int
    emotion: str | None
    intensity: int | None
    escalation_level: int
    created_at: datetime
    updated_at: datetime
    queue_id: int | None = None


@dataclass(frozen=True)
class MessageRecord(_Record):
    id: int
    tenant_id: int
    conversation_id: int
    seq: int
    speaker: str
    text: str
    masked: bool
    channel: str
    client_msg_id: str | None
    sent_at: datetime
    received_at: datetime


@dataclass(frozen=True)
class AssessmentRecord(_Record):
    """A stored assessment: `data` is `Assessment.to_dict()`; the key columns are copied out."""

    id: int
    tenant_id: int
    conversation_id: int
    upto_seq: int
    emotion: str | None
    intensity: int | None
    escalation_level: int
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Event(_Record):
    id: int
    tenant_id: int
    conversation_id: int | None
    name: str
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class AuditEntry(_Record):
    id: int
    tenant_id: int | None
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any]
    ip: str | None
    at: datetime


@dataclass(frozen=True)
class TimelineItem(_Record):
    """One message on a customer's timeline, with the conversation and channel it came from."""

    message: MessageRecord
    conversation_id: int
    channel: str

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message.to_dict(), "conversation_id": self.conversation_id,
                "channel": self.channel}


@dataclass(frozen=True)
class DeletionReport(_Record):
    """What `Store.delete_customer_data` removed (counts per kind)."""

    customer_id: int
    conversations: int
    messages: int
    assessments: int
    events: int
    tickets: int = 0


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: `items`, plus `total` matching rows, `page` (from 1) and `page_size`."""

    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def to_dict(self) -> dict[str, Any]:
        return {"items": [item.to_dict() for item in self.items],  # type: ignore[attr-defined]
                "total": self.total, "page": self.page, "page_size": self.page_size,
                "pages": self.pages}


@lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def from_row(cls: type[T], row: Any) -> T:
    """Copy the record's fields from an ORM row (same attribute names). The names are looked up
    once per record class: lists build thousands of records per page."""
    return cls(**{name: getattr(row, name) for name in _field_names(cls)})
