"""Probe: the database files — erased text gone from the WAL and free pages, files readable by
the service's user only (issue 12). SQLite only: PostgreSQL keeps no such files beside us."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from anfu.store import make_engine, upgrade
from anfu.store.testing import migrated_sqlite

MARKER = "独一无二的投诉内容QX7Z9"


def _files(database: Path) -> list[Path]:
    return [p for p in (database, Path(f"{database}-wal"), Path(f"{database}-journal")) if p.exists()]


def test_deleted_customer_text_is_gone_from_the_wal_and_the_file(sqlite_world: Any) -> None:
    world = sqlite_world
    database = Path(world.settings.database_url.split("sqlite:///", 1)[1])
    reply = world.client("agent_a1").post("/api/v1/messages", json={
        "text": f"{MARKER}：停电三天了，我要投诉！", "customer": {"phone": "13555556666"}})
    assert reply.status_code == 201
    marker = MARKER.encode("utf-8")
    assert any(marker in p.read_bytes() for p in _files(database))  # it was written
    customer_id = reply.json()["conversation"]["customer_id"]
    assert world.client("admin_a").delete(f"/api/v1/customers/{customer_id}").status_code == 200
    leftovers = [p.name for p in _files(database) if marker in p.read_bytes()]
    assert leftovers == []


def test_the_database_file_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        database = tmp_path / "data" / "anfu.db"
        engine = make_engine(url=f"sqlite:///{database}")
        upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT 1")
        for path in [database, *database.parent.glob("anfu.db-*")]:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
        engine.dispose()
        assert migrated_sqlite(tmp_path / "other.db")
        assert stat.S_IMODE((tmp_path / "other.db").stat().st_mode) == 0o600
    finally:
        os.umask(old)
