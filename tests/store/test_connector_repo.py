"""The admin console's store parts on SQLite and PostgreSQL: connector settings per tenant and
kind (one row each, a change clears the last test, another tenant's never seen), the tenant's
rename, and the audit log's filters (an action family, actor, object, date range)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from anfu.errors import StoreError
from anfu.store import ConnectorStore, Principal
from anfu.store.tables import AuditRow


def test_connector_settings_per_tenant_and_kind(store) -> None:  # noqa: ANN001
    connectors = ConnectorStore(store.engine)
    grid = store.create_tenant("grid", "国网某市供电公司")
    gas = store.create_tenant("gas", "某燃气公司")
    with pytest.raises(StoreError) as missing:
        connectors.save_connector(grid.id, "chatwoot", by="user:root", base_url="https://cw.example.cn")
    assert missing.value.code == "AF505"
    with pytest.raises(StoreError):
        connectors.get_connector(grid.id, "freshdesk")
    saved = connectors.save_connector(grid.id, "chatwoot", by="user:root", base_url="https://cw.example.cn",
                                      account="3", api_token="sealed:abc", token_hint="…abcd",
                                      webhook_secret="sealed:def")
    assert saved.kind == "chatwoot" and saved.active and saved.test_ok is None
    tested = connectors.record_connector_test(grid.id, "chatwoot", ok=True, detail="signed in as 机器人")
    assert tested.test_ok is True and tested.tested_at is not None and tested.test_detail == "signed in as 机器人"
    changed = connectors.save_connector(grid.id, "chatwoot", by="user:li", base_url="https://cw2.example.cn")
    assert changed.id == saved.id and changed.api_token == "sealed:abc" and changed.account == "3"
    assert changed.test_ok is None and changed.tested_at is None and changed.updated_by == "user:li"
    assert [c.kind for c in connectors.list_connectors(grid.id)] == ["chatwoot"]
    assert connectors.list_connectors(gas.id) == [] and connectors.get_connector(gas.id, "chatwoot") is None
    with pytest.raises(StoreError):
        connectors.record_connector_test(gas.id, "chatwoot", ok=True, detail="x")
    with pytest.raises(StoreError):
        connectors.save_connector(grid.id, "chatwoot", by="x", updated_by="user:mallory")  # not a settable field
    assert store.rename_tenant(grid.id, "国网某市供电公司客服中心").name == "国网某市供电公司客服中心"


def test_audit_filters_family_actor_object_and_range(store) -> None:  # noqa: ANN001
    tenant = store.create_tenant("grid", "国网某市供电公司")
    other = store.create_tenant("gas", "某燃气公司")
    admin = store.create_user(tenant.id, "root", "x", "admin")
    who = Principal.of_user(admin)
    for action in ("alert.acknowledged", "alert.resolved", "alerts.muted", "alertx", "user.created", "connector.tested"):
        store.audit(tenant.id, "user:wang", action, target="alert:7")
    store.audit(other.id, "user:wang", "alert.acknowledged", target="alert:7")
    old = store.audit(tenant.id, "user:li", "alert.assigned", target="alert:8")
    day = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)
    with store._write() as s:  # noqa: SLF001  (test set-up: back-date one entry)
        s.execute(update(AuditRow).where(AuditRow.id == old.id).values(at=day))
    family = store.list_audit(who, action="alert.")
    assert sorted(e.action for e in family.items) == ["alert.acknowledged", "alert.assigned", "alert.resolved"]
    assert family.total == 3
    assert store.list_audit(who, action="alert%.").total == 0  # LIKE wildcards are literal
    assert store.list_audit(who, action="alert.", actor="user:li").total == 1
    assert store.list_audit(who, target="alert:7").total == 6
    ranged = store.list_audit(who, since=day - timedelta(hours=1), until=day + timedelta(hours=1))
    assert [e.id for e in ranged.items] == [old.id]
    assert store.list_audit(who, until=day).total == 0
    paged = store.list_audit(who, action="alert.", page=2, page_size=2)
    assert paged.total == 3 and len(paged.items) == 1 and paged.pages == 2
