"""API rate limits (pure ASGI middleware): per credential and per client address, answered
with 429, AF444 and `Retry-After`.

Three token buckets, each refilled continuously and allowing a burst of `BURST_SECONDS` worth:

- per credential (an API token or a session cookie; only its hash is kept):
  `ANFU_RATE_LIMIT_PER_MINUTE` requests a minute;
- per client address, whatever the credential: `ANFU_RATE_LIMIT_IP_PER_MINUTE`;
- failed authentications (answers 401) per address: `ANFU_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE`;
  once spent, every request of that address that carries a credential waits, so guessing
  tokens or replaying stolen cookies is slow.

0 turns a limit off. The limits cover `/api/` and the WebSocket handshakes (`/ws/`); pages and
static files are not limited here (sign-in has its own throttle, `anfu.security.lockout`).
State is in memory, per process, bounded to `MAX_KEYS` keys per bucket kind.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from typing import Any, Callable

from ..lru import Lru
from .errors import ApiError
from .middleware import ASGIApp, Receive, Scope, Send, _header, _send_error

BURST_SECONDS = 10.0
MAX_KEYS = 100_000
LIMITED_PREFIXES = ("/api/", "/ws/")
LOGIN_PATH = "/api/v1/auth/login"


class Buckets:
    """Token buckets by key: `take(key)` returns 0 when allowed, else seconds to wait."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * BURST_SECONDS)
        self.clock = clock
        self._state: Lru[str, tuple[float, float]] = Lru(MAX_KEYS)
        self._lock = threading.Lock()  # a bucket's read and update are one step

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def _level(self, key: str, now: float) -> float:
        level, at = self._state.peek(key, (self.capacity, now))
        return min(self.capacity, level + (now - at) * self.rate)

    def wait(self, key: str) -> float:
        """Seconds until `key` may spend one more (0 when it may now); spends nothing."""
        if not self.enabled:
            return 0.0
        with self._lock:
            level = self._level(key, self.clock())
            return 0.0 if level >= 1 else (1 - level) / self.rate

    def take(self, key: str) -> float:
        """Spend one for `key`; 0 when allowed, else seconds until it would be."""
        if not self.enabled:
            return 0.0
        with self._lock:
            now = self.clock()
            level = self._level(key, now)
            if level < 1:
                self._state.put(key, (level, now))
                return (1 - level) / self.rate
            self._state.put(key, (level - 1, now))
            return 0.0


def _credential(scope: Scope) -> str | None:
    """A key for the request's credential (hashed: the limiter never holds a token)."""
    value = _header(scope, b"authorization")
    if not value:
        cookies = _header(scope, b"cookie") or ""
        for part in cookies.split(";"):
            name, _, token = part.strip().partition("=")
            if name == "anfu_session" and token:
                value = token
                break
    if not value:
        return None
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


class RateLimit:
    def __init__(self, app: ASGIApp, per_minute: int, ip_per_minute: int, auth_failures_per_minute: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.credentials = Buckets(per_minute, clock)
        self.addresses = Buckets(ip_per_minute, clock)
        self.failures = Buckets(auth_failures_per_minute, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "-"
        credential = _credential(scope)
        wait = self.addresses.take(address)
        if not wait and credential is not None:
            wait = self.failures.wait(address) or self.credentials.take(credential)
        if wait:
            await self._refuse(scope, send, wait)
            return

        # A 401 to a request with a credential is a wrong token or cookie (sign-in attempts
        # have their own throttle, anfu.security.lockout)
        counts_failure = credential is not None and not scope["path"].startswith(LOGIN_PATH)

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 401 and counts_failure:
                self.failures.take(address)
            await send(message)

        await self.app(scope, receive, watch)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, wait: float) -> None:
        seconds = max(1, math.ceil(wait))
        error = ApiError("AF444", seconds, status=429, headers={"Retry-After": str(seconds)})
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013, "reason": "AF444"})
            return
        await _send_error(send, error, headers=[(b"retry-after", str(seconds).encode())])
