"""Security fixes (issue 12): per-tenant ticket number sequences, keyed digests to match
customers whose phone / e-mail are stored masked, room for encrypted TOTP secrets and a
pending (not yet confirmed) authenticator.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_sequences',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ticket_sequences_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'day', name=op.f('pk_ticket_sequences')),
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('email_digest', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_customers_tenant_phone_digest', ['tenant_id', 'phone_digest'], unique=False)
        batch_op.create_index('ix_customers_tenant_email_digest', ['tenant_id', 'email_digest'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('totp_pending', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_pending')
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=True)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_tenant_email_digest')
        batch_op.drop_index('ix_customers_tenant_phone_digest')
        batch_op.drop_column('email_digest')
        batch_op.drop_column('phone_digest')
    op.drop_table('ticket_sequences')
