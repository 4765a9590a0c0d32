"""Training pages (培训): scenarios to practise, a simulator session (the simulated customer answers
each reply), its feedback page (score, outcome, turn-by-turn feedback with a better reply for each
weak turn, skills), the trainer view (assign scenarios, progress per agent and skill over time,
write new scenarios validated like the packs) and the case library (案例分析) of anonymised
closed conversations.

A session is stored as its seed and the trainee's replies; every page replays it, which the
simulator's determinism makes exact."""

from __future__ import annotations

import secrets
from typing import Any

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import AnfuError, AuthError
from ...simulator import SKILLS, parse_scenario_yaml
from ...store import ConversationFilter
from ...store.care_repo import CASE_WRITERS, is_trainer
from ..care import SKILL_NAMES, Care, progress
from .page_errors import form_status
from .common import WebUser, as_id, locale_of, render, web_form_user, web_user

router = APIRouter()
MAX_REPLY = 2000
TEMPLATE_SCENARIO = "power_outage_elderly"


def _care(request: Request) -> Care:
    return Care(request.app.state.ctx)


def _names(request: Request, user: WebUser) -> dict[int, str]:
    return {u.id: (u.display_name or u.username) for u in request.app.state.ctx.store.list_users(user.principal.tenant_id)}


@router.get("/training", include_in_schema=False)
def training(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    care = _care(request)
    scenarios = care.scenarios(user.principal)
    mine = [a for a in care.store.list_assignments(user.principal, open_only=True)
            if a.agent_id == user.principal.user_id]
    sessions = [s for s in care.store.list_sessions(user.principal, agent_id=user.principal.user_id)][::-1][:20]
    english = locale_of(request) == "en"
    titles = {s.id: (s.title_en or s.title) if english else s.title for s in scenarios}
    return render(request, "training.html", user=user, scenarios=scenarios, assignments=mine, sessions=sessions,
                  titles=titles, trainer=is_trainer(user.principal))


@router.post("/training/sessions", include_in_schema=False)
async def start(request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    form = await request.form()
    care = _care(request)
    assignment = str(form.get("assignment_id") or "")
    scenario_id = str(form.get("scenario_id") or "")
    assignment_id = as_id(assignment)
    if assignment_id is None:  # no (usable) assignment: the scenario must exist
        care.scenario(user.principal, scenario_id)  # AF702 for an unknown id
    record = care.store.start_session(user.principal, scenario_id, secrets.randbelow(1_000_000),
                                      assignment_id=assignment_id)
    return RedirectResponse(f"/training/sessions/{record.id}", status_code=303)


def _session_view(request: Request, user: WebUser, session_id: int) -> dict[str, Any]:
    care = _care(request)
    record = care.store.get_session(user.principal, session_id)
    sim = care.replay(user.principal, record)
    return {"record": record, "sim": sim, "scenario": sim.scenario, "details": sim.details(),
            "own": record.agent_id == user.principal.user_id}


@router.get("/training/sessions/{session_id}", include_in_schema=False)
def session(session_id: int, request: Request, user: WebUser = Depends(web_user)) -> Response:
    view = _session_view(request, user, session_id)
    if view["record"].status == "finished":
        return RedirectResponse(f"/training/sessions/{session_id}/feedback", status_code=303)
    return render(request, "training_session.html", user=user, **view)


@router.post("/training/sessions/{session_id}/reply", include_in_schema=False)
async def reply(session_id: int, request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    form = await request.form()
    text = str(form.get("text") or "").strip()
    care = _care(request)
    if text:
        record = care.store.get_session(user.principal, session_id)
        sim = care.replay(user.principal, record)
        try:
            sim.reply(text[:MAX_REPLY])  # a reply the simulator refuses is not stored
        except AnfuError as exc:
            return render(request, "training_session.html", user=user, error=str(exc), status_code=form_status(exc),
                          **_session_view(request, user, session_id))
        care.store.add_reply(user.principal, session_id, text[:MAX_REPLY])
    return RedirectResponse(f"/training/sessions/{session_id}", status_code=303)


@router.post("/training/sessions/{session_id}/finish", include_in_schema=False)
def finish(session_id: int, request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    care = _care(request)
    record = care.store.get_session(user.principal, session_id)
    sim = care.replay(user.principal, record)
    summary = sim.summary()
    care.store.finish_session(user.principal, session_id, score=summary["score"], outcome=summary["outcome"],
                              skills=sim.skills(), summary=summary)
    return RedirectResponse(f"/training/sessions/{session_id}/feedback", status_code=303)


@router.get("/training/sessions/{session_id}/feedback", include_in_schema=False)
def feedback(session_id: int, request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    view = _session_view(request, user, session_id)
    summary = view["record"].summary or view["sim"].summary()
    return render(request, "training_feedback.html", user=user, summary=summary,
                  skills=view["record"].skills or view["sim"].skills(), skill_names=SKILL_NAMES, **view)


# trainer view ------------------------------------------------------------------------------------
def _trainer(user: WebUser) -> None:
    if not is_trainer(user.principal):
        raise AuthError("AF417", "use the trainer view (supervisors and admins)")


def _trainer_view(request: Request, user: WebUser) -> dict[str, Any]:
    care = _care(request)
    store = request.app.state.ctx.store
    agents = [u for u in store.list_users(user.principal.tenant_id) if u.role == "agent" and u.active
              and (user.principal.role == "admin" or u.team_id == user.principal.team_id)]
    sessions = care.store.list_sessions(user.principal, finished_only=True)
    return {"agents": agents, "scenarios": care.scenarios(user.principal), "progress": progress(sessions),
            "assignments": care.store.list_assignments(user.principal), "names": _names(request, user),
            "skills": SKILLS, "skill_names": SKILL_NAMES, "own_scenarios": care.store.list_scenarios(user.principal.tenant_id)}


@router.get("/training/trainer", include_in_schema=False)
def trainer(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    _trainer(user)
    return render(request, "training_trainer.html", user=user, **_trainer_view(request, user))


@router.post("/training/assignments", include_in_schema=False)
async def assign(request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    _trainer(user)
    form = await request.form()
    care = _care(request)
    scenario_id = str(form.get("scenario_id") or "")
    care.scenario(user.principal, scenario_id)
    agent = str(form.get("agent_id") or "")
    agent_id = as_id(agent)
    care.store.assign(user.principal, agent_id if agent_id is not None else -1, scenario_id)
    return RedirectResponse("/training/trainer", status_code=303)


def _template_yaml() -> str:
    from ...simulator import get_scenario

    data = dict(get_scenario(TEMPLATE_SCENARIO).data)
    data["id"] = "my_new_scenario"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


@router.get("/training/scenarios/new", include_in_schema=False)
def new_scenario(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    _trainer(user)
    return render(request, "training_scenario.html", user=user, text=_template_yaml())


@router.post("/training/scenarios", include_in_schema=False)
async def save_scenario(request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    _trainer(user)
    form = await request.form()
    text = str(form.get("yaml") or "")
    care = _care(request)
    try:
        scenario = parse_scenario_yaml(text)
        if scenario.id in {s.id for s in care.scenarios(user.principal)}:
            from ...errors import TrainingError

            raise TrainingError("AF707", scenario.id)
        care.store.save_scenario(user.principal, scenario.data)
    except AnfuError as exc:
        return render(request, "training_scenario.html", user=user, text=text, error=str(exc),
                      status_code=form_status(exc))
    return RedirectResponse("/training/trainer?saved=" + scenario.id, status_code=303)


# case library ------------------------------------------------------------------------------------
@router.get("/training/cases", include_in_schema=False)
def cases(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    care = _care(request)
    closed = []
    if user.principal.role in CASE_WRITERS:
        closed = request.app.state.ctx.store.list_conversations(user.principal, ConversationFilter(status="closed"),
                                                                page_size=50).items
    return render(request, "training_cases.html", user=user, cases=care.store.list_cases(user.principal),
                  closed=closed, writer=user.principal.role in CASE_WRITERS)


@router.post("/training/cases", include_in_schema=False)
async def add_case(request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    form = await request.form()
    conversation = str(form.get("conversation_id") or "")
    conversation_id = as_id(conversation)
    record = _care(request).make_case(user.principal, conversation_id if conversation_id is not None else -1)
    return RedirectResponse(f"/training/cases/{record.id}", status_code=303)


@router.get("/training/cases/{case_id}", include_in_schema=False)
def case(case_id: int, request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    return render(request, "training_case.html", user=user, case=_care(request).store.get_case(user.principal, case_id))
