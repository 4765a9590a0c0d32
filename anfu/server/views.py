"""Records and turn results → response schemas."""

from __future__ import annotations

from typing import Any

from .schemas import (AssessmentPublic, ConversationPublic, EventPublic, LiveAssessment, MessageIngestPublic,
                      MessagePublic)
from ..pii import mask, mask_data
from ..store.access import sees_identity
from .turns import TurnResult


def _dump(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def conversation_public(record: Any) -> ConversationPublic:
    return ConversationPublic.model_validate(_dump(record))


def _masked_for(principal: Any) -> bool:
    """Roles that do not handle the case (admin, auditor) read personal data masked."""
    return principal is not None and not sees_identity(principal)


def seen_by(principal: Any, value: Any) -> Any:
    """`value` (text, JSON or None) as `principal` may read it: masked when the role does not
    handle cases (admin, auditor). Masking keeps lengths, so highlighted spans stay in place."""
    return mask_data(value) if _masked_for(principal) else value


def as_seen_by(principal: Any, record: Any, field: str) -> Any:
    """`record` with its `field` as `seen_by` gives it: the pages show what the API shows."""
    if not _masked_for(principal):
        return record
    from dataclasses import replace

    return replace(record, **{field: seen_by(principal, getattr(record, field))})


def message_public(record: Any, principal: Any = None) -> MessagePublic:
    data = _dump(record)
    if _masked_for(principal):
        data["text"] = mask(data["text"])
    return MessagePublic.model_validate(data)


def assessment_public(record: Any, principal: Any = None) -> AssessmentPublic:
    data = _dump(record)
    if _masked_for(principal):
        data["data"] = mask_data(data["data"])
    return AssessmentPublic.model_validate(data)


def event_public(record: Any, principal: Any = None) -> EventPublic:
    data = _dump(record)
    if _masked_for(principal):
        data["payload"] = mask_data(data["payload"])
    return EventPublic.model_validate(data)


def ingest_public(result: TurnResult) -> MessageIngestPublic:
    # the live view is this service's own output (`TurnService.live_view`, built from typed
    # results): its keys are LiveAssessment's fields, so it is taken as it is, not validated
    # again value by value (about half a millisecond per turn for a long conversation)
    live = None if result.live is None else LiveAssessment.model_construct(
        **{k: v for k, v in result.live.items() if k in LiveAssessment.model_fields})
    return MessageIngestPublic(
        message=message_public(result.message), created=result.created,
        conversation=conversation_public(result.conversation), assessment=live,
        events=[event_public(e) for e in result.events])
