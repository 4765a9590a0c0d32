"""Probe: accounts and sign-in — MFA re-enrolment, password strength, user enumeration through
lock-out, TOTP secrets at rest, API rate limits (issue 12)."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

import pytest

from anfu.errors import AuthError
from anfu.security import passwords, totp

PASSWORD = "Lan-Hua-Shan-2024!"
ADMIN_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _now_code(secret: str) -> str:
    return totp.code_at(secret, totp.step_at(datetime.now(timezone.utc)))


def _stored_user(world: Any, name: str) -> tuple[Any, ...]:
    """(totp_secret, totp_pending, mfa_enabled) as stored, read past the store."""
    from sqlalchemy import text

    with world.store.engine.connect() as conn:
        return tuple(conn.execute(text("SELECT totp_secret, totp_pending, mfa_enabled FROM users WHERE username = :u"),
                                  {"u": name}).one())


def test_mfa_reenrolment_needs_the_current_code(make_world: Any) -> None:
    world = make_world()
    admin = world.client("admin_a")  # signed in with password and TOTP
    user_id = world.users["admin_a"].id
    bare = admin.post("/api/v1/auth/mfa/begin")
    assert bare.status_code == 401 and bare.json()["error"]["code"] == "AF413"
    wrong = admin.post("/api/v1/auth/mfa/begin", json={"current_code": "000000"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "AF410"
    assert world.store.get_user(user_id).mfa_enabled  # still on
    # the password alone still does not sign in
    login = world.client().post("/api/v1/auth/login", json={"username": "admin_a", "password": PASSWORD})
    assert login.status_code == 401 and login.json()["error"]["code"] == "AF413"
    begun = admin.post("/api/v1/auth/mfa/begin", json={"current_code": _now_code(ADMIN_TOTP)})
    assert begun.status_code == 200, begun.text
    new_secret = begun.json()["secret"]
    assert world.store.get_user(user_id).mfa_enabled  # the old authenticator stays until confirmed
    confirmed = admin.post("/api/v1/auth/mfa/confirm", json={"code": _now_code(new_secret)})
    assert confirmed.status_code == 200 and confirmed.json()["mfa_enabled"] is True, confirmed.text
    stored_secret, pending, enabled = _stored_user(world, "admin_a")
    assert enabled and pending is None
    assert new_secret not in str(stored_secret) and ADMIN_TOTP not in str(stored_secret)  # encrypted


def test_admin_reset_of_mfa_is_audited(make_world: Any) -> None:
    world = make_world()
    target = world.users["admin_a"]
    # another admin of the tenant
    from anfu.security.passwords import hash_password

    other = world.store.create_user(world.tenants["a"].id, "admin_a2", hash_password(PASSWORD), "admin")
    world.users["admin_a2"] = world.store.update_user(other.id, mfa_enabled=True, totp_secret=ADMIN_TOTP)
    reset = world.client("admin_a2").delete(f"/api/v1/users/{target.id}/mfa")
    assert reset.status_code == 200 and reset.json()["mfa_enabled"] is False
    assert world.client("agent_a1").delete(f"/api/v1/users/{target.id}/mfa").status_code == 403
    from anfu.store import Principal

    actions = [e.action for e in world.store.list_audit(Principal.of_user(world.users["admin_a2"])).items]
    assert "user.mfa_reset" in actions


def test_totp_secrets_are_stored_encrypted_and_legacy_ones_are_sealed_at_sign_in(make_world: Any) -> None:
    world = make_world()
    assert _stored_user(world, "admin_a")[0] == ADMIN_TOTP  # seeded the old way, in clear
    login = world.client().post("/api/v1/auth/login", json={"username": "admin_a", "password": PASSWORD,
                                                            "totp": _now_code(ADMIN_TOTP)})
    assert login.status_code == 200, login.text
    stored = _stored_user(world, "admin_a")[0]
    assert stored.startswith("v1:") and ADMIN_TOTP not in stored
    from anfu.security.secretbox import open_secret

    assert open_secret(stored, world.settings.secret_key.get_secret_value()) == ADMIN_TOTP
    assert open_secret(stored, "another-server-key-entirely-0123456789") is None


COMMON = ["qwertyuiop12", "P@ssw0rd1234", "Admin@123456", "woaini123456", "1qaz2wsx3edc4rfv", "Passw0rd!2024",
          "abc123456789", "zhangwei1988", "Woaini1314520", "iloveyou2024", "Aa123456789!", "qazwsxedc123",
          "5201314woaini", "Wangjing19900101", "Password@123", "Welcome@2024", "Admin123456!", "147258369abc",
          "Huawei@123456", "88888888aaaa", "Zhangsan@520", "liuyang19880808"]


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused_with_a_reason(password: str) -> None:
    with pytest.raises(AuthError) as err:
        passwords.check_password(password, "someone")
    assert err.value.code == "AF416"
    assert "guess" in err.value.message or "common" in err.value.message


def test_the_refusal_says_why() -> None:
    assert "keyboard pattern (qwertyuiop)" in passwords.password_problem("qwertyuiop12")
    assert "common password or word (P@ssw0rd)" in passwords.password_problem("P@ssw0rd1234")
    assert "pinyin" in passwords.password_problem("zhangwei1988")
    assert "lucky number (1314520)" in passwords.password_problem("Jiayou1314520")
    for good in ("Lan-Hua-Shan-2024!", "青山绿水 service desk 7", passwords.generate_password()):
        assert passwords.password_problem(good) is None, good


def test_the_api_refuses_a_common_password_and_says_why(world: Any) -> None:
    created = world.client("admin_a").post("/api/v1/users", json={"username": "weak.one", "password": "Admin@123456",
                                                                 "role": "agent"})
    assert created.status_code == 422 and created.json()["error"]["code"] == "AF416"
    assert "common password or word (Admin)" in created.json()["error"]["message"]


def test_lockout_does_not_tell_which_user_names_exist(make_world: Any) -> None:
    world = make_world()
    client = world.client()
    answers = {}
    for name in ("agent_a1b", "no.such.person"):
        for _ in range(world.settings.login_max_attempts):
            failed = client.post("/api/v1/auth/login", json={"username": name, "password": "wrong-password-123"})
            assert failed.status_code == 401 and failed.json()["error"]["code"] == "AF410"
        after = client.post("/api/v1/auth/login", json={"username": name, "password": "wrong-password-123"})
        answers[name] = (after.status_code, after.json()["error"]["code"])
    assert answers["agent_a1b"] == answers["no.such.person"] == (423, "AF411")


def test_api_rate_limit_per_token_with_retry_after(make_world: Any) -> None:
    world = make_world(rate_limit_per_minute=60, rate_limit_ip_per_minute=0)
    client = world.token_client("agent_a1")
    codes = [client.post("/api/v1/analyze", json={"text": "电费怎么这么高"}) for _ in range(30)]
    limited = [r for r in codes if r.status_code == 429]
    assert codes[0].status_code == 200 and limited
    assert limited[0].json()["error"]["code"] == "AF444" and int(limited[0].headers["retry-after"]) >= 1
    # another token is not slowed down by this one
    assert world.token_client("agent_a2").post("/api/v1/analyze", json={"text": "谢谢"}).status_code == 200


def test_api_rate_limit_per_address_and_for_bad_tokens(make_world: Any) -> None:
    world = make_world(rate_limit_auth_failures_per_minute=10)
    client = world.client()
    answers = []
    for _ in range(40):
        client.headers["Authorization"] = f"Bearer anfu_{secrets.token_urlsafe(24)}"
        answers.append(client.get("/api/v1/me").status_code)
    assert answers[0] == 401 and 429 in answers and answers[-1] == 429
    crowd = make_world(rate_limit_ip_per_minute=60)
    statuses = {crowd.client(who).get("/api/v1/me").status_code
                for who in ("agent_a1", "agent_a2", "sup_a1", "sup_a2") for _ in range(8)}
    assert statuses == {200, 429}


def test_rate_limits_are_settings() -> None:
    from anfu.settings import Settings

    settings = Settings(rate_limit_per_minute=0, rate_limit_ip_per_minute=120, rate_limit_auth_failures_per_minute=5)
    assert (settings.rate_limit_per_minute, settings.rate_limit_ip_per_minute,
            settings.rate_limit_auth_failures_per_minute) == (0, 120, 5)
