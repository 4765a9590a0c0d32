"""Search and lists (issue 13): the search index (`search_documents`, with an FTS5 table on
SQLite and a GIN index on PostgreSQL), filled from the messages, tickets and customers already
stored; users' saved views of the conversation lists.

Revision ID: 0007_search
Revises: 0006
Create Date: 2026-12-06 06:40:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007_search'
down_revision = '0006'
branch_labels = None
depends_on = None

FTS = "search_fts"
BATCH = 2000


def upgrade() -> None:
    op.create_table('search_documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_search_documents_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_search_documents_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_documents'))
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index('ix_search_documents_conversation', ['conversation_id'], unique=False)
        batch_op.create_index('ix_search_documents_kind_ref', ['kind', 'ref_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_search_documents_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('saved_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('filters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_saved_views_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_views_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
    sa.UniqueConstraint('user_id', 'name', name='uq_saved_views_user_name')
    )
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_views_tenant_id'), ['tenant_id'], unique=False)

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # external content: the FTS5 table reads its text from search_documents; the triggers
        # carry every insert, update and delete over (also the cascades of a deletion)
        # kind and tenant are indexed too, so a match for one kind of one tenant intersects
        # doclists instead of walking every message that holds a common word
        op.execute(f"CREATE VIRTUAL TABLE {FTS} USING fts5(terms, kind, tenant_id, content='search_documents', "
                   f"content_rowid='id', tokenize='unicode61')")
        op.execute(f"CREATE TRIGGER {FTS}_ai AFTER INSERT ON search_documents BEGIN "
                   f"INSERT INTO {FTS}(rowid, terms, kind, tenant_id) VALUES (new.id, new.terms, new.kind, new.tenant_id); END")
        op.execute(f"CREATE TRIGGER {FTS}_ad AFTER DELETE ON search_documents BEGIN "
                   f"INSERT INTO {FTS}({FTS}, rowid, terms, kind, tenant_id) "
                   f"VALUES ('delete', old.id, old.terms, old.kind, old.tenant_id); END")
        op.execute(f"CREATE TRIGGER {FTS}_au AFTER UPDATE ON search_documents BEGIN "
                   f"INSERT INTO {FTS}({FTS}, rowid, terms, kind, tenant_id) "
                   f"VALUES ('delete', old.id, old.terms, old.kind, old.tenant_id); "
                   f"INSERT INTO {FTS}(rowid, terms, kind, tenant_id) VALUES (new.id, new.terms, new.kind, new.tenant_id); END")
    elif bind.dialect.name == "postgresql":
        # the tokens as lexemes, exactly as stored (no text-search configuration touches them)
        op.execute("CREATE INDEX ix_search_documents_terms ON search_documents "
                   "USING gin (array_to_tsvector(string_to_array(terms, ' ')))")
    _backfill(bind)


def _backfill(bind: sa.engine.Connection) -> None:
    """Index what is already stored (the demo data, an existing centre's history)."""
    from anfu.text.segment import index_terms

    docs = sa.table("search_documents", sa.column("tenant_id"), sa.column("kind"), sa.column("ref_id"),
                    sa.column("conversation_id"), sa.column("terms"))

    def batches(sql: str):  # noqa: ANN202
        last = 0
        while True:
            rows = bind.execute(sa.text(sql), {"last": last, "n": BATCH}).all()
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    for rows in batches("SELECT id, tenant_id, conversation_id, text FROM messages WHERE id > :last "
                        "ORDER BY id LIMIT :n"):
        bind.execute(docs.insert(), [{"tenant_id": t, "kind": "message", "ref_id": i, "conversation_id": c,
                                      "terms": index_terms(body or "")} for i, t, c, body in rows])
    for rows in batches("SELECT id, tenant_id, conversation_id, number, data FROM tickets WHERE id > :last "
                        "ORDER BY id LIMIT :n"):
        out = []
        for i, t, c, number, data in rows:
            data = json.loads(data) if isinstance(data, str) else (data or {})
            parts = [number, data.get("summary"), data.get("cause"), data.get("csat_comment")]
            parts += [h.get("note") for h in data.get("history") or [] if isinstance(h, dict)]
            out.append({"tenant_id": t, "kind": "ticket", "ref_id": i, "conversation_id": c,
                        "terms": index_terms(" ".join(str(p) for p in parts if p))})
        bind.execute(docs.insert(), out)
    for rows in batches("SELECT id, tenant_id, display_name, external_ref, email, phone FROM customers "
                        "WHERE id > :last ORDER BY id LIMIT :n"):
        bind.execute(docs.insert(), [{"tenant_id": t, "kind": "customer", "ref_id": i, "conversation_id": None,
                                      "terms": index_terms(" ".join(str(v) for v in rest if v))}
                                     for i, t, *rest in rows])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_documents_terms")
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_views_tenant_id'))
    op.drop_table('saved_views')
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_documents_tenant_id'))
        batch_op.drop_index('ix_search_documents_kind_ref')
        batch_op.drop_index('ix_search_documents_conversation')
    op.drop_table('search_documents')
