from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from anfu.errors import StoreError
from anfu.settings import Settings
from anfu.store import check_schema, current_revision, downgrade, head_revision, make_engine, upgrade
from anfu.store.migrate import include_name
from anfu.store.tables import Base
from anfu.store.testing import prepare_postgres

TABLES = {"tenants", "teams", "users", "sessions", "api_tokens", "customers", "conversations",
          "messages", "assessments", "events", "audit_log"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url=url)
    downgrade(engine, "base")
    engine.dispose()
    yield url
    prepare_postgres(url)


def test_upgrade_creates_every_table_on_an_empty_database(empty_url: str) -> None:
    engine = make_engine(url=empty_url)
    with pytest.raises(StoreError) as err:
        check_schema(engine)
    assert err.value.code == "AF502"
    upgrade(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    assert current_revision(engine) == head_revision()
    check_schema(engine)
    engine.dispose()


def test_downgrade_upgrade_round_trip(empty_url: str) -> None:
    engine = make_engine(url=empty_url)
    upgrade(engine)
    downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    assert current_revision(engine) is None
    upgrade(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrations_match_the_table_definitions(empty_url: str) -> None:
    """tables.py and the migration scripts describe the same schema (no forgotten migration)."""
    engine = make_engine(url=empty_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True,
                                                                       "include_name": include_name}), Base.metadata)
    assert diff == []
    engine.dispose()


def test_upgrade_accepts_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    upgrade(settings)
    assert (tmp_path / "var" / "anfu.db").exists()
    engine = make_engine(settings)
    check_schema(engine)
    engine.dispose()


def test_downgrading_a_branch_keeps_the_data_of_the_tables_it_rebuilds(tmp_path: Path) -> None:
    """On SQLite a dropped column rebuilds its table (batch mode); with foreign keys on, dropping
    the old table would cascade into its children and delete every message of every
    conversation. Migrations run with foreign keys off and check them before committing."""
    from sqlalchemy import text

    from anfu.store import Store

    url = f"sqlite:///{tmp_path / 'keep.db'}"
    engine = make_engine(url=url)
    upgrade(engine)
    store = Store(engine)
    tenant = store.create_tenant("water-96116", "自来水热线")
    conv = store.create_conversation(tenant.id, channel="call", industry="water")
    store.append_message(conv.id, "customer", "家里停水两天了，到底什么时候来水？")
    store.append_message(conv.id, "agent", "非常抱歉，抢修队正在更换管道，预计今晚八点前恢复供水。")
    downgrade(engine, "0006")  # 0007_routing rebuilds conversations (drops queue_id) and teams
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM conversations")).scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on for the service
    upgrade(engine)
    check_schema(engine)
    engine.dispose()


def test_turn_path_stores_assessments_with_lz4_and_downgrades(empty_url: str) -> None:
    """0011_turn_path (issue 15): PostgreSQL compresses each live turn's assessment with lz4
    (about half the database CPU of pglz on a 20 KB assessment); the downgrade puts pglz back.
    SQLite has nothing to change and migrates through it."""
    from sqlalchemy import text

    engine = make_engine(url=empty_url)
    upgrade(engine)
    if engine.dialect.name == "sqlite":
        assert current_revision(engine) == head_revision()
        downgrade(engine, "0010_customer_search_terms")
        upgrade(engine)
        engine.dispose()
        return
    column = text("SELECT attcompression FROM pg_attribute WHERE attrelid = 'assessments'::regclass "
                  "AND attname = 'data'")
    with engine.connect() as conn:
        assert conn.execute(column).scalar() == "l"
    downgrade(engine, "0010_customer_search_terms")
    with engine.connect() as conn:
        assert conn.execute(column).scalar() == "p"
    upgrade(engine)
    engine.dispose()
