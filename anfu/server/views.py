"""Records and turn results → response schemas."""

from __future__ import annotations

from typing import Any

from .schemas import (AssessmentPublic, ConversationPublic, EventPublic, LiveAssessment, MessageIngestPublic,
                      MessagePublic)
from .turns import TurnResult


def _dump(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def conversation_public(record: Any) -> ConversationPublic:
    return ConversationPublic.model_validate(_dump(record))


def message_public(record: Any) -> MessagePublic:
    return MessagePublic.model_validate(_dump(record))


def assessment_public(record: Any) -> AssessmentPublic:
    return AssessmentPublic.model_validate(_dump(record))


def event_public(record: Any) -> EventPublic:
    return EventPublic.model_validate(_dump(record))


def ingest_public(result: TurnResult) -> MessageIngestPublic:
    return MessageIngestPublic(
        message=message_public(result.message), created=result.created,
        conversation=conversation_public(result.conversation),
        assessment=None if result.live is None else LiveAssessment.model_validate(result.live),
        events=[event_public(e) for e in result.events])
