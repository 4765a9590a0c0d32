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


# The probe suite (tests/security/test_probe_*.py) runs against the whole service: the same
# two-tenant world as tests/server (every role, one user each), loaded from its conftest.
def _server_fixtures():  # noqa: ANN202
    import importlib.util
    import sys

    name = "anfu_tests_server_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "server" / "conftest.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[name] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules[name]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def probe_engine(request: pytest.FixtureRequest) -> str:
    """The database of this module's worlds (PostgreSQL only with ANFU_TEST_POSTGRES_URL)."""
    from anfu.store.testing import postgres_test_url

    if request.param == "postgresql" and postgres_test_url() is None:
        pytest.skip("ANFU_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    return str(request.param)


@pytest.fixture(scope="module")
def make_world(tmp_path_factory: pytest.TempPathFactory, analyzer, probe_engine: str):  # noqa: ANN001, ANN201
    """`make_world(**settings)`: a service with two tenants and one user per role."""
    server = _server_fixtures()
    built = []

    def make(**overrides):  # noqa: ANN003, ANN202
        built.append(server.build_world(tmp_path_factory.mktemp("probe"), analyzer, probe_engine, **overrides))
        return built[-1]
    yield make
    for one in built:
        server.drop_world(one)


@pytest.fixture(scope="module")
def world(make_world):  # noqa: ANN001, ANN201
    return make_world()


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory, analyzer):  # noqa: ANN001, ANN201
    """A world on SQLite only (file permissions, the WAL)."""
    server = _server_fixtures()
    built = server.build_world(tmp_path_factory.mktemp("probe-sqlite"), analyzer)
    yield built
    server.drop_world(built)
