from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from anfu.security import totp
from anfu.security.passwords import hash_password

PASSWORD = "Lan-Hua-Shan-2024!"


@pytest.fixture(scope="module")
def fresh(make_world: Any) -> Any:
    return make_world(login_max_attempts=3)


def anonymous(world: Any) -> TestClient:
    return TestClient(world.app, raise_server_exceptions=False)


def test_login_sets_strict_httponly_cookie_and_csrf_is_required(fresh: Any) -> None:
    client = anonymous(fresh)
    r = client.post("/api/v1/auth/login", json={"username": "agent_a1", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookies = [v for k, v in r.headers.multi_items() if k == "set-cookie"]
    session = next(c for c in cookies if c.startswith("anfu_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session.replace("Strict", "strict")
    csrf = r.json()["csrf_token"]
    assert r.json()["user"]["role"] == "agent" and "password_hash" not in r.text
    assert client.get("/api/v1/me").json()["via"] == "session"
    body = {"text": "我的快递丢了，谁来负责？", "conversation_ref": "csrf-1"}
    denied = client.post("/api/v1/messages", json=body)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "AF436"
    forged = client.post("/api/v1/messages", json=body, headers={"X-CSRF-Token": csrf[:-2] + "xx"})
    assert forged.status_code == 403
    assert client.post("/api/v1/messages", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200 and out.json()["ok"] is True
    client.cookies.clear()
    assert client.get("/api/v1/me").json()["error"]["code"] == "AF437"


def test_revoked_session_cookie_is_refused(fresh: Any) -> None:
    client = anonymous(fresh)
    r = client.post("/api/v1/auth/login", json={"username": "agent_a2", "password": PASSWORD})
    token = client.cookies.get("anfu_session")
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": r.json()["csrf_token"]})
    replay = anonymous(fresh)
    replay.cookies.set("anfu_session", token)
    assert replay.get("/api/v1/me").json()["error"]["code"] == "AF414"


def test_wrong_password_locks_the_account_and_is_audited(fresh: Any) -> None:
    client = anonymous(fresh)
    for _ in range(3):
        r = client.post("/api/v1/auth/login", json={"username": "agent_a1b", "password": "wrong-password-123"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "AF410"
    locked = client.post("/api/v1/auth/login", json={"username": "agent_a1b", "password": PASSWORD})
    assert locked.status_code == 423 and locked.json()["error"]["code"] == "AF411"
    actions = [e.action for e in fresh.store.list_audit(_admin(fresh), page_size=200).items]
    assert "auth.login_failed" in actions and "auth.locked" in actions and "auth.login" in actions


def _admin(world: Any) -> Any:
    from anfu.store import Principal

    return Principal.of_user(world.users["admin_a"])


def test_admin_needs_totp_and_first_run_password_change(fresh: Any) -> None:
    client = anonymous(fresh)
    no_code = client.post("/api/v1/auth/login", json={"username": "admin_a", "password": PASSWORD})
    assert no_code.status_code == 401 and no_code.json()["error"]["code"] == "AF413"
    code = totp.code_at("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", totp.step_at(datetime.now(timezone.utc)))
    ok = client.post("/api/v1/auth/login", json={"username": "admin_a", "password": PASSWORD, "totp": code})
    assert ok.status_code == 200 and ok.json()["restricted"] is None
    # a user with a one-time password may only change it
    store = fresh.store
    user = store.create_user(fresh.tenants["a"].id, "newbie", hash_password(PASSWORD), "agent",
                             team_id=fresh.teams["a1"].id, must_change_password=True)
    newbie = anonymous(fresh)
    r = newbie.post("/api/v1/auth/login", json={"username": "newbie", "password": PASSWORD})
    assert r.json()["restricted"] == "change_password"
    csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
    blocked = newbie.get("/api/v1/conversations")
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "AF443"
    weak = newbie.post("/api/v1/auth/password", json={"old_password": PASSWORD, "new_password": "123"}, headers=csrf)
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "AF416"
    done = newbie.post("/api/v1/auth/password", headers=csrf,
                       json={"old_password": PASSWORD, "new_password": "Qing-Shui-He-2025#"})
    assert done.status_code == 200 and done.json()["must_change_password"] is False
    assert newbie.get("/api/v1/conversations").status_code == 200
    assert store.get_user(user.id).must_change_password is False


def test_api_tokens_issue_use_revoke(fresh: Any) -> None:
    admin = fresh.client("admin_a")
    issued = admin.post("/api/v1/auth/tokens", json={"name": "crm", "role": "supervisor",
                                                     "team_id": fresh.teams["a1"].id})
    assert issued.status_code == 201
    token = issued.json()["token"]
    crm = anonymous(fresh)
    crm.headers["Authorization"] = f"Bearer {token}"
    me = crm.get("/api/v1/me").json()
    assert me["via"] == "token" and me["role"] == "supervisor"
    # bearer requests need no CSRF token
    assert crm.post("/api/v1/messages", json={"text": "燃气费怎么这么贵", "conversation_ref": "tok-1"}).status_code == 201
    assert admin.delete(f"/api/v1/auth/tokens/{issued.json()['id']}").json()["ok"] is True
    assert crm.get("/api/v1/me").json()["error"]["code"] == "AF415"
    agent = fresh.client("agent_a1")
    denied = agent.post("/api/v1/auth/tokens", json={"name": "x"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "AF417"


def test_security_headers_on_every_response(fresh: Any) -> None:
    client = anonymous(fresh)
    for r in (client.get("/api/v1/health"), client.get("/api/v1/conversations"), client.get("/nope")):
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert "unsafe-eval" not in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
