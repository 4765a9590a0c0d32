"""Follow-up (回访, the last SOP step 跟进回访): when a ticket is resolved, a call back to the
customer is scheduled after a configurable delay (the `followup` section of the `sla` pack,
counted on its business calendar). The agent records whether the customer was reached and
whether the problem is really gone; a problem that is back reopens the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ..errors import WorkflowError
from .calendar import BusinessCalendar
from ..events import Event
from .sla import SlaPolicies
from ..events import FollowUpCompleted, FollowUpScheduled
from .tickets import Ticket, aware

FOLLOWUP_STATES: tuple[str, ...] = ("scheduled", "done", "cancelled")


@dataclass(frozen=True)
class FollowUp:
    ticket_id: str
    due_at: datetime
    scheduled_at: datetime
    owner: str | None = None
    state: str = "scheduled"
    done_at: datetime | None = None
    reached: bool | None = None      # the customer answered the call
    problem_solved: bool | None = None
    note: str = ""

    def is_overdue(self, now: datetime) -> bool:
        return self.state == "scheduled" and aware(now, "now") > self.due_at

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("due_at", "scheduled_at", "done_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def schedule_followup(
    ticket: Ticket,
    *,
    policies: SlaPolicies | None = None,
    delay: timedelta | None = None,
    calendar: BusinessCalendar | None = None,
) -> tuple[FollowUp, list[Event]]:
    """Schedule the 回访 of a resolved ticket: `delay` (default from the `sla` pack) of open
    calendar time after the resolution."""
    if ticket.status != "resolved" or ticket.resolved_at is None:
        raise WorkflowError("AF621", ticket.id, status=ticket.status)
    if delay is None or calendar is None:
        rule = (policies or SlaPolicies.load()).followup
        calendar = calendar or rule.calendar
        delay = rule.delay if delay is None else delay
    due = calendar.add(ticket.resolved_at, delay.total_seconds())
    follow = FollowUp(ticket_id=ticket.id, due_at=due, scheduled_at=ticket.resolved_at, owner=ticket.owner)
    event = FollowUpScheduled(ticket_id=ticket.id, at=ticket.resolved_at.isoformat(),
                              due_at=due.isoformat(), owner=ticket.owner)
    return follow, [event]


def _finish(follow: FollowUp) -> None:
    if follow.state != "scheduled":
        raise WorkflowError("AF620", follow.ticket_id, state=follow.state)


def complete_followup(
    follow: FollowUp,
    ticket: Ticket,
    *,
    at: datetime,
    actor: str,
    reached: bool,
    problem_solved: bool | None = None,
    note: str = "",
) -> tuple[FollowUp, list[Event]]:
    """Record the 回访. A customer who says the problem is back reopens the ticket; an
    unreached customer leaves the ticket as it is (schedule another call)."""
    _finish(follow)
    aware(at, "at")
    done = replace(follow, state="done", done_at=at, reached=reached,
                   problem_solved=problem_solved if reached else None, note=note)
    events: list[Event] = [FollowUpCompleted(ticket_id=ticket.id, at=at.isoformat(), actor=actor,
                                             reached=reached, note=note)]
    if reached and problem_solved is False:
        events += ticket.reopen(at=at, actor=actor, reason=note or "回访时客户反映问题仍未解决")
    return done, events


def cancel_followup(follow: FollowUp, *, at: datetime, note: str = "") -> FollowUp:
    """Cancel a scheduled follow-up (e.g. the ticket was reopened before the call)."""
    _finish(follow)
    return replace(follow, state="cancelled", done_at=aware(at, "at"), note=note)
