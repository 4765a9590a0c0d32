"""Security core of the service (no web framework here): password hashing (`passwords`),
TOTP (`totp`), random hashed tokens (`tokens`), sign-in throttling (`lockout`), the
`Authenticator` that combines them with the store (`auth`) and first-run admin creation
(`bootstrap`)."""

from __future__ import annotations

from .auth import (RESTRICTED_CHANGE_PASSWORD, RESTRICTED_ENROL_MFA, Authenticator, Identity,
                   LoginResult)
from .bootstrap import OneTimeCredentials, bootstrap_admin

__all__ = ["RESTRICTED_CHANGE_PASSWORD", "RESTRICTED_ENROL_MFA", "Authenticator", "Identity",
           "LoginResult", "OneTimeCredentials", "bootstrap_admin"]
