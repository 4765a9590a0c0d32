"""Workflow events and the audit log: the part of `Store` that records what happened.

Events (`noun.verb`, e.g. `escalation.raised`) are what integrations and the live pages poll;
the audit log is what admins and auditors read (sign-ins, exports, role changes, take-overs).
Both are tenant-scoped; an agent sees only events of the conversations it may see.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..errors import InputError
from ..pii import mask_data
from . import access
from .access import Principal
from .customers_repo import _page_args
from .records import AuditEntry, Event, Page, from_row
from .tables import AuditRow, ConversationRow, EventRow, TenantRow

EVENT_NAME = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)+")


class EventsMixin:
    """Events and the audit log (mixed into `anfu.store.Store`, which provides the engine, the
    clock and the transaction helpers)."""

    def add_event(self, tenant_id: int, name: str, payload: dict[str, Any] | None = None, *,
                  conversation_id: int | None = None) -> Event:
        """Record a workflow event (`noun.verb`, e.g. `escalation.raised`). Events about a
        customer must carry their `conversation_id`, so that a deletion request removes them."""
        event = self.add_event_once(tenant_id, name, payload, conversation_id=conversation_id)
        assert event is not None
        return event

    def add_event_once(self, tenant_id: int, name: str, payload: dict[str, Any] | None = None, *,
                       conversation_id: int | None = None, once_per: str | None = None) -> Event | None:
        """`add_event`; with `once_per` (a payload key, e.g. `alert_id`), only if the
        conversation (or, without one, the tenant) has no event of this name with the same value
        there yet — checked under that row's lock (PostgreSQL: FOR UPDATE; SQLite serialises
        writers), so two requests at the same moment record it once. None when it was there."""
        if not EVENT_NAME.fullmatch(name):
            raise InputError("AF505", f"event name {name!r} (use noun.verb, e.g. escalation.raised)",
                             kind="event")
        with self._write() as s:
            self._get(s, TenantRow, tenant_id, "tenant")
            self._same_tenant(s, tenant_id, ConversationRow, conversation_id, "conversation")
            if once_per is not None and self._recorded(s, tenant_id, name, conversation_id, once_per,
                                                       (payload or {}).get(once_per)):
                return None
            row = EventRow(tenant_id=tenant_id, conversation_id=conversation_id, name=name,
                           payload=self._stored(payload or {}), created_at=self.clock())
            s.add(row)
            s.flush()
            return from_row(Event, row)

    @staticmethod
    def _recorded(s: Any, tenant_id: int, name: str, conversation_id: int | None, key: str, value: Any) -> bool:
        """Whether the conversation (or the tenant's events without one) has an event `name`
        whose payload has `key` = `value`; its row is locked first, so the answer holds until
        the transaction ends."""
        owner = (select(ConversationRow.id).where(ConversationRow.id == conversation_id) if conversation_id is not None
                 else select(TenantRow.id).where(TenantRow.id == tenant_id))
        s.scalars(owner.with_for_update()).first()
        same = (EventRow.conversation_id == conversation_id if conversation_id is not None
                else EventRow.conversation_id.is_(None))
        payloads = s.scalars(select(EventRow.payload).where(EventRow.tenant_id == tenant_id, EventRow.name == name,
                                                            same))
        return any((p or {}).get(key) == value for p in payloads)

    def list_events(self, visible_to: Principal, *, after_id: int = 0, name: str | None = None,
                    conversation_id: int | None = None, limit: int = 100,
                    names: tuple[str, ...] | None = None) -> list[Event]:
        """Events after `after_id` in id order (poll with the last id seen). Agents see only
        events of their visible conversations; other roles also see tenant-wide events.
        `names` keeps events of any of these kinds (one query for several)."""
        where = [EventRow.tenant_id == visible_to.tenant_id, EventRow.id > after_id]
        if name is not None:
            where.append(EventRow.name == name)
        if names is not None:
            where.append(EventRow.name.in_(names))
        if conversation_id is not None:
            where.append(EventRow.conversation_id == conversation_id)
        visible_conv = EventRow.conversation_id.in_(
            select(ConversationRow.id).where(access.conversation_clause(visible_to)))
        if visible_to.role == "agent":
            where.append(visible_conv)
        else:
            where.append(EventRow.conversation_id.is_(None) | visible_conv)
        with self._read() as s:
            rows = s.scalars(select(EventRow).where(*where).order_by(EventRow.id).limit(min(limit, 1000)))
            return [from_row(Event, r) for r in rows]

    # audit log ----------------------------------------------------------------------------
    def audit(self, tenant_id: int | None, actor: str, action: str, *, target: str | None = None,
              detail: dict[str, Any] | None = None, ip: str | None = None) -> AuditEntry:
        """Append to the audit log (sign-ins, exports, role changes, take-overs…). Personal
        information in `detail` is masked before it is written."""
        with self._write() as s:
            row = AuditRow(tenant_id=tenant_id, actor=actor, action=action, target=target,
                           detail=mask_data(detail or {}), ip=ip, at=self.clock())
            s.add(row)
            s.flush()
            return from_row(AuditEntry, row)

    def list_audit(self, visible_to: Principal, *, action: str | None = None, page: int = 1,
                   page_size: int = 50, actor: str | None = None, target: str | None = None,
                   since: datetime | None = None, until: datetime | None = None) -> Page[AuditEntry]:
        """The tenant's audit log, newest first (admins and auditors); `action` ending in `.`
        (e.g. `alert.`) matches every action of that family; `since <= at < until`."""
        access.require(visible_to, "audit.view")
        page, page_size = _page_args(page, page_size)
        where = [AuditRow.tenant_id == visible_to.tenant_id]
        if action is not None:
            where.append(AuditRow.action.startswith(action, autoescape=True) if action.endswith(".")
                         else AuditRow.action == action)
        if actor is not None:
            where.append(AuditRow.actor == actor)
        if target is not None:
            where.append(AuditRow.target == target)
        if since is not None:
            where.append(AuditRow.at >= since)
        if until is not None:
            where.append(AuditRow.at < until)
        counted = list(where)
        if action is not None and action.endswith(".") and self.engine.dialect.name == "sqlite":
            # SQLite's LIKE reads no index: the count also takes the family as a range of
            # ix_audit_log_tenant_action (bytes compare: `alert.` <= action < `alert/`), while the
            # page walks the tenant's log newest first and stops after it (no sort of the family)
            counted += [AuditRow.action >= action, AuditRow.action < action[:-1] + "/"]
        with self._read() as s:
            total = s.scalar(select(func.count()).select_from(AuditRow).where(*counted)) or 0
            rows = s.scalars(select(AuditRow).where(*where).order_by(AuditRow.id.desc())
                             .offset((page - 1) * page_size).limit(page_size))
            return Page([from_row(AuditEntry, r) for r in rows], total, page, page_size)

