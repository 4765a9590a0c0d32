"""The live turn's assessment is stored with lz4 instead of pglz (issue 15, PostgreSQL only).

Every live turn stores the assessment of its window, about 20 KB of JSON, which PostgreSQL
compresses (TOAST) on insert. With pglz that cost the database 0.50 ms of CPU per insert, with
lz4 0.27 ms (600 inserts of a real 16-turn assessment, PostgreSQL 15), and the stored value is
a little smaller. The setting applies to rows written from now on; older rows stay readable
as they are. SQLite stores JSON as text and has nothing to change. Needs a PostgreSQL built
with lz4 (14 or later; Debian's and the official images are): without it the upgrade leaves
the column as it was and says so in the log.

Revision ID: 0011_turn_path
Revises: 0010_customer_search_terms
Create Date: 2026-12-06 12:40:00
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = '0011_turn_path'
down_revision = '0010_customer_search_terms'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if bind.execute(sa.text("SELECT current_setting('server_version_num')::int")).scalar() < 140000:
        log.warning("assessments.data keeps its compression: PostgreSQL 14 or later is needed for %s", method)
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text(f"ALTER TABLE assessments ALTER COLUMN data SET COMPRESSION {method}"))
    except sa.exc.DBAPIError as exc:  # a server built without lz4
        log.warning("assessments.data keeps its compression (%s)", str(exc.orig).strip())


def upgrade() -> None:
    _compression("lz4")


def downgrade() -> None:
    _compression("pglz")
