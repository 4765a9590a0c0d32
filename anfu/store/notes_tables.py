"""Table of private notes (内部备注, issue 13): what staff write down about a conversation or a
ticket for each other. A note belongs to exactly one conversation or one ticket of its tenant;
it is never part of a ticket's history, an export, a webhook or the customer's survey page.
Same `Base` as `tables.py`, so migrations and `anfu.store.testing.reset` see it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class NoteRow(Base):
    __tablename__ = "notes"
    __table_args__ = (
        CheckConstraint("(conversation_id IS NULL) <> (ticket_id IS NULL)", name="one_target"),
        Index("ix_notes_conversation_created", "conversation_id", "created_at"),
        Index("ix_notes_ticket_created", "ticket_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
