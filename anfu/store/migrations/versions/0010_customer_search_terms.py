"""Customers found the way agents look for a caller (issue 13): a Chinese name by any one or two
of its characters (王小明 by 小明) and a phone number by its last four digits (手机尾号). The
customers' search documents are rewritten with `anfu.store.search_repo.customer_terms`, the
function the store indexes them with; the downgrade writes them back as before (the words of
name, reference, e-mail and phone only).

Revision ID: 0010_customer_search_terms
Revises: 0009_page_indexes
Create Date: 2026-12-06 11:20:00
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from alembic import op

revision = '0010_customer_search_terms'
down_revision = '0009_page_indexes'
branch_labels = None
depends_on = None

BATCH = 2000


def _rewrite(terms_of: Callable[[str | None, str | None, str | None, str | None], str]) -> None:
    bind = op.get_bind()
    docs = sa.table("search_documents", sa.column("kind"), sa.column("ref_id"), sa.column("terms"))
    last = 0
    while True:
        rows = bind.execute(sa.text("SELECT id, display_name, external_ref, email, phone FROM customers "
                                    "WHERE id > :last ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).all()
        if not rows:
            return
        for customer_id, name, ref, email, phone in rows:
            bind.execute(docs.update().where(docs.c.kind == "customer", docs.c.ref_id == customer_id)
                         .values(terms=terms_of(name, ref, email, phone)))
        last = rows[-1][0]


def upgrade() -> None:
    from anfu.store.search_repo import customer_terms

    _rewrite(customer_terms)


def downgrade() -> None:
    from anfu.text.segment import index_terms

    _rewrite(lambda *fields: index_terms(" ".join(str(v) for v in fields if v)))
