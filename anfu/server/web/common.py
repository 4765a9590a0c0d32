"""What every page of the web workspace needs: who is signed in (the same server-side
session as the API), CSRF on form posts, the user's language and rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from ...errors import AnfuError
from ...security import Identity
from ...store import WorkflowStore
from ...store.access import Principal, can
from ...web.i18n import LANG_COOKIE, pick_locale
from ...web.render import Renderer
from ..context import AppContext
from ..deps import CSRF_COOKIE, SESSION_COOKIE, csrf_token, csrf_valid
from ..errors import ApiError

CSRF_FIELD = "csrf_token"


@dataclass
class WebState:
    """Per-app objects of the web workspace, made on first use."""

    ctx: AppContext
    renderer: Renderer = field(default_factory=Renderer)

    @property
    def workflow(self) -> WorkflowStore:
        return self.ctx.desk.workflow


def state(request: Request) -> WebState:
    app_state = request.app.state
    if not hasattr(app_state, "web"):
        app_state.web = WebState(request.app.state.ctx)
    return app_state.web


@dataclass(frozen=True)
class WebUser:
    identity: Identity
    session_token: str
    csrf: str

    @property
    def principal(self) -> Principal:
        return self.identity.principal

    @property
    def user(self) -> Any:
        return self.identity.user

    @property
    def name(self) -> str:
        user = self.identity.user
        return (user.display_name or user.username) if user is not None else self.principal.name

    @property
    def supervises(self) -> bool:
        return can(self.principal, "supervise")

    @property
    def exports(self) -> bool:
        return can(self.principal, "export")


def locale_of(request: Request) -> str:
    return pick_locale(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _to_signin(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/signin?next={quote(target, safe='')}"
    headers = {"Location": location}
    if is_htmx(request):
        headers["HX-Redirect"] = location
    return HTTPException(status_code=303, headers=headers)


def signed_in(request: Request) -> WebUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    ctx: AppContext = request.app.state.ctx
    identity = ctx.auth.authenticate_session(token)
    if identity is None or identity.user is None:
        return None
    return WebUser(identity, token, csrf_token(ctx, token))


def web_user(request: Request) -> WebUser:
    """Dependency of every page: the signed-in user, or a redirect to the sign-in page (and to
    the password page while the account must still be set up)."""
    user = signed_in(request)
    if user is None:
        raise _to_signin(request)
    if user.identity.restricted:
        raise HTTPException(status_code=303, headers={"Location": "/account"})
    return user


async def web_form_user(request: Request) -> WebUser:
    """Dependency of every form post: `web_user` plus the CSRF token (form field or header)."""
    user = web_user(request)
    supplied = request.headers.get("x-csrf-token")
    if supplied is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not csrf_valid(request.app.state.ctx, user.session_token, supplied):
        # the API's code for the same refusal (a bare HTTPException answered AF431, "schema")
        raise ApiError("AF436", "missing or wrong csrf_token form field or X-CSRF-Token header", status=403)
    return user


MAX_ID_DIGITS = 18  # ids are 64-bit; a longer number names no row


def as_id(value: Any) -> int | None:
    """A form or query value as a row id (or a small count), or None. Only ASCII digits:
    `"²".isdigit()` is true but `int("²")` raises, and `int()` refuses over 4,300 digits —
    both were 500s (AF440) on the pages."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_ID_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def optional_id(value: Any, kind: str) -> int | None:
    """A form's optional id field (a team chosen in a list): blank is None, anything else must be
    an id. `as_id` reads "abc" as None too, which such a form took for "no team" and moved the agent
    out of their team."""
    if not (value.strip() if isinstance(value, str) else ""):
        return None
    found = as_id(value)
    if found is None:
        raise AnfuError("AF505", f"{kind} id {str(value)[:20]!r}: choose one from the list", kind=kind)
    return found


def render(request: Request, template: str, *, user: WebUser | None = None, block: str | None = None,
           status_code: int = 200, **context: Any) -> HTMLResponse:
    """A whole page, or one block of it for an HTMX request (`block`)."""
    web = state(request)
    locale = locale_of(request)
    context.update(user=user, csrf=user.csrf if user else "")
    context.setdefault("request_path", request.url.path)  # an error page may hide the path (page_errors)
    context.setdefault("request_url", request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if block is not None:
        html = web.renderer.fragment(template, block, locale, **context)
    else:
        html = web.renderer.page(template, locale, **context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store", "Vary": "Cookie"})


__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "WebState", "WebUser", "as_id", "is_htmx", "locale_of", "render",
           "signed_in", "state", "web_form_user", "web_user"]
