"""A service on a temporary SQLite database with two tenants, teams and one user per role."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from anfu.security.passwords import hash_password
from anfu.security.tokens import hash_token
from anfu.server import create_app
from anfu.server.deps import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, csrf_token
from anfu.settings import get_settings
from anfu.store import upgrade

PASSWORD = "Lan-Hua-Shan-2024!"
ORIGIN = "http://testserver"
ADMIN_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class World:
    app: Any
    settings: Any
    store: Any
    tmp: Path
    users: dict[str, Any] = field(default_factory=dict)
    tenants: dict[str, Any] = field(default_factory=dict)
    teams: dict[str, Any] = field(default_factory=dict)

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx

    def client(self, who: str | None = None) -> TestClient:
        """A client signed in as `who` (a session cookie plus the CSRF header), or anonymous."""
        client = TestClient(self.app, raise_server_exceptions=False)
        if who is not None:
            user = self.users[who]
            token = secrets.token_urlsafe(32)
            self.store.create_session(user.id, hash_token(token),
                                      datetime.now(timezone.utc) + timedelta(hours=1), mfa_verified=True)
            client.cookies.set(SESSION_COOKIE, token)
            client.cookies.set(CSRF_COOKIE, csrf_token(self.ctx, token))
            client.headers[CSRF_HEADER] = csrf_token(self.ctx, token)
        return client

    def token_client(self, who: str, role: str | None = None) -> TestClient:
        """A client with an API token of `who`'s tenant and team (role defaults to theirs)."""
        from anfu.security import tokens

        user = self.users[who]
        token, token_hash, prefix = tokens.new_api_token()
        self.store.create_api_token(user.tenant_id, f"integration-{who}", role or user.role, token_hash, prefix,
                                    team_id=user.team_id)
        client = TestClient(self.app, raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {token}"
        return client


def build_world(tmp: Path, analyzer: Any, **overrides: Any) -> World:
    settings = get_settings(environment="test", data_dir=tmp, secret_key=secrets.token_urlsafe(48),
                            allowed_origins=[ORIGIN], **overrides)
    upgrade(settings)
    app = create_app(settings, analyzer=analyzer)
    store = app.state.ctx.store
    world = World(app=app, settings=settings, store=store, tmp=tmp)
    pw = hash_password(PASSWORD)
    for slug in ("a", "b"):
        tenant = store.create_tenant(f"tenant-{slug}", f"租户{slug.upper()}")
        world.tenants[slug] = tenant
        for team in ("1", "2"):
            world.teams[slug + team] = store.create_team(tenant.id, f"班组{slug}{team}")
    spec = {  # name: (tenant, team, role)
        "agent_a1": ("a", "a1", "agent"), "agent_a1b": ("a", "a1", "agent"), "agent_a2": ("a", "a2", "agent"),
        "sup_a1": ("a", "a1", "supervisor"), "sup_a2": ("a", "a2", "supervisor"),
        "admin_a": ("a", None, "admin"), "auditor_a": ("a", None, "auditor"),
        "agent_b1": ("b", "b1", "agent"), "sup_b1": ("b", "b1", "supervisor"), "admin_b": ("b", None, "admin"),
    }
    for name, (tenant, team, role) in spec.items():
        world.users[name] = store.create_user(world.tenants[tenant].id, name, pw, role,
                                              team_id=world.teams[team].id if team else None,
                                              display_name=name)
        if role == "admin":  # admins must have TOTP: enrol them so their sessions are unrestricted
            world.users[name] = store.update_user(world.users[name].id, mfa_enabled=True,
                                                  totp_secret=ADMIN_TOTP)
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, analyzer: Any) -> World:
    return build_world(tmp_path_factory.mktemp("anfu-server"), analyzer)


@pytest.fixture(scope="module")
def make_world(tmp_path_factory: pytest.TempPathFactory, analyzer: Any) -> Any:
    """`make_world(**settings)`: a separate service, for tests that change settings or state."""
    def make(**overrides: Any) -> World:
        return build_world(tmp_path_factory.mktemp("anfu-world"), analyzer, **overrides)
    return make
