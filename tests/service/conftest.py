"""Service-layer fixtures: a migrated SQLite store with one tenant, team, agent and
supervisor, and the live hub."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anfu.service.live import Hub
from anfu.store import Principal, Store, make_engine
from anfu.store.testing import migrated_sqlite


@dataclass
class Desk:
    store: Store
    tenant: Any
    team: Any
    agent: Principal
    supervisor: Principal
    hub: Hub


@pytest.fixture
def service_store(tmp_path: Path) -> Desk:
    url = migrated_sqlite(tmp_path / "anfu.db")
    store = Store(make_engine(url=url))
    tenant = store.create_tenant("svc", "服务层租户")
    team = store.create_team(tenant.id, "一组")
    agent = store.create_user(tenant.id, "agent1", "x", "agent", team_id=team.id)
    sup = store.create_user(tenant.id, "sup1", "x", "supervisor", team_id=team.id)
    yield Desk(store, tenant, team, Principal.of_user(agent), Principal.of_user(sup), Hub())
    store.engine.dispose()
