"""Tickets (工单): the list (sort; filter by status, owner, SLA state and cause; supervisors and
admins assign or close the ticks in bulk, audited), and one ticket with its SOP stage, editable
fields (priority and cause for who works on it, the owner for supervisors and admins), private
notes, history, SLA clock, follow-up (回访), CSAT survey link and 四个不漏 ledger steps; the 四个不漏
ledger page. Auditors read only: no button that would answer 403 is rendered."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from ...errors import AnfuError, InputError
from ...glossary import CAUSES, SOP_STAGES
from ...store.access import can
from ...workflow.ledger import FEEDBACK_REPLIES, STEPS, repeated_causes
from ...workflow.tickets import PRIORITIES, STATUSES
from ..deps import client_ip, public_base
from ..views import as_seen_by
from .common import WebUser, as_id, render, state, web_form_user, web_user
from .notes import ticket_notes
from .page_errors import form_status
from ...service.desk import SLA_STATES, TICKET_SORTS, TicketDesk, TicketFilter, ledger_entry

MAX_BULK = 200

router = APIRouter()


def desk(request: Request) -> TicketDesk:
    return request.app.state.ctx.desk


def ticket_view(request: Request, user: WebUser, ticket_id: int) -> dict[str, Any]:
    d = desk(request)
    record = d.workflow.get_ticket(ticket_id, visible_to=user.principal)
    ticket = d.ticket(as_seen_by(user.principal, record, "data"))
    show_link = ticket.status in ("resolved", "closed") and not ticket.rated
    policy = d.policies.policy_for(ticket.priority, ticket.channel)
    # how the clock counts: natural hours (自然小时) or business hours (工作时间) per target
    clock_basis = ("natural" if policy.response_calendar.round_the_clock else "business",
                   "natural" if policy.resolution_calendar.round_the_clock else "business")
    return {"record": record, "ticket": ticket, "sla": d.sla(ticket), "followup": d.followup(record),
            "can_act": user.principal.role != "auditor",  # auditors read only (the desk answers AF417)
            "can_assign": can(user.principal, "supervise"), "owners": assignable(request, user),
            "priorities": PRIORITIES, "causes": CAUSES, "notes": ticket_notes(request, user, record.id),
            "clock_basis": clock_basis,
            "entry": d.ledger(record), "stages": SOP_STAGES, "stage_index": SOP_STAGES.index(ticket.stage),
            "steps": STEPS, "feedback_replies": FEEDBACK_REPLIES, "dept_name": d.departments.display,
            "survey_url": d.survey_url(record, public_base(request)) if show_link else None,
            "next_stage": SOP_STAGES[SOP_STAGES.index(ticket.stage) + 1]
            if SOP_STAGES.index(ticket.stage) + 1 < SOP_STAGES.index("跟进回访") else None}


def assignable(request: Request, user: WebUser) -> list[Any]:
    """Who a ticket may be handed to from the pages: a supervisor's own team, an admin's whole
    tenant (active agents and supervisors); nobody for other roles."""
    if not can(user.principal, "supervise"):
        return []
    users = request.app.state.ctx.store.list_users(user.principal.tenant_id)
    return [u for u in users if u.active and u.role in ("agent", "supervisor")
            and (user.principal.role == "admin" or u.team_id == user.principal.team_id)]


def tickets_view(request: Request, user: WebUser, *, status: str | None = None, owner: str | None = None,
                 sla: str | None = None, cause: str | None = None, sort: str = "updated") -> dict[str, Any]:
    d = desk(request)
    chosen = status if status in STATUSES else None
    owner_id = user.principal.user_id if owner == "me" else as_id(owner)
    filters = TicketFilter(status=chosen, owner_id=owner_id, sla=sla if sla in SLA_STATES else None,
                           cause=cause if cause in CAUSES else None)
    sort = sort if sort in TICKET_SORTS else "updated"
    page = d.list(user.principal, filters, page_size=200, sort=sort)
    rows = []
    for r in page.items:
        # The list shows no personal data (number, cause, priority, stage, status, owner, SLA,
        # CSAT score), so it reads each ticket once, unmasked: masking every string of 200
        # tickets' histories for admins and auditors cost ~90 % of the page (bench_pages). The
        # ticket page, which shows the customer's words, masks as before.
        ticket = d.ticket(r)
        rows.append({"record": r, "ticket": ticket, "sla": d.sla(ticket)})
    owners = {u.id: u for u in request.app.state.ctx.store.list_users(user.principal.tenant_id)
              if u.role in ("agent", "supervisor")}
    return {"rows": rows, "status": chosen, "statuses": STATUSES, "owner": owner or "",
            "sla": filters.sla, "cause": filters.cause, "sort": sort, "sorts": TICKET_SORTS, "sla_states": SLA_STATES,
            "causes": CAUSES, "owners": owners, "assignable": assignable(request, user),
            "can_bulk": can(user.principal, "supervise"), "total": page.total}


@router.get("/tickets", include_in_schema=False)
def tickets(request: Request, status: str | None = None, owner: str | None = None, sla: str | None = None,
            cause: str | None = None, sort: str = "updated", user: WebUser = Depends(web_user)) -> HTMLResponse:
    return render(request, "tickets.html", user=user, bulk=None,
                  **tickets_view(request, user, status=status, owner=owner, sla=sla, cause=cause, sort=sort))


@router.post("/tickets/bulk", include_in_schema=False)
async def tickets_bulk(request: Request, user: WebUser = Depends(web_form_user)) -> HTMLResponse:
    """Bulk assign (form `action=assign`, `owner_id`) or close (`action=close`, `note`) of the
    ticked tickets (`ticket_ids`), supervisors and admins; all are checked before any changes,
    each change is audited. The list is shown again with the outcome (or the refusal's code)."""
    form = await request.form()
    ids = [i for i in (as_id(v) for v in form.getlist("ticket_ids")) if i is not None][:MAX_BULK]
    action = str(form.get("action") or "")
    note = str(form.get("note") or "")[:2000]
    owner = as_id(form.get("owner_id"))
    d = desk(request)
    outcome: dict[str, Any] = {"action": action, "count": 0, "error": None}
    try:
        if not ids:
            raise InputError("AF505", "no ticket ticked", kind="bulk action")
        if action == "assign" and owner is not None:
            outcome["count"] = len(d.assign_many(user.principal, ids, owner, note, ip=client_ip(request)))
        elif action == "close":
            outcome["count"] = len(d.close_many(user.principal, ids, note, ip=client_ip(request)))
        else:
            raise InputError("AF505", f"action {action!r}", kind="bulk action (assign with an owner, or close)")
    except AnfuError as exc:
        if exc.code in ("AF503", "AF417"):  # not visible / not allowed: the API error, no page
            raise
        outcome["error"] = exc
    return render(request, "tickets.html", user=user, bulk=outcome,
                  status_code=200 if outcome["error"] is None else form_status(outcome["error"]),
                  **tickets_view(request, user))


@router.get("/tickets/{ticket_id}", include_in_schema=False)
def ticket_detail(ticket_id: int, request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    return render(request, "ticket.html", user=user, error=None, **ticket_view(request, user, ticket_id))


def form_version(value: Any) -> int | None:
    """The version a ticket page form posts (the hidden `version` field): None when the form has
    none (an older page, a script), otherwise the ASCII digits of a version. Anything else (a
    negative number, full-width or Arabic-Indic digits, a NUL, 19+ digits, a file) is AF505: it
    used to count as "no version", so a stale form silently overwrote a colleague's change."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    version = as_id(value) if isinstance(value, str) else None
    if version is None:
        raise InputError("AF505", "it names no version of this ticket; reload the ticket and change it again",
                         kind="form version")
    return version


@router.post("/tickets/{ticket_id}/fields", include_in_schema=False)
def ticket_fields(ticket_id: int, request: Request, priority: str = Form("", max_length=16),
                  cause: str = Form("", max_length=32), owner_id: str = Form("", max_length=12),
                  note: str = Form("", max_length=500), version: str = Form("", max_length=18),
                  user: WebUser = Depends(web_form_user)) -> Response:
    """Change priority and cause (who works on the ticket) and the owner (supervisors of the
    team, admins), recorded in the ticket's history. The form posts every field and the version
    it shows: over a ticket changed since, it is refused (AF609) and the page shows the ticket as
    it is now, instead of putting back what the other person changed."""
    error = None
    try:
        desk(request).update(user.principal, ticket_id, priority=priority or None, cause=cause or None,
                             owner_id=as_id(owner_id), note=note.strip(),
                             expected_version=form_version(version))
    except AnfuError as exc:
        if exc.code in ("AF503", "AF417"):
            raise
        error = exc
    block = "ticket_body" if request.headers.get("hx-request") == "true" else None
    return render(request, "ticket.html", block=block, user=user, error=error,
                  status_code=form_status(error) if error and block is None else 200, **ticket_view(request, user, ticket_id))


@router.post("/tickets/{ticket_id}/{action}", include_in_schema=False)
async def ticket_action(ticket_id: int, action: str, request: Request,
                        user: WebUser = Depends(web_form_user)) -> Response:
    posted = await request.form()
    form = {k: v for k, v in posted.items() if isinstance(v, str) and len(v) <= 2000 and k != "version"}
    error = None
    try:  # the page's version (AF609 over a ticket changed since the page was shown), read before
        # the long fields are dropped: a 5,000-digit version is refused, not taken for none
        desk(request).act(user.principal, ticket_id, action, form, expected_version=form_version(posted.get("version")))
    except AnfuError as exc:
        if exc.code in ("AF503", "AF417"):  # not visible / not allowed: no page, the API error
            raise
        error = exc
    block = "ticket_body" if request.headers.get("hx-request") == "true" else None
    return render(request, "ticket.html", block=block, user=user, error=error,
                  status_code=form_status(error) if error and block is None else 200, **ticket_view(request, user, ticket_id))


@router.get("/ledger", include_in_schema=False)
def ledger(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    d = desk(request)
    pairs = d.workflow.list_ledger(user.principal)
    rows = []
    for record, stored in pairs:
        rows.append({"record": record, "ticket": d.ticket(record), "entry": ledger_entry(stored.data)})
    entries = [r["entry"] for r in rows]
    gaps = {step: sum(not e.done(step) for e in entries) for step in STEPS}
    repeated = repeated_causes(entries, threshold=2)
    departments = Counter(e.department for e in entries)
    return render(request, "ledger.html", user=user, rows=rows, gaps=gaps, steps=STEPS, repeated=repeated,
                  departments=departments, dept_name=d.departments.display)
