"""The public CSAT survey (满意度回访) behind a signed link: no sign-in, the link itself
proves which ticket it is about (itsdangerous signature, expires after 7 days)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ...errors import AnfuError
from .common import as_id, render, state
from ...service.desk import TicketDesk

router = APIRouter()


def _desk(request: Request) -> TicketDesk:
    return request.app.state.ctx.desk


@router.get("/survey/{token}", include_in_schema=False)
def survey(token: str, request: Request) -> Response:
    try:
        record = _desk(request).survey_ticket(token[:500])
    except AnfuError as exc:
        return render(request, "survey.html", token=None, ticket=None, error=exc.code, done=False, status_code=404)
    ticket = _desk(request).ticket(record)
    resolution = _desk(request).links.resolution_of(token[:500])
    answered = ticket.rated_for(resolution)
    if not answered and resolution != ticket.reopen_count:
        # a link of an earlier resolution nobody answered: the ticket was reopened since
        return render(request, "survey.html", token=None, ticket=None, error="AF638", done=False, status_code=404)
    return render(request, "survey.html", token=token, ticket=ticket, error=None, done=answered)



@router.post("/survey/{token}", include_in_schema=False)
def survey_answer(token: str, request: Request, score: str = Form(""), comment: str = Form("", max_length=2000)) -> Response:
    desk = _desk(request)
    try:
        # "²" is a digit to isdigit() but not to int(): such a score goes on as text (AF6xx)
        number = as_id(score)
        value = number if number is not None else score
        record, low = desk.answer_survey(token[:500], value, comment)
    except AnfuError as exc:
        try:
            ticket = desk.ticket(desk.survey_ticket(token[:500])) if exc.code != "AF638" else None
        except AnfuError:
            ticket = None
        return render(request, "survey.html", token=token if ticket else None, ticket=ticket, error=exc.code,
                      done=bool(ticket and ticket.rated_for(desk.links.resolution_of(token[:500]))), status_code=422)
    return render(request, "survey.html", token=token, ticket=desk.ticket(record), error=None, done=True, low=low)
