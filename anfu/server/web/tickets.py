"""Tickets (工单): the list, and one ticket with its SOP stage, owner, cause, history, SLA
clock, follow-up (回访), CSAT survey link and 四个不漏 ledger steps; the 四个不漏 ledger page."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...errors import AnfuError
from ...glossary import SOP_STAGES
from ...workflow.ledger import FEEDBACK_REPLIES, STEPS, repeated_causes
from ...workflow.tickets import STATUSES
from ..views import as_seen_by
from .common import WebUser, render, state, web_form_user, web_user
from ...service.desk import TicketDesk, ledger_entry

router = APIRouter()


def desk(request: Request) -> TicketDesk:
    return request.app.state.ctx.desk


def ticket_view(request: Request, user: WebUser, ticket_id: int) -> dict[str, Any]:
    d = desk(request)
    record = d.workflow.get_ticket(ticket_id, visible_to=user.principal)
    ticket = d.ticket(as_seen_by(user.principal, record, "data"))
    show_link = ticket.status in ("resolved", "closed") and ticket.csat_score is None
    policy = d.policies.policy_for(ticket.priority, ticket.channel)
    # how the clock counts: natural hours (自然小时) or business hours (工作时间) per target
    clock_basis = ("natural" if policy.response_calendar.round_the_clock else "business",
                   "natural" if policy.resolution_calendar.round_the_clock else "business")
    return {"record": record, "ticket": ticket, "sla": d.sla(ticket), "followup": d.followup(record),
            "can_act": user.principal.role != "auditor",  # auditors read only (the desk answers AF417)
            "clock_basis": clock_basis,
            "entry": d.ledger(record), "stages": SOP_STAGES, "stage_index": SOP_STAGES.index(ticket.stage),
            "steps": STEPS, "feedback_replies": FEEDBACK_REPLIES, "dept_name": d.departments.display,
            "survey_url": d.survey_url(record, str(request.base_url)) if show_link else None,
            "next_stage": SOP_STAGES[SOP_STAGES.index(ticket.stage) + 1]
            if SOP_STAGES.index(ticket.stage) + 1 < SOP_STAGES.index("跟进回访") else None}


@router.get("/tickets", include_in_schema=False)
def tickets(request: Request, status: str | None = None, user: WebUser = Depends(web_user)) -> HTMLResponse:
    d = desk(request)
    chosen = status if status in STATUSES else None
    page = d.workflow.list_tickets(user.principal, status=chosen, page_size=200)
    rows = [{"record": r, "ticket": d.ticket(as_seen_by(user.principal, r, "data")), "sla": d.sla(d.ticket(r))}
            for r in page.items]
    return render(request, "tickets.html", user=user, rows=rows, status=chosen, statuses=STATUSES)


@router.get("/tickets/{ticket_id}", include_in_schema=False)
def ticket_detail(ticket_id: int, request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    return render(request, "ticket.html", user=user, error=None, **ticket_view(request, user, ticket_id))


@router.post("/tickets/{ticket_id}/{action}", include_in_schema=False)
async def ticket_action(ticket_id: int, action: str, request: Request,
                        user: WebUser = Depends(web_form_user)) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and len(v) <= 2000}
    error = None
    try:
        desk(request).act(user.principal, ticket_id, action, form)
    except AnfuError as exc:
        if exc.code in ("AF503", "AF417"):  # not visible / not allowed: no page, the API error
            raise
        error = exc
    block = "ticket_body" if request.headers.get("hx-request") == "true" else None
    return render(request, "ticket.html", block=block, user=user, error=error,
                  status_code=409 if error and block is None else 200, **ticket_view(request, user, ticket_id))


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
