"""Tickets that follow the complaint SOP (投诉处理流程):
接收反馈 → 确认问题 → 提供方案 → 执行方案 → 跟进回访.

A ticket has two independent axes:

* `stage`, the SOP step the handling has reached (advances one step at a time; going back,
  e.g. when the customer rejects the offered plan, needs a note);
* `status`, where the ticket stands: open, waiting_customer (the SLA clock pauses),
  resolved, closed, reopened.

Every change appends a `Transition` to `history` (who, when, from, to, note) and returns the
events it caused (`anfu.events`), which the caller persists or publishes. Pure Python:
the store maps this dataclass to tables, the server exposes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..errors import WorkflowError
from ..glossary import CAUSES, SOP_STAGES
from ..events import Event
from ..events import (
    TicketAssigned,
    TicketClosed,
    TicketCreated,
    TicketReopened,
    TicketResolved,
    TicketResponded,
    TicketStageChanged,
    TicketStatusChanged,
)

STATUSES: tuple[str, ...] = ("open", "waiting_customer", "resolved", "closed", "reopened")
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")

# status -> statuses it may move to
ALLOWED_STATUS: dict[str, tuple[str, ...]] = {
    "open": ("waiting_customer", "resolved"),
    "waiting_customer": ("open", "resolved", "closed"),
    "resolved": ("closed", "reopened"),
    "closed": ("reopened",),
    "reopened": ("waiting_customer", "resolved"),
}
# statuses in which the handling (and the SLA clock) is running
ACTIVE_STATUSES: frozenset[str] = frozenset({"open", "reopened"})
# the stage a ticket must have reached before it can be resolved
RESOLVE_FROM_STAGE = "执行方案"
FOLLOW_UP_STAGE = "跟进回访"
REOPEN_STAGE = "确认问题"


def aware(value: datetime, what: str = "timestamp") -> datetime:
    """Refuse naive datetimes (AF604): SLA arithmetic across time zones needs aware ones."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise WorkflowError("AF604", f"{what}={value!r}")
    return value


def _text(value: Any, name: str, hint: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WorkflowError("AF606", name, hint=hint)
    return value.strip()


def _choice(value: Any, kind: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise WorkflowError("AF601", repr(value), kind=kind, allowed=", ".join(allowed))
    return value


@dataclass(frozen=True)
class Transition:
    """One line of a ticket's history. `kind` is what changed: created, status, stage,
    owner, priority, cause, responded, note or csat."""

    at: datetime
    actor: str
    kind: str
    from_value: str | None
    to_value: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat()
        return out


@dataclass
class Ticket:
    """A complaint ticket. Create it with `Ticket.create`, change it only through its
    methods: each checks the move, appends to `history` and returns the events."""

    id: str
    customer_ref: str
    channel: str
    cause: str
    created_at: datetime
    priority: str = "normal"
    owner: str | None = None
    team: str | None = None
    industry: str | None = None
    conversation_ref: str | None = None
    summary: str = ""
    status: str = "open"
    stage: str = SOP_STAGES[0]
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    csat_score: int | None = None
    csat_comment: str | None = None
    # the resolution the score was given for (`reopen_count` then; None: before this field, 0)
    csat_round: int | None = None
    history: tuple[Transition, ...] = field(default_factory=tuple)

    # ------------------------------------------------------------------ creation
    @classmethod
    def create(
        cls,
        id: str,
        *,
        customer_ref: str,
        channel: str,
        cause: str,
        at: datetime,
        actor: str,
        priority: str = "normal",
        owner: str | None = None,
        team: str | None = None,
        industry: str | None = None,
        conversation_ref: str | None = None,
        summary: str = "",
    ) -> tuple["Ticket", list[Event]]:
        """Record a complaint (接收反馈). Returns the ticket and its `ticket.created` event."""
        ticket = cls(
            id=_text(id, "id", "a unique ticket number, e.g. TS-20250701-0001"),
            customer_ref=_text(customer_ref, "customer_ref", "the customer's account or user number"),
            channel=_text(channel, "channel", "call, webchat, email, app…"),
            cause=_choice(cause, "cause", CAUSES),
            created_at=aware(at, "at"),
            priority=_choice(priority, "priority", PRIORITIES),
            owner=_text(owner, "owner", "the agent handling it") if owner is not None else None,
            team=team,
            industry=industry,
            conversation_ref=conversation_ref,
            summary=summary,
        )
        actor = _text(actor, "actor", "who recorded the complaint")
        ticket.history = (Transition(at, actor, "created", None, "open", summary),)
        event = TicketCreated(
            ticket_id=ticket.id, at=at.isoformat(), actor=actor, customer_ref=ticket.customer_ref,
            channel=ticket.channel, cause=ticket.cause, priority=ticket.priority, owner=ticket.owner,
            conversation_ref=conversation_ref,
        )
        return ticket, [event]

    # ------------------------------------------------------------------ helpers
    @property
    def last_change_at(self) -> datetime:
        return self.history[-1].at if self.history else self.created_at

    @property
    def is_active(self) -> bool:
        """True while someone should be working on it (open or reopened)."""
        return self.status in ACTIVE_STATUSES

    def _record(self, at: datetime, actor: str, kind: str, before: str | None, after: str, note: str) -> None:
        aware(at, "at")
        if at < self.last_change_at:
            raise WorkflowError("AF605", at.isoformat(), last=self.last_change_at.isoformat())
        actor = _text(actor, "actor", "who made the change")
        self.history = self.history + (Transition(at, actor, kind, before, after, note),)

    def _not_closed(self, hint: str) -> None:
        if self.status == "closed":
            raise WorkflowError("AF607", self.id, status="closed", hint=hint)

    def _move_status(self, target: str, at: datetime, actor: str, note: str) -> str:
        current = self.status
        allowed = ALLOWED_STATUS[current]
        if target not in allowed:
            raise WorkflowError("AF602", self.id, current=current, target=target, allowed=", ".join(allowed))
        self._record(at, actor, "status", current, target, note)
        self.status = target
        return current

    def _move_stage(self, target: str, at: datetime, actor: str, note: str) -> TicketStageChanged:
        current = self.stage
        self._record(at, actor, "stage", current, target, note)
        self.stage = target
        return TicketStageChanged(ticket_id=self.id, at=at.isoformat(), actor=actor,
                                  from_stage=current, to_stage=target, note=note)

    def transitions(self, kind: str) -> list[Transition]:
        return [t for t in self.history if t.kind == kind]

    # ------------------------------------------------------------------ changes
    def assign(self, owner: str, *, at: datetime, actor: str, note: str = "") -> list[Event]:
        self._not_closed("reopen it before assigning it")
        owner = _text(owner, "owner", "the agent taking the ticket")
        previous = self.owner
        self._record(at, actor, "owner", previous, owner, note)
        self.owner = owner
        return [TicketAssigned(ticket_id=self.id, at=at.isoformat(), actor=actor, owner=owner,
                               previous_owner=previous)]

    def set_priority(self, priority: str, *, at: datetime, actor: str, note: str = "") -> list[Event]:
        self._not_closed("reopen it before changing its priority")
        priority = _choice(priority, "priority", PRIORITIES)
        self._record(at, actor, "priority", self.priority, priority, note)
        self.priority = priority
        return []

    def set_cause(self, cause: str, *, at: datetime, actor: str, note: str = "") -> list[Event]:
        """Correct the cause (原因) once the problem is understood."""
        self._not_closed("reopen it before changing its cause")
        cause = _choice(cause, "cause", CAUSES)
        self._record(at, actor, "cause", self.cause, cause, note)
        self.cause = cause
        return []

    def add_note(self, note: str, *, at: datetime, actor: str) -> list[Event]:
        """A note on the handling (处理记录), kept in the history; changes nothing else."""
        note = _text(note, "note", "what was done or learned, e.g. 已联系抢修班组")
        self._record(at, actor, "note", None, "note", note)
        return []

    def respond(self, *, at: datetime, actor: str, note: str = "") -> list[Event]:
        """The first answer reached the customer (stops the response clock). Later answers
        are not first responses and change nothing."""
        if self.first_response_at is not None:
            return []
        self._not_closed("a closed ticket takes no first response")
        self._record(at, actor, "responded", None, "responded", note)
        self.first_response_at = at
        return [TicketResponded(ticket_id=self.id, at=at.isoformat(), actor=actor)]

    def advance_stage(self, to: str, *, at: datetime, actor: str, note: str = "") -> list[Event]:
        """Move along the SOP: one stage forward, or back with a note. Resolving moves to
        跟进回访 on its own, so `to` may not be 跟进回访 here."""
        self._not_closed("reopen it before changing its SOP stage")
        if self.status == "resolved":
            raise WorkflowError("AF607", self.id, status=self.status,
                                hint="reopen it before changing its SOP stage")
        to = _choice(to, "SOP stage", SOP_STAGES)
        here, there = SOP_STAGES.index(self.stage), SOP_STAGES.index(to)
        forward_ok = there == here + 1 and to != FOLLOW_UP_STAGE
        backward_ok = there < here and bool(note.strip())
        if not (forward_ok or backward_ok):
            raise WorkflowError("AF603", self.id, current=self.stage, target=to)
        return [self._move_stage(to, at, actor, note)]

    def wait_on_customer(self, *, at: datetime, actor: str, note: str = "") -> list[Event]:
        """Waiting for the customer (documents, a site visit slot…): the SLA clock pauses."""
        before = self._move_status("waiting_customer", at, actor, note)
        return [TicketStatusChanged(ticket_id=self.id, at=at.isoformat(), actor=actor,
                                    from_status=before, to_status="waiting_customer", note=note)]

    def customer_replied(self, *, at: datetime, actor: str, note: str = "") -> list[Event]:
        """The customer came back: the clock runs again."""
        if self.status != "waiting_customer":
            raise WorkflowError("AF602", self.id, current=self.status, target="open",
                                allowed=", ".join(ALLOWED_STATUS[self.status]))
        # a reopened ticket that waited goes back to reopened, so reports still see it
        target = "reopened" if self.reopen_count else "open"
        self._record(at, actor, "status", "waiting_customer", target, note)
        self.status = target
        return [TicketStatusChanged(ticket_id=self.id, at=at.isoformat(), actor=actor,
                                    from_status="waiting_customer", to_status=target, note=note)]

    def resolve(self, *, at: datetime, actor: str, note: str = "") -> list[Event]:
        """The plan was carried out (执行方案 done): status resolved, stage 跟进回访."""
        if SOP_STAGES.index(self.stage) < SOP_STAGES.index(RESOLVE_FROM_STAGE):
            raise WorkflowError("AF603", self.id, current=self.stage, target=FOLLOW_UP_STAGE)
        self._move_status("resolved", at, actor, note)
        events: list[Event] = []
        if self.stage != FOLLOW_UP_STAGE:
            events.append(self._move_stage(FOLLOW_UP_STAGE, at, actor, note))
        self.resolved_at = at
        events.append(TicketResolved(ticket_id=self.id, at=at.isoformat(), actor=actor, note=note))
        return events

    def close(self, *, at: datetime, actor: str, note: str = "") -> list[Event]:
        """Close after the follow-up, or when a customer never came back (needs a note)."""
        if self.status == "waiting_customer" and not note.strip():
            raise WorkflowError("AF607", self.id, status=self.status,
                                hint="closing while waiting on the customer needs a note "
                                     "(e.g. 三次回访未接通)")
        self._move_status("closed", at, actor, note)
        self.closed_at = at
        return [TicketClosed(ticket_id=self.id, at=at.isoformat(), actor=actor, note=note)]

    def reopen(self, *, at: datetime, actor: str, reason: str) -> list[Event]:
        """The problem is back or the customer is unhappy: the SOP restarts at 确认问题."""
        reason = _text(reason, "reason", "why the ticket is reopened, e.g. 回访客户表示仍未恢复供电")
        before = self._move_status("reopened", at, actor, reason)
        events: list[Event] = []
        if self.stage != REOPEN_STAGE:
            events.append(self._move_stage(REOPEN_STAGE, at, actor, reason))
        self.reopen_count += 1
        self.resolved_at = None
        self.closed_at = None
        events.insert(0, TicketReopened(ticket_id=self.id, at=at.isoformat(), actor=actor,
                                        reason=reason, from_status=before))
        return events

    @property
    def rated(self) -> bool:
        """Whether the customer has rated the current resolution: one survey per resolution, so a
        ticket reopened by a low score and resolved again can be rated again (the earlier score
        stays in the history; `csat_score` is the latest)."""
        return self.rated_for(self.reopen_count)

    def rated_for(self, resolution: int) -> bool:
        """Whether the customer rated the resolution `resolution` (a `reopen_count`)."""
        return self.csat_score is not None and (self.csat_round or 0) == resolution

    def record_survey(self, score: int, comment: str, *, at: datetime, actor: str) -> None:
        """Keep the customer's satisfaction score for this resolution (validated by
        `csat.submit_survey`)."""
        if self.rated:
            raise WorkflowError("AF633", self.id)
        self._record(at, actor, "csat", None, str(score), comment)
        self.csat_score = score
        self.csat_comment = comment
        self.csat_round = self.reopen_count

    # ------------------------------------------------------------------ data
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if key == "history":
                out[key] = [t.to_dict() for t in value]
            elif isinstance(value, datetime):
                out[key] = value.isoformat()
            else:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Ticket":
        """Rebuild a ticket from `to_dict()` output (e.g. read back from the store)."""
        data = dict(data)
        for key in ("created_at", "first_response_at", "resolved_at", "closed_at"):
            if isinstance(data.get(key), str):
                data[key] = aware(datetime.fromisoformat(data[key]), key)
        history = []
        for item in data.pop("history", []):
            item = dict(item)
            item["at"] = aware(datetime.fromisoformat(item["at"]), "history.at")
            history.append(Transition(**item))
        _choice(data.get("status"), "status", STATUSES)
        _choice(data.get("stage"), "SOP stage", SOP_STAGES)
        _choice(data.get("priority", "normal"), "priority", PRIORITIES)
        return cls(history=tuple(history), **data)
