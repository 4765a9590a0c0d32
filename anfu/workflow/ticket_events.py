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


@_register
@dataclass(frozen=True)
class TicketCreated(Event):
    """A complaint was recorded (接收反馈): the first of the 四个不漏."""

    name: ClassVar[str] = "ticket.created"
    ticket_id: str
    at: str
    actor: str
    customer_ref: str
    channel: str
    cause: str
    priority: str
    owner: str | None = None
    conversation_ref: str | None = None


@_register
@dataclass(frozen=True)
class TicketAssigned(Event):
    name: ClassVar[str] = "ticket.assigned"
    ticket_id: str
    at: str
    actor: str
    owner: str
    previous_owner: str | None = None


@_register
@dataclass(frozen=True)
class TicketResponded(Event):
    """The customer got the first answer; stops the response SLA clock."""

    name: ClassVar[str] = "ticket.responded"
    ticket_id: str
    at: str
    actor: str


@_register
@dataclass(frozen=True)
class TicketStageChanged(Event):
    name: ClassVar[str] = "ticket.stage_changed"
    ticket_id: str
    at: str
    actor: str
    from_stage: str
    to_stage: str
    note: str = ""


@_register
@dataclass(frozen=True)
class TicketStatusChanged(Event):
    """open ⇄ waiting_customer (the SLA clock pauses while waiting on the customer)."""

    name: ClassVar[str] = "ticket.status_changed"
    ticket_id: str
    at: str
    actor: str
    from_status: str
    to_status: str
    note: str = ""


@_register
@dataclass(frozen=True)
class TicketResolved(Event):
    name: ClassVar[str] = "ticket.resolved"
    ticket_id: str
    at: str
    actor: str
    note: str = ""


@_register
@dataclass(frozen=True)
class TicketReopened(Event):
    name: ClassVar[str] = "ticket.reopened"
    ticket_id: str
    at: str
    actor: str
    reason: str
    from_status: str


@_register
@dataclass(frozen=True)
class TicketClosed(Event):
    name: ClassVar[str] = "ticket.closed"
    ticket_id: str
    at: str
    actor: str
    note: str = ""


@_register
@dataclass(frozen=True)
class SlaWarned(Event):
    """Less than `warn_before` is left on a target (response or resolution)."""

    name: ClassVar[str] = "sla.warned"
    ticket_id: str
    at: str
    target: str
    policy: str
    remaining_seconds: float


@_register
@dataclass(frozen=True)
class SlaBreached(Event):
    name: ClassVar[str] = "sla.breached"
    ticket_id: str
    at: str
    target: str
    policy: str
    overdue_seconds: float


@_register
@dataclass(frozen=True)
class FollowUpScheduled(Event):
    """A 回访 call is due at `due_at` after the ticket was resolved."""

    name: ClassVar[str] = "followup.scheduled"
    ticket_id: str
    at: str
    due_at: str
    owner: str | None = None


@_register
@dataclass(frozen=True)
class FollowUpCompleted(Event):
    name: ClassVar[str] = "followup.completed"
    ticket_id: str
    at: str
    actor: str
    reached: bool
    note: str = ""


@_register
@dataclass(frozen=True)
class CsatSubmitted(Event):
    name: ClassVar[str] = "csat.submitted"
    ticket_id: str
    at: str
    score: int
    low: bool


@_register
@dataclass(frozen=True)
class SupervisorAlerted(Event):
    """Something needs a supervisor's eyes now (low satisfaction score, SLA breach…)."""

    name: ClassVar[str] = "supervisor.alerted"
    ticket_id: str
    at: str
    reason: str
    detail: str = ""
    owner: str | None = None


@_register
@dataclass(frozen=True)
class FeedbackSent(Event):
    """The outcome was fed back to the owning department (the fourth 不漏)."""

    name: ClassVar[str] = "feedback.sent"
    ticket_id: str
    at: str
    actor: str
    department: str
    cause: str


@_register
@dataclass(frozen=True)
class FeedbackUpdated(Event):
    name: ClassVar[str] = "feedback.updated"
    ticket_id: str
    at: str
    actor: str
    department: str
    state: str
    note: str = ""
