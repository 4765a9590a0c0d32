"""The complaint desk: the workflow objects (`anfu.workflow`) applied to stored tickets.

Each action loads the ticket under its row's lock, calls the pure workflow method (which
checks the move and returns its events), stores the ticket with its next version and, in the
same transaction, its 四个不漏 ledger entry and follow-up, then records the events in the event
log (`TicketDesk._change`: two changes at the same moment both count; a caller that names the
version it read gets AF609 when someone saved since); a low CSAT score or an escalation also
reaches the supervisors' live stream, and every event reaches the desk's listeners (outgoing
webhooks). The web pages and the REST API (`/api/v1/tickets…`) both call this class.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, Callable

from ..errors import AuthError, InputError, WorkflowError
from ..store import Store, TicketChange, TicketRecord, WorkflowStore
from ..store.workflow_repo import FollowUpRecord, LedgerRecord, TicketChanger
from ..pii import mask
from ..store.access import Principal, require, sees_identity
from ..store.records import Page
from ..workflow.csat import SurveyLinks, submit_survey
from ..events import Event
from ..lru import Lru
from ..workflow.followup import FollowUp, cancel_followup, complete_followup, schedule_followup
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


@dataclass
class TicketWork:
    """One change of a ticket, made under its row's lock (`TicketDesk._change`): the ticket as
    stored now, to change in place, and what goes with it. `ledger()` is the ticket's 四个不漏
    ledger in step with the ticket as changed so far; set `owner_id` to hand it over and
    `followup` to write the follow-up (回访)."""

    record: TicketRecord
    ticket: Ticket
    now: datetime
    stored_ledger: LedgerRecord | None
    stored_followup: FollowUpRecord | None
    departments: Departments
    owner_id: Any = ...
    followup: FollowUp | None = None
    _ledger: Ledger | None = field(default=None, repr=False)

    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger(self.departments)
            if self.stored_ledger is not None:
                self._ledger.entries[self.ticket.id] = ledger_entry(self.stored_ledger.data)
        self._ledger.sync(self.ticket, self.now)
        return self._ledger

    def current_followup(self) -> FollowUp | None:
        return None if self.stored_followup is None else followup(self.stored_followup.data)


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
        """The ticket's survey link: signs its number, stored id, tenant and resolution."""
        return self.links.url(record.number, base_url.rstrip("/") + "/survey", ref=record.id,
                              tenant=record.tenant_id, resolution=self.ticket(record).reopen_count)

    def survey_link(self, principal: Principal, ticket_id: int, base_url: str) -> tuple[TicketRecord, str]:
        """The signed CSAT link of a resolved or closed ticket whose resolution is not rated yet
        (AF608 otherwise)."""
        record = self.get(principal, ticket_id)
        ticket = self.ticket(record)
        if ticket.status not in ("resolved", "closed"):
            raise WorkflowError("AF608", ticket.id, reason=f"it is {ticket.status}, not resolved")
        if ticket.rated:
            raise WorkflowError("AF608", ticket.id, reason="the customer has already rated this resolution")
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
        identity = sees_identity(principal)
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
            # matched against what the caller reads: a role that sees the summary masked must not
            # learn the hidden digits by filtering ("?q=1391234" → 1 ticket, "?q=1390000" → 0)
            if needle and not any(needle in (text if identity else mask(text)).lower()
                                  for text in (str(data.get(k) or "") for k in ("id", "summary", "customer_ref", "owner"))):
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

    def _change(self, principal: Principal | None, ticket_id: int, work: Callable[[TicketWork], list[Event]], *,
                expected_version: int | None = None) -> TicketRecord:
        """Apply `work` to the ticket as stored now, under its row's lock, and save it with its
        ledger entry and follow-up in one transaction (`WorkflowStore.change_ticket`): two changes
        at the same moment both count, neither undoes the other. `expected_version` (the version
        the caller read: If-Match, the ticket page's form) turns a ticket saved since into AF609.
        The events `work` returns are recorded once the change is saved. `principal` None: the
        public survey link (no access rules)."""
        if principal is not None and principal.role == "auditor" and expected_version is not None:
            # the role's refusal (AF417) before the version's: "reload and apply your change
            # again" (AF609) is advice an auditor, who reads only, could never follow
            self._writable(principal, ticket_id)
        events: dict[int, list[Event]] = {}
        saved = self.workflow.change_ticket(ticket_id, self._changer(principal, work, events), visible_to=principal,
                                            expected_version=expected_version)
        self._record(saved, events[saved.id])
        return saved

    def _change_all(self, principal: Principal, ticket_ids: list[int],
                    work: Callable[[TicketWork], list[Event]]) -> list[TicketRecord]:
        """`_change` for several tickets at once (bulk actions): all change, or — when one is
        missing or refuses the change — none (`WorkflowStore.change_tickets`)."""
        events: dict[int, list[Event]] = {}
        saved = self.workflow.change_tickets(ticket_ids, self._changer(principal, work, events), visible_to=principal)
        for record in saved:
            self._record(record, events[record.id])
        return saved

    def _changer(self, principal: Principal | None, work: Callable[[TicketWork], list[Event]],
                 events: dict[int, list[Event]]) -> TicketChanger:
        """The store's change function for `work`; the events of each ticket go to `events`."""
        def change(record: TicketRecord, stored_ledger: LedgerRecord | None,
                   stored_followup: FollowUpRecord | None) -> TicketChange:
            if principal is not None and principal.role == "auditor":
                require(principal, "conversation.write")  # auditors read only (AF417), once visible
            ticket = self.ticket(record)
            before = ticket.to_dict()
            job = TicketWork(record, ticket, max(self.clock(), ticket.last_change_at), stored_ledger,
                             stored_followup, self.departments)
            events[record.id] = work(job)
            if (not events[record.id] and job.followup is None and job.owner_id is ... and job._ledger is None
                    and ticket.to_dict() == before):
                return TicketChange(before, unchanged=True)
            follow = job.followup
            current = job.current_followup() if follow is None else None
            if current is not None and current.state == "scheduled" and ticket.status != "resolved":
                # reopened (by staff or a low survey score) or closed: the 回访 of the resolution
                # it was scheduled for is moot, and must not go overdue on the ticket
                why = "工单已重开" if ticket.status != "closed" else "工单已关闭"
                follow = job.followup = cancel_followup(current, at=job.now, note=why)
            return TicketChange(ticket.to_dict(), job.owner_id, ledger=job.ledger().entry(ticket.id).to_dict(),
                                followup=None if follow is None else follow.to_dict(),
                                followup_due=None if follow is None else follow.due_at)
        return change

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
            # numbered by the centre's day (the pack's time zone), as every page shows dates
            self.workflow.next_ticket_number(conversation.tenant_id, now.astimezone(self.policies.timezone)),
            customer_ref=customer_ref,
            channel=conversation.channel, cause=causes[-1] if causes else "other", at=now, actor=principal.name,
            priority=priority or PRIORITY_OF_LEVEL.get(conversation.escalation_level, "normal"),
            owner=agent.username if agent else principal.name, team=team.name if team else None,
            industry=conversation.industry, conversation_ref=str(conversation.id), summary=(note or first)[:200])
        # two escalations at the same moment: the store opens one ticket, the other gets it back
        record, created = self.workflow.open_ticket(
            conversation.tenant_id, ticket.to_dict(), conversation_id=conversation.id, team_id=conversation.team_id,
            owner_id=agent.id if agent else principal.user_id,
            ledger=Ledger(self.departments).record(ticket).to_dict())
        if created:
            self._record(record, events)
        return record, created

    # changing -------------------------------------------------------------------------------------
    def _writable(self, principal: Principal, ticket_id: int) -> TicketRecord:
        """The ticket, for a change: invisible ones are missing (AF503) before anything else, so a
        refusal never tells that a ticket exists; auditors read only (AF417)."""
        record = self.get(principal, ticket_id)
        if principal.role == "auditor":
            require(principal, "conversation.write")
        return record

    def update(self, principal: Principal, ticket_id: int, *, priority: str | None = None,
               cause: str | None = None, owner_id: int | None = None, note: str = "",
               expected_version: int | None = None) -> TicketRecord:
        """Change priority, cause and/or owner. Handing a ticket to someone else needs a
        supervisor (their own team's agents) or an admin. Each field is applied to the ticket as
        stored when the change is saved (see `_change`)."""
        owner = self._assignable(principal, owner_id) if owner_id is not None else None
        return self._change(principal, ticket_id, self._fields_work(principal, priority, cause, owner, note),
                            expected_version=expected_version)

    def _fields_work(self, principal: Principal, priority: str | None, cause: str | None, owner: Any,
                     note: str) -> Callable[[TicketWork], list[Event]]:
        """The change of priority, cause and owner (a user record, checked) that differ; a note
        with no field that differs is kept as a note (处理记录); nothing at all changes nothing.
        A new owner takes the ticket to their team."""
        team = self.store.get_team(owner.team_id).name if owner is not None and owner.team_id is not None else None

        def work(job: TicketWork) -> list[Event]:
            ticket, now, events = job.ticket, job.now, []
            changed = False
            if priority is not None and priority != ticket.priority:
                events += ticket.set_priority(priority, at=now, actor=principal.name, note=note)
                changed = True
            if cause is not None and cause != ticket.cause:
                events += ticket.set_cause(cause, at=now, actor=principal.name, note=note)
                changed = True
            if owner is not None and owner.id != job.record.owner_id:
                events += ticket.assign(owner.username, at=now, actor=principal.name, note=note)
                job.owner_id = owner.id  # (the store moves the ticket's team_id to the owner's team)
                ticket.team = team or ticket.team  # the ticket moves to the new owner's team
                changed = True
            if not changed and note.strip():
                ticket.add_note(note, at=now, actor=principal.name)  # a note alone is kept, not dropped
            return events
        return work

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
        """Bulk assign: every ticket is checked first, then all are handed over in one
        transaction (all or none: a ticket that became invisible meanwhile stops everything);
        each hand-over is audited (who, when, to whom)."""
        owner = self._assignable(principal, owner_id)
        ids = list(dict.fromkeys(ticket_ids))
        for ticket_id in ids:
            self._writable(principal, ticket_id)
        done = self._change_all(principal, ids, self._fields_work(principal, None, None, owner, note))
        for record in done:
            self.store.audit(record.tenant_id, principal.actor, "ticket.assigned", target=f"ticket:{record.id}",
                             detail={"number": record.number, "owner_id": owner_id, "bulk": True}, ip=ip)
        return done

    def close_many(self, principal: Principal, ticket_ids: list[int], note: str = "", *,
                   ip: str | None = None) -> list[TicketRecord]:
        """Bulk close (supervisors of the team, admins): every ticket is checked first (visible),
        then all close in one transaction, each as stored now: a ticket that may not close
        (resolved, or waiting on the customer with a note, may), also one reopened by someone
        meanwhile, stops everything and nothing closes. Each closing is audited (who, when)."""
        require(principal, "supervise")
        ids = list(dict.fromkeys(ticket_ids))
        for ticket_id in ids:
            self._writable(principal, ticket_id)
        done = self._change_all(principal, ids, self._action_work(principal, "close", {"note": note}))
        for record in done:
            self.store.audit(record.tenant_id, principal.actor, "ticket.closed", target=f"ticket:{record.id}",
                             detail={"number": record.number, "bulk": True}, ip=ip)
        return done

    def act(self, principal: Principal, ticket_id: int, action: str, form: dict[str, str], *,
            expected_version: int | None = None) -> TicketRecord:
        """Apply one action to a ticket (see ACTIONS) as stored when it is saved (see
        `_change`); workflow errors pass through and write nothing."""
        return self._change(principal, ticket_id, self._action_work(principal, action, form),
                            expected_version=expected_version)

    def _action_work(self, principal: Principal, action: str,
                     form: dict[str, str]) -> Callable[[TicketWork], list[Event]]:
        """The change one action (see ACTIONS) makes."""
        actor = principal.name
        note = (form.get("note") or "").strip()

        def work(job: TicketWork) -> list[Event]:
            ticket, now = job.ticket, job.now
            if action == "respond":
                return ticket.respond(at=now, actor=actor, note=note)
            if action == "advance":
                return ticket.advance_stage(form.get("to", ""), at=now, actor=actor, note=note)
            if action == "wait":
                return ticket.wait_on_customer(at=now, actor=actor, note=note)
            if action == "customer_replied":
                return ticket.customer_replied(at=now, actor=actor, note=note)
            if action == "note":
                return ticket.add_note(note, at=now, actor=actor)
            if action == "resolve":
                events = ticket.resolve(at=now, actor=actor, note=note)
                job.followup, more = schedule_followup(ticket, policies=self.policies)
                return events + more
            if action == "followup":
                return self._complete_followup(job, actor, note, form)
            if action == "close":
                return ticket.close(at=now, actor=actor, note=note)
            if action == "reopen":
                return ticket.reopen(at=now, actor=actor, reason=note)
            if action == "feed_back":  # the 四个不漏 ledger's step 4
                return job.ledger().feed_back(ticket.id, at=now, actor=actor, note=note)
            if action == "feedback_reply":
                return job.ledger().update_feedback(ticket.id, form.get("state", ""), at=now, actor=actor, note=note)
            raise WorkflowError("AF601", repr(action), kind="ticket action", allowed=", ".join(ACTIONS))
        return work

    @staticmethod
    def _complete_followup(job: TicketWork, actor: str, note: str, form: dict[str, str]) -> list[Event]:
        """Record the 回访 call; reached and solved also re-checks the ledger entry (step 3). The
        follow-up is read under the ticket's lock: a second record of the same call is AF620."""
        follow = job.current_followup()
        if follow is None:
            raise WorkflowError("AF621", job.ticket.id, status=job.ticket.status)
        reached = form.get("reached") == "yes"
        solved = None if not reached else form.get("solved") == "yes"
        done, events = complete_followup(follow, job.ticket, at=job.now, actor=actor, reached=reached,
                                         problem_solved=solved, note=note)
        job.followup = done
        if reached and solved:
            job.ledger().recheck(job.ticket.id, at=job.now, actor=actor, ok=True, note=note or "回访确认问题已解决")
        return events

    # survey ------------------------------------------------------------------------------------------
    def survey_ticket(self, token: str) -> TicketRecord:
        """The ticket a survey link points to (AF630/AF631 for a bad or expired link)."""
        number, ref, tenant = self.links.read_ref(token)
        return self.workflow.get_survey_ticket(ref, tenant, number)

    def answer_survey(self, token: str, score: Any, comment: str) -> tuple[TicketRecord, bool]:
        """Store the customer's answer; a low score reopens the ticket, alerts the supervisor
        and tells the listeners (`csat.low`). The link is public and may be answered twice at
        the same moment (a double tap, a gateway's retry): the answer is checked against the
        ticket under its row's lock (`_change`), so one wins and the other is AF633 (no second
        score, no second alert)."""
        record = self.survey_ticket(token)
        answers: list[Any] = []

        def work(job: TicketWork) -> list[Event]:
            answer, events = submit_survey(job.ticket, token, score=score, comment=comment, at=job.now,
                                           links=self.links)
            answers.append((answer, job.now))
            return events
        saved = self._change(None, record.id, work)
        answer, now = answers[-1]
        if answer.low:
            self._notify(saved, "csat.low", {"score": answer.score, "at": now.isoformat()})
        return saved, answer.low
