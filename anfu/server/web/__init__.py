"""The web workspace (issue 6): server-rendered pages (Jinja2 + HTMX + Alpine, templates in
`anfu/web/`) on top of the same sessions, store and live hub as the API.

`make_web_router()` returns the pages' router; `mount_static(app)` serves `/static`. Pages
sign in with the API's server-side sessions; every form post carries the session's CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from ...web import STATIC_DIR
from . import admin_teams, routing  # teams, queues, skills and presence (routing, issue 13)
from . import page_errors
from . import account, admin, analytics, console, notes, replies, review, survey, tickets, training, wallboard, wellbeing
from . import admin_connectors, admin_settings, admin_tokens, admin_webhooks  # the admin console
from . import lists, search  # the conversation lists and global search (issue 13)


def make_web_router() -> APIRouter:
    router = APIRouter()
    router.include_router(admin_teams.router)
    router.include_router(routing.router)
    for module in (account, console, wallboard, tickets, analytics, survey, wellbeing, training, admin, review,
                   replies, notes):
        router.include_router(module.router)
    for module in (admin_tokens, admin_webhooks, admin_connectors, admin_settings):  # the admin console
        router.include_router(module.router)
    for module in (lists, search):
        router.include_router(module.router)
    return router


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")


def install(app: FastAPI) -> None:
    """Add the web workspace to an app made by `anfu.server.create_app`."""
    app.include_router(make_web_router())
    page_errors.install(app)  # refusals of pages as the error page, not the API's JSON
    app.add_exception_handler(admin.Forbidden, admin.forbidden_page)  # the 403 page of admin pages
    mount_static(app)


__all__ = ["install", "make_web_router", "mount_static"]
