"""Time-based one-time passwords (TOTP, RFC 6238) for multi-factor sign-in.

Required for admins, optional for others. A code is accepted in the current 30-second step
or one step either side (clock drift), and never twice: the caller stores the step returned
by `verify` and passes it back as `last_step`.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timezone

import pyotp

ISSUER = "Anfu 安抚"
INTERVAL = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app scans (shown as a QR code at enrolment)."""
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(name=username, issuer_name=issuer)


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // INTERVAL


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, interval=INTERVAL).at(step * INTERVAL)


def verify(secret: str, code: str, *, now: datetime | None = None, last_step: int | None = None) -> int | None:
    """The time step `code` belongs to, or None when it is wrong, stale or already used."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    current = step_at(now or datetime.now(timezone.utc))
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None
