"""The database lease of cluster-wide background work: one holder at a time, renewed by its
holder, taken over after the holder stops renewing (a killed process), released at shutdown.
On SQLite and, in CI, PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from anfu.store import Lease


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    from anfu.settings import get_settings
    from anfu.store import make_engine, upgrade
    from anfu.store.testing import postgres_test_url

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lease.db'}"
        schema_fixture = None
    else:
        if postgres_test_url() is None:
            pytest.skip("ANFU_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
        schema_fixture = request.getfixturevalue("pg_schema")
        url = schema_fixture
    settings = get_settings(database_url=url, data_dir=tmp_path, environment="test", secret_key="lease-test-Ki7q2Lw9Xz4Rt6Yp1Vb8Nm3Hc5Jf0Dg")
    upgrade(settings)
    eng = make_engine(settings)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_schema() -> Any:
    from sqlalchemy import text

    from anfu.store import make_engine
    from anfu.store.testing import postgres_test_url

    base = postgres_test_url()
    schema = f"anfu_lease_{id(object())}"
    admin = make_engine(url=base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def test_one_holder_renewal_takeover_and_release(engine: Any) -> None:
    now = [datetime(2026, 12, 6, 8, 0, tzinfo=timezone.utc)]
    a = Lease(engine, "scheduler", ttl_s=30, clock=lambda: now[0], holder="a")
    b = Lease(engine, "scheduler", ttl_s=30, clock=lambda: now[0], holder="b")
    assert a.acquire() is True
    assert b.acquire() is False
    now[0] += timedelta(seconds=20)
    assert a.acquire() is True          # renewed: expires 30 s from now
    now[0] += timedelta(seconds=20)
    assert b.acquire() is False         # still a's (renewed 20 s ago)
    now[0] += timedelta(seconds=11)     # a was killed and never renewed
    assert b.acquire() is True
    assert a.acquire() is False
    b.release()
    assert a.acquire() is True          # released: no wait for the expiry
    other = Lease(engine, "webhooks", ttl_s=30, clock=lambda: now[0], holder="b")
    assert other.acquire() is True      # leases are per name
