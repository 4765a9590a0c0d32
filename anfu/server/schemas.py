"""Request and response bodies of the API (`XCreate` in, `XPublic` out).

Request models forbid unknown fields, so a typo is a 422 with AF431 instead of a silently
ignored value. Response models list exactly what leaves the server (no password hashes,
no token hashes).
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

MAX_TEXT = 20_000
# Ids are 64-bit signed integers in the database: a larger one is a 422, never a 500.
MAX_ID = 2**63 - 1
Speaker = Literal["customer", "agent"]
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)


def _known_industry(value: str | None) -> str | None:
    from ..errors import AnfuError
    from ..rules import check_industry

    try:
        return check_industry(value)
    except AnfuError as exc:
        raise ValueError(exc.message) from None


def _plausible_time(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not EARLIEST <= aware < LATEST:
        raise ValueError("must be between 1970-01-01 and 2100-01-01")
    return value


# An industry is an identifier from a fixed set (`anfu.rules.known_industries()`), never a path.
Industry = Annotated[str | None, AfterValidator(_known_industry)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
SentAt = Annotated[datetime | None, AfterValidator(_plausible_time)]


def _admits(annotation: Any, kind: type) -> bool:
    """Whether `kind` appears anywhere in a field's type (int | None, list[int], Annotated…)."""
    if annotation is kind:
        return True
    return any(_admits(arg, kind) for arg in get_args(annotation) if arg is not annotation)


@cache
def _number_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of `model` that take numbers and no booleans."""
    return frozenset(name for name, f in model.model_fields.items()
                     if (_admits(f.annotation, int) or _admits(f.annotation, float)) and not _admits(f.annotation, bool))


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        # JSON true/false is no number: lax mode would read `"conversation_id": true` (a template
        # slip) as id 1 and write into conversation 1
        flags = isinstance(value, bool) or (isinstance(value, list) and any(isinstance(v, bool) for v in value))
        if flags and info.field_name in _number_fields(cls):
            raise ValueError("a number is needed here, not true/false")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store U+0000 in text; the replacement character keeps offsets
        return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(BaseModel):
    code: str = Field(pattern=r"^AF\d{3}$", description="see docs/errors.md")
    message: str = Field(description="what went wrong and how to fix it")


class ErrorPublic(BaseModel):
    """Every 4xx/5xx answer of the API (anfu.server.errors)."""

    error: ErrorDetail


# Documented on every operation, so the OpenAPI document describes the errors clients get
# (FastAPI's own 422 schema is replaced: validation errors are AF431 in this shape too).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorPublic, "description": text} for status, text in (
        (400, "bad request (AF430 malformed JSON, …)"), (401, "not signed in, bad token (AF437, AF414, AF415)"),
        (403, "not allowed (AF417, AF436 CSRF, AF443)"), (404, "missing or not visible (AF503, AF434)"),
        (409, "conflict (AF504, workflow moves, AF419 the last admin, AF445 an Idempotency-Key reused with "
              "another body, AF446 a client_msg_id reused with another text)"),
        (412, "precondition failed: the record changed since the If-Match version (AF609 a ticket, AF673 a 话术)"),
        (422, "invalid input (AF431, AF0xx, AF505, …)"),
        (429, "rate limited (AF444)"))}


# analysis ---------------------------------------------------------------------------------
class TurnCreate(_In):
    speaker: Speaker = "customer"
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class AnalyzeCreate(_In):
    """A text (one customer utterance) or a conversation (`turns`), as one `anfu analyze` line."""

    id: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    turns: list[TurnCreate] | None = Field(default=None, min_length=1, max_length=500)
    industry: Industry = None

    @model_validator(mode="after")
    def _one_of(self) -> "AnalyzeCreate":
        if (self.text is None) == (self.turns is None):
            raise ValueError("give exactly one of \"text\" or \"turns\"")
        return self


class CheckReplyCreate(_In):
    """A draft reply of the agent, with the conversation so far (stored or given)."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    conversation_id: Id | None = None
    context: list[TurnCreate] | None = Field(default=None, max_length=500)
    industry: Industry = None


# customers, conversations, messages --------------------------------------------------------
class CustomerRef(_In):
    """Who the customer is, as far as the channel knows; matched in the order external_ref,
    phone, email onto one customer (one timeline)."""

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    external_ref: str | None = Field(default=None, max_length=200)


class MessageCreate(_In):
    """One message to ingest. Name the conversation by `conversation_id`, or by the channel's
    own `conversation_ref` (created on first use). `client_msg_id` makes retries idempotent."""

    conversation_id: Id | None = None
    conversation_ref: str | None = Field(default=None, min_length=1, max_length=200)
    channel: str = Field(default="webchat", pattern=r"^[a-z][a-z0-9_]{0,31}$")
    industry: Industry = None
    speaker: Speaker = "customer"
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    client_msg_id: str | None = Field(default=None, min_length=1, max_length=200)
    sent_at: SentAt = None
    customer: CustomerRef | None = None
    agent_id: Id | None = None


class MessagePublic(_Out):
    id: int
    conversation_id: int
    seq: int
    speaker: str
    text: str
    masked: bool
    channel: str
    client_msg_id: str | None
    sent_at: datetime
    received_at: datetime


class ConversationPublic(_Out):
    id: int
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


class ConversationUpdate(_In):
    status: Literal["open", "pending", "closed"]


class AssessmentPublic(_Out):
    id: int
    conversation_id: int
    upto_seq: int
    emotion: str | None
    intensity: int | None
    escalation_level: int
    data: dict[str, Any]
    created_at: datetime


class EventPublic(_Out):
    id: int
    conversation_id: int | None
    name: str
    payload: dict[str, Any]
    created_at: datetime


class LiveAssessment(BaseModel):
    """What an agent sees after each turn: the turn's emotion and the conversation's state."""

    turn: dict[str, Any]
    emotion: str | None = None
    intensity: int | None = None
    trajectory: dict[str, Any] | None = None
    persona: dict[str, Any] | None = None
    sop_stage: str | None = None
    next_actions: list[str] | None = None
    escalation: dict[str, Any] | None = None
    negative_energy: dict[str, Any] | None = None
    calmed: bool | None = None
    suggestions: list[dict[str, Any]] = []
    presend: dict[str, Any] | None = None


class MessageIngestPublic(BaseModel):
    message: MessagePublic
    created: bool
    conversation: ConversationPublic
    assessment: LiveAssessment | None
    events: list[EventPublic]


class ConversationDetailPublic(BaseModel):
    conversation: ConversationPublic
    messages: list[MessagePublic]
    assessments: list[AssessmentPublic]


class Paged(BaseModel):
    total: int
    page: int
    page_size: int
    pages: int


class ConversationPagePublic(Paged):
    items: list[ConversationPublic]


class CustomerPublic(_Out):
    id: int
    external_ref: str | None
    display_name: str
    phone: str | None
    email: str | None
    created_at: datetime


class TimelineItemPublic(BaseModel):
    message: MessagePublic
    conversation_id: int
    channel: str


class TimelinePublic(Paged):
    customer: CustomerPublic
    items: list[TimelineItemPublic]


class DeletionPublic(_Out):
    customer_id: int
    conversations: int
    messages: int
    assessments: int
    events: int
    tickets: int


class IntakePublic(BaseModel):
    """Result of a channel upload: how many threads and messages, and where they went."""

    threads: int
    messages: int
    created: int
    conversation_ids: list[int]


# auth ---------------------------------------------------------------------------------------
class LoginCreate(_In):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, pattern=r"^\d{6}$")


class UserPublic(_Out):
    id: int
    tenant_id: int
    team_id: int | None
    username: str
    display_name: str
    role: str
    mfa_enabled: bool
    must_change_password: bool


class LoginPublic(BaseModel):
    user: UserPublic
    csrf_token: str
    expires_at: datetime


class WhoAmIPublic(BaseModel):
    tenant_id: int
    role: str
    name: str
    user_id: int | None
    team_id: int | None
    via: Literal["session", "token"]
