"""Events: frozen records named noun.verb (e.g. "escalation.raised", "ticket.created").

One module for every event, so that components (which raise `escalation.raised` and
`negative_energy.flagged` on the `Assessment`) import no workflow code, and the workflow
(tickets, SLA clock, follow-up 回访, survey CSAT, the 四个不漏 ledger) and the service layer
read the same types. Components keep their events on `Assessment.events` as objects;
`to_dict()` / `from_dict()` carry them through JSON, the store and webhooks. Timestamps of
ticket events are ISO 8601 strings so every event survives JSON unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from .errors import InputError

EVENT_TYPES: dict[str, type["Event"]] = {}


def _register(cls: type["Event"]) -> type["Event"]:
    if cls.name in EVENT_TYPES and EVENT_TYPES[cls.name] is not cls:
        raise RuntimeError(f"event name {cls.name!r} is registered twice")
    EVENT_TYPES[cls.name] = cls
    return cls


@dataclass(frozen=True)
class Event:
    """Base of all events; `name` is the noun.verb identifier."""

    name: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        for key, value in asdict(self).items():
            out[key] = list(value) if isinstance(value, tuple) else value
        return out


@_register
@dataclass(frozen=True)
class EscalationRaised(Event):
    """The escalation ladder moved up a step (L0 agent → L1 team lead notified → L2 team
    lead joins → L3 complaint desk / manager)."""

    name: ClassVar[str] = "escalation.raised"
    conversation_id: str | None
    level: int
    previous_level: int
    reasons: tuple[str, ...] = ()
    turn: int | None = None  # index of the turn that raised it


@_register
@dataclass(frozen=True)
class NegativeEnergyFlagged(Event):
    """A conversation was flagged as a negative-energy customer (负能量客户)."""

    name: ClassVar[str] = "negative_energy.flagged"
    conversation_id: str | None
    signal_types: tuple[str, ...] = ()
    supervisor_alert: bool = False
    turn: int | None = None


# -- the ticket life cycle, SLA clock, follow-up, survey and ledger ------------------------
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


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from `to_dict()` output; unknown names give AF013."""
    name = data.get("name") if isinstance(data, dict) else None
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise InputError("AF020", repr(name), allowed=", ".join(sorted(EVENT_TYPES)))
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in data:
            value = data[f.name]
            kwargs[f.name] = tuple(value) if isinstance(value, list) else value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InputError("AF020", f"{name!r} ({exc})", allowed=", ".join(sorted(EVENT_TYPES))) from None
