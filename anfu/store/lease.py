"""A database lease: background work (the scheduler: SLA warnings, waiting alerts, webhook
deliveries) runs in one server process of the cluster at a time, not once per process.

`Lease(engine, name, ttl_s).acquire()` returns True while this process holds the lease: it takes
a free or expired lease, or renews its own, in one conditional UPDATE (or the first INSERT), so
two processes can never both win. A killed holder stops renewing; after `ttl_s` another process
takes over. `release()` gives it up at shutdown so a successor need not wait.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .live_tables import LeaseRow
from .tables import utcnow


class Lease:
    def __init__(self, engine: Engine, name: str, ttl_s: float = 60.0,
                 clock: Callable[[], datetime] = utcnow, holder: str | None = None) -> None:
        self.engine = engine
        self.name = name
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock
        self.holder = holder or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self) -> bool:
        now = self.clock()
        with self.engine.begin() as conn:
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
