"""A service with the web workspace on a temporary SQLite database: one tenant, one team,
an agent, a supervisor and an auditor, and clients signed in as each; and the seeded service
centre that the browser tests' live servers copy (`seeded_centre`)."""

from __future__ import annotations

import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from anfu.security.passwords import hash_password
from anfu.security.tokens import hash_token, new_api_token
from anfu.server import create_app
from anfu.server.deps import CSRF_COOKIE, SESSION_COOKIE, csrf_token
from anfu.settings import get_settings
from anfu.store import upgrade

PASSWORD = "Lan-Hua-Shan-2024!"
ROOT = Path(__file__).resolve().parents[2]
ANGRY = "我们小区停电都三天了！！！报了两次修都没人来，你们到底管不管？"
THREAT = "排队排三天？今天再不来人我就打12345投诉，还要发抖音让大家看看你们的服务！"


@dataclass
class WebWorld:
    app: Any
    settings: Any
    store: Any
    users: dict[str, Any] = field(default_factory=dict)

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx

    def client(self, who: str | None = None, lang: str | None = None) -> TestClient:
        """A browser-like client signed in as `who` (session + CSRF cookies), or anonymous."""
        client = TestClient(self.app, raise_server_exceptions=True, follow_redirects=False)
        if who is not None:
            token = secrets.token_urlsafe(32)
            self.store.create_session(self.users[who].id, hash_token(token),
                                      datetime.now(timezone.utc) + timedelta(hours=1), mfa_verified=True)
            client.cookies.set(SESSION_COOKIE, token)
            client.cookies.set(CSRF_COOKIE, csrf_token(self.ctx, token))
            client.headers["X-CSRF-Token"] = csrf_token(self.ctx, token)
        if lang:
            client.cookies.set("anfu_lang", lang)
        return client

    def integration(self) -> TestClient:
        """An API-token client, like the web-chat gateway that delivers customer messages."""
        token, token_hash, prefix = new_api_token()
        user = self.users["wang"]
        self.store.create_api_token(user.tenant_id, "webchat-gateway", "supervisor", token_hash, prefix,
                                    team_id=user.team_id)
        client = TestClient(self.app, raise_server_exceptions=True)
        client.headers["Authorization"] = f"Bearer {token}"
        return client

    def customer_says(self, text: str, conversation_id: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"speaker": "customer", "text": text, "channel": "webchat", "industry": "power"}
        if conversation_id is None:
            body["agent_id"] = self.users["li"].id
        else:
            body["conversation_id"] = conversation_id
        response = self.integration().post("/api/v1/messages", json=body)
        assert response.status_code == 201, response.text
        return response.json()


def build_web_world(tmp: Path, analyzer: Any, origins: list[str] | None = None) -> WebWorld:
    settings = get_settings(environment="test", data_dir=tmp, secret_key=secrets.token_urlsafe(48),
                            allowed_origins=origins or ["http://testserver"])
    upgrade(settings)
    app = create_app(settings, analyzer=analyzer)
    store = app.state.ctx.store
    world = WebWorld(app=app, settings=settings, store=store)
    tenant = store.create_tenant("grid-95598", "国网某市供电公司")
    team = store.create_team(tenant.id, "95598一组")
    pw = hash_password(PASSWORD)
    for username, role, display in (("li", "agent", "李强"), ("zhao", "agent", "赵敏"), ("wang", "supervisor", "王丽"),
                                    ("qa", "auditor", "质检员")):
        world.users[username] = store.create_user(tenant.id, username, pw, role,
                                                  team_id=team.id if role != "auditor" else None,
                                                  display_name=display)
    return world


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, analyzer: Any) -> WebWorld:
    return build_web_world(tmp_path_factory.mktemp("anfu-web"), analyzer)


@pytest.fixture(scope="session")
def seeded_centre(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded service centre of live_server.py, made once per session; each module's server
    serves its own copy (seeding analyses every demo turn: most of a server's start)."""
    template = tmp_path_factory.mktemp("anfu-seeded")
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "web" / "live_server.py"), "--seed", str(template)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return template
