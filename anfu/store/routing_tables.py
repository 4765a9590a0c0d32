"""Tables of routing (issue 13): the queues of each team (which industry and channel they take)
and each agent's routing profile (skills, concurrent-conversation cap, presence). Same `Base`
as `tables.py`; a team's auto-assignment switch is `teams.auto_assign`, a conversation's queue
`conversations.queue_id`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, JSONType, UTCDateTime, utcnow

PRESENCE: tuple[str, ...] = ("available", "busy", "offline")   # 示闲 / 示忙 / 签出
DEFAULT_MAX_OPEN = 5


class RoutingQueueRow(Base):
    """A queue of a team: new conversations of this industry and channel (None: any) land here."""

    __tablename__ = "routing_queues"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_routing_queues_tenant_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AgentRoutingRow(Base):
    """An agent's routing profile; an agent without a row has no skills set (takes any
    industry and channel of their team), the default cap and is offline."""

    __tablename__ = "agent_routing"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    industries: Mapped[list[Any]] = mapped_column(JSONType)
    channels: Mapped[list[Any]] = mapped_column(JSONType)
    max_open: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_OPEN)
    presence: Mapped[str] = mapped_column(String(16), default="offline")
    presence_since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
