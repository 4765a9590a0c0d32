"""The search index's table (issue 13): one row per searchable thing — a message, a ticket, a
customer — holding its text as space-joined jieba tokens (`anfu.text.segment.index_terms`).

The full-text machinery on top of it is engine-specific and created by the migration
(`0007_search`), outside this metadata:

- SQLite: `search_fts`, an FTS5 table with `search_documents` as its external content, kept in
  step by triggers (so every insert, update and delete of a row here reaches the index);
- PostgreSQL: `ix_search_documents_terms`, a GIN index on
  `array_to_tsvector(string_to_array(terms, ' '))` — the tokens as lexemes, untouched by any
  text-search configuration, exactly as SQLite sees them.

`UNMAPPED` names these objects so that schema comparisons (Alembic autogenerate, the migration
test) leave them alone. Same `Base` as `tables.py`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, BigId

# kinds of indexed things
KINDS: tuple[str, ...] = ("message", "ticket", "customer")
FTS_TABLE = "search_fts"
PG_INDEX = "ix_search_documents_terms"


def unmapped(name: str | None) -> bool:
    """Is `name` one of the engine-specific search objects the migration creates by hand (the
    FTS5 table and its shadow tables, the GIN index)?"""
    return bool(name) and (name == PG_INDEX or name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))


class SearchDocumentRow(Base):
    __tablename__ = "search_documents"
    __table_args__ = (
        Index("ix_search_documents_kind_ref", "kind", "ref_id", unique=True),
        Index("ix_search_documents_conversation", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # the message's, ticket's or customer's id
    ref_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    # the conversation a message (or a ticket) belongs to, for access checks and erasure
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    terms: Mapped[str] = mapped_column(Text)
