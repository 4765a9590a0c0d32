"""Random tokens for sessions and API integrations, and how they are stored (hashed).

Tokens carry 256 bits of randomness, so a fast SHA-256 is the right hash (a slow password hash
adds nothing for random secrets); the database only ever holds the hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32
API_TOKEN_PREFIX = "anfu_"
DISPLAY_PREFIX_CHARS = 12


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison (CSRF tokens, signatures)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def new_api_token() -> tuple[str, str, str]:
    """(token shown once to the admin, hash to store, short prefix to recognise it in lists)."""
    token = new_token(API_TOKEN_PREFIX)
    return token, hash_token(token), token[:DISPLAY_PREFIX_CHARS]
