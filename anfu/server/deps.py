"""Request dependencies: the app context, who is asking (session cookie or API token), and
CSRF protection for cookie-authenticated changes.

Sessions live server-side (`anfu.security.Authenticator`); the browser holds only the opaque
token in an HttpOnly, SameSite=Strict cookie. Integrations send `Authorization: Bearer anfu_…`
and need no CSRF token (a browser never attaches it by itself). A cookie-authenticated
POST/PUT/PATCH/DELETE must carry `X-CSRF-Token`: an itsdangerous signature bound to the session,
returned at sign-in and readable by the page in the `anfu_csrf` cookie (double submit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, Mapping

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from itsdangerous import BadSignature, URLSafeSerializer

from ..security import RESTRICTED_CHANGE_PASSWORD, Identity
from ..security.tokens import hash_token, tokens_equal
from .context import AppContext
from .errors import ApiError

SESSION_COOKIE = "anfu_session"
CSRF_COOKIE = "anfu_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACCOUNT_PATHS = ("/api/v1/auth/", "/api/v1/me")


@dataclass(frozen=True)
class Auth:
    identity: Identity
    via: Literal["session", "token"]
    session_token: str | None = None

    @property
    def principal(self) -> Any:
        return self.identity.principal


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


async def _ctx_dependency(request: Request) -> AppContext:
    # async: FastAPI runs a plain `def` dependency in the thread pool, a thread hop per request
    # for an attribute read
    return get_ctx(request)


Ctx = Annotated[AppContext, Depends(_ctx_dependency)]


def public_base(request: Any) -> str:
    """The base of links that leave the workspace (a customer's survey link, the webhook address
    an admin copies into a helpdesk), ending in "/": `ANFU_PUBLIC_URL` when set, so that a
    request with a forged Host header cannot make them point elsewhere; else the request's own."""
    configured = request.app.state.ctx.settings.public_url
    return f"{configured}/" if configured else str(request.base_url)


def client_ip(request: Any) -> str | None:
    return request.client.host if request.client else None


def _csrf_signer(ctx: AppContext) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.settings.secret_key.get_secret_value(), salt="anfu.csrf")


def csrf_token(ctx: AppContext, session_token: str) -> str:
    """The CSRF token of a session: a signature over (part of) the session token's hash."""
    return str(_csrf_signer(ctx).dumps(hash_token(session_token)[:32]))


def csrf_valid(ctx: AppContext, session_token: str, supplied: str | None) -> bool:
    if not supplied:
        return False
    try:
        value = _csrf_signer(ctx).loads(supplied)
    except BadSignature:
        return False
    return isinstance(value, str) and tokens_equal(value, hash_token(session_token)[:32])


def bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("AF437", status=401, headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def identify(ctx: AppContext, headers: Mapping[str, str], cookies: Mapping[str, str]) -> Auth:
    """Who is asking, from an API token or the session cookie; AF437/AF414/AF415 otherwise."""
    token = bearer(headers)
    if token is not None:
        identity = ctx.auth.authenticate_api_token(token)
        if identity is None:
            raise ApiError("AF415", status=401, headers={"WWW-Authenticate": "Bearer"})
        return Auth(identity, "token")
    session_token = cookies.get(SESSION_COOKIE)
    if not session_token:
        raise ApiError("AF437", status=401, headers={"WWW-Authenticate": "Bearer"})
    identity = ctx.auth.authenticate_session(session_token)
    if identity is None:
        raise ApiError("AF414", status=401)
    return Auth(identity, "session", session_token)


def _authenticate(request: Request, allow_restricted: bool) -> Auth:
    ctx = get_ctx(request)
    auth = identify(ctx, request.headers, request.cookies)
    if auth.via == "session" and request.method not in SAFE_METHODS:
        if not csrf_valid(ctx, auth.session_token or "", request.headers.get(CSRF_HEADER)):
            raise ApiError("AF436", "missing or wrong X-CSRF-Token", status=403)
    if auth.identity.restricted and not allow_restricted:
        what = ("change the one-time password (POST /api/v1/auth/password)"
                if auth.identity.restricted == RESTRICTED_CHANGE_PASSWORD else
                "enrol a TOTP authenticator (POST /api/v1/auth/mfa/begin, then /auth/mfa/confirm)")
        raise ApiError("AF443", what, status=403)
    return auth


async def authenticate(request: Request) -> Auth:
    """Who is asking (API token or session cookie). An API token this process looked up a moment
    ago (`Authenticator.cached_api_token`) is answered on the event loop; everything else reads
    the database in the thread pool."""
    identity = get_ctx(request).auth.cached_api_token(bearer(request.headers))
    if identity is not None and not identity.restricted:
        return Auth(identity, "token")
    return await run_in_threadpool(_authenticate, request, False)


def authenticate_account(request: Request) -> Auth:
    """Like `authenticate`, but lets a user who must still fix their account through."""
    return _authenticate(request, allow_restricted=True)


Authed = Annotated[Auth, Depends(authenticate)]
AccountAuthed = Annotated[Auth, Depends(authenticate_account)]
