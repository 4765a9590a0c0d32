"""The admin console's test world: the web world of conftest (tenant 国网某市供电公司 with an
agent, a supervisor and an auditor) plus its administrator `root` (TOTP enrolled) and a second
tenant, 某燃气公司, with its own administrator `gas_admin`."""

from __future__ import annotations

from typing import Any

from anfu.security.passwords import hash_password
from anfu.store.access import Principal
from tests.web.conftest import PASSWORD


def add_admins(web: Any) -> Any:
    store = web.store
    tenant_id = web.users["li"].tenant_id
    root = store.create_user(tenant_id, "root", hash_password(PASSWORD), "admin", display_name="系统管理员")
    web.users["root"] = store.update_user(root.id, mfa_enabled=True)  # admins work with TOTP enrolled
    gas = store.create_tenant("gas-96777", "某燃气公司")
    store.create_team(gas.id, "燃气热线组")
    other = store.create_user(gas.id, "gas_admin", hash_password(PASSWORD), "admin", display_name="燃气管理员")
    web.users["gas_admin"] = store.update_user(other.id, mfa_enabled=True)
    return web


def principal(web: Any, who: str) -> Principal:
    return Principal.of_user(web.users[who])


def audit_actions(web: Any, action: str) -> list[Any]:
    return web.store.list_audit(principal(web, "root"), action=action, page_size=200).items
