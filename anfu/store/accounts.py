"""Store methods for tenants, teams, users, sign-in sessions and API tokens.

Mixed into `anfu.store.repo.Store`; password hashing, token generation and TOTP live in
`anfu.security` — this module only persists their results (hashes, never secrets in clear).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import hashlib
import hmac

from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from ..errors import NotFoundError, StoreError
from .engine import writer
from .records import ApiToken, AuthSession, Team, Tenant, User, from_row
from .tables import ROLES, ApiTokenRow, SessionRow, TeamRow, TenantRow, UserRow, utcnow

_TOKEN_BY_HASH = (select(ApiTokenRow.__table__)
                  .where(ApiTokenRow.__table__.c.token_hash == bindparam("token_hash"),
                         ApiTokenRow.__table__.c.revoked_at.is_(None)))
USER_FIELDS = frozenset({"team_id", "display_name", "role", "password_hash", "must_change_password",
                         "totp_secret", "totp_pending", "totp_last_step", "mfa_enabled", "active", "failed_logins",
                         "locked_until"})


@contextmanager
def _out_of_range() -> Iterator[None]:
    """A number the database cannot hold (an id of 2^63 or more, a year past 9999) is a bad
    value (AF505, 422), not a server error."""
    try:
        yield
    except (OverflowError, DataError) as exc:
        raise StoreError("AF505", f"a number or date is out of range ({type(exc).__name__})",
                         kind="value") from None


def unique_violation(exc: IntegrityError, constraint: str | None = None) -> bool:
    """Whether an IntegrityError is a unique-constraint violation (PostgreSQL SQLSTATE 23505,
    SQLite "UNIQUE constraint failed"), optionally of the named constraint (PostgreSQL) — not a
    foreign key, NOT NULL or CHECK failure, which callers must not report as a lost race."""
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state is not None:
        if state != "23505":
            return False
        if constraint is None:
            return True
        name = getattr(getattr(orig, "diag", None), "constraint_name", None)
        return name is None or name == constraint
    return "UNIQUE constraint failed" in str(orig) or "unique constraint" in str(orig).lower()


class StoreBase:
    """Engine, clock and transaction helpers shared by the store's parts."""

    def __init__(self, engine: Engine, *, mask_text: bool = False,
                 clock: Callable[[], datetime] = utcnow, pii_key: str | bytes | None = None) -> None:
        self.engine = engine
        self.mask_text = mask_text
        self.clock = clock
        self._writer = writer(engine)
        # Keys the digests customers are matched on (the server passes its secret key).
        key = pii_key.encode("utf-8") if isinstance(pii_key, str) else pii_key
        self._pii_key = hashlib.sha256(b"anfu.pii.digest|" + (key or b"")).digest()

    def pii_digest(self, value: str | None) -> str | None:
        """Keyed digest of a normalised phone number or e-mail address (for matching)."""
        if not value:
            return None
        return hmac.new(self._pii_key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def _stored(self, value: Any) -> Any:
        """What the store keeps of a text or JSON value: masked under ANFU_STORE_MASKED_TEXT."""
        if not self.mask_text:
            return value
        from ..pii import mask_data

        return mask_data(value)

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with _out_of_range(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One transaction, committed (durably) when the block exits without error."""
        with _out_of_range(), Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    @staticmethod
    def _check_role(role: str) -> None:
        if role not in ROLES:
            raise StoreError("AF505", f"{role!r}, use one of {', '.join(ROLES)}", kind="role")

    @staticmethod
    def _get(session: Session, row_type: type, row_id: int, kind: str) -> Any:
        row = session.get(row_type, row_id)
        if row is None:
            raise NotFoundError("AF503", row_id, kind=kind)
        return row


class AccountsMixin(StoreBase):
    # tenants and teams -------------------------------------------------------------------
    def create_tenant(self, slug: str, name: str) -> Tenant:
        try:
            with self._write() as s:
                row = TenantRow(slug=slug, name=name, created_at=self.clock())
                s.add(row)
                s.flush()
                return from_row(Tenant, row)
        except IntegrityError:
            raise StoreError("AF504", slug, kind="tenant") from None

    def get_tenant(self, tenant_id: int) -> Tenant:
        with self._read() as s:
            return from_row(Tenant, self._get(s, TenantRow, tenant_id, "tenant"))

    def rename_tenant(self, tenant_id: int, name: str) -> Tenant:
        with self._write() as s:
            row = self._get(s, TenantRow, tenant_id, "tenant")
            row.name = name
            s.flush()
            return from_row(Tenant, row)

    def get_tenant_by_slug(self, slug: str) -> Tenant | None:
        with self._read() as s:
            row = s.scalar(select(TenantRow).where(TenantRow.slug == slug))
            return None if row is None else from_row(Tenant, row)

    def list_tenants(self) -> list[Tenant]:
        with self._read() as s:
            return [from_row(Tenant, r) for r in s.scalars(select(TenantRow).order_by(TenantRow.id))]

    def create_team(self, tenant_id: int, name: str) -> Team:
        try:
            with self._write() as s:
                self._get(s, TenantRow, tenant_id, "tenant")
                row = TeamRow(tenant_id=tenant_id, name=name, created_at=self.clock())
                s.add(row)
                s.flush()
                return from_row(Team, row)
        except IntegrityError:
            raise StoreError("AF504", name, kind="team") from None

    def get_team(self, team_id: int) -> Team:
        with self._read() as s:
            return from_row(Team, self._get(s, TeamRow, team_id, "team"))

    def list_teams(self, tenant_id: int) -> list[Team]:
        with self._read() as s:
            rows = s.scalars(select(TeamRow).where(TeamRow.tenant_id == tenant_id).order_by(TeamRow.id))
            return [from_row(Team, r) for r in rows]

    # users --------------------------------------------------------------------------------
    def _check_team(self, s: Session, tenant_id: int, team_id: int | None) -> None:
        if team_id is not None:
            team = s.get(TeamRow, team_id)
            if team is None or team.tenant_id != tenant_id:
                raise StoreError("AF505", f"team {team_id} is not a team of tenant {tenant_id}", kind="team")

    def create_user(self, tenant_id: int, username: str, password_hash: str, role: str, *,
                    team_id: int | None = None, display_name: str = "",
                    must_change_password: bool = False) -> User:
        """A new account. `password_hash` comes from `anfu.security.passwords.hash_password`."""
        self._check_role(role)
        if not username or len(username) > 150 or username != username.strip():
            raise StoreError("AF505", f"user name {username!r}", kind="user name")
        try:
            with self._write() as s:
                self._get(s, TenantRow, tenant_id, "tenant")
                self._check_team(s, tenant_id, team_id)
                row = UserRow(tenant_id=tenant_id, team_id=team_id, username=username,
                              display_name=display_name, role=role, password_hash=password_hash,
                              must_change_password=must_change_password, mfa_enabled=False,
                              failed_logins=0, active=True, created_at=self.clock())
                s.add(row)
                s.flush()
                return from_row(User, row)
        except IntegrityError:
            raise StoreError("AF504", username, kind="user") from None

    def get_user(self, user_id: int) -> User:
        with self._read() as s:
            return from_row(User, self._get(s, UserRow, user_id, "user"))

    def get_user_by_username(self, username: str) -> User | None:
        with self._read() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username))
            return None if row is None else from_row(User, row)

    def list_users(self, tenant_id: int) -> list[User]:
        with self._read() as s:
            rows = s.scalars(select(UserRow).where(UserRow.tenant_id == tenant_id).order_by(UserRow.id))
            return [from_row(User, r) for r in rows]

    def count_users(self) -> int:
        with self._read() as s:
            return s.scalar(select(func.count()).select_from(UserRow)) or 0

    def update_user(self, user_id: int, **changes: Any) -> User:
        """Change any of `USER_FIELDS`; returns the updated user."""
        unknown = set(changes) - USER_FIELDS
        if unknown:
            raise StoreError("AF505", f"cannot change {sorted(unknown)}", kind="user update")
        if "role" in changes:
            self._check_role(changes["role"])
        with self._write() as s:
            row = self._get(s, UserRow, user_id, "user")
            if "team_id" in changes:
                self._check_team(s, row.tenant_id, changes["team_id"])
            if row.role == "admin" and row.active and (changes.get("role", "admin") != "admin"
                                                       or changes.get("active", True) is False):
                self._keep_an_admin(s, row)
            for key, value in changes.items():
                setattr(row, key, value)
            s.flush()
            return from_row(User, row)

    @staticmethod
    def _keep_an_admin(s: Session, row: UserRow) -> None:
        """AF419 unless the tenant has another active admin than `row`. The tenant's row is
        locked first (PostgreSQL; SQLite's writes are serialised already), so two admins demoting
        each other at once cannot both succeed and leave the tenant with none."""
        s.execute(select(TenantRow.id).where(TenantRow.id == row.tenant_id).with_for_update())
        others = s.scalar(select(func.count()).select_from(UserRow).where(
            UserRow.tenant_id == row.tenant_id, UserRow.role == "admin", UserRow.active.is_(True),
            UserRow.id != row.id)) or 0
        if others == 0:
            raise StoreError("AF419", row.username)

    def register_login_failure(self, user_id: int, *, max_attempts: int, lockout: timedelta) -> User:
        """Count a failed sign-in; lock the account for `lockout` at `max_attempts` failures."""
        with self._write() as s:
            row = self._get(s, UserRow, user_id, "user")
            row.failed_logins += 1
            if row.failed_logins >= max_attempts:
                row.locked_until = self.clock() + lockout
                row.failed_logins = 0
            s.flush()
            return from_row(User, row)

    def register_login_success(self, user_id: int) -> User:
        with self._write() as s:
            row = self._get(s, UserRow, user_id, "user")
            row.failed_logins = 0
            row.locked_until = None
            s.flush()
            return from_row(User, row)

    # sessions -----------------------------------------------------------------------------
    def create_session(self, user_id: int, token_hash: str, expires_at: datetime, *,
                       mfa_verified: bool = False, ip: str | None = None,
                       user_agent: str | None = None) -> AuthSession:
        with self._write() as s:
            self._get(s, UserRow, user_id, "user")
            row = SessionRow(user_id=user_id, token_hash=token_hash, mfa_verified=mfa_verified,
                             created_at=self.clock(), expires_at=expires_at, ip=ip,
                             user_agent=(user_agent or "")[:300] or None)
            s.add(row)
            s.flush()
            return from_row(AuthSession, row)

    def get_session(self, token_hash: str) -> AuthSession | None:
        """The live session with this token hash: not revoked, not expired, user active."""
        with self._read() as s:
            row = s.scalar(
                select(SessionRow).join(UserRow, UserRow.id == SessionRow.user_id).where(
                    SessionRow.token_hash == token_hash, SessionRow.revoked_at.is_(None),
                    SessionRow.expires_at > self.clock(), UserRow.active.is_(True)))
            return None if row is None else from_row(AuthSession, row)

    def extend_session(self, session_id: int, expires_at: datetime) -> None:
        with self._write() as s:
            s.execute(update(SessionRow).where(SessionRow.id == session_id).values(expires_at=expires_at))

    def mark_session_mfa_verified(self, session_id: int) -> None:
        """The session's user has just proved a second factor (after enrolling TOTP)."""
        with self._write() as s:
            s.execute(update(SessionRow).where(SessionRow.id == session_id).values(mfa_verified=True))

    def revoke_session(self, session_id: int) -> bool:
        with self._write() as s:
            result = s.execute(update(SessionRow).where(
                SessionRow.id == session_id, SessionRow.revoked_at.is_(None)).values(revoked_at=self.clock()))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def revoke_user_sessions(self, user_id: int, *, keep: int | None = None) -> int:
        """Revoke every live session of a user (after a password or role change), except `keep`."""
        with self._write() as s:
            stmt = update(SessionRow).where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))
            if keep is not None:
                stmt = stmt.where(SessionRow.id != keep)
            return int(s.execute(stmt.values(revoked_at=self.clock())).rowcount)  # type: ignore[attr-defined]

    # API tokens ---------------------------------------------------------------------------
    def create_api_token(self, tenant_id: int, name: str, role: str, token_hash: str, prefix: str, *,
                         team_id: int | None = None, created_by: int | None = None) -> ApiToken:
        self._check_role(role)
        with self._write() as s:
            self._get(s, TenantRow, tenant_id, "tenant")
            self._check_team(s, tenant_id, team_id)
            row = ApiTokenRow(tenant_id=tenant_id, team_id=team_id, name=name, role=role,
                              token_hash=token_hash, prefix=prefix, created_by=created_by,
                              created_at=self.clock())
            s.add(row)
            s.flush()
            return from_row(ApiToken, row)

    def get_api_token(self, token_hash: str) -> ApiToken | None:
        """The unrevoked token with this hash (read on every request an integration makes: one
        Core statement on a pooled connection, no ORM session)."""
        with _out_of_range(), self.engine.connect() as conn:
            row = conn.execute(_TOKEN_BY_HASH, {"token_hash": token_hash}).first()
            return None if row is None else from_row(ApiToken, row)

    def list_api_tokens(self, tenant_id: int) -> list[ApiToken]:
        with self._read() as s:
            rows = s.scalars(select(ApiTokenRow).where(ApiTokenRow.tenant_id == tenant_id)
                             .order_by(ApiTokenRow.id))
            return [from_row(ApiToken, r) for r in rows]

    def revoke_api_token(self, token_id: int, *, tenant_id: int) -> bool:
        """Revoke the tenant's token `token_id`: True, or False when it was revoked already; a token
        that does not exist or is another tenant's is AF503, like a missing one."""
        with self._write() as s:
            result = s.execute(update(ApiTokenRow).where(
                ApiTokenRow.id == token_id, ApiTokenRow.tenant_id == tenant_id,
                ApiTokenRow.revoked_at.is_(None)).values(revoked_at=self.clock()))
            if result.rowcount:  # type: ignore[attr-defined]
                return True
            if s.scalar(select(ApiTokenRow.id).where(ApiTokenRow.id == token_id,
                                                     ApiTokenRow.tenant_id == tenant_id)) is None:
                raise NotFoundError("AF503", token_id, kind="API token")
            return False
