"""Wellbeing pages (员工情绪关怀): the agent's own load history, check-ins and peer-support choice;
the private after-contact prompt (a banner fragment polled by every agent page, never blocking);
the timed breathing exercise; the supervisor's team view with rotation suggestions and requests
for support — never an agent's self-check answers or notes."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import AnfuError, AuthError
from ...store.care_repo import sees_team
from ...wellbeing import load_wellbeing_rules
from ..care import Care
from ..routes.wellbeing import me_view, team_view
from .page_errors import form_status
from .common import WebUser, as_id, render, web_form_user, web_user

router = APIRouter()


def _prompt_context(rules: Any) -> dict[str, Any]:
    p = rules["prompt"]
    return {"prompt_rules": p}


@router.get("/wellbeing", include_in_schema=False)
def wellbeing(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    ctx = request.app.state.ctx
    view = me_view(ctx, user.principal) if user.principal.user_id is not None else None
    return render(request, "wellbeing.html", user=user, view=view, supervises=sees_team(user.principal),
                  **_prompt_context(load_wellbeing_rules()))


@router.get("/wellbeing/prompt", include_in_schema=False)
def wellbeing_prompt(request: Request, user: WebUser = Depends(web_user)) -> HTMLResponse:
    """The after-contact prompt as a fragment (empty when nothing is pending)."""
    pending = Care(request.app.state.ctx).pending_prompt(user.principal)
    return render(request, "wellbeing.html", block="prompt", user=user, pending=pending,
                  **_prompt_context(load_wellbeing_rules()))


@router.get("/wellbeing/breathe", include_in_schema=False)
def breathe(request: Request, conversation_id: int | None = None, user: WebUser = Depends(web_user)) -> HTMLResponse:
    rules = load_wellbeing_rules()
    return render(request, "breathe.html", user=user, conversation_id=conversation_id,
                  breathing=rules["prompt"]["breathing"], **_prompt_context(rules))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@router.post("/wellbeing/checkin", include_in_schema=False)
async def checkin(request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    form = await request.form()
    kind = str(form.get("kind") or "")
    answers = [form.get(f"q{i}") for i in range(10)]
    # an answer that looks like digits but is no usable number ("²", thousands of digits) is
    # kept as -1, so that the store refuses it (AF712) instead of int() failing (AF440)
    self_check = [v if (v := as_id(a)) is not None else -1
                  for a in answers if isinstance(a, str) and a.isdigit()] or None
    note = str(form.get("note") or "").strip() or None
    conversation_id = _int_or_none(form.get("conversation_id"))
    care = Care(request.app.state.ctx)
    try:
        care.store.add_checkin(user.principal, kind, conversation_id=conversation_id, self_check=self_check, note=note)
    except AnfuError as exc:
        return render(request, "wellbeing.html", user=user, view=me_view(request.app.state.ctx, user.principal),
                      supervises=sees_team(user.principal), error=str(exc), status_code=form_status(exc),
                      **_prompt_context(load_wellbeing_rules()))
    if request.headers.get("hx-request") == "true":
        return render(request, "wellbeing.html", block="prompt", user=user, pending=None, done=kind,
                      **_prompt_context(load_wellbeing_rules()))
    return RedirectResponse("/wellbeing?saved=1", status_code=303)


@router.post("/wellbeing/peer-support", include_in_schema=False)
async def peer_support(request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    form = await request.form()
    Care(request.app.state.ctx).store.set_peer_support(user.principal, form.get("enabled") == "1")
    return RedirectResponse("/wellbeing", status_code=303)


@router.get("/wellbeing/team", include_in_schema=False)
def team(request: Request, shift: str | None = None, user: WebUser = Depends(web_user)) -> HTMLResponse:
    if not sees_team(user.principal):
        raise AuthError("AF417", "see team wellbeing (supervisors and admins)")
    day = None
    if shift:
        try:
            day = date.fromisoformat(shift)
        except ValueError:
            from ...errors import WellbeingError

            raise WellbeingError("AF714", repr(shift)[:20]) from None
    view = team_view(request.app.state.ctx, user.principal, day)
    return render(request, "wellbeing_team.html", user=user, view=view)


@router.post("/wellbeing/requests/{request_id}/handled", include_in_schema=False)
def handled(request_id: int, request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    Care(request.app.state.ctx).store.handle_request(user.principal, request_id)
    return RedirectResponse("/wellbeing/team", status_code=303)
