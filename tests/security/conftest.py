from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from anfu.settings import Settings
from anfu.store import Store, make_engine
from anfu.store.testing import copy_sqlite, migrated_sqlite


class Clock:
    """A controllable UTC clock for lock-out and TOTP tests."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(scope="session")
def security_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("security") / "anfu.db"
    migrated_sqlite(path)
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key="x" * 8 + "kD93-fj2KslQ0a_PzX81mN5vBc7rT4yW6e",
                    login_max_attempts=3, lockout_minutes=15, login_ip_max_attempts=5)


@pytest.fixture
def store(security_template: Path, tmp_path: Path, clock: Clock):
    engine = make_engine(url=copy_sqlite(security_template, tmp_path / "anfu.db"))
    yield Store(engine, clock=clock)
    engine.dispose()
