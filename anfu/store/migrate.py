"""Schema migrations (Alembic, scripts in `anfu/store/migrations/`), driven from Python.

`upgrade(settings)` brings a database to the newest schema (creating it when empty);
`downgrade(target, "base")` undoes migrations; `check_schema(engine)` refuses to run the
service against an out-of-date schema (AF502). To write a new migration after changing
`tables.py`, call `revision(engine, message)` against a database at head and review the script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ..errors import StoreError
from .engine import make_engine

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Schema comparisons skip the objects a migration creates by hand and the metadata cannot
    describe (the search index's FTS5 table and GIN index, `anfu.store.search_tables`)."""
    from .search_tables import unmapped

    return not (type_ in ("table", "index") and unmapped(name))


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


def _engine(target: Any) -> tuple[Engine, bool]:
    """Accept an Engine or a Settings object; say whether we own (and must dispose) it."""
    if isinstance(target, Engine):
        return target, False
    return make_engine(target), True


def _run(target: Any, fn: Any, revision: str) -> None:
    """Run an Alembic command in one transaction. On SQLite, as its manual prescribes for schema
    changes, foreign keys are off meanwhile (a dropped column rebuilds the table; with them on,
    dropping the old table would cascade into its children) and checked before committing."""
    engine, owned = _engine(target)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:  # outside any transaction (inside one the pragma is a no-op)
                _pragma(connection, "PRAGMA foreign_keys=OFF")
            try:
                with connection.begin():
                    config = _config()
                    config.attributes["connection"] = connection
                    fn(config, revision)
                    if sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise StoreError("AF502", f"{revision} (foreign keys broken in {broken[0][0]})",
                                             expected="a consistent schema; restore the backup")
            finally:
                if sqlite:
                    _pragma(connection, "PRAGMA foreign_keys=ON")
    finally:
        if owned:
            engine.dispose()


def _pragma(connection: Any, statement: str) -> None:
    """Execute on the DB-API connection directly (autocommit mode, see anfu.store.engine), so
    SQLAlchemy does not begin a transaction around it."""
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def upgrade(target: Any, revision: str = "heads") -> None:
    """Migrate the database of `target` (Settings or Engine) up to `revision`."""
    _run(target, command.upgrade, revision)


def downgrade(target: Any, revision: str = "base") -> None:
    """Migrate the database of `target` (Settings or Engine) down to `revision`."""
    _run(target, command.downgrade, revision)


def head_revision() -> str:
    """The newest revision(s), '+'-joined when independent branches have not been merged yet."""
    heads = sorted(ScriptDirectory.from_config(_config()).get_heads())
    assert heads
    return "+".join(heads)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        heads = sorted(MigrationContext.configure(connection).get_current_heads())
    return "+".join(heads) if heads else None


def check_schema(engine: Engine) -> None:
    """Raise `StoreError` AF502 unless the database is at the newest schema."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        raise StoreError("AF502", current or "(empty database)", expected=head)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration script from the difference between tables.py and `engine`."""
    with engine.begin() as connection:
        config = _config()
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
