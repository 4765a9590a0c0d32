"""The complaint desk: the workflow objects (`anfu.workflow`) applied to stored tickets.

Each action loads the ticket, calls the pure workflow method (which checks the move and
returns its events), stores the ticket, keeps its 四个不漏 ledger entry in step and records
the events in the event log; a low CSAT score or an escalation also reaches the supervisors'
live stream.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone
from functools import cached_property
from typing import Any

from ...errors import WorkflowError
from ...store import TicketRecord, WorkflowStore
from ...store.access import Principal, require
from ...workflow.csat import SurveyLinks, submit_survey
from ...workflow.events import Event
from ...workflow.followup import FollowUp, complete_followup, schedule_followup
from ...workflow.ledger import Departments, Ledger, LedgerEntry
from ...workflow.sla import SlaPolicies, SlaStatus, sla_status
from ...workflow.tickets import Ticket
from ..context import AppContext

LEDGER_TIMES = ("recorded_at", "handled_at", "rechecked_at", "feedback_sent_at", "feedback_updated_at")
FOLLOWUP_TIMES = ("due_at", "scheduled_at", "done_at")
PRIORITY_OF_LEVEL = {0: "normal", 1: "normal", 2: "high", 3: "urgent"}


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


class TicketDesk:
    def __init__(self, ctx: AppContext, workflow: WorkflowStore, clock: Any = None) -> None:
        self.ctx = ctx
        self.workflow = workflow
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    @cached_property
    def policies(self) -> SlaPolicies:
        return SlaPolicies.load()

    @cached_property
    def departments(self) -> Departments:
        return Departments.load()

    @cached_property
    def links(self) -> SurveyLinks:
        return SurveyLinks(self.ctx.settings.secret_key.get_secret_value())

    # reading --------------------------------------------------------------------------------
    @staticmethod
    def ticket(record: TicketRecord) -> Ticket:
        return Ticket.from_dict(record.data)

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

    # events -----------------------------------------------------------------------------------
    def _record(self, record: TicketRecord, events: list[Event]) -> None:
        for event in events:
            payload = {k: v for k, v in event.to_dict().items() if k != "name"}
            self.ctx.store.add_event(record.tenant_id, event.name, payload, conversation_id=record.conversation_id)
            if event.name == "supervisor.alerted" and record.conversation_id is not None:
                conversation = self.ctx.store.get_conversation(record.conversation_id)
                self.ctx.hub.publish_alert(conversation, {
                    "type": "alert", "name": event.name, "conversation": conversation.to_dict(),
                    "level": conversation.escalation_level, "reasons": [payload.get("detail", "")],
                    "ticket": record.number})

    def _save(self, record: TicketRecord, ticket: Ticket, events: list[Event], owner_id: Any = ...) -> TicketRecord:
        saved = self.workflow.save_ticket(record.id, ticket.to_dict(), owner_id=owner_id)
        ledger = Ledger(self.departments)
        stored = self.workflow.get_ledger_entry(record.id)
        if stored is not None:
            ledger.entries[ticket.id] = ledger_entry(stored.data)
        self.workflow.save_ledger_entry(record.id, ledger.sync(ticket).to_dict())
        self._record(saved, events)
        return saved

    # creating -----------------------------------------------------------------------------------
    def open_for_conversation(self, principal: Principal, conversation_id: int, *, priority: str | None = None,
                              note: str = "") -> tuple[TicketRecord, bool]:
        """The conversation's active ticket, or a new one recorded from what the analysis found
        (cause, escalation level → priority, the customer's first words as summary)."""
        conversation = self.ctx.store.get_conversation(conversation_id, visible_to=principal)
        require(principal, "conversation.write", conversation)
        for existing in self.workflow.list_tickets(principal, conversation_id=conversation.id, page_size=20).items:
            if existing.status not in ("closed",):
                return existing, False
        latest = self.ctx.store.latest_assessment(conversation.id)
        data = latest.data if latest is not None else {}
        customer = [t for t in data.get("turns") or [] if t.get("speaker") == "customer"]
        causes = [t.get("cause") for t in customer if t.get("cause")]
        messages = self.ctx.store.list_messages(conversation.id, limit=50)
        first = next((m.text for m in messages if m.speaker == "customer"), "")
        now = self.clock()
        agent = self.ctx.store.get_user(conversation.agent_id) if conversation.agent_id else None
        team = self.ctx.store.get_team(conversation.team_id) if conversation.team_id else None
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
    def act(self, principal: Principal, ticket_id: int, action: str, form: dict[str, str]) -> TicketRecord:
        """Apply one form action to a ticket (see ACTIONS); workflow errors pass through."""
        if principal.role == "auditor":
            require(principal, "conversation.write")  # auditors read only: AF417
        record = self.workflow.get_ticket(ticket_id, visible_to=principal)
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
        """Store the customer's answer; a low score reopens the ticket and alerts the supervisor."""
        record = self.survey_ticket(token)
        ticket = self.ticket(record)
        now = max(self.clock(), ticket.last_change_at)
        answer, events = submit_survey(ticket, token, score=score, comment=comment, at=now, links=self.links)
        return self._save(record, ticket, events), answer.low


ACTIONS = ("respond", "advance", "wait", "customer_replied", "resolve", "followup", "close", "reopen",
           "feed_back", "feedback_reply")
