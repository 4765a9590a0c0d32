"""Merge the four workspace branches of issue 13 (search, admin console, notes, routing) that
were written side by side from 0006; no schema change of its own.

Revision ID: 0008
Revises: 0007_admin, 0007_notes, 0007_routing, 0007_search
"""

from __future__ import annotations

revision = '0008'
down_revision = ('0007_admin', '0007_notes', '0007_routing', '0007_search')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
