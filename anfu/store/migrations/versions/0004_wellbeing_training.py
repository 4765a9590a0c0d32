"""Agent wellbeing and training (issue 14): after-contact check-ins (private self-check and
note), peer-support preferences, trainers' scenarios, assignments, simulator sessions and the
anonymised case library.



Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 03:59:40.930874
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('training_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.String(length=64), nullable=False),
    sa.Column('assigned_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_training_assignments_agent_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['assigned_by'], ['users.id'], name=op.f('fk_training_assignments_assigned_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_training_assignments_team_id_teams'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_training_assignments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_assignments'))
    )
    with op.batch_alter_table('training_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_assignments_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_assignments_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_assignments_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('training_scenarios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_training_scenarios_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_training_scenarios_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_scenarios')),
    sa.UniqueConstraint('tenant_id', 'scenario_id', name='uq_training_scenarios_tenant_scenario')
    )
    with op.batch_alter_table('training_scenarios', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_scenarios_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('training_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.String(length=64), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('replies', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_training_sessions_agent_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_training_sessions_team_id_teams'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_training_sessions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_sessions'))
    )
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_training_sessions_agent_created', ['agent_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_sessions_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_sessions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('wellbeing_prefs',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('peer_support', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_wellbeing_prefs_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wellbeing_prefs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_wellbeing_prefs'))
    )
    with op.batch_alter_table('wellbeing_prefs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wellbeing_prefs_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('training_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('source_conversation_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('industry', sa.String(length=32), nullable=True),
    sa.Column('cause', sa.String(length=32), nullable=True),
    sa.Column('persona', sa.String(length=16), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_training_cases_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_conversation_id'], ['conversations.id'], name=op.f('fk_training_cases_source_conversation_id_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_training_cases_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_cases'))
    )
    with op.batch_alter_table('training_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_cases_source_conversation_id'), ['source_conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_cases_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('wellbeing_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('self_check', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('handled_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_wellbeing_checkins_conversation_id_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['handled_by'], ['users.id'], name=op.f('fk_wellbeing_checkins_handled_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_wellbeing_checkins_team_id_teams'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_wellbeing_checkins_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wellbeing_checkins_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wellbeing_checkins'))
    )
    with op.batch_alter_table('wellbeing_checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wellbeing_checkins_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wellbeing_checkins_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_wellbeing_checkins_user_created', ['user_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('wellbeing_checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_wellbeing_checkins_user_created')
        batch_op.drop_index(batch_op.f('ix_wellbeing_checkins_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_wellbeing_checkins_team_id'))

    op.drop_table('wellbeing_checkins')
    with op.batch_alter_table('training_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_cases_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_training_cases_source_conversation_id'))

    op.drop_table('training_cases')
    with op.batch_alter_table('wellbeing_prefs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wellbeing_prefs_tenant_id'))

    op.drop_table('wellbeing_prefs')
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_sessions_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_training_sessions_team_id'))
        batch_op.drop_index('ix_training_sessions_agent_created')

    op.drop_table('training_sessions')
    with op.batch_alter_table('training_scenarios', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_scenarios_tenant_id'))

    op.drop_table('training_scenarios')
    with op.batch_alter_table('training_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_assignments_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_training_assignments_team_id'))
        batch_op.drop_index(batch_op.f('ix_training_assignments_agent_id'))

    op.drop_table('training_assignments')
