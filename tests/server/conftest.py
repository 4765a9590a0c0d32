"""A service with two tenants, teams and one user per role, on a temporary SQLite database
and, when ANFU_TEST_POSTGRES_URL is set (CI), again on PostgreSQL: every module that uses
`world` or `make_world` runs once per engine. Each PostgreSQL world gets its own schema of the
test database, so worlds (and other suites sharing the database) never see each other's rows.
"""

from __future__ import annotations

import itertools
import os
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
from anfu.store import make_engine, upgrade
from anfu.store.testing import postgres_test_url

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

    def conversation(self, who: str, ref: str, turns: list[tuple[str, str]]) -> int:
        """Post `turns` ((speaker, text), …) as `who` into a new conversation `ref`; its id."""
        client, cid = self.client(who), None
        for speaker, text in turns:
            body: dict[str, Any] = {"speaker": speaker, "text": text}
            body.update({"conversation_id": cid} if cid else {"conversation_ref": ref})
            reply = client.post("/api/v1/messages", json=body)
            assert reply.status_code == 201, reply.text
            cid = reply.json()["conversation"]["id"]
        assert cid is not None, "no turns"
        return cid

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


_SCHEMAS = itertools.count(1)


def postgres_schema_url(base: str, label: str = "srv") -> str:
    """A fresh, empty schema of the PostgreSQL test database; its URL (search_path set)."""
    from sqlalchemy import text

    schema = f"anfu_{label}_{os.getpid()}_{next(_SCHEMAS)}"
    engine = make_engine(url=base)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    """Drop the schema a `postgres_schema_url` names (nothing for other URLs)."""
    from sqlalchemy import text

    if "search_path%3D" not in url:
        return
    schema = url.rsplit("search_path%3D", 1)[1]
    engine = make_engine(url=postgres_test_url())
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def drop_world(world: "World") -> None:
    """Close the world's engine; on PostgreSQL drop its schema."""
    world.store.engine.dispose()
    drop_schema(world.settings.database_url)


@pytest.fixture
def postgres_schema() -> Any:
    """`postgres_schema(label) -> url`: fresh PostgreSQL schemas, dropped after the test."""
    base = postgres_test_url()
    if base is None:
        pytest.skip("ANFU_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    made: list[str] = []

    def make(label: str = "srv") -> str:
        made.append(postgres_schema_url(base, label))
        return made[-1]
    yield make
    for url in made:
        drop_schema(url)


def build_world(tmp: Path, analyzer: Any, engine: str = "sqlite", **overrides: Any) -> World:
    if engine == "postgresql":
        base = postgres_test_url()
        assert base is not None
        overrides.setdefault("database_url", postgres_schema_url(base))
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


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server_engine(request: pytest.FixtureRequest) -> str:
    """The database engine of this module's worlds (PostgreSQL only with ANFU_TEST_POSTGRES_URL)."""
    if request.param == "postgresql" and postgres_test_url() is None:
        pytest.skip("ANFU_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    return str(request.param)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, analyzer: Any, server_engine: str) -> Any:
    built = build_world(tmp_path_factory.mktemp("anfu-server"), analyzer, server_engine)
    yield built
    drop_world(built)


@pytest.fixture(scope="module")
def make_world(tmp_path_factory: pytest.TempPathFactory, analyzer: Any, server_engine: str) -> Any:
    """`make_world(**settings)`: a separate service, for tests that change settings or state."""
    built: list[World] = []

    def make(**overrides: Any) -> World:
        built.append(build_world(tmp_path_factory.mktemp("anfu-world"), analyzer, server_engine, **overrides))
        return built[-1]
    yield make
    for one in built:
        drop_world(one)


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory, analyzer: Any) -> Any:
    """A world on SQLite only, for tests about HTTP handling rather than the database."""
    built = build_world(tmp_path_factory.mktemp("anfu-sqlite"), analyzer)
    yield built
    drop_world(built)
