"""Conversation lists page (会话列表): mine / team / unassigned / closed as tabs with their counts,
the filters (status, channel, industry, emotion, escalation level, days), and the user's saved
views (save the list on screen under a name, open, delete). Agents claim a waiting conversation
from the unassigned tab (the console's claim)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...errors import AnfuError
from ...glossary import EMOTIONS, INDUSTRIES
from ...service.lists import CHANNELS, SCOPES, ListFilters
from ...web.labels import N_
from .common import WebUser, render, web_form_user, web_user

router = APIRouter()
FILTER_KEYS = ("status", "channel", "industry", "emotion", "min_level", "date_from", "date_to")
INDUSTRY_NAMES = {"power": N_("电力"), "telecom": N_("电信"), "ecommerce": N_("电商"), "after_sales": N_("售后"),
                  "logistics": N_("物流"), "banking": N_("银行"), "generic": N_("通用")}
SCOPE_NAMES = {"mine": N_("我的"), "team": N_("班组"), "unassigned": N_("待分配"), "closed": N_("已结束")}
PAGE_SIZE = 50


def default_scope(user: WebUser) -> str:
    return "mine" if user.principal.role == "agent" else "team"


def _query(scope: str, filters: ListFilters) -> str:
    return urlencode({"scope": scope, **filters.to_dict()})


@router.get("/conversations", include_in_schema=False)
def lists_page(request: Request, scope: str | None = None, view: int | None = None, page: int = 1,
               user: WebUser = Depends(web_user)) -> HTMLResponse:
    lists = request.app.state.ctx.services.lists
    raw = {k: v for k, v in request.query_params.items() if k in FILTER_KEYS}
    error: AnfuError | None = None
    current = None
    rows: list[Any] = []
    total = pages = 0
    filters = ListFilters()
    scope = scope or default_scope(user)
    try:
        if view is not None:
            current = lists.view(user.principal, view)
            scope, filters = current.scope, ListFilters.parse(current.filters)
        else:
            filters = ListFilters.parse(raw)
        result = lists.conversations(user.principal, scope, filters, page=max(1, page), page_size=PAGE_SIZE)
        rows, total, pages = result.items, result.total, result.pages
    except AnfuError as exc:
        error = exc
    if scope not in SCOPES:
        scope = default_scope(user)
    return render(request, "lists.html", user=user, scope=scope, scopes=SCOPES, scope_names=SCOPE_NAMES,
                  counts=lists.counts(user.principal), filters=filters, rows=rows, total=total, page=page,
                  pages=pages, views=lists.views(user.principal), current=current, error=error,
                  query=_query(scope, filters), channels=CHANNELS, industries=INDUSTRIES,
                  industry_names=INDUSTRY_NAMES, emotions=EMOTIONS,
                  link="/review/{}" if user.principal.role == "auditor" else "/console/{}",
                  agents=_staff(request, user), status_code=422 if error else 200)


def _staff(request: Request, user: WebUser) -> dict[int, str]:
    """Names of the tenant's staff, for the agent column."""
    return {u.id: u.display_name or u.username for u in request.app.state.ctx.store.list_users(user.principal.tenant_id)}


@router.post("/conversations/views", include_in_schema=False)
async def save_view(request: Request, name: str = Form(""), scope: str = Form(""),
                    user: WebUser = Depends(web_form_user)) -> Response:
    """Save the list on screen (its scope and filters, sent as hidden fields) under `name`."""
    form = await request.form()
    raw = {k: str(v) for k, v in form.items() if k in FILTER_KEYS}
    lists = request.app.state.ctx.services.lists
    try:
        saved = lists.save_view(user.principal, name, scope, ListFilters.parse(raw))
    except AnfuError as exc:
        return render(request, "lists.html", user=user, scope=scope if scope in SCOPES else default_scope(user),
                      scopes=SCOPES, scope_names=SCOPE_NAMES, counts=lists.counts(user.principal),
                      filters=ListFilters(), rows=[], total=0, page=1, pages=0, views=lists.views(user.principal),
                      current=None, error=exc, query="", channels=CHANNELS, industries=INDUSTRIES,
                      industry_names=INDUSTRY_NAMES, emotions=EMOTIONS, link="/console/{}",
                      agents=_staff(request, user), status_code=422)
    return RedirectResponse(f"/conversations?view={saved.id}", status_code=303)


@router.post("/conversations/views/{view_id}/delete", include_in_schema=False)
def delete_view(view_id: int, request: Request, user: WebUser = Depends(web_form_user)) -> Response:
    request.app.state.ctx.services.lists.delete_view(user.principal, view_id)
    return RedirectResponse("/conversations", status_code=303)
