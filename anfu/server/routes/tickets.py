"""Tickets (工单) over REST: everything the ticket pages do, through the service layer's
complaint desk (`anfu.service.desk.TicketDesk`): list with filters, create from a
conversation, read, update (priority, cause, owner), SOP transitions, pause/resume the SLA
clock, notes, resolve, close, reopen, follow-up (回访), the signed CSAT link, the 四个不漏 ledger
entry, and bulk assignment. Access: agents their own tickets, supervisors their team's,
admins and auditors their tenant's; auditors read only (AF417)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field

from ...glossary import CAUSES, SOP_STAGES
from ...pii import mask, mask_data
from ...service.desk import SLA_STATES, TicketFilter, sla_state
from ...store import TicketRecord
from ...workflow.ledger import FEEDBACK_REPLIES
from ...workflow.tickets import PRIORITIES, STATUSES
from ..deps import Authed, Ctx, client_ip, public_base
from ..preconditions import Versions, chosen, parse_if_match, precondition
from ..schemas import MAX_ID, Id, Paged, _In
from ..views import _masked_for

router = APIRouter(tags=["tickets"])
TicketId = Annotated[int, Path(ge=1, le=MAX_ID)]
Status = Literal[STATUSES]  # type: ignore[valid-type]
Stage = Literal[SOP_STAGES]  # type: ignore[valid-type]
Priority = Literal[PRIORITIES]  # type: ignore[valid-type]
Cause = Literal[CAUSES]  # type: ignore[valid-type]
SlaState = Literal[SLA_STATES]  # type: ignore[valid-type]
Note = Annotated[str, Field(default="", max_length=2000)]


def if_match(value: Annotated[str | None, Header(
        alias="If-Match", max_length=100,
        description='the ticket\'s ETag as read (e.g. "3"; strong: a weak W/"3" is AF505): a ticket saved since '
                    'is AF609 with 412 Precondition Failed and nothing changes; leave it out (or send *) to apply '
                    'the change to the ticket as it is')] = None
             ) -> Versions:
    """The version(s) an If-Match header names (None: any version)."""
    return parse_if_match(value, "GET /api/v1/tickets/{id}")


IfMatch = Annotated[Versions, Depends(if_match)]


def tagged(response: Response, record: TicketRecord) -> TicketRecord:
    """Set the ticket's version as the response's ETag (what If-Match sends back)."""
    response.headers["ETag"] = f'"{record.version}"'
    return record


class TransitionPublic(BaseModel):
    at: datetime
    actor: str
    kind: str
    from_value: str | None
    to_value: str
    note: str


class SlaPublic(BaseModel):
    state: SlaState
    target: str = Field(description="the target running now: response or resolution")
    allowed_seconds: int = Field(description="the target's allowance (natural or business time)")
    elapsed_seconds: int = Field(description="active time used (pauses while waiting on the customer excluded)")
    remaining_seconds: int
    warning: bool
    breached: bool
    paused: bool


class TicketPublic(BaseModel):
    id: int
    number: str
    conversation_id: int | None
    team_id: int | None
    owner_id: int | None
    status: str
    stage: str
    priority: str
    cause: str
    customer_ref: str
    channel: str
    owner: str | None
    team: str | None
    industry: str | None
    summary: str
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="one more at every change; also the ETag header (send it as If-Match)")
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    csat_score: int | None
    csat_comment: str | None
    sla: SlaPublic
    history: list[TransitionPublic]


class TicketCreatedPublic(TicketPublic):
    created: bool = Field(description="false: the conversation's open ticket was returned")


class TicketPagePublic(Paged):
    items: list[TicketPublic]


class TicketCreate(_In):
    conversation_id: Id
    priority: Priority | None = None
    note: Note = ""


class TicketUpdate(_In):
    priority: Priority | None = None
    cause: Cause | None = None
    owner_id: Id | None = None
    note: Note = ""


class NoteCreate(_In):
    note: str = Field(min_length=1, max_length=2000)


class StageChange(_In):
    to: Stage
    note: Note = ""


class Remark(_In):
    note: Note = ""


class Reopen(_In):
    reason: str = Field(min_length=1, max_length=2000)


class FollowUpComplete(_In):
    reached: bool
    solved: bool | None = Field(default=None, description="asked only when the customer was reached")
    note: Note = ""


class FollowUpPublic(BaseModel):
    ticket_id: int
    state: str
    due_at: datetime | None
    scheduled_at: datetime | None
    done_at: datetime | None
    reached: bool | None
    problem_solved: bool | None
    note: str
    overdue: bool


class SurveyLinkPublic(BaseModel):
    ticket_id: int
    url: str = Field(description="signed link to the CSAT survey (ticket id + tenant), valid 7 days")


class LedgerPublic(BaseModel):
    ticket_id: int
    department: str
    complete: bool
    missing: list[str]
    data: dict[str, Any]


class FeedbackCreate(_In):
    note: Note = ""
    state: Literal[FEEDBACK_REPLIES] | None = Field(  # type: ignore[valid-type]
        default=None, description="omit to send the feedback to the owning department; a state records its reply")


class BulkAssign(_In):
    ticket_ids: list[Id] = Field(min_length=1, max_length=200)
    owner_id: Id
    note: Note = ""


class BulkAssignPublic(BaseModel):
    items: list[TicketPublic]


class BulkClose(_In):
    ticket_ids: list[Id] = Field(min_length=1, max_length=200)
    note: Note = ""


def _sla(ctx: Any, ticket: Any) -> SlaPublic:
    status = ctx.desk.sla(ticket)
    current = status.current
    return SlaPublic(state=sla_state(ticket, status), target=current.target,
                     allowed_seconds=int(current.allowed.total_seconds()),
                     elapsed_seconds=int(current.elapsed.total_seconds()),
                     remaining_seconds=int(status.remaining.total_seconds()),
                     warning=bool(status.warning), breached=bool(status.breached),
                     paused=ticket.status == "waiting_customer")


def ticket_public(ctx: Any, record: TicketRecord, principal: Any, **extra: Any) -> Any:
    ticket = ctx.desk.ticket(record)
    masked = _masked_for(principal)
    text = (lambda v: mask(v) if isinstance(v, str) else v) if masked else (lambda v: v)
    history = [TransitionPublic(at=t.at, actor=t.actor, kind=t.kind, from_value=t.from_value, to_value=t.to_value,
                                note=text(t.note)) for t in ticket.history]
    model = TicketCreatedPublic if "created" in extra else TicketPublic
    return model(id=record.id, number=record.number, conversation_id=record.conversation_id, team_id=record.team_id,
                 owner_id=record.owner_id, status=ticket.status, stage=ticket.stage, priority=ticket.priority,
                 cause=ticket.cause, customer_ref=ticket.customer_ref, channel=ticket.channel, owner=ticket.owner,
                 team=ticket.team, industry=ticket.industry, summary=text(ticket.summary),
                 created_at=ticket.created_at, updated_at=record.updated_at, version=record.version,
                 first_response_at=ticket.first_response_at, resolved_at=ticket.resolved_at,
                 closed_at=ticket.closed_at, reopen_count=ticket.reopen_count, csat_score=ticket.csat_score,
                 csat_comment=text(ticket.csat_comment), sla=_sla(ctx, ticket), history=history, **extra)


@router.get("/tickets", response_model=TicketPagePublic)
def list_tickets(
    ctx: Ctx, auth: Authed,
    status: Status | None = None,
    stage: Stage | None = None,
    owner_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    team_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    sla: Annotated[SlaState | None, Query(description="ok, warning, breached, paused or met")] = None,
    cause: Cause | None = None,
    customer: Annotated[str | None, Query(max_length=64, description="customer reference, e.g. C12")] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in number, summary, customer or owner")] = None,
    conversation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    sort: Annotated[Literal["updated", "created", "priority", "due"],
                    Query(description="updated (default), created, priority (urgent first) or due (SLA deadline "
                                      "soonest first)")] = "updated",
) -> TicketPagePublic:
    """Tickets you may see, with the ticket pages' filters, newest activity first or in the
    order `sort` names."""
    filters = TicketFilter(status=status, stage=stage, owner_id=owner_id, team_id=team_id, sla=sla, cause=cause,
                           customer=customer, text=q, conversation_id=conversation_id)
    result = ctx.desk.list(auth.principal, filters, page=page, page_size=page_size, sort=sort)
    return TicketPagePublic(items=[ticket_public(ctx, r, auth.principal) for r in result.items], total=result.total,
                            page=result.page, page_size=result.page_size, pages=result.pages)


@router.post("/tickets", response_model=TicketCreatedPublic, status_code=201)
def create_ticket(body: TicketCreate, ctx: Ctx, auth: Authed, response: Response) -> Any:
    """Open a ticket for a conversation (its open ticket when it has one: `created` false, also
    when two requests escalate it at the same moment), recorded from what the analysis found
    (cause, escalation level → priority, summary)."""
    record, created = ctx.desk.open_for_conversation(auth.principal, body.conversation_id, priority=body.priority,
                                                     note=body.note)
    return ticket_public(ctx, tagged(response, record), auth.principal, created=created)


@router.post("/tickets/bulk-assign", response_model=BulkAssignPublic)
def bulk_assign(body: BulkAssign, ctx: Ctx, auth: Authed, request: Request) -> BulkAssignPublic:
    """Hand several tickets to one owner (supervisors within their team, admins); all are
    checked before any changes; each hand-over is audited."""
    records = ctx.desk.assign_many(auth.principal, body.ticket_ids, body.owner_id, note=body.note,
                                   ip=client_ip(request))
    return BulkAssignPublic(items=[ticket_public(ctx, r, auth.principal) for r in records])


@router.post("/tickets/bulk-close", response_model=BulkAssignPublic)
def bulk_close(body: BulkClose, ctx: Ctx, auth: Authed, request: Request) -> BulkAssignPublic:
    """Close several tickets (supervisors within their team, admins): all are checked first
    (resolved, or waiting on the customer with a note; otherwise `AF602`/`AF607` and nothing
    changes); each closing is audited."""
    records = ctx.desk.close_many(auth.principal, body.ticket_ids, body.note, ip=client_ip(request))
    return BulkAssignPublic(items=[ticket_public(ctx, r, auth.principal) for r in records])


@router.get("/tickets/{ticket_id}", response_model=TicketPublic)
def get_ticket(ticket_id: TicketId, ctx: Ctx, auth: Authed, response: Response) -> Any:
    """One ticket with its SLA clock and history; its version is the ETag."""
    return ticket_public(ctx, tagged(response, ctx.desk.get(auth.principal, ticket_id)), auth.principal)


@router.patch("/tickets/{ticket_id}", response_model=TicketPublic)
def update_ticket(ticket_id: TicketId, body: TicketUpdate, ctx: Ctx, auth: Authed, version: IfMatch,
                  response: Response) -> Any:
    """Change priority, cause or owner (a new owner: supervisors within their team, admins).
    With If-Match, only over that version (AF609, 412 Precondition Failed, otherwise)."""
    version = chosen(version, lambda: ctx.desk.get(auth.principal, ticket_id).version)
    with precondition(version):
        record = ctx.desk.update(auth.principal, ticket_id, priority=body.priority, cause=body.cause,
                                 owner_id=body.owner_id, note=body.note, expected_version=version)
    return ticket_public(ctx, tagged(response, record), auth.principal)


class Acting:
    """What every ticket action reads besides its body: the caller, If-Match, the response (for
    the ETag)."""

    def __init__(self, ctx: Ctx, auth: Authed, version: IfMatch, response: Response) -> None:
        self.ctx, self.auth, self.version, self.response = ctx, auth, version, response

    def act(self, ticket_id: int, action: str, **form: str) -> TicketRecord:
        version = chosen(self.version, lambda: self.ctx.desk.get(self.auth.principal, ticket_id).version)
        with precondition(version):
            record = self.ctx.desk.act(self.auth.principal, ticket_id, action, form, expected_version=version)
        return tagged(self.response, record)


Act = Annotated[Acting, Depends()]


def _act(acting: Acting, ticket_id: int, action: str, **form: str) -> Any:
    return ticket_public(acting.ctx, acting.act(ticket_id, action, **form), acting.auth.principal)


@router.post("/tickets/{ticket_id}/stage", response_model=TicketPublic)
def change_stage(ticket_id: TicketId, body: StageChange, acting: Act) -> Any:
    """Move along the SOP (接收反馈→确认问题→提供方案→执行方案): one step forward, or back with a note."""
    return _act(acting, ticket_id, "advance", to=body.to, note=body.note)


@router.post("/tickets/{ticket_id}/respond", response_model=TicketPublic)
def respond(ticket_id: TicketId, body: Remark, acting: Act) -> Any:
    """The first answer reached the customer: stops the response clock."""
    return _act(acting, ticket_id, "respond", note=body.note)


@router.post("/tickets/{ticket_id}/pause", response_model=TicketPublic)
def pause_sla(ticket_id: TicketId, body: Remark, acting: Act) -> Any:
    """Waiting on the customer (documents, a visit slot…): the SLA clock pauses."""
    return _act(acting, ticket_id, "wait", note=body.note)


@router.post("/tickets/{ticket_id}/resume", response_model=TicketPublic)
def resume_sla(ticket_id: TicketId, body: Remark, acting: Act) -> Any:
    """The customer came back: the SLA clock runs again."""
    return _act(acting, ticket_id, "customer_replied", note=body.note)


@router.post("/tickets/{ticket_id}/notes", response_model=TicketPublic, status_code=201)
def add_note(ticket_id: TicketId, body: NoteCreate, acting: Act) -> Any:
    """Add a note to the ticket's history (处理记录)."""
    return _act(acting, ticket_id, "note", note=body.note)


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketPublic)
def resolve(ticket_id: TicketId, body: Remark, acting: Act) -> Any:
    """The plan was carried out: resolved, stage 跟进回访, follow-up scheduled."""
    return _act(acting, ticket_id, "resolve", note=body.note)


@router.post("/tickets/{ticket_id}/close", response_model=TicketPublic)
def close(ticket_id: TicketId, body: Remark, acting: Act) -> Any:
    """Close after the follow-up (a note is needed while waiting on the customer)."""
    return _act(acting, ticket_id, "close", note=body.note)


@router.post("/tickets/{ticket_id}/reopen", response_model=TicketPublic)
def reopen(ticket_id: TicketId, body: Reopen, acting: Act) -> Any:
    """The problem is back: the SOP restarts at 确认问题."""
    return _act(acting, ticket_id, "reopen", note=body.reason)


def _followup_public(ctx: Any, record: TicketRecord, principal: Any) -> FollowUpPublic:
    from ...errors import WorkflowError

    follow = ctx.desk.followup(record)
    if follow is None:
        raise WorkflowError("AF621", record.number, status=record.status)
    note = follow.note or ""
    return FollowUpPublic(ticket_id=record.id, state=follow.state, due_at=follow.due_at,
                          scheduled_at=follow.scheduled_at, done_at=follow.done_at,
                          reached=follow.reached, problem_solved=follow.problem_solved,
                          note=mask(note) if _masked_for(principal) else note,
                          overdue=follow.is_overdue(ctx.desk.clock()))


@router.get("/tickets/{ticket_id}/followup", response_model=FollowUpPublic)
def get_followup(ticket_id: TicketId, ctx: Ctx, auth: Authed) -> FollowUpPublic:
    """The ticket's follow-up (回访), scheduled when it was resolved (AF621 before)."""
    return _followup_public(ctx, ctx.desk.get(auth.principal, ticket_id), auth.principal)


@router.post("/tickets/{ticket_id}/followup", response_model=FollowUpPublic)
def complete_followup(ticket_id: TicketId, body: FollowUpComplete, acting: Act) -> FollowUpPublic:
    """Record the follow-up call: reached or not, solved or not (unsolved reopens the ticket).
    Recorded once: a second record of the same call (a double click) is AF620."""
    record = acting.act(ticket_id, "followup", reached="yes" if body.reached else "no",
                        solved="yes" if body.solved else "no", note=body.note)
    return _followup_public(acting.ctx, record, acting.auth.principal)


@router.get("/tickets/{ticket_id}/survey-link", response_model=SurveyLinkPublic)
def survey_link(ticket_id: TicketId, ctx: Ctx, auth: Authed, request: Request) -> SurveyLinkPublic:
    """The signed CSAT survey link of a resolved ticket not rated yet (AF608 otherwise)."""
    record, url = ctx.desk.survey_link(auth.principal, ticket_id, public_base(request))
    return SurveyLinkPublic(ticket_id=record.id, url=url)


def _ledger_public(ctx: Any, record: TicketRecord, principal: Any) -> LedgerPublic:
    entry = ctx.desk.ledger(record)
    if entry is None:
        from ...errors import NotFoundError

        raise NotFoundError("AF503", record.id, kind="ledger entry")
    data = entry.to_dict()
    return LedgerPublic(ticket_id=record.id, department=entry.department, complete=entry.complete,
                        missing=list(entry.missing), data=mask_data(data) if _masked_for(principal) else data)


@router.get("/tickets/{ticket_id}/ledger", response_model=LedgerPublic)
def get_ledger(ticket_id: TicketId, ctx: Ctx, auth: Authed) -> LedgerPublic:
    """The ticket's 四个不漏 entry: recorded, handled, re-checked, fed back to the owning department."""
    return _ledger_public(ctx, ctx.desk.get(auth.principal, ticket_id), auth.principal)


@router.post("/tickets/{ticket_id}/ledger/feedback", response_model=LedgerPublic)
def ledger_feedback(ticket_id: TicketId, body: FeedbackCreate, acting: Act) -> LedgerPublic:
    """Feed the case back to the owning department, or record its reply (`state`)."""
    if body.state is None:
        record = acting.act(ticket_id, "feed_back", note=body.note)
    else:
        record = acting.act(ticket_id, "feedback_reply", note=body.note, state=body.state)
    return _ledger_public(acting.ctx, record, acting.auth.principal)


class LedgerOverviewPublic(BaseModel):
    items: list[LedgerPublic]
    gaps: dict[str, int] = Field(description="per 四个不漏 step: entries that have not done it")
    departments: dict[str, int]
    repeated_causes: list[dict[str, Any]] = Field(description="causes that keep coming back (≥ 2)")


@router.get("/ledger", response_model=LedgerOverviewPublic)
def ledger_overview(ctx: Ctx, auth: Authed) -> LedgerOverviewPublic:
    """The 四个不漏 ledger of the tickets you may see, as the ledger page shows it."""
    from collections import Counter
    from dataclasses import asdict

    from ...service.desk import ledger_entry
    from ...workflow.ledger import STEPS, repeated_causes

    items, entries = [], []
    for record, stored in ctx.desk.workflow.list_ledger(auth.principal):
        entry = ledger_entry(stored.data)
        entries.append(entry)
        data = entry.to_dict()
        items.append(LedgerPublic(ticket_id=record.id, department=entry.department, complete=entry.complete,
                                  missing=list(entry.missing),
                                  data=mask_data(data) if _masked_for(auth.principal) else data))
    repeated = [{k: (v if isinstance(v, (int, float, str, type(None))) else list(v) if isinstance(v, (list, tuple))
                     else str(v)) for k, v in asdict(r).items()} for r in repeated_causes(entries, threshold=2)]
    return LedgerOverviewPublic(items=items, gaps={step: sum(not e.done(step) for e in entries) for step in STEPS},
                                departments=dict(Counter(e.department for e in entries)), repeated_causes=repeated)
