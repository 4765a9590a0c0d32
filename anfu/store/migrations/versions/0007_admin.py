"""Admin console (issue 13): the helpdesk connectors' per-tenant configuration, and indexes of
the audit log for the admin console's filters (action, actor, object) and newest-first pages.

Revision ID: 0007_admin
Revises: 0006
Create Date: 2026-12-06 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_admin'
down_revision = '0006'
branch_labels = None
depends_on = None

AUDIT_INDEXES = (('ix_audit_log_tenant_id_id', ['tenant_id', 'id']),
                 ('ix_audit_log_tenant_action', ['tenant_id', 'action', 'id']),
                 ('ix_audit_log_tenant_actor', ['tenant_id', 'actor', 'id']),
                 ('ix_audit_log_tenant_target', ['tenant_id', 'target', 'id']))


def upgrade() -> None:
    op.create_table('connector_configs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('base_url', sa.String(length=1000), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=True),
    sa.Column('api_token', sa.Text(), nullable=False),
    sa.Column('token_hint', sa.String(length=16), nullable=False),
    sa.Column('webhook_secret', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('tested_at', sa.DateTime(), nullable=True),
    sa.Column('test_ok', sa.Boolean(), nullable=True),
    sa.Column('test_detail', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_connector_configs_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connector_configs')),
    sa.UniqueConstraint('tenant_id', 'kind', name='uq_connector_configs_tenant_kind')
    )
    with op.batch_alter_table('connector_configs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connector_configs_tenant_id'), ['tenant_id'], unique=False)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        for name, columns in AUDIT_INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        for name, _ in AUDIT_INDEXES:
            batch_op.drop_index(name)
    with op.batch_alter_table('connector_configs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connector_configs_tenant_id'))
    op.drop_table('connector_configs')
