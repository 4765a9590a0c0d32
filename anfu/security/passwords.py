"""Password hashing (argon2id) and the password policy (OWASP ASVS 2.1): at least 12
characters, not the user name, and not guessable: `anfu.security.strength` estimates the
guesses (zxcvbn-style, with Chinese pinyin, lucky numbers, keyboard walks, dates) and says why
a password is refused.

Parameters follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): strong, yet
fast enough (~20 ms) for a sign-in page on a small server.
"""

from __future__ import annotations

import secrets
import string
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import AuthError
from .strength import analyse

MIN_LENGTH = 12
MAX_LENGTH = 128
# The most common passwords (including the Chinese favourites) that pass the length rule.
COMMON = frozenset({
    "123456789012", "1234567890123", "password1234", "passwordpassword", "qwertyuiop123",
    "1qaz2wsx3edc", "1q2w3e4r5t6y", "qwerty123456", "woaini5201314", "woaini1314520",
    "iloveyou1314", "aa1234567890", "abc123456789", "admin1234567", "administrator",
    "111111111111", "000000000000", "888888888888", "666666666666", "a12345678910",
    "zxcvbnm123456", "asdfghjkl123", "welcome12345", "changeme1234",
})


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a wrong password or a damaged hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash at sign-in)."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing reveals nothing."""
    return hash_password(secrets.token_urlsafe(16))


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why `password` is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"{len(password)} characters, need at least {MIN_LENGTH}"
    if len(password) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    if password.lower() in COMMON or len(set(password)) < 4:
        return "a well-known common password"
    if username and len(username) >= 3 and username.lower() in password.lower():
        return "contains the user name"
    strength = analyse(password)
    if strength.weak():
        return strength.reason()
    return None


def check_password(password: str, username: str | None = None) -> None:
    """Raise `AuthError` AF416 when the policy rejects `password`."""
    problem = password_problem(password, username)
    if problem is not None:
        raise AuthError("AF416", problem)


def generate_password(length: int = 20) -> str:
    """A random password (one-time passwords of new accounts), easy to type: no 0/O/1/l/I."""
    alphabet = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if (any(c.isdigit() for c in password) and any(c.islower() for c in password)
                and any(c.isupper() for c in password)):
            return password
