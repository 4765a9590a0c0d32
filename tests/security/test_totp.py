from __future__ import annotations

from datetime import datetime, timedelta, timezone

from anfu.security import totp

NOW = datetime(2025, 3, 1, 8, 0, 10, tzinfo=timezone.utc)


def test_codes_verify_within_one_step_of_drift() -> None:
    secret = totp.new_secret()
    step = totp.step_at(NOW)
    assert totp.verify(secret, totp.code_at(secret, step), now=NOW) == step
    assert totp.verify(secret, totp.code_at(secret, step - 1), now=NOW) == step - 1
    assert totp.verify(secret, totp.code_at(secret, step - 2), now=NOW) is None
    code = totp.code_at(secret, step)
    assert totp.verify(secret, code[:3] + " " + code[3:], now=NOW) == step
    assert totp.verify(secret, "12345", now=NOW) is None and totp.verify(secret, "abcdef", now=NOW) is None


def test_a_code_is_never_accepted_twice() -> None:
    secret = totp.new_secret()
    step = totp.step_at(NOW)
    code = totp.code_at(secret, step)
    used = totp.verify(secret, code, now=NOW)
    assert totp.verify(secret, code, now=NOW + timedelta(seconds=5), last_step=used) is None


def test_provisioning_uri_names_the_user_and_issuer() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "wang.admin")
    assert uri.startswith("otpauth://totp/") and "wang.admin" in uri and f"secret={secret}" in uri
