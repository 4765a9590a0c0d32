"""Pages under 300 ms for a tenant of 5,000 conversations (issue 13): the wellbeing load's facts
(`turn_facts`: how each customer message read, from the latest assessment that covers it; and
`assessments.negative_energy`, the 负能量 flag copied out of the document), filled here from the
stored assessments with the functions the store writes them with; `conversation_facts.violations`
(the newest assessment's agent turns with a 服务忌语 violation, so the 质检复核 queue reads facts
instead of each assessment's JSON); and the indexes the busiest pages' queries need to be planned
well without statistics (SQLite has none until ANALYZE): tickets of a conversation, a tenant's
events by name, a tenant's conversations by status and team.

Revision ID: 0009_page_indexes
Revises: 0008
Create Date: 2026-12-06 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009_page_indexes'
down_revision = '0008'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('negative_energy', sa.Boolean(), nullable=True))
    op.create_table('turn_facts',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('emotion', sa.String(length=32), nullable=True),
    sa.Column('intensity', sa.Integer(), nullable=False),
    sa.Column('abusive', sa.Boolean(), nullable=False),
    sa.Column('upto_seq', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_turn_facts_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_turn_facts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'seq', name=op.f('pk_turn_facts'))
    )
    with op.batch_alter_table('turn_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_turn_facts_tenant_id'), ['tenant_id'], unique=False)
    with op.batch_alter_table('conversation_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('violations', sa.Integer(), nullable=True))
    op.create_index('ix_tickets_tenant_conversation', 'tickets', ['tenant_id', 'conversation_id'], unique=False)
    op.create_index('ix_events_tenant_name', 'events', ['tenant_id', 'name', 'id'], unique=False)
    op.create_index('ix_conversations_tenant_status_team', 'conversations', ['tenant_id', 'status', 'team_id'],
                    unique=False)
    _backfill()
    _backfill_violations()


def _backfill() -> None:
    """Every stored assessment, oldest reading first, so the latest that covers a message wins."""
    from anfu.store.facts_repo import negative_energy_of, turn_readings

    conn = op.get_bind()
    assessments = sa.table('assessments', sa.column('id'), sa.column('conversation_id'), sa.column('tenant_id'),
                           sa.column('upto_seq'), sa.column('negative_energy'), sa.column('data', JSON))
    facts = sa.table('turn_facts', *(sa.column(c) for c in (
        'conversation_id', 'seq', 'tenant_id', 'emotion', 'intensity', 'abusive', 'upto_seq', 'assessment_id')))
    readings: dict[tuple[int, int], dict[str, object]] = {}
    flagged: list[int] = []
    rows = conn.execute(sa.select(assessments.c.id, assessments.c.conversation_id, assessments.c.tenant_id,
                                  assessments.c.upto_seq, assessments.c.data)
                        .order_by(assessments.c.conversation_id, assessments.c.upto_seq, assessments.c.id))
    for aid, cid, tenant_id, upto_seq, data in rows:
        data = data or {}
        if negative_energy_of(data):
            flagged.append(aid)
        for seq, values in turn_readings(data, upto_seq).items():
            readings[(cid, seq)] = {"conversation_id": cid, "seq": seq, "tenant_id": tenant_id, "upto_seq": upto_seq,
                                    "assessment_id": aid, **values}
    batch = list(readings.values())
    for start in range(0, len(batch), 500):
        conn.execute(facts.insert(), batch[start:start + 500])
    conn.execute(assessments.update().values(negative_energy=False))
    for start in range(0, len(flagged), 500):
        conn.execute(assessments.update().where(assessments.c.id.in_(flagged[start:start + 500]))
                     .values(negative_energy=True))


def _backfill_violations() -> None:
    """The violations of every conversation's newest assessment (the one its facts come from)."""
    from anfu.store.facts_repo import violations_of

    conn = op.get_bind()
    assessments = sa.table('assessments', sa.column('id'), sa.column('conversation_id'), sa.column('data', JSON))
    facts = sa.table('conversation_facts', sa.column('conversation_id'), sa.column('violations'))
    newest = sa.select(sa.func.max(assessments.c.id)).group_by(assessments.c.conversation_id)
    counts: dict[int, list[int]] = {}
    for cid, data in conn.execute(sa.select(assessments.c.conversation_id, assessments.c.data)
                                  .where(assessments.c.id.in_(newest))):
        counts.setdefault(violations_of(data or {}), []).append(cid)
    for count, ids in counts.items():
        for start in range(0, len(ids), 500):
            conn.execute(facts.update().where(facts.c.conversation_id.in_(ids[start:start + 500]))
                         .values(violations=count))


def downgrade() -> None:
    op.drop_index('ix_conversations_tenant_status_team', table_name='conversations')
    op.drop_index('ix_events_tenant_name', table_name='events')
    op.drop_index('ix_tickets_tenant_conversation', table_name='tickets')
    with op.batch_alter_table('conversation_facts', schema=None) as batch_op:
        batch_op.drop_column('violations')
    with op.batch_alter_table('turn_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_turn_facts_tenant_id'))
    op.drop_table('turn_facts')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_column('negative_energy')
