"""Tickets carry a version (optimistic concurrency): every save under the row's lock adds one,
the API sends it as the ticket's ETag and refuses a write with a stale If-Match (AF609), and the
ticket page's forms post the version they show. Existing tickets start at version 1.

Revision ID: 0012_ticket_version
Revises: 0011_turn_path
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_ticket_version'
down_revision = '0011_turn_path'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('version')
