"""Alembic environment: runs on the connection that `anfu.store.migrate` hands over."""

from __future__ import annotations

from alembic import context

import anfu.store  # noqa: F401  (imports every table module, so metadata is complete)
from anfu.store.migrate import include_name
from anfu.store.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through anfu.store.migrate.upgrade()/downgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place: batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()
