"""A database lease: background work (the scheduler: SLA warnings, waiting alerts, webhook
deliveries) runs in one server process of the cluster at a time, not once per process.

`Lease(engine, name, ttl_s).acquire()` returns True while this process holds the lease: it takes
a free or expired lease, or renews its own, in one conditional UPDATE (or the first INSERT), so
two processes can never both win. A killed holder stops renewing; after `ttl_s` another process
takes over. `release()` gives it up at shutdown so a successor need not wait.

Expiry is decided by the database's clock, not the process's: the hosts of a cluster may
disagree by minutes (no NTP on one), and a process whose clock ran ahead would otherwise take a
lease its holder renewed a second ago, while one whose clock lags would write an expiry that is
already past. (`clock` replaces the database's clock in tests.)
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .live_tables import LeaseRow

class Lease:
    def __init__(self, engine: Engine, name: str, ttl_s: float = 60.0,
                 clock: Callable[[], datetime] | None = None, holder: str | None = None) -> None:
        self.engine = engine
        self.name = name
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock
        self.holder = holder or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _now(self, conn: Connection) -> datetime:
        """The database's time (one clock for every process of the cluster), timezone-aware UTC."""
        if self.clock is not None:
            return self.clock()
        now = conn.execute(select(func.current_timestamp())).scalar_one()
        if isinstance(now, str):  # SQLite: "YYYY-MM-DD HH:MM:SS" in UTC
            now = datetime.fromisoformat(now)
        return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)

    def acquire(self) -> bool:
        with self.engine.begin() as conn:
            now = self._now(conn)
            taken = conn.execute(update(LeaseRow).where(
                LeaseRow.name == self.name, or_(LeaseRow.holder == self.holder, LeaseRow.expires_at < now))
                .values(holder=self.holder, expires_at=now + self.ttl)).rowcount
        if taken:
            return True
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(LeaseRow).values(name=self.name, holder=self.holder, expires_at=now + self.ttl))
            return True
        except IntegrityError:  # someone holds it (or took it first)
            return False

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(LeaseRow).where(LeaseRow.name == self.name, LeaseRow.holder == self.holder))
