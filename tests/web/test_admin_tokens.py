"""Admin console, API tokens (anfu/server/web/admin_tokens.py): an admin issues a token for an
integration (shown exactly once, then only its first characters), the token works on the API
until it is revoked, both audited; other roles and other tenants cannot list, issue or revoke."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.admin_world import add_admins, audit_actions


@pytest.fixture(scope="module")
def world(web: Any) -> Any:
    return add_admins(web)


def issue(client: TestClient, name: str = "网页聊天网关", role: str = "supervisor", team_id: str = "") -> Any:
    return client.post("/admin/tokens", data={"name": name, "role": role, "team_id": team_id})


def test_a_token_is_shown_once_works_and_is_revoked(world: Any) -> None:
    admin = world.client("root")
    team_id = str(world.users["wang"].team_id)
    page = issue(admin, "呼叫中心 CTI 对接", "supervisor", team_id)
    assert page.status_code == 201 and 'id="token-issued"' in page.text and "呼叫中心 CTI 对接" in page.text
    token = re.search(r'id="new-token">([^<]+)<', page.text).group(1)
    assert token.startswith("anfu_") and len(token) > 30
    record = next(t for t in world.store.list_api_tokens(world.users["li"].tenant_id) if t.name == "呼叫中心 CTI 对接")
    assert record.role == "supervisor" and record.team_id == int(team_id) and record.revoked_at is None
    # listed afterwards by name and first characters, never the token itself
    listing = admin.get("/admin/tokens").text
    assert f'data-token="{record.id}"' in listing and record.prefix in listing and token not in listing
    # the token works on the API
    api = TestClient(world.app)
    api.headers["Authorization"] = f"Bearer {token}"
    assert api.get("/api/v1/conversations").status_code == 200
    # revoke: the API refuses it from now on, the list shows it revoked with no button
    revoked = admin.post(f"/admin/tokens/{record.id}/revoke")
    assert revoked.status_code == 200 and 'id="token-revoked"' in revoked.text
    assert api.get("/api/v1/conversations").status_code == 401
    row = revoked.text.split(f'data-token="{record.id}"')[1].split("</tr>")[0]
    assert "已吊销" in row and "revoke-token" not in row
    created = [e for e in audit_actions(world, "token.created") if e.target == f"token:{record.id}"]
    gone = [e for e in audit_actions(world, "token.revoked") if e.target == f"token:{record.id}"]
    assert created and created[0].actor == "user:root" and gone
    assert token not in str(created[0].detail)


def test_bad_input_is_shown_on_the_page(world: Any) -> None:
    admin = world.client("root")
    assert issue(admin, "   ").status_code == 422
    bad_role = issue(admin, "报表系统", role="superuser")
    assert bad_role.status_code == 422 and 'id="admin-error"' in bad_role.text and "AF505" in bad_role.text
    foreign_team = world.store.list_teams(world.users["gas_admin"].tenant_id)[0]
    other_team = issue(admin, "报表系统", team_id=str(foreign_team.id))
    assert other_team.status_code == 404 and "AF503" in other_team.text
    assert not [t for t in world.store.list_api_tokens(world.users["li"].tenant_id) if t.name == "报表系统"]
    english = world.client("root", lang="en").post("/admin/tokens", data={"name": "报表系统", "role": "x"})
    assert "The change was refused (AF505)" in english.text


def test_another_tenant_cannot_revoke_or_see_the_token(world: Any) -> None:
    admin = world.client("root")
    issue(admin, "工单系统同步")
    record = next(t for t in world.store.list_api_tokens(world.users["li"].tenant_id) if t.name == "工单系统同步")
    gas = world.client("gas_admin")
    assert "工单系统同步" not in gas.get("/admin/tokens").text
    refused = gas.post(f"/admin/tokens/{record.id}/revoke")
    assert refused.status_code == 404 and "AF503" in refused.text
    assert next(t for t in world.store.list_api_tokens(record.tenant_id) if t.id == record.id).revoked_at is None
    assert gas.post("/admin/tokens/999999999/revoke").status_code == 404


@pytest.mark.parametrize("who", ["li", "wang", "qa"])
def test_other_roles_cannot_list_issue_or_revoke(world: Any, who: str) -> None:
    admin = world.client("root")
    issue(admin, f"给{who}看的令牌")
    record = next(t for t in world.store.list_api_tokens(world.users["li"].tenant_id) if t.name == f"给{who}看的令牌")
    client = world.client(who)
    listing = client.get("/admin/tokens")
    assert listing.status_code == 403 and 'id="forbidden"' in listing.text and record.prefix not in listing.text
    assert "revoke-token" not in listing.text and 'id="issue-token"' not in listing.text
    assert issue(client, "偷偷建的令牌", role="admin").status_code == 403
    assert client.post(f"/admin/tokens/{record.id}/revoke").status_code == 403
    tokens = world.store.list_api_tokens(world.users["li"].tenant_id)
    assert not [t for t in tokens if t.name == "偷偷建的令牌"]
    assert next(t for t in tokens if t.id == record.id).revoked_at is None
