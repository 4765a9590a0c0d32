"""Store fixtures: every `store` test runs on SQLite, and on PostgreSQL when
ANFU_TEST_POSTGRES_URL is set (else that variant skips; CI sets it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anfu.store import Store, make_engine
from anfu.store.testing import copy_sqlite, migrated_sqlite, postgres_test_url, prepare_postgres, reset


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "anfu.db"
    migrated_sqlite(path)
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = postgres_test_url()
    if url is None:
        pytest.skip("ANFU_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    prepare_postgres(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return copy_sqlite(request.getfixturevalue("sqlite_template"), tmp_path / "anfu.db")
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url=url)
    reset(engine)
    engine.dispose()
    return url


@pytest.fixture
def store(db_url: str):
    engine = make_engine(url=db_url)
    yield Store(engine)
    engine.dispose()
