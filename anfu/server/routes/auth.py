"""Sign-in and the user's own account; API tokens and accounts for admins.

Sign-in is throttled per address (AF412) and locks an account after repeated failures (AF411);
both are audited by `anfu.security.Authenticator`. A user created with a one-time password
must change it first, and an admin must enrol TOTP, before any other endpoint answers (AF443).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from ...store.tables import ROLES
from ..deps import CSRF_COOKIE, SESSION_COOKIE, AccountAuthed, Authed, Ctx, client_ip, csrf_token
from ..schemas import MAX_ID, LoginCreate, LoginPublic, UserPublic, _In
from ..views import _dump

router = APIRouter(tags=["auth"])
Role = Literal["agent", "supervisor", "admin", "auditor"]
assert set(Role.__args__) == set(ROLES)  # type: ignore[attr-defined]


def _set_cookies(response: Response, ctx, token: str, expires_at: datetime) -> str:  # noqa: ANN001
    secure = ctx.settings.environment == "production"
    max_age = max(1, int((expires_at - datetime.now(timezone.utc)).total_seconds()))
    csrf = csrf_token(ctx, token)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure,
                        samesite="strict", path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure,
                        samesite="strict", path="/")
    return csrf


def _user_public(user) -> UserPublic:  # noqa: ANN001
    return UserPublic.model_validate(_dump(user))


class LoginStatePublic(LoginPublic):
    restricted: str | None = Field(description="change_password | enrol_mfa | null: what to do first")


@router.post("/auth/login", response_model=LoginStatePublic)
def login(body: LoginCreate, ctx: Ctx, request: Request, response: Response) -> LoginStatePublic:
    """Sign in with user name, password and (when enrolled) a 6-digit TOTP code. Sets the
    HttpOnly session cookie; the CSRF token for later changes is in the reply."""
    result = ctx.auth.login(body.username, body.password, totp_code=body.totp, ip=client_ip(request),
                            user_agent=(request.headers.get("user-agent") or "")[:300] or None)
    session = result.identity.session
    assert session is not None and result.identity.user is not None
    csrf = _set_cookies(response, ctx, result.token, session.expires_at)
    return LoginStatePublic(user=_user_public(result.identity.user), csrf_token=csrf,
                            expires_at=session.expires_at, restricted=result.identity.restricted)


class OkPublic(BaseModel):
    ok: bool


@router.post("/auth/logout", response_model=OkPublic)
def logout(ctx: Ctx, auth: AccountAuthed, request: Request, response: Response) -> OkPublic:
    """Revoke the session (server-side) and clear the cookies."""
    done = ctx.auth.logout(auth.session_token, ip=client_ip(request)) if auth.via == "session" else False
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return OkPublic(ok=done)


class PasswordChange(_In):
    old_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


@router.post("/auth/password", response_model=UserPublic)
def change_password(body: PasswordChange, ctx: Ctx, auth: AccountAuthed, request: Request) -> UserPublic:
    """Change your password; your other sessions are signed out."""
    user = ctx.auth.change_password(auth.identity, body.old_password, body.new_password, ip=client_ip(request))
    return _user_public(user)


class MfaEnrolmentPublic(BaseModel):
    secret: str
    otpauth_uri: str


class MfaBegin(_In):
    current_code: str | None = Field(default=None, pattern=r"^\d{6}$",
                                     description="a current code of the enrolled authenticator (re-enrolment)")


@router.post("/auth/mfa/begin", response_model=MfaEnrolmentPublic)
def mfa_begin(ctx: Ctx, auth: AccountAuthed, request: Request, body: MfaBegin | None = None) -> MfaEnrolmentPublic:
    """Start TOTP enrolment: add the secret (or the otpauth URI as a QR code) to an authenticator app.
    Replacing an enrolled authenticator needs a current code from it (`current_code`); the old
    one stays in force until the new one is confirmed."""
    secret, uri = ctx.auth.begin_mfa_enrolment(auth.identity, body.current_code if body else None,
                                                ip=client_ip(request))
    return MfaEnrolmentPublic(secret=secret, otpauth_uri=uri)


class MfaConfirm(_In):
    code: str = Field(pattern=r"^\d{6}$")


@router.post("/auth/mfa/confirm", response_model=UserPublic)
def mfa_confirm(body: MfaConfirm, ctx: Ctx, auth: AccountAuthed, request: Request) -> UserPublic:
    """Finish TOTP enrolment with a current code; from now on sign-in asks for one."""
    return _user_public(ctx.auth.confirm_mfa(auth.identity, body.code, ip=client_ip(request)))


class TokenCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    role: Role = "supervisor"
    team_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class TokenPublic(BaseModel):
    id: int
    name: str
    role: str
    prefix: str
    token: str = Field(description="shown only in this reply; only its hash is stored")


@router.post("/auth/tokens", response_model=TokenPublic, status_code=201)
def create_token(body: TokenCreate, ctx: Ctx, auth: Authed, request: Request) -> TokenPublic:
    """Issue an API token for an integration (admins)."""
    token, record = ctx.auth.issue_api_token(auth.principal, body.name, body.role, team_id=body.team_id,
                                             ip=client_ip(request))
    return TokenPublic(id=record.id, name=record.name, role=record.role, prefix=record.prefix, token=token)


@router.delete("/auth/tokens/{token_id}", response_model=OkPublic)
def revoke_token(token_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed, request: Request) -> OkPublic:
    """Revoke an API token (admins)."""
    return OkPublic(ok=ctx.auth.revoke_api_token(auth.principal, token_id, ip=client_ip(request)))


class UserCreate(_In):
    username: str = Field(min_length=1, max_length=150, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    team_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    display_name: str = Field(default="", max_length=200)


@router.post("/users", response_model=UserPublic, status_code=201, tags=["users"])
def create_user(body: UserCreate, ctx: Ctx, auth: Authed, request: Request) -> UserPublic:
    """Create a staff account (admins); the user must change the password at first sign-in."""
    user = ctx.auth.create_user(auth.principal, body.username, body.password, body.role, team_id=body.team_id,
                                display_name=body.display_name, ip=client_ip(request))
    return _user_public(user)


class RoleUpdate(_In):
    role: Role


@router.delete("/users/{user_id}/mfa", response_model=UserPublic, tags=["users"])
def reset_mfa(user_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed, request: Request) -> UserPublic:
    """Switch a user's TOTP off, e.g. after a lost phone (admins; audited; the user's sessions
    are revoked and they enrol again)."""
    return _user_public(ctx.auth.reset_mfa(auth.principal, user_id, ip=client_ip(request)))


@router.put("/users/{user_id}/role", response_model=UserPublic, tags=["users"])
def set_role(user_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: RoleUpdate, ctx: Ctx, auth: Authed, request: Request) -> UserPublic:
    """Change a user's role (admins; audited; the user's sessions are revoked)."""
    return _user_public(ctx.auth.set_role(auth.principal, user_id, body.role, ip=client_ip(request)))


class PasswordResetPublic(BaseModel):
    user: UserPublic
    temporary_password: str = Field(description="a one-time password, shown only in this reply; the user must "
                                                "change it at the next sign-in")


@router.post("/users/{user_id}/password", response_model=PasswordResetPublic, tags=["users"])
def reset_password(user_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, auth: Authed,
                   request: Request) -> PasswordResetPublic:
    """Give a user a new one-time password (admins; audited `user.password_reset`; the user's
    sessions end and a lock-out is lifted). Nobody resets their own password this way."""
    temporary, user = ctx.auth.reset_password(auth.principal, user_id, ip=client_ip(request))
    return PasswordResetPublic(user=_user_public(user), temporary_password=temporary)
