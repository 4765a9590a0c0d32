"""Routing (issue 13): team queues by industry and channel, agents' routing profiles (skills,
cap, presence), a team's auto-assignment switch and the queue a conversation landed in; and the
analytics facts of each conversation (`conversation_facts`, what its latest assessment adds to
the dashboards, which sum them in SQL), filled here from the stored assessments.

Revision ID: 0007_routing
Revises: 0006
Create Date: 2026-12-06 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007_routing'
down_revision = '0006'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
EMOTIONS = ('neutral', 'satisfied', 'anxious', 'doubtful', 'disappointed', 'dissatisfied', 'angry')


def upgrade() -> None:
    op.create_table('routing_queues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('industry', sa.String(length=32), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_routing_queues_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_routing_queues_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_queues')),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_routing_queues_tenant_name')
    )
    with op.batch_alter_table('routing_queues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_queues_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_routing_queues_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('agent_routing',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('industries', JSON, nullable=False),
    sa.Column('channels', JSON, nullable=False),
    sa.Column('max_open', sa.Integer(), nullable=False),
    sa.Column('presence', sa.String(length=16), nullable=False),
    sa.Column('presence_since', sa.DateTime(), nullable=False),
    sa.Column('last_assigned_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_agent_routing_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agent_routing_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_agent_routing'))
    )
    with op.batch_alter_table('agent_routing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_routing_tenant_id'), ['tenant_id'], unique=False)

    # plain ADD COLUMN on both engines (no table copy on SQLite)
    op.add_column('teams', sa.Column('auto_assign', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('conversations', sa.Column('queue_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_conversations_queue_id'), 'conversations', ['queue_id'], unique=False)

    op.create_table('conversation_facts',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('peak', sa.Integer(), nullable=True),
    sa.Column('end_intensity', sa.Integer(), nullable=True),
    sa.Column('calmed', sa.Boolean(), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=True),
    sa.Column('cause', sa.String(length=32), nullable=True),
    sa.Column('valence', sa.Float(), nullable=True),
    sa.Column('quality_score', sa.Integer(), nullable=True),
    *(sa.Column(f'emotion_{label}', sa.Integer(), nullable=False) for label in EMOTIONS),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_facts_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_conversation_facts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversation_facts'))
    )
    with op.batch_alter_table('conversation_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_facts_tenant_id'), ['tenant_id'], unique=False)
    _backfill_facts()


def _backfill_facts() -> None:
    """Facts of every conversation's newest assessment (the same function the store writes with)."""
    from anfu.store.facts_repo import facts_values

    conn = op.get_bind()
    assessments = sa.table('assessments', sa.column('id'), sa.column('conversation_id'), sa.column('tenant_id'),
                           sa.column('data', JSON))
    facts = sa.table('conversation_facts', *(sa.column(c) for c in (
        'conversation_id', 'tenant_id', 'peak', 'end_intensity', 'calmed', 'escalation_level', 'cause', 'valence',
        'quality_score', *(f'emotion_{label}' for label in EMOTIONS))))
    newest = sa.select(sa.func.max(assessments.c.id)).group_by(assessments.c.conversation_id)
    rows = []
    for cid, tenant_id, data in conn.execute(sa.select(assessments.c.conversation_id, assessments.c.tenant_id,
                                                       assessments.c.data).where(assessments.c.id.in_(newest))):
        values = facts_values(data or {})
        if values is not None:
            rows.append({"conversation_id": cid, "tenant_id": tenant_id, **values})
        if len(rows) >= 500:
            conn.execute(facts.insert(), rows)
            rows = []
    if rows:
        conn.execute(facts.insert(), rows)


def downgrade() -> None:
    with op.batch_alter_table('conversation_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_facts_tenant_id'))
    op.drop_table('conversation_facts')
    op.drop_index(op.f('ix_conversations_queue_id'), table_name='conversations')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('queue_id')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_column('auto_assign')
    with op.batch_alter_table('agent_routing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_routing_tenant_id'))
    op.drop_table('agent_routing')
    with op.batch_alter_table('routing_queues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_queues_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_routing_queues_team_id'))
    op.drop_table('routing_queues')
