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


class UnknownNames:
    """Failed sign-ins of user names that do not exist, counted like an account's (in memory,
    bounded): after as many failures they "lock" for as long, so AF411 appears for any name."""

    def __init__(self, max_attempts: int, lockout: timedelta) -> None:
        self.max_attempts = max_attempts
        self.lockout = lockout
        self._names: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    def locked_until(self, username: str | None, now: datetime) -> datetime | None:
        if not username:
            return None
        with self._lock:
            _, until = self._names.get(username, (0, None))
            return until

    def failure(self, username: str | None, now: datetime) -> None:
        if not username:
            return
        key = username
        with self._lock:
            count, until = self._names.get(key, (0, None))
            if until is not None and until <= now:  # the lock ran out: count afresh, like an account
                count, until = 0, None
            count += 1
            if count >= self.max_attempts:
                until = now + self.lockout
            self._names[key] = (count, until)
            self._names.move_to_end(key)
            while len(self._names) > MAX_TRACKED_ADDRESSES:
                self._names.popitem(last=False)


class LoginGuard:
    """Applies both limits around a sign-in attempt (used by `anfu.security.auth.Authenticator`)."""

    def __init__(self, store: Any, settings: Any, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.max_attempts = settings.login_max_attempts
        self.lockout = timedelta(minutes=settings.lockout_minutes)
        self.ip = IpThrottle(settings.login_ip_max_attempts, self.lockout)
        self.unknown = UnknownNames(self.max_attempts, self.lockout)
        self.clock = clock

    def check(self, user: Any, ip: str | None, username: str | None = None) -> None:
        """Raise AF412 for a throttled address, AF411 for a locked account — or for an unknown
        user name that failed as often: lock-out must not tell which accounts exist."""
        now = self.clock()
        if self.ip.blocked(ip, now):
            raise AuthError("AF412", ip)
        locked_until = user.locked_until if user is not None else self.unknown.locked_until(username, now)
        if locked_until is not None and locked_until > now:
            raise AuthError("AF411", locked_until.strftime("%Y-%m-%d %H:%M UTC"))

    def failure(self, user: Any, ip: str | None, username: str | None = None) -> Any:
        """Count a failure; returns the updated user (or None for an unknown user name)."""
        now = self.clock()
        self.ip.record_failure(ip, now)
        if user is None:
            self.unknown.failure(username, now)
            return None
        return self.store.register_login_failure(user.id, max_attempts=self.max_attempts, lockout=self.lockout)

    def success(self, user: Any) -> Any:
        if user.failed_logins or user.locked_until is not None:
            return self.store.register_login_success(user.id)
        return user
