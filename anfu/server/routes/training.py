"""Training (培训) over REST: what the training pages do, through the same store and simulator
(`anfu.server.care.Care`): a trainee starts a simulator session, replies (the simulated customer
answers) and finishes it (score, outcome, skills); trainers (supervisors, admins) assign
scenarios and write new ones (validated like the packs); case writers turn a closed conversation
into an anonymised case. A session is its seed and replies; every read replays it."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from ...errors import AuthError, NotFoundError, RulePackError, TrainingError
from ...simulator import parse_scenario_yaml
from ...store.care_repo import CASE_WRITERS, is_trainer
from ..care import Care
from ..deps import Authed, Ctx
from ..errors import ApiError
from ..schemas import MAX_ID, _In

router = APIRouter(tags=["training"])
SessionId = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_REPLY = 2000


class TurnPublic(BaseModel):
    speaker: str = Field(description="customer or agent")
    text: str


class SessionPublic(BaseModel):
    id: int
    agent_id: int
    scenario_id: str
    status: str = Field(description="active or finished")
    assignment_id: int | None
    transcript: list[TurnPublic] = Field(description="the customer's lines and the trainee's replies, in order")
    score: int | None
    outcome: str | None
    skills: dict[str, float] | None
    created_at: datetime


class SessionStart(_In):
    scenario_id: str = Field(default="", max_length=100, description="a scenario id (or use assignment_id)")
    assignment_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="practise an assignment")


class ReplyCreate(_In):
    text: str = Field(min_length=1, max_length=MAX_REPLY)


class AssignmentCreate(_In):
    agent_id: int = Field(ge=1, le=MAX_ID)
    scenario_id: str = Field(min_length=1, max_length=100)


class AssignmentPublic(BaseModel):
    id: int
    agent_id: int
    scenario_id: str
    created_at: datetime
    completed_at: datetime | None


class ScenarioCreate(_In):
    yaml: str = Field(min_length=1, max_length=100_000, description="the scenario as YAML, like a rule pack")


class ScenarioPublic(BaseModel):
    scenario_id: str
    created_at: datetime


class CaseCreate(_In):
    conversation_id: int = Field(ge=1, le=MAX_ID, description="a closed conversation you may see")


class CasePublic(BaseModel):
    id: int
    title: str
    industry: str | None
    cause: str | None
    persona: str | None
    created_at: datetime


def _person(auth: Any) -> Any:
    """The signed-in person's principal: API tokens get AF417 (a session, an assignment, a case
    belongs to a person and records who made it)."""
    if auth.principal.user_id is None:
        raise AuthError("AF417", "use the training API with an API token (it belongs to a person; sign in)")
    return auth.principal


def _trainer(principal: Any, what: str) -> None:
    if not is_trainer(principal):
        raise AuthError("AF417", f"{what} (trainers: supervisors and admins)")


def _session(care: Care, principal: Any, record: Any) -> SessionPublic:
    sim = care.replay(principal, record)
    return SessionPublic(id=record.id, agent_id=record.agent_id, scenario_id=record.scenario_id, status=record.status,
                         assignment_id=record.assignment_id,
                         transcript=[TurnPublic(speaker=speaker, text=text) for speaker, text in sim.transcript],
                         score=record.score, outcome=record.outcome, skills=record.skills,
                         created_at=record.created_at)


@router.post("/training/sessions", response_model=SessionPublic, status_code=201)
def start_session(body: SessionStart, ctx: Ctx, auth: Authed) -> SessionPublic:
    """Start a simulator session on a scenario or an assignment of yours; the customer opens."""
    principal = _person(auth)
    care = Care(ctx)
    if body.assignment_id is None:
        care.scenario(principal, body.scenario_id)  # AF702 for an unknown id
    record = care.store.start_session(principal, body.scenario_id, secrets.randbelow(1_000_000),
                                      assignment_id=body.assignment_id)
    return _session(care, principal, record)


@router.get("/training/sessions/{session_id}", response_model=SessionPublic)
def get_session(session_id: SessionId, ctx: Ctx, auth: Authed) -> SessionPublic:
    """A session: your own, or (trainers) one of your team's / tenant's."""
    principal = _person(auth)
    care = Care(ctx)
    return _session(care, principal, care.store.get_session(principal, session_id))


@router.post("/training/sessions/{session_id}/reply", response_model=SessionPublic)
def reply(session_id: SessionId, body: ReplyCreate, ctx: Ctx, auth: Authed) -> SessionPublic:
    """Your reply in your active session; the simulated customer answers (a refused reply is not kept)."""
    principal = _person(auth)
    care = Care(ctx)
    record = care.store.get_session(principal, session_id)
    if record.agent_id != principal.user_id:
        raise NotFoundError("AF503", session_id, kind="training session")
    if record.status != "active":
        raise TrainingError("AF704", record.scenario_id)
    care.replay(principal, record).reply(body.text)
    return _session(care, principal, care.store.add_reply(principal, session_id, body.text))


@router.post("/training/sessions/{session_id}/finish", response_model=SessionPublic)
def finish(session_id: SessionId, ctx: Ctx, auth: Authed) -> SessionPublic:
    """Finish your session: its score, outcome and skills are kept (the trainer view's progress)."""
    principal = _person(auth)
    care = Care(ctx)
    record = care.store.get_session(principal, session_id)
    sim = care.replay(principal, record)
    summary = sim.summary()
    done = care.store.finish_session(principal, session_id, score=summary["score"], outcome=summary["outcome"],
                                     skills=sim.skills(), summary=summary)
    return _session(care, principal, done)


@router.post("/training/assignments", response_model=AssignmentPublic, status_code=201)
def assign(body: AssignmentCreate, ctx: Ctx, auth: Authed) -> AssignmentPublic:
    """Assign a scenario to an agent (trainers: supervisors their team, admins their tenant)."""
    principal = _person(auth)
    _trainer(principal, "assign training")
    care = Care(ctx)
    care.scenario(principal, body.scenario_id)
    record = care.store.assign(principal, body.agent_id, body.scenario_id)
    return AssignmentPublic(id=record.id, agent_id=record.agent_id, scenario_id=record.scenario_id,
                            created_at=record.created_at, completed_at=record.completed_at)


@router.post("/training/scenarios", response_model=ScenarioPublic, status_code=201)
def save_scenario(body: ScenarioCreate, ctx: Ctx, auth: Authed) -> ScenarioPublic:
    """Add a scenario of your tenant (trainers), validated like the scenario packs."""
    principal = _person(auth)
    _trainer(principal, "write training scenarios")
    care = Care(ctx)
    try:
        scenario = parse_scenario_yaml(body.yaml)
    except RulePackError as exc:  # the submitted scenario breaks a rule of the pack: the caller's input
        error = ApiError(exc.code, exc.detail, status=422)
        error.message = exc.message
        raise error from None
    if scenario.id in {s.id for s in care.scenarios(principal)}:
        raise TrainingError("AF707", scenario.id)
    record = care.store.save_scenario(principal, scenario.data)
    return ScenarioPublic(scenario_id=record.scenario_id, created_at=record.created_at)


@router.post("/training/cases", response_model=CasePublic, status_code=201)
def add_case(body: CaseCreate, ctx: Ctx, auth: Authed) -> CasePublic:
    """An anonymised case (案例分析) of a closed conversation you may see (case writers)."""
    principal = _person(auth)
    if principal.role not in CASE_WRITERS:
        raise AuthError("AF417", "write training cases (supervisors, admins, auditors)")
    record = Care(ctx).make_case(principal, body.conversation_id)
    return CasePublic(id=record.id, title=record.title, industry=record.industry, cause=record.cause,
                      persona=record.persona, created_at=record.created_at)
