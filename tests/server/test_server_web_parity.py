"""REST operations added where the web-action table (tests/server/test_web_actions_have_api.py)
found a web action without one (issue 11): an admin's password reset of a user
(`POST /api/v1/users/{user_id}/password`) and a supervisor marking an agent's request for
support handled (`POST /api/v1/wellbeing/requests/{request_id}/handled`), through the same
services as the pages. Roles, tenants and teams are checked; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import PASSWORD


def code(response: Any) -> str:
    return response.json()["error"]["code"]


def test_admin_resets_a_users_password(world: Any) -> None:
    target = world.users["agent_a1b"]
    reset = world.client("admin_a").post(f"/api/v1/users/{target.id}/password")
    assert reset.status_code == 200, reset.text
    body = reset.json()
    temporary = body["temporary_password"]
    assert body["user"]["id"] == target.id and len(temporary) >= 10 and temporary != PASSWORD
    assert world.store.get_user(target.id).must_change_password
    anonymous = TestClient(world.app, raise_server_exceptions=False)
    old = anonymous.post("/api/v1/auth/login", json={"username": "agent_a1b", "password": PASSWORD})
    assert old.status_code == 401
    new = anonymous.post("/api/v1/auth/login", json={"username": "agent_a1b", "password": temporary})
    assert new.status_code == 200, new.text
    assert new.json()["restricted"] == "change_password"  # the one-time password must be changed first
    entries = world.client("admin_a").get("/api/v1/audit", params={"action": "user.password_reset"}).json()["items"]
    assert entries[0]["target"] == f"user:{target.id}" and temporary not in str(entries)


@pytest.mark.parametrize("who", ["agent_a1", "sup_a1", "auditor_a"])
def test_only_admins_reset_passwords(world: Any, who: str) -> None:
    response = world.client(who).post(f"/api/v1/users/{world.users['agent_a2'].id}/password")
    assert response.status_code == 403 and code(response) == "AF417"


def test_password_reset_stays_in_the_tenant_and_refuses_bad_ids(world: Any) -> None:
    other = world.client("admin_b").post(f"/api/v1/users/{world.users['agent_a2'].id}/password")
    assert other.status_code == 404 and code(other) == "AF503"
    own = world.client("admin_a").post(f"/api/v1/users/{world.users['admin_a'].id}/password")
    assert own.status_code == 403 and code(own) == "AF417"
    for bad in ("0", "abc", str(2**64)):
        response = world.client("admin_a").post(f"/api/v1/users/{bad}/password")
        assert response.status_code == 422 and code(response) == "AF431", (bad, response.text)


@pytest.fixture(scope="module")
def support_request(world: Any) -> int:
    """agent_a1 asks for the team lead after a hard contact."""
    posted = world.client("agent_a1").post("/api/v1/wellbeing/checkins", json={
        "kind": "lead", "self_check": [4, 3, 2], "note": "客户骂了十分钟，说要去电视台曝光我们，我有点缓不过来"})
    assert posted.status_code == 201, posted.text
    requests = world.client("sup_a1").get("/api/v1/wellbeing/team").json()["support_requests"]
    return next(r["id"] for r in requests if r["user_id"] == world.users["agent_a1"].id and r["handled_at"] is None)


def test_other_roles_teams_and_tenants_cannot_mark_it(world: Any, support_request: int) -> None:
    url = f"/api/v1/wellbeing/requests/{support_request}/handled"
    for who in ("agent_a1", "agent_a2", "auditor_a"):
        response = world.client(who).post(url)
        assert response.status_code == 403 and code(response) == "AF417", (who, response.text)
    for who in ("sup_a2", "admin_b", "sup_b1"):
        response = world.client(who).post(url)
        assert response.status_code == 404 and code(response) == "AF503", (who, response.text)
    requests = world.client("sup_a1").get("/api/v1/wellbeing/team").json()["support_requests"]
    assert next(r for r in requests if r["id"] == support_request)["handled_at"] is None


def test_the_team_supervisor_marks_a_request_handled(world: Any, support_request: int) -> None:
    response = world.client("sup_a1").post(f"/api/v1/wellbeing/requests/{support_request}/handled")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == support_request and body["kind"] == "lead" and body["handled_at"] is not None
    assert body["name"] == "agent_a1" and "缓不过来" not in response.text and "self_check" not in body
    requests = world.client("admin_a").get("/api/v1/wellbeing/team").json()["support_requests"]
    assert next(r for r in requests if r["id"] == support_request)["handled_at"] is not None
    again = world.client("admin_a").post(f"/api/v1/wellbeing/requests/{support_request}/handled")
    assert again.status_code == 200 and again.json()["handled_at"] == body["handled_at"]
    bad = world.client("sup_a1").post("/api/v1/wellbeing/requests/0/handled")
    assert bad.status_code == 422 and code(bad) == "AF431"
