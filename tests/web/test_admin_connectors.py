"""Admin console, helpdesk connectors (anfu/server/web/admin_connectors.py and
anfu/service/helpdesks.py): an admin configures Chatwoot and Zammad for the tenant (base URL,
account, API token, webhook secret); secrets are sealed and never shown again (the token's last
characters only); the connection test calls the helpdesk with the saved token and keeps the
result; the webhook endpoint with `?tenant=` uses that configuration. Other roles get 403,
another tenant's admin sees and changes only their own."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from anfu.store import ConnectorStore
from tests.server.test_server_connectors import chatwoot_message
from tests.web.admin_world import add_admins, audit_actions

CW_TOKEN = "cw-bot-Tk9q2Lw8Xz"
ZM_TOKEN = "zm-agent-Pq7r4Mn2"


@pytest.fixture(scope="module")
def world(web: Any) -> Any:
    return add_admins(web)


class FakeHelpdesks:
    """Chatwoot's GET /api/v1/profile and Zammad's GET /api/v1/users/me, plus Chatwoot's
    write-back calls; a wrong token answers 401 as the helpdesks do."""

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
            return httpx.Response(200, json={"id": 5, "login": "anfu@95598.example.cn"})
        body = json.loads(request.content) if request.content else {}
        return httpx.Response(200, json={"id": len(self.calls), **(body if isinstance(body, dict) else {})})


@pytest.fixture(scope="module")
def fake(world: Any) -> FakeHelpdesks:
    fake = FakeHelpdesks()
    world.ctx.services.helpdesks.transport = httpx.MockTransport(fake)
    world.app.state.connector_transport = httpx.MockTransport(fake)
    return fake


def save(client: Any, kind: str, **form: str) -> Any:
    return client.post(f"/admin/connectors/{kind}", data={"active": "1", **form})


def test_configure_chatwoot_secrets_masked_and_tested(world: Any, fake: FakeHelpdesks) -> None:
    admin = world.client("root")
    page = admin.get("/admin/connectors")
    assert page.status_code == 200 and page.text.count("未配置") == 2
    saved = save(admin, "chatwoot", base_url="https://cw.grid95598.cn/", account="3", api_token=CW_TOKEN)
    assert saved.status_code == 200 and 'id="connector-saved"' in saved.text
    secret = re.search(r'id="connector-secret">([^<]+)<', saved.text).group(1)
    assert secret.startswith("whsec_")
    # sealed in the store, masked on the page: only the last characters of the token
    stored = ConnectorStore(world.store.engine).get_connector(world.users["li"].tenant_id, "chatwoot")
    assert stored.base_url == "https://cw.grid95598.cn" and stored.account == "3"
    assert CW_TOKEN not in stored.api_token and secret not in (stored.webhook_secret or "")
    later = admin.get("/admin/connectors").text
    assert CW_TOKEN not in later and secret not in later
    assert "…w8Xz" in later and "?tenant=grid-95598" in later
    # the connection test calls the helpdesk with the saved token and keeps the result
    tested = admin.post("/admin/connectors/chatwoot/test")
    assert tested.status_code == 200 and 'id="connector-tested"' in tested.text and "anfu-bot@95598.example.cn" in tested.text
    probe = fake.calls[-1]
    assert str(probe.url) == "https://cw.grid95598.cn/api/v1/profile" and probe.headers["api_access_token"] == CW_TOKEN
    assert "连接正常" in admin.get("/admin/connectors").text
    # saving without a token keeps it; another account is reported by the next test
    again = save(admin, "chatwoot", base_url="https://cw.grid95598.cn", account="4")
    assert again.status_code == 200 and 'id="connector-secret"' not in again.text
    assert "未测试" in again.text  # a change clears the last result
    failed = admin.post("/admin/connectors/chatwoot/test")
    assert "连接测试失败" in failed.text and "not a member of account 4" in failed.text
    assert fake.calls[-1].headers["api_access_token"] == CW_TOKEN
    # a wrong token: the helpdesk's 401 is shown as the status
    save(admin, "chatwoot", base_url="https://cw.grid95598.cn", account="3", api_token="cw-revoked-0000")
    refused = admin.post("/admin/connectors/chatwoot/test").text
    assert "HTTP 401" in refused and "连接失败" in refused
    save(admin, "chatwoot", base_url="https://cw.grid95598.cn", account="3", api_token=CW_TOKEN)
    entries = audit_actions(world, "connector.")
    assert {e.action for e in entries} >= {"connector.configured", "connector.tested"}
    assert not any(CW_TOKEN in str(e.detail) or secret in str(e.detail) for e in entries)
    world.chatwoot_secret = secret


def test_the_tenants_webhook_uses_the_saved_configuration(world: Any, fake: FakeHelpdesks) -> None:
    secret = world.chatwoot_secret
    anon = world.client()
    payload = chatwoot_message(5001, "停电三天了还没人来修！！再不来我就打12345投诉你们！")
    wrong = anon.post("/api/v1/connectors/chatwoot", params={"tenant": "grid-95598", "token": "whsec_wrong"},
                      json=payload)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "AF676"
    # the tenant's connector serves its account (3): an event of another account is refused
    other_account = anon.post("/api/v1/connectors/chatwoot", params={"tenant": "grid-95598", "token": secret},
                              json=payload)
    assert other_account.status_code == 401 and "account 3" in other_account.json()["error"]["message"]
    payload["account"]["id"] = 3
    before = len(fake.calls)
    done = anon.post("/api/v1/connectors/chatwoot", params={"tenant": "grid-95598", "token": secret}, json=payload)
    assert done.status_code == 200, done.text
    assert done.json()["action"] == "analysed" and done.json()["level"] >= 1
    writes = fake.calls[before:]
    assert writes and all(str(w.url).startswith("https://cw.grid95598.cn/api/v1/accounts/3/") for w in writes)
    assert all(w.headers["api_access_token"] == CW_TOKEN for w in writes)
    # the conversation belongs to the tenant whose connector it is
    ref = done.json()["conversation_id"]
    assert world.store.get_conversation(ref).tenant_id == world.users["li"].tenant_id
    # a tenant without a connector, or an unknown one
    for slug in ("gas-96777", "no-such-tenant"):
        missing = anon.post("/api/v1/connectors/chatwoot", params={"tenant": slug, "token": secret}, json=payload)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "AF675"


def test_zammad_and_bad_input(world: Any, fake: FakeHelpdesks) -> None:
    admin = world.client("root")
    saved = save(admin, "zammad", base_url="https://zammad.example.cn", api_token=ZM_TOKEN,
                 webhook_secret="zm-hmac-Ab12Cd34")
    assert saved.status_code == 200 and 'id="connector-secret"' not in saved.text  # the admin chose it
    tested = admin.post("/admin/connectors/zammad/test").text
    assert "连接测试成功" in tested and "anfu@95598.example.cn" in tested
    assert fake.calls[-1].headers["authorization"] == f"Token token={ZM_TOKEN}"
    for form, why in (({"base_url": "ftp://cw.grid95598.cn", "account": "3", "api_token": CW_TOKEN}, "http"),
                      ({"base_url": "https://user:pw@cw.grid95598.cn", "account": "3"}, "user:password"),
                      ({"base_url": "https://cw.grid95598.cn", "account": "三"}, "account"),
                      ({"base_url": "https://cw.grid95598.cn", "account": "3", "api_token": "short"}, "8 and 500"),
                      ({"base_url": "https://10.0.0.8", "account": "3"}, "private")):
        bad = save(admin, "chatwoot", **form)
        assert bad.status_code == 422 and "AF678" in bad.text and why in bad.text, (form, bad.text[-2000:])
    assert save(admin, "freshdesk", base_url="https://x.example.cn", api_token=CW_TOKEN).status_code == 422
    new_without_token = world.client("gas_admin").post("/admin/connectors/zammad",
                                                       data={"base_url": "https://zammad.gas.example.cn"})
    assert new_without_token.status_code == 422 and "AF678" in new_without_token.text
    assert world.client("gas_admin").post("/admin/connectors/chatwoot/test").status_code == 422  # nothing saved
    english = world.client("root", lang="en").get("/admin/connectors").text
    assert "Test connection" in english and "Connected" in english and "测试连接" not in english


def test_other_tenants_and_roles(world: Any, fake: FakeHelpdesks) -> None:
    gas = world.client("gas_admin")
    page = gas.get("/admin/connectors").text
    assert "cw.grid95598.cn" not in page and page.count("未配置") == 2
    save(gas, "chatwoot", base_url="https://chatwoot.gas.example.cn", account="8", api_token="gas-token-123456")
    grid = ConnectorStore(world.store.engine).get_connector(world.users["li"].tenant_id, "chatwoot")
    assert grid.base_url == "https://cw.grid95598.cn" and grid.account == "3"  # untouched
    for who in ("li", "wang", "qa"):
        client = world.client(who)
        listing = client.get("/admin/connectors")
        assert listing.status_code == 403 and "cw.grid95598.cn" not in listing.text
        assert "test-connector" not in listing.text and "connector-form" not in listing.text
        assert save(client, "chatwoot", base_url="https://evil.example.com", account="1",
                    api_token="stolen-token-1").status_code == 403
        assert client.post("/admin/connectors/chatwoot/test").status_code == 403
    grid = ConnectorStore(world.store.engine).get_connector(world.users["li"].tenant_id, "chatwoot")
    assert grid.base_url == "https://cw.grid95598.cn"
