"""The customer's CSAT answer (满意度回访) over REST: the public counterpart of the survey page
(`/survey/{token}`), for a centre that asks its own way (SMS reply, IVR, its app) and hands the
answer on. No sign-in: the signed link's token proves which ticket it is about, as on the page
(`anfu.service.desk.TicketDesk.answer_survey`, which also reopens on a low score, alerts the
supervisor and sends `csat.low`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from ..deps import Ctx
from ..schemas import _In

router = APIRouter(tags=["tickets"])
Token = Annotated[str, Path(min_length=1, max_length=500, description="the token of the signed survey link")]


class SurveyAnswer(_In):
    score: int = Field(description="1 (very dissatisfied) to 5 (very satisfied)")
    comment: str = Field(default="", max_length=10_000, description="the customer's words, at most 2000 characters")


class SurveyAnsweredPublic(BaseModel):
    score: int
    low: bool = Field(description="a low score: the ticket was reopened and the supervisor alerted")


@router.post("/survey/{token}", response_model=SurveyAnsweredPublic)
def answer_survey(token: Token, body: SurveyAnswer, ctx: Ctx) -> SurveyAnsweredPublic:
    """Store the customer's answer to the survey the link points to (once per survey)."""
    _record, low = ctx.desk.answer_survey(token, body.score, body.comment)
    return SurveyAnsweredPublic(score=body.score, low=low)
