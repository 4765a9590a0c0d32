from __future__ import annotations

import pytest

from anfu.errors import AuthError, NotFoundError
from anfu.security import RESTRICTED_CHANGE_PASSWORD, RESTRICTED_ENROL_MFA, Authenticator, totp
from anfu.security.passwords import hash_password
from anfu.store import Principal

PASSWORD = "Qingshan-lvshui-2025"


@pytest.fixture
def tenant(store):
    return store.create_tenant("sgcc-js", "江苏电力客服")


@pytest.fixture
def auth(store, settings, clock):
    return Authenticator(store, settings, clock=clock)


@pytest.fixture
def agent(store, tenant):
    return store.create_user(tenant.id, "li.agent", hash_password(PASSWORD), "agent")


def test_login_opens_a_revocable_session(auth, agent, store) -> None:
    result = auth.login("li.agent", PASSWORD, ip="10.2.3.4", user_agent="Mozilla/5.0")
    assert result.identity.restricted is None and result.identity.user.id == agent.id
    assert store.get_session(result.token) is None  # only the hash is stored
    identity = auth.authenticate_session(result.token)
    assert identity is not None and identity.principal == Principal.of_user(agent)
    assert auth.logout(result.token)
    assert auth.authenticate_session(result.token) is None
    actions = [e.action for e in store.list_audit(Principal(tenant_id=agent.tenant_id, role="admin")).items]
    assert actions[:2] == ["auth.logout", "auth.login"]


def test_sessions_expire_and_slide(auth, agent, clock, settings) -> None:
    token = auth.login("li.agent", PASSWORD).token
    clock.advance(minutes=settings.session_ttl_minutes * 0.75)
    assert auth.authenticate_session(token) is not None  # extended here
    clock.advance(minutes=settings.session_ttl_minutes * 0.75)
    assert auth.authenticate_session(token) is not None
    clock.advance(minutes=settings.session_ttl_minutes + 1)
    assert auth.authenticate_session(token) is None


def test_wrong_password_and_unknown_user_look_the_same(auth, agent) -> None:
    with pytest.raises(AuthError) as wrong:
        auth.login("li.agent", "wrong-password-123")
    with pytest.raises(AuthError) as unknown:
        auth.login("nobody", "wrong-password-123")
    assert wrong.value.code == unknown.value.code == "AF410"
    assert wrong.value.message == unknown.value.message


def test_account_lockout_after_max_attempts(auth, agent, clock, store) -> None:
    for _ in range(3):
        with pytest.raises(AuthError):
            auth.login("li.agent", "not-the-password", ip=f"10.0.0.{_}")
    with pytest.raises(AuthError) as locked:
        auth.login("li.agent", PASSWORD, ip="10.0.0.9")  # even the right password
    assert locked.value.code == "AF411"
    clock.advance(minutes=16)
    assert auth.login("li.agent", PASSWORD).identity.user.failed_logins == 0
    audit = [e.action for e in store.list_audit(Principal(tenant_id=agent.tenant_id, role="auditor"),
                                                page_size=50).items]
    assert "auth.locked" in audit and "auth.login_blocked" in audit


def test_address_throttling_stops_password_spraying(auth, store, tenant, clock) -> None:
    for i in range(5):
        store.create_user(tenant.id, f"user{i}", hash_password(PASSWORD), "agent")
        with pytest.raises(AuthError):
            auth.login(f"user{i}", "Spring2025-guess!", ip="203.0.113.7")
    with pytest.raises(AuthError) as throttled:
        auth.login("user0", PASSWORD, ip="203.0.113.7")
    assert throttled.value.code == "AF412"
    assert auth.login("user0", PASSWORD, ip="198.51.100.1")  # other addresses unaffected
    clock.advance(minutes=16)
    assert auth.login("user1", PASSWORD, ip="203.0.113.7")


def test_admin_must_enrol_totp_then_needs_a_code(auth, store, tenant, clock) -> None:
    store.create_user(tenant.id, "root.admin", hash_password(PASSWORD), "admin")
    first = auth.login("root.admin", PASSWORD)
    assert first.identity.restricted == RESTRICTED_ENROL_MFA
    secret, uri = auth.begin_mfa_enrolment(first.identity)
    assert "root.admin" in uri
    auth.confirm_mfa(first.identity, totp.code_at(secret, totp.step_at(clock.now)))
    assert auth.authenticate_session(first.token).restricted is None
    clock.advance(seconds=60)
    with pytest.raises(AuthError) as need:
        auth.login("root.admin", PASSWORD)
    assert need.value.code == "AF413"
    code = totp.code_at(secret, totp.step_at(clock.now))
    second = auth.login("root.admin", PASSWORD, totp_code=code)
    assert second.identity.restricted is None and second.identity.session.mfa_verified
    with pytest.raises(AuthError):  # replay of the same code
        auth.login("root.admin", PASSWORD, totp_code=code)


def test_one_time_password_must_be_changed(auth, store, tenant) -> None:
    store.create_user(tenant.id, "new.agent", hash_password(PASSWORD), "agent", must_change_password=True)
    result = auth.login("new.agent", PASSWORD)
    assert result.identity.restricted == RESTRICTED_CHANGE_PASSWORD
    other = auth.login("new.agent", PASSWORD)
    with pytest.raises(AuthError) as weak:
        auth.change_password(result.identity, PASSWORD, "123456")
    assert weak.value.code == "AF416"
    auth.change_password(result.identity, PASSWORD, "Brand-new passphrase 9")
    assert auth.authenticate_session(result.token).restricted is None
    assert auth.authenticate_session(other.token) is None  # other sessions revoked


def test_admin_manages_users_and_tokens_within_the_tenant(auth, store, tenant, agent) -> None:
    admin = Principal(tenant_id=tenant.id, role="admin", user_id=None, name="ops")
    created = auth.create_user(admin, "zhao.sup", "Initial-password-88", "agent")
    assert created.must_change_password
    token = auth.login("li.agent", PASSWORD).token
    changed = auth.set_role(admin, agent.id, "supervisor")
    assert changed.role == "supervisor" and auth.authenticate_session(token) is None
    raw, record = auth.issue_api_token(admin, "工单系统", "admin")
    identity = auth.authenticate_api_token(raw)
    assert identity.principal.tenant_id == tenant.id and identity.api_token == record
    assert auth.revoke_api_token(admin, record.id) and auth.authenticate_api_token(raw) is None
    outsider = store.create_tenant("other", "其他")
    other_admin = Principal(tenant_id=outsider.id, role="admin", name="x")
    with pytest.raises(NotFoundError):
        auth.set_role(other_admin, agent.id, "admin")
    with pytest.raises(AuthError):
        auth.create_user(Principal(tenant_id=tenant.id, role="supervisor"), "x.y", "Initial-password-88", "agent")
    roles = {e.action for e in store.list_audit(admin, page_size=100).items}
    assert {"user.created", "user.role_changed", "token.created", "token.revoked"} <= roles


def test_api_tokens_are_remembered_briefly_and_forgotten_when_revoked(store, settings, clock, tenant,
                                                                     monkeypatch) -> None:
    """A token just looked up is answered without the database for `api_token_cache_seconds`;
    revoking it here forgets it at once; a revocation by another process (another Authenticator
    over the same database) takes effect when the entry runs out; unknown tokens are never kept."""
    from anfu.security import auth as auth_module

    now = [1000.0]
    monkeypatch.setattr(auth_module.time, "monotonic", lambda: now[0])
    here = Authenticator(store, settings.model_copy(update={"api_token_cache_seconds": 2.0}), clock=clock)
    elsewhere = Authenticator(store, settings.model_copy(update={"api_token_cache_seconds": 2.0}), clock=clock)
    admin = Principal(tenant_id=tenant.id, role="admin", user_id=None, name="ops")
    raw, record = here.issue_api_token(admin, "工单系统", "agent")
    assert here.cached_api_token(raw) is None  # never looked up yet
    assert here.authenticate_api_token(raw).api_token == record
    reads = []
    monkeypatch.setattr(store, "get_api_token", lambda h: reads.append(h))
    assert here.cached_api_token(raw).api_token == record and reads == []
    now[0] += 2.5
    assert here.cached_api_token(raw) is None  # ran out: the caller reads the database again
    monkeypatch.undo()
    monkeypatch.setattr(auth_module.time, "monotonic", lambda: now[0])
    assert here.authenticate_api_token(raw) is not None
    assert elsewhere.revoke_api_token(admin, record.id)
    assert elsewhere.cached_api_token(raw) is None and elsewhere.authenticate_api_token(raw) is None
    assert here.cached_api_token(raw) is not None  # the other process's revocation: at most 2 s late
    now[0] += 2.5
    assert here.cached_api_token(raw) is None and here.authenticate_api_token(raw) is None
    raw2, record2 = here.issue_api_token(admin, "呼叫中心", "agent")
    assert here.authenticate_api_token(raw2) is not None
    assert here.revoke_api_token(admin, record2.id)
    assert here.cached_api_token(raw2) is None  # revoked here: forgotten at once
    assert here.cached_api_token("anfu_" + "x" * 40) is None and here.authenticate_api_token("anfu_" + "x" * 40) is None
    off = Authenticator(store, settings.model_copy(update={"api_token_cache_seconds": 0}), clock=clock)
    raw3, _ = here.issue_api_token(admin, "质检", "agent")
    assert off.authenticate_api_token(raw3) is not None and off.cached_api_token(raw3) is None
