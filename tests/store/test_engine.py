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


def test_postgres_pings_only_connections_that_were_idle(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: a connection used moments ago is not pinged (no `SELECT 1` round trip per
    request); one idle for longer than PING_AFTER_IDLE_S is, and a dead one is replaced before
    the caller sees it (the server was restarted, a firewall dropped the socket)."""
    from anfu.store import engine as engine_module

    engine = make_engine(url=postgres_url)
    pings: list[int] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(1) or real_ping(c))
    try:
        for _ in range(5):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        assert pings == []  # busy: reused at once, never pinged
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        killer = make_engine(url=postgres_url)
        with killer.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})").scalar() is True
        killer.dispose()
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)  # every pooled connection is "idle" now
        with engine.connect() as conn:  # the dead connection fails its ping and is replaced
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
        assert len(pings) >= 1
    finally:
        engine.dispose()
