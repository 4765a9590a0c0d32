"""REST for the tenant settings (anfu/server/routes/tenant_settings.py, issue 11): an admin
reads the settings in force (the tenant's name, the server's ANFU_* values, secrets only as
set) and renames the tenant through the same service as the settings page, audited
`tenant.renamed`. Other roles get 403 AF417; one tenant's admin never reads or changes
another's; bad input is 422 with an AF code. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest


def code(response: Any) -> str:
    return response.json()["error"]["code"]


def test_admin_reads_effective_values_without_secrets(world: Any) -> None:
    response = world.client("admin_a").get("/api/v1/admin/settings")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tenant"]["slug"] == "tenant-a" and body["tenant"]["name"] == "租户A"
    values = {s["name"]: s for s in body["server"]}
    assert values["ANFU_ENVIRONMENT"]["value"] == "test"
    assert values["ANFU_SESSION_TTL_MINUTES"]["value"] == str(world.settings.session_ttl_minutes)
    assert values["ANFU_SECRET_KEY"] == {"name": "ANFU_SECRET_KEY", "value": "set", "secret": True, "default": False}
    assert world.settings.secret_key.get_secret_value() not in response.text
    assert "ANFU_DATABASE_URL" not in values and "anfu-ci-only" not in response.text


def test_admin_renames_the_tenant_audited(world: Any) -> None:
    admin = world.client("admin_a")
    renamed = admin.patch("/api/v1/admin/settings", json={"name": "  国网某市供电公司   95598 热线 "})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["tenant"]["name"] == "国网某市供电公司 95598 热线"
    assert world.store.get_tenant(world.tenants["a"].id).name == "国网某市供电公司 95598 热线"
    assert admin.get("/api/v1/admin/settings").json()["tenant"]["name"] == "国网某市供电公司 95598 热线"
    entries = admin.get("/api/v1/audit", params={"action": "tenant.renamed"}).json()["items"]
    assert entries[0]["detail"] == {"from": "租户A", "to": "国网某市供电公司 95598 热线"}
    # tenant B is untouched and sees only its own
    other = world.client("admin_b").get("/api/v1/admin/settings").json()
    assert other["tenant"]["name"] == "租户B" and other["tenant"]["id"] == world.tenants["b"].id
    assert world.client("admin_b").get("/api/v1/audit", params={"action": "tenant.renamed"}).json()["items"] == []


@pytest.mark.parametrize("who", ["agent_a1", "sup_a1", "auditor_a"])
def test_other_roles_get_403(world: Any, who: str) -> None:
    client = world.client(who)
    for response in (client.get("/api/v1/admin/settings"),
                     client.patch("/api/v1/admin/settings", json={"name": "改名试试"})):
        assert response.status_code == 403, response.text
        assert code(response) == "AF417"
    assert world.store.get_tenant(world.tenants["a"].id).name != "改名试试"


@pytest.mark.parametrize(("body", "expected"), [
    ({"name": "   "}, "AF505"),
    ({"name": "客服\x07中心"}, "AF505"),
    ({"name": ""}, "AF431"),
    ({"name": "长" * 201}, "AF431"),
    ({"name": "供电", "slug": "other"}, "AF431"),
    ({}, "AF431"),
])
def test_bad_input_is_422_with_a_code(world: Any, body: dict[str, str], expected: str) -> None:
    response = world.client("admin_b").patch("/api/v1/admin/settings", json=body)
    assert response.status_code == 422, response.text
    assert code(response) == expected
    assert world.store.get_tenant(world.tenants["b"].id).name == "租户B"
