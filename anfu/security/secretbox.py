"""Encrypting small secrets at rest (TOTP secrets) with the server's secret key.

Standard library only: a keystream from HMAC-SHA256 in counter mode over a random 16-byte
nonce, then HMAC-SHA256 over nonce and ciphertext (encrypt-then-MAC), with separate keys
derived from `ANFU_SECRET_KEY`. Stored as `v1:` + URL-safe base64. A value without the
prefix is a legacy plain-text secret: `open_secret` returns it as is, so existing accounts
keep signing in and are re-encrypted on their next sign-in.

Changing `ANFU_SECRET_KEY` makes stored TOTP secrets unreadable: users then re-enrol
(an admin resets their MFA).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "v1:"
NONCE = 16
TAG = 32


def _keys(secret_key: str) -> tuple[bytes, bytes]:
    master = hashlib.sha256(secret_key.encode("utf-8")).digest()
    return (hmac.new(master, b"anfu.secretbox.enc", hashlib.sha256).digest(),
            hmac.new(master, b"anfu.secretbox.mac", hashlib.sha256).digest())


def _stream(key: bytes, nonce: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
    return bytes(out[:length])


def is_sealed(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def seal(plain: str, secret_key: str) -> str:
    """Encrypt `plain` with the server key."""
    enc, mac = _keys(secret_key)
    data = plain.encode("utf-8")
    nonce = secrets.token_bytes(NONCE)
    body = bytes(a ^ b for a, b in zip(data, _stream(enc, nonce, len(data))))
    tag = hmac.new(mac, nonce + body, hashlib.sha256).digest()
    return PREFIX + base64.urlsafe_b64encode(nonce + body + tag).decode("ascii")


def open_secret(stored: str | None, secret_key: str) -> str | None:
    """The plain secret of a `seal`ed value (a legacy plain value as is); None when it was
    sealed with another key or altered."""
    if not stored:
        return None
    if not is_sealed(stored):
        return stored
    enc, mac = _keys(secret_key)
    try:
        raw = base64.urlsafe_b64decode(stored[len(PREFIX):].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    if len(raw) < NONCE + TAG:
        return None
    nonce, body, tag = raw[:NONCE], raw[NONCE:-TAG], raw[-TAG:]
    if not hmac.compare_digest(tag, hmac.new(mac, nonce + body, hashlib.sha256).digest()):
        return None
    data = bytes(a ^ b for a, b in zip(body, _stream(enc, nonce, len(body))))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
