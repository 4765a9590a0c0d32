"""Repository of the complaint workflow: tickets, follow-ups and 四个不漏 ledger entries.

`WorkflowStore(engine)` stores the `to_dict()` of the pure workflow objects
(`anfu.workflow.tickets.Ticket`, `followup.FollowUp`, `ledger.LedgerEntry`) and returns plain
records; the callers rebuild the objects. Access follows `anfu.store.access`: an agent sees
the tickets they own, a supervisor their team's, admins and auditors their tenant's; an
invisible ticket is reported as missing (AF503).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import ConflictError, NotFoundError, StoreError
from .access import Principal, scope_clause
from .accounts import StoreBase
from .records import Event, Page, _Record, from_row
from .repo import MAX_PAGE_SIZE, _page_args
from .search_repo import index_ticket
from .tables import ConversationRow, EventRow, UserRow
from .workflow_tables import FollowUpRow, LedgerRow, TicketRow, TicketSequenceRow


@dataclass(frozen=True)
class TicketRecord(_Record):
    id: int
    tenant_id: int
    number: str
    conversation_id: int | None
    team_id: int | None
    owner_id: int | None
    status: str
    stage: str
    priority: str
    cause: str
    created_at: datetime
    updated_at: datetime
    data: dict[str, Any]
    version: int = 1


@dataclass(frozen=True)
class FollowUpRecord(_Record):
    id: int
    tenant_id: int
    ticket_id: int
    state: str
    due_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class LedgerRecord(_Record):
    id: int
    tenant_id: int
    ticket_id: int
    department: str
    feedback_state: str
    data: dict[str, Any]


@dataclass(frozen=True)
class TicketChange:
    """What `WorkflowStore.change_ticket`'s change function returns: the ticket's new
    `Ticket.to_dict()`, its new owner (`...` keeps it), and the ledger entry and follow-up to write
    in the same transaction (None: leave them as they are)."""

    data: dict[str, Any]
    owner_id: Any = ...
    ledger: dict[str, Any] | None = None
    followup: dict[str, Any] | None = None
    followup_due: datetime | None = None
    unchanged: bool = False  # nothing to write: the stored ticket (same version, same updated_at)


# `change(record, ledger entry, follow-up) -> TicketChange`, run under the ticket row's lock
TicketChanger = Callable[[TicketRecord, LedgerRecord | None, FollowUpRecord | None], TicketChange]


def ticket_clause(principal: Principal) -> ColumnElement[bool]:
    """SQL filter on `tickets`: what `principal` may see."""
    return scope_clause(principal, TicketRow.tenant_id, TicketRow.team_id, TicketRow.owner_id)


def _columns(data: dict[str, Any]) -> dict[str, Any]:
    for key in ("status", "stage", "priority", "cause"):
        if not isinstance(data.get(key), str):
            raise StoreError("AF505", f"ticket data lacks {key!r}", kind="ticket")
    return {key: data[key] for key in ("status", "stage", "priority", "cause")}


class WorkflowStore(StoreBase):
    """`WorkflowStore(engine)`: tickets, follow-ups and ledger entries of every tenant."""

    # tickets ------------------------------------------------------------------------------
    def next_ticket_number(self, tenant_id: int, day: datetime) -> str:
        """The next number of the tenant's day, e.g. TS-20251125-0003, from a per-tenant
        sequence (`ticket_sequences`): never handed out twice, whatever was deleted since.
        A day without a sequence row yet starts after the highest number stored for it."""
        key = f"{day:%Y%m%d}"
        prefix = f"TS-{key}-"
        for attempt in range(3):
            try:
                with self._write() as s:
                    row = s.get(TicketSequenceRow, (tenant_id, key), with_for_update=True)
                    if row is None:
                        numbers = s.scalars(select(TicketRow.number).where(
                            TicketRow.tenant_id == tenant_id, TicketRow.number.like(prefix + "%")))
                        highest = max((int(n[len(prefix):]) for n in numbers if n[len(prefix):].isdigit()),
                                      default=0)
                        row = TicketSequenceRow(tenant_id=tenant_id, day=key, last=highest)
                        s.add(row)
                    row.last += 1
                    s.flush()
                    return f"{prefix}{row.last:04d}"
            except IntegrityError:  # a concurrent first number of the day: take the next one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def create_ticket(self, tenant_id: int, data: dict[str, Any], *, conversation_id: int | None = None,
                      team_id: int | None = None, owner_id: int | None = None,
                      ledger: dict[str, Any] | None = None) -> TicketRecord:
        """Store a new ticket (`Ticket.to_dict()`), with its ledger entry when given; AF504 when
        its number is taken."""
        try:
            with self._write() as s:
                return self._insert_ticket(s, tenant_id, data, conversation_id, team_id, owner_id, ledger)
        except IntegrityError:
            raise StoreError("AF504", f"ticket {data.get('id')}", kind="ticket") from None

    def open_ticket(self, tenant_id: int, data: dict[str, Any], *, conversation_id: int, team_id: int | None,
                    owner_id: int | None, ledger: dict[str, Any] | None = None) -> tuple[TicketRecord, bool]:
        """The conversation's active ticket (not closed), or this new one: (record, created). The
        conversation's row is locked while it is looked for (PostgreSQL: FOR UPDATE; SQLite
        serialises writers), so two escalations of one conversation at the same moment open one
        ticket; the other gets it back (created False) and its number stays unused."""
        try:
            with self._write() as s:
                if s.scalars(select(ConversationRow.id).where(ConversationRow.id == conversation_id,
                                                              ConversationRow.tenant_id == tenant_id)
                             .with_for_update()).first() is None:
                    raise NotFoundError("AF503", conversation_id, kind="conversation")
                active = s.scalars(select(TicketRow).where(TicketRow.tenant_id == tenant_id,
                                                           TicketRow.conversation_id == conversation_id,
                                                           TicketRow.status != "closed")
                                   .order_by(TicketRow.id)).first()
                if active is not None:
                    return from_row(TicketRecord, active), False
                return self._insert_ticket(s, tenant_id, data, conversation_id, team_id, owner_id, ledger), True
        except IntegrityError:
            raise StoreError("AF504", f"ticket {data.get('id')}", kind="ticket") from None

    def _insert_ticket(self, s: Session, tenant_id: int, data: dict[str, Any], conversation_id: int | None,
                       team_id: int | None, owner_id: int | None, ledger: dict[str, Any] | None) -> TicketRecord:
        now = self.clock()
        row = TicketRow(tenant_id=tenant_id, number=data["id"], conversation_id=conversation_id,
                        team_id=team_id, owner_id=owner_id, created_at=now, updated_at=now, version=1,
                        data=self._stored(data), **_columns(data))
        s.add(row)
        s.flush()
        index_ticket(s, row)
        if ledger is not None:
            self._write_ledger(s, row, ledger)
        return from_row(TicketRecord, row)

    def _visible(self, s: Session, ticket_id: int, visible_to: Principal | None) -> TicketRow:
        query = select(TicketRow).where(TicketRow.id == ticket_id)
        if visible_to is not None:
            query = query.where(ticket_clause(visible_to))
        row = s.scalars(query).first()
        if row is None:
            raise NotFoundError("AF503", ticket_id, kind="ticket")
        return row

    def get_ticket(self, ticket_id: int, visible_to: Principal | None = None) -> TicketRecord:
        with self._read() as s:
            return from_row(TicketRecord, self._visible(s, ticket_id, visible_to))

    def get_ticket_by_number(self, number: str, tenant_id: int) -> TicketRecord:
        """The tenant's ticket with this number (numbers are unique per tenant only)."""
        with self._read() as s:
            row = s.scalars(select(TicketRow).where(TicketRow.tenant_id == tenant_id,
                                                    TicketRow.number == number)).first()
            if row is None:
                raise NotFoundError("AF503", number, kind="ticket")
            return from_row(TicketRecord, row)

    def get_survey_ticket(self, ticket_id: int, tenant_id: int, number: str) -> TicketRecord:
        """For the survey link, which carries the signed ticket id, tenant and number and no
        sign-in: all three must agree, so a link can only ever reach its own ticket."""
        with self._read() as s:
            row = s.get(TicketRow, ticket_id)
            if row is None or row.tenant_id != tenant_id or row.number != number:
                raise NotFoundError("AF503", number, kind="ticket")
            return from_row(TicketRecord, row)

    def save_ticket(self, ticket_id: int, data: dict[str, Any], *, owner_id: Any = ...,
                    visible_to: Principal | None = None) -> TicketRecord:
        """Replace the ticket's data after a change (the number never changes)."""
        return self.change_ticket(ticket_id, lambda _record, _ledger, _followup: TicketChange(data, owner_id),
                                  visible_to=visible_to)

    def change_ticket(self, ticket_id: int, change: TicketChanger, *, visible_to: Principal | None = None,
                      expected_version: int | None = None) -> TicketRecord:
        """Read, change and save a ticket as one step: the row is locked (PostgreSQL: FOR UPDATE;
        SQLite serialises writers), `change(record, ledger entry, follow-up)` is applied to what
        is stored now, and its result (`TicketChange`) is saved with the ticket's next version, in
        the same transaction. So of two changes at the same moment neither undoes the other, and
        a change that raises writes nothing. `expected_version`: the version the caller read; a
        ticket saved since is AF609 (409) and nothing is written."""
        with self._write() as s:
            row = self._locked(s, [ticket_id], visible_to)[0]
            if expected_version is not None and row.version != expected_version:
                raise ConflictError("AF609", row.number, expected=expected_version, current=row.version)
            return self._apply(s, row, change)

    def change_tickets(self, ticket_ids: list[int], change: TicketChanger, *,
                       visible_to: Principal | None = None) -> list[TicketRecord]:
        """`change_ticket` for several tickets in one transaction (bulk actions): all are locked
        (in id order: two bulk changes never wait on each other in a circle), each is changed
        as stored now, and either all are saved or — when one is missing (AF503) or its change
        raises — none. Records in the order of `ticket_ids`."""
        with self._write() as s:
            return [self._apply(s, row, change) for row in self._locked(s, ticket_ids, visible_to)]

    def _locked(self, s: Session, ticket_ids: list[int], visible_to: Principal | None) -> list[TicketRow]:
        """The tickets' rows, locked, in the order of `ticket_ids`; AF503 for the first one that
        is missing or not visible."""
        query = select(TicketRow).where(TicketRow.id.in_(ticket_ids))
        if visible_to is not None:
            query = query.where(ticket_clause(visible_to))
        rows = {row.id: row for row in s.scalars(query.order_by(TicketRow.id).with_for_update())}
        for ticket_id in ticket_ids:
            if ticket_id not in rows:
                raise NotFoundError("AF503", ticket_id, kind="ticket")
        return [rows[i] for i in ticket_ids]

    def _apply(self, s: Session, row: TicketRow, change: TicketChanger) -> TicketRecord:
        ledger = s.scalars(select(LedgerRow).where(LedgerRow.ticket_id == row.id)).first()
        follow = s.scalars(select(FollowUpRow).where(FollowUpRow.ticket_id == row.id)
                           .order_by(FollowUpRow.id.desc())).first()
        done = change(from_row(TicketRecord, row), None if ledger is None else from_row(LedgerRecord, ledger),
                      None if follow is None else from_row(FollowUpRecord, follow))
        if done.unchanged:  # a change that changes nothing keeps the version (a colleague's If-Match holds)
            return from_row(TicketRecord, row)
        saved = self._save_row(s, row, done.data, done.owner_id)
        if done.ledger is not None:
            self._write_ledger(s, row, done.ledger)
        if done.followup is not None:
            self._write_followup(s, row, follow, done.followup, done.followup_due)
        return saved

    # SLA sweep (the scheduler) ------------------------------------------------------------------
    def sla_candidates(self, *, after_id: int = 0, limit: int = 500) -> list[TicketRecord]:
        """Tickets of every tenant whose SLA may still warn or breach (not resolved or closed),
        in id order after `after_id`: the scheduler's SLA sweep, a page at a time."""
        with self._read() as s:
            rows = s.scalars(select(TicketRow).where(TicketRow.status.not_in(("resolved", "closed")),
                                                     TicketRow.id > after_id)
                             .order_by(TicketRow.id).limit(limit)).all()
            return [from_row(TicketRecord, r) for r in rows]

    def record_sla_alerts(self, ticket_id: int, alerts: list[tuple[str, list[tuple[str, dict[str, Any]]]]]
                          ) -> list[Event]:
        """Record the SLA alerts of one ticket that were not recorded before: `alerts` holds
        (key, [(event name, payload), …]) groups, the key being `anfu.workflow.sla.alert_key` of
        the group's first event. Under the ticket row's lock (PostgreSQL: FOR UPDATE; SQLite
        serialises writers) the keys already in the event log are skipped, so two sweeps at once
        (two scheduler processes) record each warning and breach once. Returns the new events."""
        with self._write() as s:
            row = s.scalars(select(TicketRow).where(TicketRow.id == ticket_id).with_for_update()).first()
            if row is None:
                return []
            names = {name for _key, group in alerts for name, _payload in group[:1]}
            where = [EventRow.tenant_id == row.tenant_id, EventRow.name.in_(names)]
            where.append(EventRow.conversation_id == row.conversation_id if row.conversation_id is not None
                         else EventRow.conversation_id.is_(None))
            sent = {f"{e.name}:{(e.payload or {}).get('target', '')}"
                    for e in s.scalars(select(EventRow).where(*where))
                    if (e.payload or {}).get("ticket_id") == row.number}
            out: list[Event] = []
            now = self.clock()
            for key, group in alerts:
                if key in sent:
                    continue
                sent.add(key)
                for name, payload in group:
                    event = EventRow(tenant_id=row.tenant_id, conversation_id=row.conversation_id, name=name,
                                     payload=self._stored(payload), created_at=now)
                    s.add(event)
                    s.flush()
                    out.append(from_row(Event, event))
            return out

    def _save_row(self, s: Session, row: TicketRow, data: dict[str, Any], owner_id: Any) -> TicketRecord:
        if data.get("id") != row.number:
            raise StoreError("AF505", f"ticket number {data.get('id')!r} != {row.number!r}", kind="ticket")
        for key, value in _columns(data).items():
            setattr(row, key, value)
        if owner_id is not ...:
            row.owner_id = owner_id
            owner = s.get(UserRow, owner_id) if owner_id is not None else None
            if owner is not None and owner.team_id is not None:
                row.team_id = owner.team_id  # a handed-over ticket belongs to its new owner's team
        row.data = self._stored(data)
        row.updated_at = self.clock()
        row.version += 1
        s.flush()
        index_ticket(s, row)
        return from_row(TicketRecord, row)

    def list_tickets(self, visible_to: Principal, *, status: str | None = None, conversation_id: int | None = None,
                     page: int = 1, page_size: int = 50) -> Page[TicketRecord]:
        """Newest activity first."""
        page, page_size = _page_args(page, page_size)
        where = [ticket_clause(visible_to)]
        if status is not None:
            where.append(TicketRow.status == status)
        if conversation_id is not None:
            where.append(TicketRow.conversation_id == conversation_id)
        with self._read() as s:
            total = s.scalar(select(func.count()).select_from(TicketRow).where(*where)) or 0
            rows = s.scalars(select(TicketRow).where(*where).order_by(TicketRow.updated_at.desc(), TicketRow.id.desc())
                             .offset((page - 1) * page_size).limit(page_size)).all()
            return Page([from_row(TicketRecord, r) for r in rows], total, page, page_size)

    def tickets_of_conversations(self, visible_to: Principal, conversation_ids: list[int]) -> list[TicketRecord]:
        """The visible tickets of these conversations, in one query."""
        if not conversation_ids:
            return []
        with self._read() as s:
            rows = s.scalars(select(TicketRow).where(ticket_clause(visible_to),
                                                     TicketRow.conversation_id.in_(conversation_ids))).all()
            return [from_row(TicketRecord, r) for r in rows]

    def all_tickets(self, visible_to: Principal, limit: int = 10_000) -> list[TicketRecord]:
        """Every visible ticket (for reports), newest first, at most `limit`."""
        with self._read() as s:
            rows = s.scalars(select(TicketRow).where(ticket_clause(visible_to))
                             .order_by(TicketRow.id.desc()).limit(limit)).all()
            return [from_row(TicketRecord, r) for r in rows]

    # follow-ups -----------------------------------------------------------------------------
    def save_followup(self, ticket_id: int, data: dict[str, Any], due_at: datetime) -> FollowUpRecord:
        """Create or replace the ticket's current follow-up."""
        with self._write() as s:
            ticket = self._visible(s, ticket_id, None)
            row = s.scalars(select(FollowUpRow).where(FollowUpRow.ticket_id == ticket_id)
                            .order_by(FollowUpRow.id.desc())).first()
            return self._write_followup(s, ticket, row, data, due_at)

    def _write_followup(self, s: Session, ticket: TicketRow, row: FollowUpRow | None, data: dict[str, Any],
                        due_at: datetime | None) -> FollowUpRecord:
        """Replace the scheduled follow-up `row` (the ticket's latest), or add one."""
        if row is None or row.state != "scheduled":
            row = FollowUpRow(tenant_id=ticket.tenant_id, ticket_id=ticket.id)
            s.add(row)
        row.state, row.due_at, row.data = data["state"], due_at, self._stored(data)
        s.flush()
        return from_row(FollowUpRecord, row)

    def get_followup(self, ticket_id: int) -> FollowUpRecord | None:
        """The ticket's latest follow-up, or None."""
        with self._read() as s:
            row = s.scalars(select(FollowUpRow).where(FollowUpRow.ticket_id == ticket_id)
                            .order_by(FollowUpRow.id.desc())).first()
            return None if row is None else from_row(FollowUpRecord, row)

    # ledger ---------------------------------------------------------------------------------
    def save_ledger_entry(self, ticket_id: int, data: dict[str, Any]) -> LedgerRecord:
        """Create or replace the ledger entry of a ticket (`LedgerEntry.to_dict()`)."""
        with self._write() as s:
            return self._write_ledger(s, self._visible(s, ticket_id, None), data)

    def _write_ledger(self, s: Session, ticket: TicketRow, data: dict[str, Any]) -> LedgerRecord:
        row = s.scalars(select(LedgerRow).where(LedgerRow.ticket_id == ticket.id)).first()
        if row is None:
            row = LedgerRow(tenant_id=ticket.tenant_id, ticket_id=ticket.id)
            s.add(row)
        row.department, row.feedback_state, row.data = (data["department"], data["feedback_state"],
                                                        self._stored(data))
        s.flush()
        return from_row(LedgerRecord, row)

    def get_ledger_entry(self, ticket_id: int) -> LedgerRecord | None:
        with self._read() as s:
            row = s.scalars(select(LedgerRow).where(LedgerRow.ticket_id == ticket_id)).first()
            return None if row is None else from_row(LedgerRecord, row)

    def list_ledger(self, visible_to: Principal, limit: int = MAX_PAGE_SIZE * 50) -> list[tuple[TicketRecord, LedgerRecord]]:
        """Ledger entries of the visible tickets with their tickets, newest ticket first."""
        with self._read() as s:
            rows = s.execute(select(TicketRow, LedgerRow).join(LedgerRow, LedgerRow.ticket_id == TicketRow.id)
                             .where(ticket_clause(visible_to)).order_by(TicketRow.id.desc()).limit(limit)).all()
            return [(from_row(TicketRecord, t), from_row(LedgerRecord, e)) for t, e in rows]
