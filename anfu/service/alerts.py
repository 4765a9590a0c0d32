"""Supervisor alerts (升级预警): each `escalation.raised` or `supervisor.alerted` event is an
alert; acknowledging, assigning and resolving it are events too (`alert.acknowledged`,
`alert.assigned`, `alert.resolved`, payload `alert_id`), so the alert's state is read from the
event log and needs no table of its own; each change also writes who and when to the audit log.
Visibility is the events' (a supervisor sees their team's conversations)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFoundError
from ..store import Event, Store
from ..store.access import Principal, require

ALERT_NAMES = ("escalation.raised", "supervisor.alerted")
ACKNOWLEDGED = "alert.acknowledged"
ASSIGNED = "alert.assigned"
RESOLVED = "alert.resolved"
MAX_SCAN = 20_000


@dataclass
class Alert:
    event: Event
    acknowledged_by: str | None = None
    acknowledged_at: Any = None
    assigned_to: int | None = None
    resolved_by: str | None = None
    resolved_at: Any = None
    history: list[Event] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.resolved_by:
            return "resolved"
        return "acknowledged" if self.acknowledged_by else "assigned" if self.assigned_to else "open"


class Alerts:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _events(self, principal: Principal, names: tuple[str, ...]) -> list[Event]:
        """The visible events of these kinds, oldest first, at most MAX_SCAN (one query per
        thousand, whatever the number of kinds)."""
        out: list[Event] = []
        after = 0
        while len(out) < MAX_SCAN:
            batch = self.store.list_events(principal, after_id=after, names=names, limit=1000)
            out.extend(batch)
            if len(batch) < 1000:
                break
            after = batch[-1].id
        return out

    def list(self, principal: Principal, *, state: str | None = None, conversation_id: int | None = None,
             limit: int = 100) -> list[Alert]:
        """Visible alerts, newest first, with their state (open, assigned, acknowledged)."""
        alerts = {e.id: Alert(e) for e in self._events(principal, ALERT_NAMES)
                  if conversation_id is None or e.conversation_id == conversation_id}
        for change in sorted(self._events(principal, (ASSIGNED, ACKNOWLEDGED, RESOLVED)), key=lambda e: e.id):
            alert = alerts.get(change.payload.get("alert_id"))
            if alert is None:
                continue
            alert.history.append(change)
            if change.name == ACKNOWLEDGED:
                alert.acknowledged_by, alert.acknowledged_at = change.payload.get("by"), change.created_at
            elif change.name == RESOLVED:
                alert.resolved_by, alert.resolved_at = change.payload.get("by"), change.created_at
            else:
                alert.assigned_to = change.payload.get("user_id")
        items = sorted(alerts.values(), key=lambda a: a.event.id, reverse=True)
        if state is not None:
            items = [a for a in items if a.state == state]
        return items[:limit]

    def get(self, principal: Principal, alert_id: int) -> Alert:
        found = self.store.list_events(principal, after_id=alert_id - 1, limit=1)
        if not found or found[0].id != alert_id or found[0].name not in ALERT_NAMES:
            raise NotFoundError("AF503", alert_id, kind="alert")
        for alert in self.list(principal, conversation_id=found[0].conversation_id, limit=MAX_SCAN):
            if alert.event.id == alert_id:
                return alert
        raise NotFoundError("AF503", alert_id, kind="alert")

    def _record(self, principal: Principal, alert: Alert, name: str, payload: dict[str, Any],
                ip: str | None, *, once: bool = False) -> None:
        """The change as an event (the alert's state) and in the audit log (who and when).
        `once`: not when the alert has such an event already (acknowledged and resolved are once
        only: of two supervisors clicking at the same moment, the first counts and the second
        changes nothing)."""
        event = self.store.add_event_once(principal.tenant_id, name,
                                          {"alert_id": alert.event.id, "by": principal.actor, **payload},
                                          conversation_id=alert.event.conversation_id,
                                          once_per="alert_id" if once else None)
        if event is None:
            return
        self.store.audit(principal.tenant_id, principal.actor, name, target=f"alert:{alert.event.id}",
                         detail={"conversation_id": alert.event.conversation_id, **payload}, ip=ip)

    def acknowledge(self, principal: Principal, alert_id: int, note: str = "", *, ip: str | None = None) -> Alert:
        """A supervisor (their team) or admin has seen the alert and is on it; once only."""
        alert = self.get(principal, alert_id)  # invisible: AF503, like a missing one
        require(principal, "supervise")
        if alert.acknowledged_by is None:
            self._record(principal, alert, ACKNOWLEDGED, {"note": note[:500]}, ip, once=True)
        return self.get(principal, alert_id)

    def assign(self, principal: Principal, alert_id: int, user_id: int, note: str = "", *,
               ip: str | None = None) -> Alert:
        """Give the alert to someone to handle (supervisors: their team; admins: the tenant)."""
        alert = self.get(principal, alert_id)
        require(principal, "supervise")
        self.store.check_assignable(principal, user_id)
        self._record(principal, alert, ASSIGNED, {"user_id": user_id, "note": note[:500]}, ip)
        return self.get(principal, alert_id)

    def resolve(self, principal: Principal, alert_id: int, note: str = "", *, ip: str | None = None) -> Alert:
        """The alert is dealt with (supervisors: their team; admins); once only."""
        alert = self.get(principal, alert_id)
        require(principal, "supervise")
        if alert.resolved_by is None:
            self._record(principal, alert, RESOLVED, {"note": note[:500]}, ip, once=True)
        return self.get(principal, alert_id)
