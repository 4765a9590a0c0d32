from __future__ import annotations

from anfu.security import Authenticator, bootstrap_admin
from anfu.security.passwords import verify_password


def test_first_run_creates_one_admin_with_a_one_time_password(store, settings, clock) -> None:
    creds = bootstrap_admin(store)
    assert creds is not None and creds.user.role == "admin" and creds.user.must_change_password
    assert verify_password(creds.user.password_hash, creds.password)
    assert creds.password not in creds.user.password_hash
    assert creds.password in creds.message("http://127.0.0.1:8000")
    assert bootstrap_admin(store) is None  # never again: no second password, no default credentials
    assert store.count_users() == 1
    result = Authenticator(store, settings, clock=clock).login("admin", creds.password)
    assert result.identity.restricted == "change_password"
    audit = store.list_audit(result.identity.principal, action="user.bootstrap_admin")
    assert audit.total == 1 and creds.password not in str(audit.items[0].to_dict())


def test_bootstrap_runs_only_on_an_empty_user_table(store) -> None:
    first = bootstrap_admin(store, username="admin")
    second = bootstrap_admin(store, username="admin2")
    assert first is not None and second is None
    assert store.get_user_by_username("admin2") is None
