"""Sign-in, sign-out, password change, TOTP enrolment (动态口令, with a QR code drawn on the
server by segno) and the language switch of the web workspace."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from ...errors import AnfuError
from ...web.i18n import LANG_COOKIE, LOCALES
from ..deps import CSRF_COOKIE, SESSION_COOKIE, client_ip, csrf_token, csrf_valid
from .common import WebUser, render, signed_in, web_form_user

router = APIRouter()
LOGIN_CSRF_COOKIE = "anfu_login_csrf"
ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """Only local paths: `next=https://evil.example` or `//evil.example` go home instead. So do
    control characters: browsers drop tabs and newlines from a URL, so `/<TAB>/evil`
    in a link or the sign-in form's hidden field would become `//evil`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target


def home_of(user: WebUser) -> str:
    return "/wallboard" if user.supervises else "/console"


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return RedirectResponse("/signin", status_code=303)
    return RedirectResponse(home_of(user), status_code=303)


def _signin_page(request: Request, next_url: str, error: str | None = None, status: int = 200,
                 username: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "signin.html", next_url=next_url, login_csrf=token, error=error,
                      username=username, status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/signin",
                        secure=request.app.state.ctx.settings.environment == "production")
    return response


@router.get("/signin", include_in_schema=False)
def signin_form(request: Request, next: str = "/") -> Response:
    return _signin_page(request, safe_next(next))


@router.post("/signin", include_in_schema=False)
def signin(request: Request, username: str = Form("", max_length=150), password: str = Form("", max_length=1024),
           totp: str = Form("", max_length=12), login_csrf: str = Form("", max_length=100),
           next: str = Form("/", max_length=2000)) -> Response:
    ctx = request.app.state.ctx
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, login_csrf):
        return _signin_page(request, safe_next(next), error="expired", status=403, username=username)
    try:
        result = ctx.auth.login(username, password, totp_code=totp or None, ip=client_ip(request),
                                user_agent=(request.headers.get("user-agent") or "")[:300] or None)
    except AnfuError as exc:
        return _signin_page(request, safe_next(next), error=exc.code, status=401, username=username)
    session = result.identity.session
    target = "/account" if result.identity.restricted else safe_next(next)
    response = RedirectResponse(target, status_code=303)
    secure = ctx.settings.environment == "production"
    max_age = max(1, int((session.expires_at - datetime.now(timezone.utc)).total_seconds()))
    response.set_cookie(SESSION_COOKIE, result.token, max_age=max_age, httponly=True, secure=secure,
                        samesite="strict", path="/")
    response.set_cookie(CSRF_COOKIE, csrf_token(ctx, result.token), max_age=max_age, httponly=False,
                        secure=secure, samesite="strict", path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/signin")
    return response


@router.post("/signout", include_in_schema=False)
async def signout(request: Request) -> Response:
    ctx = request.app.state.ctx
    token = request.cookies.get(SESSION_COOKIE)
    form = await request.form()
    supplied = form.get("csrf_token")
    if token and isinstance(supplied, str) and csrf_valid(ctx, token, supplied):
        ctx.auth.logout(token, ip=client_ip(request))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/lang/{code}", include_in_schema=False)
def switch_language(code: str, next: str = "/") -> Response:
    """Keep the chosen language in a cookie (a preference, not a secret) and go back."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LOCALES:
        response.set_cookie(LANG_COOKIE, code, max_age=ONE_YEAR, samesite="lax", path="/")
    return response


@router.get("/account", include_in_schema=False)
def account(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return RedirectResponse(f"/signin?next={quote('/account')}", status_code=303)
    return render(request, "account.html", user=user, done=False, error=None)


def qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as an inline SVG QR code (nothing leaves the server)."""
    import segno

    return Markup(segno.make(uri, error="m").svg_inline(scale=5, title="TOTP QR", omitsize=False))


def _account_user(request: Request, supplied: str) -> WebUser | None:
    user = signed_in(request)
    supplied = supplied or request.headers.get("x-csrf-token") or ""
    if user is None or not csrf_valid(request.app.state.ctx, user.session_token, supplied):
        return None
    return user


@router.post("/account/mfa/begin", include_in_schema=False)
def mfa_begin(request: Request, current_code: str = Form("", max_length=12),
              csrf_token_: str = Form("", alias="csrf_token")) -> Response:
    """Start TOTP enrolment: a new secret, shown once as a QR code and as text."""
    user = _account_user(request, csrf_token_)
    if user is None:
        return RedirectResponse("/signin", status_code=303)
    ctx = request.app.state.ctx
    try:
        secret, uri = ctx.auth.begin_mfa_enrolment(user.identity, current_code or None, ip=client_ip(request))
    except AnfuError as exc:
        return render(request, "account.html", user=user, done=False, error=None, mfa_error=exc.code,
                      status_code=400)
    return render(request, "account.html", user=user, done=False, error=None, mfa_secret=secret,
                  mfa_qr=qr_svg(uri))


@router.post("/account/mfa/confirm", include_in_schema=False)
def mfa_confirm(request: Request, code: str = Form("", max_length=12),
                csrf_token_: str = Form("", alias="csrf_token")) -> Response:
    """Finish enrolment with a code from the authenticator app."""
    user = _account_user(request, csrf_token_)
    if user is None:
        return RedirectResponse("/signin", status_code=303)
    ctx = request.app.state.ctx
    try:
        ctx.auth.confirm_mfa(user.identity, code.strip(), ip=client_ip(request))
    except AnfuError as exc:
        return render(request, "account.html", user=user, done=False, error=None, mfa_error=exc.code,
                      status_code=400)
    refreshed = signed_in(request) or user
    return render(request, "account.html", user=refreshed, done=False, error=None, mfa_done=True)


@router.post("/account/password", include_in_schema=False)
def change_password(request: Request, old_password: str = Form("", max_length=1024),
                    new_password: str = Form("", max_length=1024), csrf_token_: str = Form("", alias="csrf_token"),
                    ) -> Response:
    user = signed_in(request)
    ctx = request.app.state.ctx
    if user is None or not csrf_valid(ctx, user.session_token, csrf_token_):
        return RedirectResponse("/signin", status_code=303)
    try:
        ctx.auth.change_password(user.identity, old_password, new_password, ip=client_ip(request))
    except AnfuError as exc:
        return render(request, "account.html", user=user, done=False, error=exc.code, status_code=400)
    refreshed = signed_in(request) or user
    return render(request, "account.html", user=refreshed, done=True, error=None)


__all__ = ["home_of", "router", "safe_next", "web_form_user"]
