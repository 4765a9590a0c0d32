"""Sign-in, sessions, API tokens and account administration: the server's one entry point.

`Authenticator(store, settings)` combines passwords, TOTP, tokens and throttling with the
store and writes the audit log (sign-ins, failures, lock-outs, role changes, tokens). The
server keeps only the opaque session token in an HttpOnly cookie and calls
`authenticate_session(token)` per request; integrations send an API token and go through
`authenticate_api_token(token)`. Both return an `Identity` whose `principal` feeds the
object-level checks of `anfu.store.access`.
"""

from __future__ import annotations

from collections.abc import Callable
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import AuthError, NotFoundError
from ..store import Principal, Store, access
from ..store.records import ApiToken, AuthSession, User
from ..store.tables import utcnow
from . import passwords, secretbox, tokens, totp
from .lockout import LoginGuard

# Why a signed-in user may, for now, only fix their account (the server allows nothing else).
RESTRICTED_CHANGE_PASSWORD = "change_password"
RESTRICTED_ENROL_MFA = "enrol_mfa"


@dataclass(frozen=True)
class Identity:
    """Who made a request. `restricted` is None, or what they must do before anything else."""

    principal: Principal
    user: User | None = None
    session: AuthSession | None = None
    api_token: ApiToken | None = None
    restricted: str | None = None


@dataclass(frozen=True)
class LoginResult:
    token: str  # the session cookie value; never stored or logged
    identity: Identity


def _restriction(user: User, session: AuthSession | None) -> str | None:
    if user.must_change_password:
        return RESTRICTED_CHANGE_PASSWORD
    if user.role == "admin" and not (user.mfa_enabled and (session is None or session.mfa_verified)):
        return RESTRICTED_ENROL_MFA
    return None


#: most API tokens a process remembers at once (then it starts over)
TOKEN_CACHE_MAX = 4096


class Authenticator:
    def __init__(self, store: Store, settings: Any, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.ttl = timedelta(minutes=settings.session_ttl_minutes)
        self.guard = LoginGuard(store, settings, clock)
        # API tokens looked up recently: token hash -> (monotonic deadline, identity); one
        # owner (this object), plain dict operations (safe for the request threads)
        self.token_cache_s = float(getattr(settings, "api_token_cache_seconds", 0.0) or 0.0)
        self._tokens: dict[str, tuple[float, Identity]] = {}

    # sign-in ------------------------------------------------------------------------------
    def login(self, username: str, password: str, *, totp_code: str | None = None, ip: str | None = None,
              user_agent: str | None = None) -> LoginResult:
        """Check the credentials and open a session; raises AF410–AF413."""
        user = self.store.get_user_by_username(username)
        tenant_id = user.tenant_id if user else None
        try:
            self.guard.check(user if user and user.active else None, ip, username)
        except AuthError as exc:
            self.store.audit(tenant_id, f"user:{username}", "auth.login_blocked", detail={"code": exc.code}, ip=ip)
            raise
        if user is None or not user.active:
            passwords.verify_password(passwords.dummy_hash(), password)
            self._fail(user if user and user.active else None, username, tenant_id, ip, "unknown user")
        assert user is not None
        if not passwords.verify_password(user.password_hash, password):
            self._fail(user, username, tenant_id, ip, "wrong password")
        if user.mfa_enabled:
            if not totp_code:
                raise AuthError("AF413")
            step = totp.verify(self._totp_secret(user.totp_secret), totp_code, now=self.clock(),
                               last_step=user.totp_last_step)
            if step is None:
                self._fail(user, username, tenant_id, ip, "wrong one-time code")
            changes: dict[str, Any] = {"totp_last_step": step}
            if not secretbox.is_sealed(user.totp_secret):  # a legacy plain secret: encrypt it now
                changes["totp_secret"] = self._seal(user.totp_secret or "")
            user = self.store.update_user(user.id, **changes)
        if passwords.needs_rehash(user.password_hash):
            user = self.store.update_user(user.id, password_hash=passwords.hash_password(password))
        user = self.guard.success(user)
        token = tokens.new_token()
        session = self.store.create_session(user.id, tokens.hash_token(token), self.clock() + self.ttl,
                                            mfa_verified=user.mfa_enabled, ip=ip, user_agent=user_agent)
        self.store.audit(user.tenant_id, f"user:{username}", "auth.login", target=f"user:{user.id}",
                         detail={"mfa": user.mfa_enabled}, ip=ip)
        identity = Identity(Principal.of_user(user), user=user, session=session,
                            restricted=_restriction(user, session))
        return LoginResult(token, identity)

    def _key(self) -> str:
        return self.settings.secret_key.get_secret_value()

    def _seal(self, secret: str) -> str:
        return secretbox.seal(secret, self._key())

    def _totp_secret(self, stored: str | None) -> str:
        return secretbox.open_secret(stored, self._key()) or ""

    def _fail(self, user: User | None, username: str, tenant_id: int | None, ip: str | None, why: str) -> None:
        updated = self.guard.failure(user, ip, username)
        self.store.audit(tenant_id, f"user:{username}", "auth.login_failed", detail={"reason": why}, ip=ip)
        if updated is not None and updated.locked_until is not None and updated.locked_until > self.clock():
            self.store.audit(tenant_id, "system", "auth.locked", target=f"user:{updated.id}", ip=ip)
        raise AuthError("AF410")

    def authenticate_session(self, token: str | None) -> Identity | None:
        """The identity behind a session cookie, or None (expired, revoked, unknown).
        Sessions slide: one used in the second half of its lifetime is extended."""
        if not token:
            return None
        session = self.store.get_session(tokens.hash_token(token))
        if session is None:
            return None
        user = self.store.get_user(session.user_id)
        now = self.clock()
        if session.expires_at - now < self.ttl / 2:
            self.store.extend_session(session.id, now + self.ttl)
        return Identity(Principal.of_user(user), user=user, session=session,
                        restricted=_restriction(user, session))

    def authenticate_api_token(self, token: str | None) -> Identity | None:
        if not token or not token.startswith(tokens.API_TOKEN_PREFIX):
            return None
        token_hash = tokens.hash_token(token)
        record = self.store.get_api_token(token_hash)
        if record is None:
            self._tokens.pop(token_hash, None)
            return None
        identity = Identity(Principal.of_token(record), api_token=record)
        if self.token_cache_s > 0:
            if len(self._tokens) >= TOKEN_CACHE_MAX:
                self._tokens.clear()
            self._tokens[token_hash] = (time.monotonic() + self.token_cache_s, identity)
        return identity

    def cached_api_token(self, token: str | None) -> Identity | None:
        """The identity of a valid API token this process looked up less than
        `api_token_cache_seconds` ago, without reading the database; None otherwise (the caller
        then calls `authenticate_api_token`). A token revoked through this object is forgotten at
        once; one revoked by another process works here for at most that long."""
        if not token or self.token_cache_s <= 0 or not token.startswith(tokens.API_TOKEN_PREFIX):
            return None
        token_hash = tokens.hash_token(token)
        entry = self._tokens.get(token_hash)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._tokens.pop(token_hash, None)
            return None
        return entry[1]

    def logout(self, token: str | None, *, ip: str | None = None) -> bool:
        identity = self.authenticate_session(token)
        if identity is None or identity.session is None or identity.user is None:
            return False
        self.store.revoke_session(identity.session.id)
        self.store.audit(identity.user.tenant_id, identity.principal.actor, "auth.logout", ip=ip)
        return True

    # the user's own account ------------------------------------------------------------------
    def change_password(self, identity: Identity, old: str, new: str, *, ip: str | None = None) -> User:
        """Change one's password; every other session of the user is revoked."""
        user = self._own_user(identity)
        if not passwords.verify_password(user.password_hash, old):
            raise AuthError("AF410")
        passwords.check_password(new, user.username)
        if new == old:
            raise AuthError("AF416", "same as the old password")
        user = self.store.update_user(user.id, password_hash=passwords.hash_password(new),
                                      must_change_password=False)
        self.store.revoke_user_sessions(user.id, keep=identity.session.id if identity.session else None)
        self.store.audit(user.tenant_id, identity.principal.actor, "auth.password_changed",
                         target=f"user:{user.id}", ip=ip)
        return user

    def begin_mfa_enrolment(self, identity: Identity, current_code: str | None = None, *,
                            ip: str | None = None) -> tuple[str, str]:
        """A new TOTP secret for the user, with its otpauth:// URI; active once confirmed.

        An enrolled user must give a current code of the authenticator they have (AF413 without
        one, AF410 for a wrong one): a stolen password alone cannot replace it. Until the new
        secret is confirmed, the old one stays in force."""
        user = self._own_user(identity)
        if user.mfa_enabled:
            if not current_code:
                raise AuthError("AF413")
            step = totp.verify(self._totp_secret(user.totp_secret), current_code, now=self.clock(),
                               last_step=user.totp_last_step)
            if step is None:
                self.store.audit(user.tenant_id, identity.principal.actor, "auth.mfa_reenrol_refused",
                                 target=f"user:{user.id}", ip=ip)
                raise AuthError("AF410")
            self.store.update_user(user.id, totp_last_step=step)
        secret = totp.new_secret()
        self.store.update_user(user.id, totp_pending=self._seal(secret))
        return secret, totp.provisioning_uri(secret, user.username)

    def confirm_mfa(self, identity: Identity, code: str, *, ip: str | None = None) -> User:
        user = self._own_user(identity)
        if not user.totp_pending:
            raise AuthError("AF413")
        secret = self._totp_secret(user.totp_pending)
        # a fresh secret has no used steps yet (totp_last_step belongs to the one it replaces)
        step = totp.verify(secret, code, now=self.clock())
        if step is None:
            raise AuthError("AF410")
        user = self.store.update_user(user.id, mfa_enabled=True, totp_secret=user.totp_pending,
                                      totp_pending=None, totp_last_step=step)
        if identity.session is not None:
            self.store.mark_session_mfa_verified(identity.session.id)
        self.store.audit(user.tenant_id, identity.principal.actor, "auth.mfa_enabled",
                         target=f"user:{user.id}", ip=ip)
        return user

    def _own_user(self, identity: Identity) -> User:
        if identity.user is None:
            raise AuthError("AF417", "change an account with an API token")
        return self.store.get_user(identity.user.id)

    # administration -------------------------------------------------------------------------
    def create_user(self, by: Principal, username: str, password: str, role: str, *,
                    team_id: int | None = None, display_name: str = "", ip: str | None = None) -> User:
        """An admin creates an account; the user must change the password at first sign-in."""
        access.require(by, "users.manage")
        passwords.check_password(password, username)
        user = self.store.create_user(by.tenant_id, username, passwords.hash_password(password), role,
                                      team_id=team_id, display_name=display_name, must_change_password=True)
        self.store.audit(by.tenant_id, by.actor, "user.created", target=f"user:{user.id}",
                         detail={"role": role}, ip=ip)
        return user

    def set_role(self, by: Principal, user_id: int, role: str, *, team_id: int | None | Any = ...,
                 ip: str | None = None) -> User:
        """Change a user's role (and team); their sessions are revoked so it takes effect now."""
        access.require(by, "users.manage")
        target = self._tenant_user(by, user_id)
        changes: dict[str, Any] = {"role": role}
        if team_id is not ...:
            changes["team_id"] = team_id
        user = self.store.update_user(target.id, **changes)
        self.store.revoke_user_sessions(target.id)
        self.store.audit(by.tenant_id, by.actor, "user.role_changed", target=f"user:{user_id}",
                         detail={"from": target.role, "to": role}, ip=ip)
        return user

    def reset_password(self, by: Principal, user_id: int, *, ip: str | None = None) -> tuple[str, User]:
        """An admin gives a user a new one-time password: (the password, shown once; the user).
        The user must change it at the next sign-in; their sessions end and a lock-out is lifted.
        Nobody resets their own password this way (they change it on their account page)."""
        access.require(by, "users.manage")
        target = self._tenant_user(by, user_id)
        if target.id == by.user_id:
            raise AuthError("AF417", "reset your own password (change it on your account page)")
        temporary = passwords.generate_password()
        user = self.store.update_user(target.id, password_hash=passwords.hash_password(temporary),
                                      must_change_password=True, failed_logins=0, locked_until=None)
        self.store.revoke_user_sessions(target.id)
        self.store.audit(by.tenant_id, by.actor, "user.password_reset", target=f"user:{user_id}", ip=ip)
        return temporary, user

    def reset_mfa(self, by: Principal, user_id: int, *, ip: str | None = None) -> User:
        """An admin switches a user's TOTP off (a lost phone); audited, the user's sessions are
        revoked and they enrol again at their next sign-in (admins must)."""
        access.require(by, "users.manage")
        self._tenant_user(by, user_id)
        user = self.store.update_user(user_id, mfa_enabled=False, totp_secret=None, totp_pending=None)
        self.store.revoke_user_sessions(user_id)
        self.store.audit(by.tenant_id, by.actor, "user.mfa_reset", target=f"user:{user_id}", ip=ip)
        return user

    def unlock(self, by: Principal, user_id: int, *, ip: str | None = None) -> User:
        access.require(by, "users.manage")
        self._tenant_user(by, user_id)
        user = self.store.register_login_success(user_id)
        self.store.audit(by.tenant_id, by.actor, "user.unlocked", target=f"user:{user_id}", ip=ip)
        return user

    def deactivate(self, by: Principal, user_id: int, *, ip: str | None = None) -> User:
        access.require(by, "users.manage")
        self._tenant_user(by, user_id)
        user = self.store.update_user(user_id, active=False)
        self.store.revoke_user_sessions(user_id)
        self.store.audit(by.tenant_id, by.actor, "user.deactivated", target=f"user:{user_id}", ip=ip)
        return user

    def issue_api_token(self, by: Principal, name: str, role: str, *, team_id: int | None = None,
                        ip: str | None = None) -> tuple[str, ApiToken]:
        """A new integration token: (the token, shown once; its stored record)."""
        access.require(by, "tokens.manage")
        token, token_hash, prefix = tokens.new_api_token()
        record = self.store.create_api_token(by.tenant_id, name, role, token_hash, prefix, team_id=team_id,
                                             created_by=by.user_id)
        self.store.audit(by.tenant_id, by.actor, "token.created", target=f"token:{record.id}",
                         detail={"name": name, "role": role}, ip=ip)
        return token, record

    def api_tokens(self, by: Principal) -> list[ApiToken]:
        """The tenant's API tokens, revoked ones included, newest first (admins); the records
        hold only the token's hash and its first characters, never the token."""
        access.require(by, "tokens.manage")
        return sorted(self.store.list_api_tokens(by.tenant_id), key=lambda t: (t.revoked_at is not None, -t.id))

    def revoke_api_token(self, by: Principal, token_id: int, *, ip: str | None = None) -> bool:
        access.require(by, "tokens.manage")
        revoked = self.store.revoke_api_token(token_id, tenant_id=by.tenant_id)
        self._tokens.clear()  # the revoked token's hash is not at hand: forget them all
        if revoked:
            self.store.audit(by.tenant_id, by.actor, "token.revoked", target=f"token:{token_id}", ip=ip)
        return revoked

    def _tenant_user(self, by: Principal, user_id: int) -> User:
        try:
            user = self.store.get_user(user_id)
        except NotFoundError:
            user = None
        if user is None or user.tenant_id != by.tenant_id:
            raise NotFoundError("AF503", user_id, kind="user")
        return user
