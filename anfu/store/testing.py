"""Helpers for test suites that need a database (store, security and server tests).

`ANFU_TEST_POSTGRES_URL` (set by `.ci/run`) names a PostgreSQL database that tests may wipe;
without it PostgreSQL variants of tests skip (and fail under `ANFU_REQUIRE_ALL=1`).

    url = sqlite_test_url(tmp_path)            # a fresh, migrated SQLite file
    engine = make_engine(url=url)
    reset(engine)                              # empty every table, keep the schema
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import Engine, delete, text

from .engine import make_engine
from .migrate import current_revision, downgrade, head_revision, upgrade
from .tables import Base

POSTGRES_ENV = "ANFU_TEST_POSTGRES_URL"


def postgres_test_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def migrated_sqlite(path: Path) -> str:
    """Create (once) a migrated SQLite database at `path`; returns its URL."""
    url = f"sqlite:///{path}"
    if not path.exists():
        engine = make_engine(url=url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
    return url


def copy_sqlite(template: Path, target: Path) -> str:
    """A copy of a migrated template database (much faster than migrating per test)."""
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def prepare_postgres(url: str) -> None:
    """Bring the shared PostgreSQL test database to the newest schema from any state."""
    engine = make_engine(url=url)
    try:
        if current_revision(engine) not in (None, head_revision()):
            downgrade(engine, "base")
        with engine.begin() as conn:  # leftovers of an interrupted run without alembic_version
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(engine)
    finally:
        engine.dispose()


def reset(engine: Engine) -> None:
    """Delete every row of every table (children first); the schema stays."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(delete(table))
