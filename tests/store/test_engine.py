from __future__ import annotations

from pathlib import Path

import pytest

from anfu.errors import StoreError
from anfu.settings import Settings
from anfu.store import make_engine


def test_sqlite_is_wal_with_full_sync_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path / "nested" / "var"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    assert (tmp_path / "nested" / "var" / "anfu.db").exists()
    engine.dispose()


@pytest.mark.parametrize("url", ["mysql://u:p@localhost/anfu", "postgresql://u:p@localhost/anfu",
                                 "sqlite://", "not a url"])
def test_unsupported_urls_get_a_coded_error(url: str) -> None:
    with pytest.raises(StoreError) as err:
        make_engine(url=url)
    assert err.value.code == "AF501"


def test_postgres_url_uses_psycopg3(postgres_url: str) -> None:
    engine = make_engine(url=postgres_url)
    assert engine.dialect.driver == "psycopg"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    engine.dispose()
