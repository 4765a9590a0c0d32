"""Tables of the complaint workflow: tickets (工单), their follow-ups (回访) and the 四个不漏
ledger entries.

The workflow objects themselves are pure Python (`anfu.workflow`); a row keeps the object's
`to_dict()` in `data` and copies out the columns that lists, filters and access checks need.
Same `Base` as `tables.py`, so migrations and `anfu.store.testing.reset` see them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, JSONType, UTCDateTime, utcnow


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_tickets_tenant_number"),
        Index("ix_tickets_tenant_updated", "tenant_id", "updated_at"),
        Index("ix_tickets_tenant_conversation", "tenant_id", "conversation_id"),  # a conversation's tickets (0009)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"),
                                                        index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(20))
    cause: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # one more at every save (under the row's lock): the ETag of the API, the version the ticket
    # page's forms post back; a write over another version is refused (AF609, migration 0012)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)


class FollowUpRow(Base):
    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)


class LedgerRow(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    department: Mapped[str] = mapped_column(String(64))
    feedback_state: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)


class TicketSequenceRow(Base):
    """The last ticket number handed out per tenant and day (TS-YYYYMMDD-NNNN): numbers come
    from this counter, never from counting tickets, so a deletion cannot make one repeat."""

    __tablename__ = "ticket_sequences"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
