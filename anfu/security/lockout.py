"""Sign-in throttling: per account (persistent lock-out) and per client address (in memory).

- An account is locked for `lockout_minutes` after `login_max_attempts` failures in a row;
  the counter lives in the database, so restarts and several workers share it.
- A client address is throttled after `login_ip_max_attempts` failures within
  `lockout_minutes`, whatever user names it tries (password spraying).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..errors import AuthError

MAX_TRACKED_ADDRESSES = 100_000


def is_locked(user: Any, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


class IpThrottle:
    """Sliding-window count of failed sign-ins per client address."""

    def __init__(self, max_attempts: int, window: timedelta) -> None:
        self.max_attempts = max_attempts
        self.window = window
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, ip: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(ip)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[ip]
        return times

    def blocked(self, ip: str | None, now: datetime) -> bool:
        if not ip:
            return False
        with self._lock:
            return len(self._recent(ip, now)) >= self.max_attempts

    def record_failure(self, ip: str | None, now: datetime) -> None:
        if not ip:
            return
        with self._lock:
            times = self._recent(ip, now)
            times.append(now)
            self._failures[ip] = times
            self._failures.move_to_end(ip)
            while len(self._failures) > MAX_TRACKED_ADDRESSES:
                self._failures.popitem(last=False)


class LoginGuard:
    """Applies both limits around a sign-in attempt (used by `anfu.security.auth.Authenticator`)."""

    def __init__(self, store: Any, settings: Any, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.max_attempts = settings.login_max_attempts
        self.lockout = timedelta(minutes=settings.lockout_minutes)
        self.ip = IpThrottle(settings.login_ip_max_attempts, self.lockout)
        self.clock = clock

    def check(self, user: Any, ip: str | None) -> None:
        """Raise AF412 for a throttled address, AF411 for a locked account."""
        now = self.clock()
        if self.ip.blocked(ip, now):
            raise AuthError("AF412", ip)
        if user is not None and is_locked(user, now):
            raise AuthError("AF411", user.locked_until.strftime("%Y-%m-%d %H:%M UTC"))

    def failure(self, user: Any, ip: str | None) -> Any:
        """Count a failure; returns the updated user (or None for an unknown user name)."""
        self.ip.record_failure(ip, self.clock())
        if user is None:
            return None
        return self.store.register_login_failure(user.id, max_attempts=self.max_attempts, lockout=self.lockout)

    def success(self, user: Any) -> Any:
        if user.failed_logins or user.locked_until is not None:
            return self.store.register_login_success(user.id)
        return user
