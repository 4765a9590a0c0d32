"""Admin console, settings (anfu/server/web/admin_settings.py and anfu/service/tenant_settings.py):
the tenant's name is edited here (audited), the server's settings are shown with the values in
force (secrets only as set or unset, paths and the database URL not at all); other roles and
tenants cannot change it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from anfu.service.tenant_settings import server_settings
from anfu.settings import get_settings
from tests.web.admin_world import add_admins, audit_actions


@pytest.fixture(scope="module")
def world(web: Any) -> Any:
    return add_admins(web)


def test_effective_values_are_shown_and_secrets_are_not(world: Any) -> None:
    page = world.client("root").get("/admin/settings")
    assert page.status_code == 200
    shown = dict(re.findall(r'<dd data-setting="([A-Z_]+)">(.*?)</dd>', page.text))
    assert "<code>480</code>" in shown["ANFU_SESSION_TTL_MINUTES"] and "（默认）" in shown["ANFU_SESSION_TTL_MINUTES"]
    assert "<code>test</code>" in shown["ANFU_ENVIRONMENT"] and "（默认）" not in shown["ANFU_ENVIRONMENT"]
    assert shown["ANFU_SECRET_KEY"] == "已设置"
    secret = world.settings.secret_key.get_secret_value()
    assert secret not in page.text and str(world.settings.data_dir) not in page.text
    assert "ANFU_DATABASE_URL" not in page.text and 'value="国网某市供电公司"' in page.text
    assert 'id="tenant-slug">grid-95598<' in page.text
    english = world.client("root", lang="en").get("/admin/settings").text
    assert "Server settings (values in force)" in english and ">set<" in english.replace("</dd>", "<")


def test_server_settings_report_changed_values(tmp_path: Any) -> None:
    settings = get_settings(environment="development", data_dir=tmp_path, session_ttl_minutes=60,
                            store_masked_text=True)
    values = {s.name: s for s in server_settings(settings)}
    assert values["ANFU_SESSION_TTL_MINUTES"].value == "60" and not values["ANFU_SESSION_TTL_MINUTES"].default
    assert values["ANFU_STORE_MASKED_TEXT"].value == "true"
    assert values["ANFU_LOGIN_MAX_ATTEMPTS"].value == "5" and values["ANFU_LOGIN_MAX_ATTEMPTS"].default
    assert values["ANFU_SECRET_KEY"].secret and values["ANFU_SECRET_KEY"].value == "set"


def test_rename_the_tenant(world: Any) -> None:
    admin = world.client("root")
    tenant_id = world.users["li"].tenant_id
    saved = admin.post("/admin/settings", data={"name": "  国网某市供电公司   客户服务中心 "})
    assert saved.status_code == 200 and 'id="settings-saved"' in saved.text
    assert world.store.get_tenant(tenant_id).name == "国网某市供电公司 客户服务中心"
    entry = [e for e in audit_actions(world, "tenant.renamed") if e.target == f"tenant:{tenant_id}"][0]
    assert entry.detail == {"from": "国网某市供电公司", "to": "国网某市供电公司 客户服务中心"} and entry.actor == "user:root"
    for bad in ("", "   ", "名" * 201, "国网\x00公司"):
        refused = admin.post("/admin/settings", data={"name": bad})
        assert refused.status_code == 422 and "AF505" in refused.text
    assert world.store.get_tenant(tenant_id).name == "国网某市供电公司 客户服务中心"
    # another tenant's admin renames only their own
    world.client("gas_admin").post("/admin/settings", data={"name": "某燃气集团"})
    assert world.store.get_tenant(tenant_id).name == "国网某市供电公司 客户服务中心"
    assert world.store.get_tenant(world.users["gas_admin"].tenant_id).name == "某燃气集团"
    admin.post("/admin/settings", data={"name": "国网某市供电公司"})


@pytest.mark.parametrize("who", ["li", "wang", "qa"])
def test_other_roles_get_403(world: Any, who: str) -> None:
    client = world.client(who)
    page = client.get("/admin/settings")
    assert page.status_code == 403 and "ANFU_SESSION_TTL_MINUTES" not in page.text and "tenant-settings" not in page.text
    assert client.post("/admin/settings", data={"name": "被篡改的名称"}).status_code == 403
    assert world.store.get_tenant(world.users["li"].tenant_id).name == "国网某市供电公司"
