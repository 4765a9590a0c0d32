"""Repository of private notes (内部备注): notes on one conversation or one ticket, oldest
first. The repository checks the tenant; who may read or write a note is decided by the
service (`anfu.service.notes`) from the conversation's or ticket's own access rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .accounts import StoreBase
from .notes_tables import NoteRow
from .records import _Record, from_row

MAX_NOTES = 500


@dataclass(frozen=True)
class Note(_Record):
    id: int
    tenant_id: int
    conversation_id: int | None
    ticket_id: int | None
    author_id: int | None
    author: str
    text: str
    created_at: datetime


class NoteStore(StoreBase):
    """`NoteStore(engine)`: the private notes of every tenant."""

    def add_note(self, tenant_id: int, *, text: str, author: str, author_id: int | None,
                 conversation_id: int | None = None, ticket_id: int | None = None) -> Note:
        if (conversation_id is None) == (ticket_id is None):
            raise ValueError("a note belongs to exactly one conversation or one ticket")
        with self._write() as s:
            row = NoteRow(tenant_id=tenant_id, conversation_id=conversation_id, ticket_id=ticket_id,
                          author_id=author_id, author=author, text=self._stored(text), created_at=self.clock())
            s.add(row)
            s.flush()
            return from_row(Note, row)

    def list_notes(self, tenant_id: int, *, conversation_id: int | None = None, ticket_id: int | None = None,
                   limit: int = MAX_NOTES) -> list[Note]:
        """The notes of one conversation or one ticket of the tenant, oldest first."""
        if (conversation_id is None) == (ticket_id is None):
            raise ValueError("name exactly one conversation or one ticket")
        where = [NoteRow.tenant_id == tenant_id]
        where.append(NoteRow.conversation_id == conversation_id if conversation_id is not None
                     else NoteRow.ticket_id == ticket_id)
        with self._read() as s:
            rows = s.scalars(select(NoteRow).where(*where).order_by(NoteRow.id).limit(limit)).all()
            return [from_row(Note, r) for r in rows]
