"""Events of the ticket life cycle, SLA clock, follow-up (回访), survey (CSAT) and the
四个不漏 ledger: frozen noun.verb records, like the escalation events in `events.py`.

Timestamps are ISO 8601 strings so every event survives JSON unchanged; they register in
the same `EVENT_TYPES` table, so `events.from_dict` rebuilds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .events import EVENT_TYPES, Event


def _register(cls: type[Event]) -> type[Event]:
    if cls.name in EVENT_TYPES and EVENT_TYPES[cls.name] is not cls:
        raise RuntimeError(f"event name {cls.name!r} is registered twice")
    EVENT_TYPES[cls.name] = cls
    return cls


@dataclass(frozen=True)
class TicketEvent(Event):
    """The fields every event here starts with: the ticket and when (ISO 8601) it happened."""

    ticket_id: str
    at: str


@dataclass(frozen=True)
class TicketAction(TicketEvent):
    """A ticket event someone did: `actor` follows `ticket_id` and `at`."""

    actor: str


@_register
@dataclass(frozen=True)
class TicketCreated(TicketAction):
    """A complaint was recorded (接收反馈): the first of the 四个不漏."""

    name: ClassVar[str] = "ticket.created"
    customer_ref: str
    channel: str
    cause: str
    priority: str
    owner: str | None = None
    conversation_ref: str | None = None


@_register
@dataclass(frozen=True)
class TicketAssigned(TicketAction):
    name: ClassVar[str] = "ticket.assigned"
    owner: str
    previous_owner: str | None = None


@_register
@dataclass(frozen=True)
class TicketResponded(TicketAction):
    """The customer got the first answer; stops the response SLA clock."""

    name: ClassVar[str] = "ticket.responded"


@_register
@dataclass(frozen=True)
class TicketStageChanged(TicketAction):
    name: ClassVar[str] = "ticket.stage_changed"
    from_stage: str
    to_stage: str
    note: str = ""


@_register
@dataclass(frozen=True)
class TicketStatusChanged(TicketAction):
    """open ⇄ waiting_customer (the SLA clock pauses while waiting on the customer)."""

    name: ClassVar[str] = "ticket.status_changed"
    from_status: str
    to_status: str
    note: str = ""


@_register
@dataclass(frozen=True)
class TicketResolved(TicketAction):
    name: ClassVar[str] = "ticket.resolved"
    note: str = ""


@_register
@dataclass(frozen=True)
class TicketReopened(TicketAction):
    name: ClassVar[str] = "ticket.reopened"
    reason: str
    from_status: str


@_register
@dataclass(frozen=True)
class TicketClosed(TicketAction):
    name: ClassVar[str] = "ticket.closed"
    note: str = ""


@_register
@dataclass(frozen=True)
class SlaWarned(TicketEvent):
    """Less than `warn_before` is left on a target (response or resolution)."""

    name: ClassVar[str] = "sla.warned"
    target: str
    policy: str
    remaining_seconds: float


@_register
@dataclass(frozen=True)
class SlaBreached(TicketEvent):
    name: ClassVar[str] = "sla.breached"
    target: str
    policy: str
    overdue_seconds: float


@_register
@dataclass(frozen=True)
class FollowUpScheduled(TicketEvent):
    """A 回访 call is due at `due_at` after the ticket was resolved."""

    name: ClassVar[str] = "followup.scheduled"
    due_at: str
    owner: str | None = None


@_register
@dataclass(frozen=True)
class FollowUpCompleted(TicketAction):
    name: ClassVar[str] = "followup.completed"
    reached: bool
    note: str = ""


@_register
@dataclass(frozen=True)
class CsatSubmitted(TicketEvent):
    name: ClassVar[str] = "csat.submitted"
    score: int
    low: bool


@_register
@dataclass(frozen=True)
class SupervisorAlerted(TicketEvent):
    """Something needs a supervisor's eyes now (low satisfaction score, SLA breach…)."""

    name: ClassVar[str] = "supervisor.alerted"
    reason: str
    detail: str = ""
    owner: str | None = None


@_register
@dataclass(frozen=True)
class FeedbackSent(TicketAction):
    """The outcome was fed back to the owning department (the fourth 不漏)."""

    name: ClassVar[str] = "feedback.sent"
    department: str
    cause: str


@_register
@dataclass(frozen=True)
class FeedbackUpdated(TicketAction):
    name: ClassVar[str] = "feedback.updated"
    department: str
    state: str
    note: str = ""
