"""REST for the helpdesk connectors (anfu/server/routes/helpdesks.py, issue 11): an admin reads
the tenant's Chatwoot and Zammad connectors masked, creates and changes them, and runs the
connection test against a local fake of the helpdesk, through the same service as the admin
console's page; secrets never come back (a generated webhook secret once); every change and
test is audited. Agents, supervisors and auditors get 403 AF417; another tenant's admin sees
and tests only their own; bad input is 422 with an AF code. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

CW_TOKEN = "cw-bot-Tk9q2Lw8Xz"
ZM_TOKEN = "zm-agent-Pq7r4Mn2"
CW_URL = "https://cw.grid95598.cn"
ZM_URL = "https://zammad.shuiwu-rexian.cn"


class FakeHelpdesk:
    """Chatwoot's GET /api/v1/profile and Zammad's GET /api/v1/users/me; a wrong token is 401."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if request.url.path == "/api/v1/profile":
            if request.headers.get("api_access_token") != CW_TOKEN:
                return httpx.Response(401, json={"errors": ["Invalid Access Token"]})
            return httpx.Response(200, json={"id": 7, "email": "anfu-bot@95598.example.cn", "accounts": [{"id": 3}]})
        if request.url.path == "/api/v1/users/me":
            if request.headers.get("authorization") != f"Token token={ZM_TOKEN}":
                return httpx.Response(401, json={"error": "authentication failed"})
            return httpx.Response(200, json={"id": 5, "login": "rexian@shuiwu.example.cn"})
        return httpx.Response(404)


@pytest.fixture(scope="module")
def fake(world: Any) -> FakeHelpdesk:
    fake = FakeHelpdesk()
    world.ctx.services.helpdesks.transport = httpx.MockTransport(fake)
    return fake


def code(response: Any) -> str:
    return response.json()["error"]["code"]


def test_admin_configures_reads_masked_and_tests(world: Any, fake: FakeHelpdesk) -> None:
    admin = world.client("admin_a")
    listed = admin.get("/api/v1/admin/connectors")
    assert listed.status_code == 200, listed.text
    assert [(c["kind"], c["configured"]) for c in listed.json()["items"]] == [("chatwoot", False), ("zammad", False)]

    created = admin.put("/api/v1/admin/connectors/chatwoot",
                        json={"base_url": CW_URL + "/", "account": "3", "api_token": CW_TOKEN})
    assert created.status_code == 200, created.text
    body = created.json()
    generated = body["new_webhook_secret"]
    assert generated.startswith("whsec_")
    connector = body["connector"]
    assert connector["configured"] and connector["base_url"] == CW_URL and connector["account"] == "3"
    assert connector["token_hint"] == "…" + CW_TOKEN[-4:] and connector["has_webhook_secret"]
    assert connector["updated_by"] and CW_TOKEN not in created.text

    # the same service as the page: the credentials the webhook endpoint opens are these
    creds = world.ctx.services.helpdesks.credentials(world.tenants["a"].id, "chatwoot")
    assert creds.api_token == CW_TOKEN and creds.webhook_secret == generated

    tested = admin.post("/api/v1/admin/connectors/chatwoot/test")
    assert tested.status_code == 200, tested.text
    assert tested.json()["ok"] is True and "anfu-bot@95598.example.cn" in tested.json()["detail"]
    assert fake.calls[-1].headers["api_access_token"] == CW_TOKEN

    # empty secrets keep the saved ones; a changed account is kept; a bad token fails the test
    changed = admin.put("/api/v1/admin/connectors/chatwoot", json={"base_url": CW_URL, "account": "4"})
    assert changed.status_code == 200 and changed.json()["new_webhook_secret"] is None
    assert changed.json()["connector"]["account"] == "4"
    admin.put("/api/v1/admin/connectors/chatwoot",
              json={"base_url": CW_URL, "account": "3", "api_token": "cw-revoked-0000"})
    refused = admin.post("/api/v1/admin/connectors/chatwoot/test").json()
    assert refused["ok"] is False and "401" in refused["detail"]

    zammad = admin.put("/api/v1/admin/connectors/zammad",
                       json={"base_url": ZM_URL, "api_token": ZM_TOKEN, "webhook_secret": "zm-hook-Secret-88"})
    assert zammad.status_code == 200 and zammad.json()["new_webhook_secret"] is None
    assert admin.post("/api/v1/admin/connectors/zammad/test").json()["ok"] is True

    everything = admin.get("/api/v1/admin/connectors")
    for secret in (CW_TOKEN, "cw-revoked-0000", ZM_TOKEN, "zm-hook-Secret-88", generated):
        assert secret not in everything.text
    kinds = {c["kind"]: c for c in everything.json()["items"]}
    assert kinds["chatwoot"]["test_ok"] is False and kinds["zammad"]["test_ok"] is True

    audit = admin.get("/api/v1/audit", params={"action": "connector.configured"}).json()["items"]
    assert len(audit) == 4 and all(e["actor"] for e in audit)
    assert not any(s in str(audit) for s in (CW_TOKEN, ZM_TOKEN, "zm-hook-Secret-88", generated))
    assert len(admin.get("/api/v1/audit", params={"action": "connector.tested"}).json()["items"]) == 3


@pytest.mark.parametrize("who", ["agent_a1", "sup_a1", "auditor_a"])
def test_other_roles_get_403(world: Any, who: str) -> None:
    client = world.client(who)
    for response in (client.get("/api/v1/admin/connectors"),
                     client.put("/api/v1/admin/connectors/zammad", json={"base_url": ZM_URL, "api_token": ZM_TOKEN}),
                     client.post("/api/v1/admin/connectors/chatwoot/test")):
        assert response.status_code == 403, response.text
        assert code(response) == "AF417"
    token = world.token_client(who)
    assert token.get("/api/v1/admin/connectors").status_code == 403


def test_another_tenant_sees_and_tests_only_its_own(world: Any, fake: FakeHelpdesk) -> None:
    world.client("admin_a").put("/api/v1/admin/connectors/zammad", json={"base_url": ZM_URL, "api_token": ZM_TOKEN})
    other = world.client("admin_b")
    items = other.get("/api/v1/admin/connectors").json()["items"]
    assert all(not c["configured"] and c["base_url"] == "" for c in items)
    calls = len(fake.calls)
    missing = other.post("/api/v1/admin/connectors/zammad/test")
    assert missing.status_code == 422 and code(missing) == "AF678" and len(fake.calls) == calls
    # A's changes are not in B's audit log
    assert other.get("/api/v1/audit", params={"action": "connector.configured"}).json()["items"] == []
    # B's own connector does not touch A's
    other.put("/api/v1/admin/connectors/zammad", json={"base_url": "https://zammad.gas-kefu.cn", "api_token": "zm-b-Token-77"})
    a_view = {c["kind"]: c for c in world.client("admin_a").get("/api/v1/admin/connectors").json()["items"]}
    assert a_view["zammad"]["base_url"] == ZM_URL


@pytest.mark.parametrize(("kind", "body", "expected"), [
    ("chatwoot", {"base_url": CW_URL, "account": "第三个", "api_token": CW_TOKEN}, "AF678"),
    ("chatwoot", {"base_url": "ftp://cw.grid95598.cn", "account": "3", "api_token": CW_TOKEN}, "AF678"),
    ("zammad", {"base_url": "http://127.0.0.1:3000", "api_token": ZM_TOKEN}, "AF678"),
    ("zammad", {"base_url": ZM_URL, "api_token": "短"}, "AF678"),
    ("zammad", {"base_url": ZM_URL, "api_token": "带 空格 的令牌 token"}, "AF678"),
    ("freshdesk", {"base_url": ZM_URL, "api_token": ZM_TOKEN}, "AF678"),
    ("zammad", {"base_url": ZM_URL, "api_token": ZM_TOKEN, "password": "x"}, "AF431"),
    ("zammad", {"api_token": ZM_TOKEN}, "AF431"),
])
def test_bad_input_is_422_with_a_code(world: Any, kind: str, body: dict[str, str], expected: str) -> None:
    admin = world.client("admin_b")
    response = admin.put(f"/api/v1/admin/connectors/{kind}", json=body)
    assert response.status_code == 422, response.text
    assert code(response) == expected
    assert "Traceback" not in response.text and "/anfu/" not in response.text


def test_openapi_documents_the_operations(world: Any) -> None:
    paths = world.app.openapi()["paths"]
    assert set(paths["/api/v1/admin/connectors"]) >= {"get"}
    assert "put" in paths["/api/v1/admin/connectors/{kind}"]
    assert "post" in paths["/api/v1/admin/connectors/{kind}/test"]
    ok = paths["/api/v1/admin/connectors/{kind}"]["put"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["$ref"].endswith("/HelpdeskSavedPublic")
