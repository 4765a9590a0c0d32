"""Tables of the server cluster (issue 15).

`live_spill`: a PostgreSQL NOTIFY payload is limited to 8,000 bytes, so a larger live message is
stored here and its id is notified instead; rows are read by every listening process within
seconds and deleted after `SPILL_TTL_S`. `leases`: which process runs a piece of background work
(the scheduler) for the whole cluster, until when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, BigId, JSONType, UTCDateTime, utcnow


class LiveSpillRow(Base):
    __tablename__ = "live_spill"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class LeaseRow(Base):
    """Who runs a piece of background work for the whole cluster, until when (`anfu.store.lease`)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
