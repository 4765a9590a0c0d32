"""The complaint desk: the workflow objects (`anfu.workflow`) applied to stored tickets.

Each action loads the ticket, calls the pure workflow method (which checks the move and
returns its events), stores the ticket, keeps its 四个不漏 ledger entry in step and records
the events in the event log; a low CSAT score or an escalation also reaches the supervisors'
live stream, and every event reaches the desk's listeners (outgoing webhooks). The web pages
and the REST API (`/api/v1/tickets…`) both call this class.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, Callable

from ..errors import AuthError, InputError, WorkflowError
from ..store import Store, TicketRecord, WorkflowStore
from ..store.access import Principal, require
from ..store.records import Page
from ..workflow.csat import SurveyLinks, submit_survey
from ..events import Event
from ..lru import Lru
from ..workflow.followup import FollowUp, complete_followup, schedule_followup
from ..workflow.ledger import Departments, Ledger, LedgerEntry
from ..workflow.sla import SlaPolicies, SlaStatus, alert_key, sla_alerts, sla_status
from ..workflow.tickets import Ticket
from .live import Hub

LEDGER_TIMES = ("recorded_at", "handled_at", "rechecked_at", "feedback_sent_at", "feedback_updated_at")
FOLLOWUP_TIMES = ("due_at", "scheduled_at", "done_at")
PRIORITY_OF_LEVEL = {0: "normal", 1: "normal", 2: "high", 3: "urgent"}
SLA_STATES = ("ok", "warning", "breached", "paused", "met")
TICKET_SORTS = ("updated", "created", "priority", "due")
ACTIONS = ("respond", "advance", "wait", "customer_replied", "resolve", "followup", "close", "reopen",
           "feed_back", "feedback_reply", "note")
Listener = Callable[[int, str, dict[str, Any]], None]  # (tenant id, event name, payload)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def ledger_entry(data: dict[str, Any]) -> LedgerEntry:
    known = {f.name for f in fields(LedgerEntry)}
    values = {k: v for k, v in data.items() if k in known}
    for key in LEDGER_TIMES:
        values[key] = _time(values.get(key))
    values["feedback_history"] = [tuple(item) for item in values.get("feedback_history") or []]
    return LedgerEntry(**values)


def followup(data: dict[str, Any]) -> FollowUp:
    values = dict(data)
    for key in FOLLOWUP_TIMES:
        values[key] = _time(values.get(key))
    return FollowUp(**values)


def sla_state(ticket: Ticket, status: SlaStatus) -> str:
    """One word for the SLA clock: ok, warning, breached, paused (waiting on the customer) or
    met (resolved or closed within its targets)."""
    if status.breached:
        return "breached"
    if ticket.status == "waiting_customer":
        return "paused"
    if ticket.status in ("resolved", "closed"):
        return "met"
    return "warning" if status.warning else "ok"


SLA_SEEN = 100_000  # SLA alerts remembered as recorded (about 10 MB at most)


@dataclass(frozen=True)
class TicketFilter:
    """Filters of `TicketDesk.list`; None means "any". `text` searches number, summary and
    customer reference; `customer` is the customer reference (e.g. C12) or customer id."""

    status: str | None = None
    stage: str | None = None
    owner_id: int | None = None
    team_id: int | None = None
    sla: str | None = None
    cause: str | None = None
    customer: str | None = None
    text: str | None = None
    conversation_id: int | None = None


class TicketDesk:
    def __init__(self, store: Store, workflow: WorkflowStore, hub: Hub, secret: str, *,
                 clock: Callable[[], datetime] | None = None, listeners: list[Listener] | None = None) -> None:
        self.store = store
        self.workflow = workflow
        self.hub = hub
        self.secret = secret
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.listeners: list[Listener] = listeners if listeners is not None else []
        self._sla_cursor = 0  # the last ticket id the SLA sweep reached (it goes on from there)
        # (ticket id, alert key) of SLA alerts this process has seen recorded: a warned or breached
        # ticket stays so on every later tick, and need not be locked and checked again each time
        self._sla_seen: Lru[tuple[int, str], bool] = Lru(SLA_SEEN)

    @cached_property
    def policies(self) -> SlaPolicies:
        return SlaPolicies.load()

    @cached_property
    def departments(self) -> Departments:
        return Departments.load()

    @cached_property
    def links(self) -> SurveyLinks:
        return SurveyLinks(self.secret)

    # reading --------------------------------------------------------------------------------
    @staticmethod
    def ticket(record: TicketRecord) -> Ticket:
        return Ticket.from_dict(record.data)

    def get(self, principal: Principal, ticket_id: int) -> TicketRecord:
        return self.workflow.get_ticket(ticket_id, visible_to=principal)

    def sla(self, ticket: Ticket) -> SlaStatus:
        return sla_status(ticket, self.clock(), self.policies)

    def ledger(self, record: TicketRecord) -> LedgerEntry | None:
        stored = self.workflow.get_ledger_entry(record.id)
        return None if stored is None else ledger_entry(stored.data)

    def followup(self, record: TicketRecord) -> FollowUp | None:
        stored = self.workflow.get_followup(record.id)
        return None if stored is None else followup(stored.data)

    def survey_url(self, record: TicketRecord, base_url: str) -> str:
        """The ticket's survey link: signs its number, stored id and tenant."""
        return self.links.url(record.number, base_url.rstrip("/") + "/survey", ref=record.id,
                              tenant=record.tenant_id)

    def survey_link(self, principal: Principal, ticket_id: int, base_url: str) -> tuple[TicketRecord, str]:
        """The signed CSAT link of a resolved or closed ticket not yet rated (AF608 otherwise)."""
        record = self.get(principal, ticket_id)
        ticket = self.ticket(record)
        if ticket.status not in ("resolved", "closed") or ticket.csat_score is not None:
            raise WorkflowError("AF608", ticket.id, status=ticket.status)
        return record, self.survey_url(record, base_url)

    def list(self, principal: Principal, filters: TicketFilter | None = None, *, page: int = 1,
             page_size: int = 50, sort: str = "updated") -> Page[TicketRecord]:
        """Visible tickets matching `filters`, in the order `sort` names (TICKET_SORTS):
        `updated` newest activity first, `created` newest first, `priority` urgent first,
        `due` the SLA deadline soonest first (stopped clocks last). Column filters run in the
        store; SLA state, customer and text need the ticket itself and run here."""
        f = filters or TicketFilter()
        if page < 1 or not 1 <= page_size <= 200:
            raise InputError("AF505", f"page={page}, page_size={page_size}", kind="pagination")
        if sort not in TICKET_SORTS:
            raise InputError("AF505", repr(sort), kind=f"ticket sort (one of {', '.join(TICKET_SORTS)})")
        records = self.workflow.all_tickets(principal)
        out = []
        needle = (f.text or "").strip().lower()
        for record in records:
            if f.status is not None and record.status != f.status:
                continue
            if f.stage is not None and record.stage != f.stage:
                continue
            if f.cause is not None and record.cause != f.cause:
                continue
            if f.owner_id is not None and record.owner_id != f.owner_id:
                continue
            if f.team_id is not None and record.team_id != f.team_id:
                continue
            if f.conversation_id is not None and record.conversation_id != f.conversation_id:
                continue
            data = record.data
            if f.customer is not None and f.customer not in (str(data.get("customer_ref")),
                                                             str(data.get("customer_ref", "")).lstrip("C")):
                continue
            if needle and not any(needle in str(data.get(k) or "").lower()
                                  for k in ("id", "summary", "customer_ref", "owner")):
                continue
            if f.sla is not None:
                ticket = self.ticket(record)
                if sla_state(ticket, self.sla(ticket)) != f.sla:
                    continue
            out.append(record)
        out.sort(key=lambda r: (r.updated_at, r.id), reverse=True)
        out = self._sorted(out, sort)
        start = (page - 1) * page_size
        return Page(out[start:start + page_size], len(out), page, page_size)

    def _sorted(self, records: list[TicketRecord], sort: str) -> list[TicketRecord]:
        """`records` (newest activity first) in the `sort` order; ties keep that order."""
        if sort == "created":
            return sorted(records, key=lambda r: r.created_at, reverse=True)
        if sort == "priority":
            rank = {p: i for i, p in enumerate(("urgent", "high", "normal", "low"))}
            return sorted(records, key=lambda r: rank.get(r.priority, len(rank)))
        if sort == "due":
            def due(record: TicketRecord) -> float:
                if record.status in ("resolved", "closed"):
                    return float("inf")
                at = self.sla(self.ticket(record)).due_at
                return at.timestamp() if at is not None else float("inf")
            return sorted(records, key=due)
        return records

    # events -----------------------------------------------------------------------------------
    def _record(self, record: TicketRecord, events: list[Event]) -> None:
        for event in events:
            payload = {k: v for k, v in event.to_dict().items() if k != "name"}
            stored = self.store.add_event(record.tenant_id, event.name, payload,
                                          conversation_id=record.conversation_id)
            self._announce(record, event.name, payload, stored.id)

    def sweep_sla(self, budget_s: float = 10.0) -> list[Any]:
        """The scheduler's SLA sweep (once per cluster, under the scheduler lease): every open
        ticket of every tenant whose response or resolution target is near (`sla.warned`) or past
        (`sla.breached`, with `supervisor.alerted`) gets that alert recorded, told to the
        listeners (webhooks) and, for a breach, to the supervisors' live stream — each alert once
        per ticket and target, even when two sweeps run at once. A sweep stops after `budget_s`
        and the next one goes on from there (a tick stays short however many tickets are open).
        Returns the recorded events."""
        now = self.clock()
        started = time.monotonic()
        out: list[Any] = []
        after = self._sla_cursor
        while time.monotonic() - started < budget_s:
            page = self.workflow.sla_candidates(after_id=after, limit=500)
            if not page:
                after = 0  # the whole list was swept: the next sweep starts again from the first
                break
            after = page[-1].id
            for record in page:
                ticket = self.ticket(record)
                groups: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = []
                for event in sla_alerts(ticket, sla_status(ticket, now, self.policies)):
                    payload = {k: v for k, v in event.to_dict().items() if k != "name"}
                    if event.name == "supervisor.alerted" and groups:
                        groups[-1][1].append((event.name, payload))  # goes with the breach before it
                    else:
                        groups.append((alert_key(event), [(event.name, payload)]))
                groups = [g for g in groups if not self._sla_seen.get((record.id, g[0]))]
                if not groups:
                    continue
                for stored in self.workflow.record_sla_alerts(record.id, groups):
                    self._announce(record, stored.name, stored.payload, stored.id)
                    out.append(stored)
                for key, _group in groups:  # recorded now, or found recorded by another sweep
                    self._sla_seen.put((record.id, key), True)
        self._sla_cursor = after
        return out

    def _announce(self, record: TicketRecord, name: str, payload: dict[str, Any], event_id: int) -> None:
        """Tell the listeners about a recorded event, and the supervisors about an alert."""
        self._notify(record, name, {**payload, "event_id": event_id})
        if name == "supervisor.alerted" and record.conversation_id is not None:
            conversation = self.store.get_conversation(record.conversation_id)
            self.hub.publish_alert(conversation, {
                "type": "alert", "name": name, "event_id": event_id,
                "conversation": conversation.to_dict(), "level": conversation.escalation_level,
                "reasons": [payload.get("detail", "")], "ticket": record.number})

    def _notify(self, record: TicketRecord, name: str, payload: dict[str, Any]) -> None:
        body = {**payload, "ticket_number": record.number, "ticket": record.id,
                "conversation_id": record.conversation_id}
        for listener in self.listeners:
            listener(record.tenant_id, name, body)

    def _save(self, record: TicketRecord, ticket: Ticket, events: list[Event], owner_id: Any = ...) -> TicketRecord:
        saved = self.workflow.save_ticket(record.id, ticket.to_dict(), owner_id=owner_id)
        self.workflow.save_ledger_entry(record.id, self._ledger(record, ticket).entry(ticket.id).to_dict())
        self._record(saved, events)
        return saved

    # creating -----------------------------------------------------------------------------------
    def open_for_conversation(self, principal: Principal, conversation_id: int, *, priority: str | None = None,
                              note: str = "") -> tuple[TicketRecord, bool]:
        """The conversation's active ticket, or a new one recorded from what the analysis found
        (cause, escalation level → priority, the customer's first words as summary)."""
        conversation = self.store.get_conversation(conversation_id, visible_to=principal)
        require(principal, "conversation.write", conversation)
        for existing in self.workflow.list_tickets(principal, conversation_id=conversation.id, page_size=20).items:
            if existing.status not in ("closed",):
                return existing, False
        latest = self.store.latest_assessment(conversation.id)
        data = latest.data if latest is not None else {}
        customer = [t for t in data.get("turns") or [] if t.get("speaker") == "customer"]
        causes = [t.get("cause") for t in customer if t.get("cause")]
        messages = self.store.list_messages(conversation.id, limit=50)
        first = next((m.text for m in messages if m.speaker == "customer"), "")
        now = self.clock()
        agent = self.store.get_user(conversation.agent_id) if conversation.agent_id else None
        team = self.store.get_team(conversation.team_id) if conversation.team_id else None
        customer_ref = f"C{conversation.customer_id}" if conversation.customer_id else f"会话{conversation.id}"
        ticket, events = Ticket.create(
            self.workflow.next_ticket_number(conversation.tenant_id, now), customer_ref=customer_ref,
            channel=conversation.channel, cause=causes[-1] if causes else "other", at=now, actor=principal.name,
            priority=priority or PRIORITY_OF_LEVEL.get(conversation.escalation_level, "normal"),
            owner=agent.username if agent else principal.name, team=team.name if team else None,
            industry=conversation.industry, conversation_ref=str(conversation.id), summary=(note or first)[:200])
        record = self.workflow.create_ticket(conversation.tenant_id, ticket.to_dict(), conversation_id=conversation.id,
                                             team_id=conversation.team_id,
                                             owner_id=agent.id if agent else principal.user_id)
        ledger = Ledger(self.departments)
        self.workflow.save_ledger_entry(record.id, ledger.record(ticket).to_dict())
        self._record(record, events)
        return record, True

    # changing -------------------------------------------------------------------------------------
    def _writable(self, principal: Principal, ticket_id: int) -> TicketRecord:
        """The ticket, for a change: invisible ones are missing (AF503) before anything else, so a
        refusal never tells that a ticket exists; auditors read only (AF417)."""
        record = self.get(principal, ticket_id)
        if principal.role == "auditor":
            require(principal, "conversation.write")
        return record

    def update(self, principal: Principal, ticket_id: int, *, priority: str | None = None,
               cause: str | None = None, owner_id: int | None = None, note: str = "") -> TicketRecord:
        """Change priority, cause and/or owner. Handing a ticket to someone else needs a
        supervisor (their own team's agents) or an admin."""
        record = self._writable(principal, ticket_id)
        ticket = self.ticket(record)
        now = max(self.clock(), ticket.last_change_at)
        events: list[Event] = []
        new_owner: Any = ...
        if priority is not None and priority != ticket.priority:
            events += ticket.set_priority(priority, at=now, actor=principal.name, note=note)
        if cause is not None and cause != ticket.cause:
            events += ticket.set_cause(cause, at=now, actor=principal.name, note=note)
        if owner_id is not None and owner_id != record.owner_id:
            user = self._assignable(principal, owner_id)
            events += ticket.assign(user.username, at=now, actor=principal.name, note=note)
            new_owner = user.id
        return self._save(record, ticket, events, owner_id=new_owner)

    def _assignable(self, principal: Principal, user_id: int) -> Any:
        if principal.role not in ("supervisor", "admin") and user_id != principal.user_id:
            raise AuthError("AF417", "hand a ticket to someone else")
        self.store.check_assignable(principal, user_id)
        user = self.store.get_user(user_id)
        if not user.active:
            raise InputError("AF505", f"user {user_id} is deactivated", kind="ticket owner")
        return user

    def assign_many(self, principal: Principal, ticket_ids: list[int], owner_id: int,
                    note: str = "", *, ip: str | None = None) -> list[TicketRecord]:
        """Bulk assign: every ticket is checked first, then all are handed over; each hand-over
        is audited (who, when, to whom)."""
        self._assignable(principal, owner_id)
        records = [self._writable(principal, i) for i in dict.fromkeys(ticket_ids)]
        done = [self.update(principal, r.id, owner_id=owner_id, note=note) for r in records]
        for record in done:
            self.store.audit(record.tenant_id, principal.actor, "ticket.assigned", target=f"ticket:{record.id}",
                             detail={"number": record.number, "owner_id": owner_id, "bulk": True}, ip=ip)
        return done

    def close_many(self, principal: Principal, ticket_ids: list[int], note: str = "", *,
                   ip: str | None = None) -> list[TicketRecord]:
        """Bulk close (supervisors of the team, admins): every ticket is checked first (visible,
        and in a status that may close: resolved, or waiting on the customer with a note), then
        all close; each is audited (who, when)."""
        require(principal, "supervise")
        records = [self._writable(principal, i) for i in dict.fromkeys(ticket_ids)]
        for record in records:  # a dry run on a copy: the first refusal stops everything
            ticket = self.ticket(record)
            ticket.close(at=max(self.clock(), ticket.last_change_at), actor=principal.name, note=note)
        done = [self.act(principal, r.id, "close", {"note": note}) for r in records]
        for record in done:
            self.store.audit(record.tenant_id, principal.actor, "ticket.closed", target=f"ticket:{record.id}",
                             detail={"number": record.number, "bulk": True}, ip=ip)
        return done

    def act(self, principal: Principal, ticket_id: int, action: str, form: dict[str, str]) -> TicketRecord:
        """Apply one action to a ticket (see ACTIONS); workflow errors pass through."""
        record = self._writable(principal, ticket_id)
        ticket = self.ticket(record)
        now = max(self.clock(), ticket.last_change_at)
        actor = principal.name
        note = (form.get("note") or "").strip()
        events: list[Event] = []
        if action == "respond":
            events = ticket.respond(at=now, actor=actor, note=note)
        elif action == "advance":
            events = ticket.advance_stage(form.get("to", ""), at=now, actor=actor, note=note)
        elif action == "wait":
            events = ticket.wait_on_customer(at=now, actor=actor, note=note)
        elif action == "customer_replied":
            events = ticket.customer_replied(at=now, actor=actor, note=note)
        elif action == "note":
            events = ticket.add_note(note, at=now, actor=actor)
        elif action == "resolve":
            events = ticket.resolve(at=now, actor=actor, note=note)
            follow, more = schedule_followup(ticket, policies=self.policies)
            events += more
            self.workflow.save_followup(record.id, follow.to_dict(), follow.due_at)
        elif action == "followup":
            follow = self.followup(record)
            if follow is None:
                raise WorkflowError("AF621", ticket.id, status=ticket.status)
            reached = form.get("reached") == "yes"
            solved = None if not reached else form.get("solved") == "yes"
            done, events = complete_followup(follow, ticket, at=now, actor=actor, reached=reached,
                                             problem_solved=solved, note=note)
            self.workflow.save_followup(record.id, done.to_dict(), done.due_at)
            record = self._save(record, ticket, events)
            if reached and solved:
                self._recheck(record, ticket, now, actor, note or "回访确认问题已解决")
            return record
        elif action == "close":
            events = ticket.close(at=now, actor=actor, note=note)
        elif action == "reopen":
            events = ticket.reopen(at=now, actor=actor, reason=note)
        elif action == "feed_back":
            return self._feedback(record, ticket, now, actor, note, None)
        elif action == "feedback_reply":
            return self._feedback(record, ticket, now, actor, note, form.get("state", ""))
        else:
            raise WorkflowError("AF601", repr(action), kind="ticket action", allowed=", ".join(ACTIONS))
        return self._save(record, ticket, events)

    def _ledger(self, record: TicketRecord, ticket: Ticket) -> Ledger:
        ledger = Ledger(self.departments)
        stored = self.workflow.get_ledger_entry(record.id)
        if stored is not None:
            ledger.entries[ticket.id] = ledger_entry(stored.data)
        ledger.sync(ticket)
        return ledger

    def _recheck(self, record: TicketRecord, ticket: Ticket, at: datetime, actor: str, note: str) -> None:
        ledger = self._ledger(record, ticket)
        entry = ledger.recheck(ticket.id, at=at, actor=actor, ok=True, note=note)
        self.workflow.save_ledger_entry(record.id, entry.to_dict())

    def _feedback(self, record: TicketRecord, ticket: Ticket, at: datetime, actor: str, note: str,
                  state: str | None) -> TicketRecord:
        ledger = self._ledger(record, ticket)
        if state is None:
            events = ledger.feed_back(ticket.id, at=at, actor=actor, note=note)
        else:
            events = ledger.update_feedback(ticket.id, state, at=at, actor=actor, note=note)
        self.workflow.save_ledger_entry(record.id, ledger.entry(ticket.id).to_dict())
        self._record(record, events)
        return record

    # survey ------------------------------------------------------------------------------------------
    def survey_ticket(self, token: str) -> TicketRecord:
        """The ticket a survey link points to (AF630/AF631 for a bad or expired link)."""
        number, ref, tenant = self.links.read_ref(token)
        return self.workflow.get_survey_ticket(ref, tenant, number)

    def answer_survey(self, token: str, score: Any, comment: str) -> tuple[TicketRecord, bool]:
        """Store the customer's answer; a low score reopens the ticket, alerts the supervisor
        and tells the listeners (`csat.low`). The link is public and may be answered twice at
        the same moment (a double tap, a gateway's retry): the answer is saved only over the
        version of the ticket it was checked against, so one wins and the other, read again,
        is AF633 (no second score, no second alert)."""
        for _attempt in range(5):
            record = self.survey_ticket(token)
            ticket = self.ticket(record)
            now = max(self.clock(), ticket.last_change_at)
            answer, events = submit_survey(ticket, token, score=score, comment=comment, at=now, links=self.links)
            saved = self.workflow.save_ticket_if_unchanged(record.id, ticket.to_dict(), record.updated_at)
            if saved is not None:
                break
            # saved by someone else since it was read: read again (an answer there is AF633 now)
        else:
            raise WorkflowError("AF633", record.number)
        self.workflow.save_ledger_entry(saved.id, self._ledger(saved, ticket).entry(ticket.id).to_dict())
        self._record(saved, events)
        if answer.low:
            self._notify(saved, "csat.low", {"score": answer.score, "at": now.isoformat()})
        return saved, answer.low
