from __future__ import annotations

import pytest

from anfu.errors import AuthError
from anfu.security import passwords, tokens


def test_hash_and_verify() -> None:
    h = passwords.hash_password("电网客服2024-夏季抢修")
    assert h.startswith("$argon2id$") and "夏季" not in h
    assert passwords.verify_password(h, "电网客服2024-夏季抢修")
    assert not passwords.verify_password(h, "电网客服2024-夏季抢修 ")
    assert not passwords.verify_password("not-a-hash", "x")
    assert not passwords.needs_rehash(h)
    weaker = passwords.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("abc")
    assert passwords.needs_rehash(weaker)


@pytest.mark.parametrize("password,username", [("short1", None), ("woaini5201314", None),
                                               ("aaaaaaaaaaaaaa", None), ("liming-secure-2024", "liming")])
def test_policy_rejects(password: str, username: str | None) -> None:
    with pytest.raises(AuthError) as err:
        passwords.check_password(password, username)
    assert err.value.code == "AF416"


def test_policy_accepts_a_passphrase_and_generated_passwords_pass_it() -> None:
    passwords.check_password("青山绿水 service desk 7", "wang")
    generated = {passwords.generate_password() for _ in range(20)}
    assert len(generated) == 20
    for pw in generated:
        assert passwords.password_problem(pw) is None and not set(pw) & set("0O1lI")


def test_tokens_are_random_and_stored_hashed() -> None:
    token, token_hash, prefix = tokens.new_api_token()
    assert token.startswith("anfu_") and len(token) > 40 and token.startswith(prefix)
    assert token_hash == tokens.hash_token(token) and token not in token_hash and len(token_hash) == 64
    assert tokens.new_token() != tokens.new_token()
    assert tokens.tokens_equal("abc", "abc") and not tokens.tokens_equal("abc", "abd")
