"""anfu.service.helpdesks: connector settings sealed with the server key, opened only for the
connector itself; admins only; the connection test's outcomes (token refused, no answer, not the
helpdesk, wrong account) are kept and audited without secrets."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from anfu.errors import AnfuError
from anfu.security import secretbox
from anfu.service.helpdesks import Helpdesks
from anfu.store import ConnectorStore, Principal

KEY = secrets.token_urlsafe(48)
TOKEN = "zm-agent-Qw3Er5Ty"


@pytest.fixture
def desks(service_store: Any) -> tuple[Helpdesks, Principal, Any]:
    store = service_store.store
    admin = Principal.of_user(store.create_user(service_store.tenant.id, "root", "x", "admin"))
    return Helpdesks(ConnectorStore(store.engine), KEY, audit=store.audit), admin, service_store


def answer(response: httpx.Response | Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(response, Exception):
            raise response
        return response

    return httpx.MockTransport(handler)


def test_secrets_are_sealed_and_opened_only_for_the_connector(desks: Any) -> None:
    helpdesks, admin, world = desks
    saved = helpdesks.save(admin, "zammad", base_url="https://zammad.example.cn/", api_token=TOKEN)
    assert saved.new_webhook_secret and saved.new_webhook_secret.startswith("whsec_")
    assert saved.view.token_hint == "…r5Ty" and TOKEN not in str(saved.view)
    stored = ConnectorStore(world.store.engine).get_connector(world.tenant.id, "zammad")
    assert secretbox.is_sealed(stored.api_token) and TOKEN not in stored.api_token
    assert secretbox.open_secret(stored.webhook_secret, KEY) == saved.new_webhook_secret
    creds = helpdesks.credentials(world.tenant.id, "zammad")
    assert creds.api_token == TOKEN and creds.base_url == "https://zammad.example.cn" and creds.account is None
    # another key cannot open them; a stopped connector gives no credentials
    assert Helpdesks(ConnectorStore(world.store.engine), secrets.token_urlsafe(48)).credentials(
        world.tenant.id, "zammad").api_token != TOKEN
    helpdesks.save(admin, "zammad", base_url="https://zammad.example.cn", active=False)
    assert helpdesks.credentials(world.tenant.id, "zammad") is None
    entries = world.store.list_audit(admin, action="connector.configured").items
    assert len(entries) == 2 and entries[1].detail["token_changed"] and not entries[0].detail["token_changed"]
    assert not any(TOKEN in str(e.detail) or saved.new_webhook_secret in str(e.detail) for e in entries)


@pytest.mark.parametrize("role", ["agent", "supervisor", "auditor"])
def test_only_admins(desks: Any, role: str) -> None:
    helpdesks, _, world = desks
    other = Principal.of_user(world.store.create_user(world.tenant.id, f"u-{role}", "x", role,
                                                      team_id=world.team.id if role != "auditor" else None))
    for call in (lambda: helpdesks.overview(other), lambda: helpdesks.test(other, "zammad"),
                 lambda: helpdesks.save(other, "zammad", base_url="https://z.example.cn", api_token=TOKEN)):
        with pytest.raises(AnfuError) as refused:
            call()
        assert refused.value.code == "AF417"


@pytest.mark.parametrize("response, expect", [
    (httpx.Response(200, json={"login": "anfu@95598.example.cn"}), (True, "signed in as anfu@95598.example.cn")),
    (httpx.Response(401, json={"error": "authentication failed"}), (False, "HTTP 401: the API token was refused")),
    (httpx.Response(502, text="Bad Gateway"), (False, "HTTP 502")),
    (httpx.Response(200, text="<html>登录</html>"), (False, "HTTP 200 but not JSON: is the base URL the helpdesk's?")),
    (httpx.ConnectError("connection refused"), (False, "no answer: ConnectError")),
    (httpx.ReadTimeout("timed out"), (False, "no answer: ReadTimeout")),
])
def test_connection_test_outcomes(desks: Any, response: Any, expect: tuple[bool, str]) -> None:
    helpdesks, admin, world = desks
    helpdesks.save(admin, "zammad", base_url="https://zammad.example.cn", api_token=TOKEN)
    helpdesks.transport = answer(response)
    result = helpdesks.test(admin, "zammad")
    assert (result.ok, result.detail) == expect
    view = next(v for v in helpdesks.overview(admin) if v.kind == "zammad")
    assert view.test_ok is expect[0] and view.test_detail == expect[1]
    tested = world.store.list_audit(admin, action="connector.tested").items[0]
    assert tested.detail["ok"] is expect[0] and "anfu@" not in str(tested.detail)  # e-mails masked in the log


def test_testing_an_unsaved_connector_and_bad_kinds(desks: Any) -> None:
    helpdesks, admin, _ = desks
    for call in (lambda: helpdesks.test(admin, "chatwoot"), lambda: helpdesks.test(admin, "freshdesk"),
                 lambda: helpdesks.save(admin, "chatwoot", base_url="https://cw.example.cn", account="0",
                                        api_token=TOKEN)):
        with pytest.raises(AnfuError) as bad:
            call()
        assert bad.value.code == "AF678"
