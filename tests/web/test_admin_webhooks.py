"""Admin console, outgoing webhooks (anfu/server/web/admin_webhooks.py): an admin registers a
URL and events (the signing secret shown once), sees each webhook's delivery log with state,
attempts and the receiver's answer, and disables it; all audited. Other roles and tenants
cannot see, register or disable."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from anfu.service.webhooks import SIGNATURE_HEADER, verify
from tests.web.admin_world import add_admins, audit_actions, principal


@pytest.fixture(scope="module")
def world(web: Any) -> Any:
    return add_admins(web)


def register(client: Any, url: str, events: list[str]) -> Any:
    return client.post("/admin/webhooks", data={"url": url, "events": events})


def test_register_deliver_and_disable(world: Any) -> None:
    admin = world.client("root")
    form = admin.get("/admin/webhooks")
    assert form.status_code == 200 and 'value="escalation.raised"' in form.text and 'value="ticket.*"' in form.text
    page = register(admin, "https://crm.example.cn/anfu/hooks", ["escalation.raised", "ticket.*"])
    assert page.status_code == 201 and 'id="webhook-registered"' in page.text
    secret = re.search(r'id="webhook-secret">([^<]+)<', page.text).group(1)
    hooks = world.ctx.services.webhooks.list(principal(world, "root"))
    hook = next(h for h in hooks if h.url == "https://crm.example.cn/anfu/hooks")
    assert hook.events == ["escalation.raised", "ticket.*"] and hook.active
    assert secret not in admin.get("/admin/webhooks").text  # shown once
    # two events of the tenant: the receiver accepts the first and fails the second
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200 if len(seen) == 1 else 503)

    webhooks = world.ctx.services.webhooks
    webhooks.transport = httpx.MockTransport(receiver)
    tenant_id = world.users["li"].tenant_id
    webhooks._active.clear()  # noqa: SLF001  (the subscription cache: read the new webhook now)
    webhooks.enqueue(tenant_id, "escalation.raised", {"conversation_id": None, "level": 2, "reason": "客户扬言投诉12345"})
    webhooks.enqueue(tenant_id, "ticket.created", {"ticket": "TS-20261206-0001", "title": "停电三天未修复"})
    webhooks.enqueue(tenant_id, "csat.low", {"score": 1})  # not subscribed: no delivery
    webhooks.deliver_due()
    assert len(seen) == 2
    body = seen[0].content
    assert verify(secret, seen[0].headers["X-Anfu-Timestamp"], body, seen[0].headers[SIGNATURE_HEADER])
    log = admin.get(f"/admin/webhooks/{hook.id}")
    assert log.status_code == 200
    rows = dict(re.findall(r'data-delivery="\d+" data-state="([a-z]+)">\s*<td>\d+</td><td><code>([^<]+)</code>', log.text))
    assert rows == {"pending": "ticket.created", "delivered": "escalation.raised"}
    assert "HTTP 503" in log.text and "HTTP 200" in log.text
    assert re.findall(r'<td class="attempts">(\d+)</td>', log.text) == ["1", "1"]
    assert "待发送 1 · 已送达 1 · 失败 0" in log.text
    # disable: no more deliveries, the button is gone, both steps audited
    disabled = admin.post(f"/admin/webhooks/{hook.id}/disable")
    assert disabled.status_code == 200
    row = disabled.text.split(f'data-webhook="{hook.id}"')[1].split("</tr>")[0]
    assert "已停用" in row and "disable-webhook" not in row
    assert not webhooks.get(principal(world, "root"), hook.id).active
    assert any(e.target == f"webhook:{hook.id}" for e in audit_actions(world, "webhook.registered"))
    assert any(e.target == f"webhook:{hook.id}" for e in audit_actions(world, "webhook.deactivated"))
    english = world.client("root", lang="en").get(f"/admin/webhooks/{hook.id}").text
    assert "Delivery log" in english and "Pending 1 · delivered 1 · failed 0" in english


def test_bad_url_or_events_are_shown_on_the_page(world: Any) -> None:
    admin = world.client("root")
    private = register(admin, "http://127.0.0.1:8080/hook", ["escalation.raised"])
    assert private.status_code == 422 and "AF671" in private.text
    assert 'value="http://127.0.0.1:8080/hook"' in private.text  # the form keeps what was typed
    none = register(admin, "https://crm.example.cn/none", [])
    assert none.status_code == 422 and "AF672" in none.text
    unknown = register(admin, "https://crm.example.cn/x", ["conversation.deleted"])
    assert unknown.status_code == 422 and "AF672" in unknown.text
    urls = [h.url for h in world.ctx.services.webhooks.list(principal(world, "root"))]
    assert not [u for u in urls if u.endswith(("/hook", "/none", "/x"))]


def test_another_tenant_cannot_see_or_disable_the_webhook(world: Any) -> None:
    admin = world.client("root")
    register(admin, "https://bi.example.cn/anfu", ["csat.low"])
    hook = next(h for h in world.ctx.services.webhooks.list(principal(world, "root"))
                if h.url == "https://bi.example.cn/anfu")
    gas = world.client("gas_admin")
    assert "bi.example.cn" not in gas.get("/admin/webhooks").text
    assert gas.get(f"/admin/webhooks/{hook.id}").status_code == 404
    assert gas.post(f"/admin/webhooks/{hook.id}/disable").status_code == 404
    assert world.ctx.services.webhooks.get(principal(world, "root"), hook.id).active


@pytest.mark.parametrize("who", ["li", "wang", "qa"])
def test_other_roles_cannot_reach_or_post(world: Any, who: str) -> None:
    admin = world.client("root")
    register(admin, f"https://ops.example.cn/{who}", ["sla.breached"])
    hook = next(h for h in world.ctx.services.webhooks.list(principal(world, "root"))
                if h.url == f"https://ops.example.cn/{who}")
    client = world.client(who)
    for path in ("/admin/webhooks", f"/admin/webhooks/{hook.id}"):
        page = client.get(path)
        assert page.status_code == 403 and "ops.example.cn" not in page.text and "disable-webhook" not in page.text
    assert register(client, "https://evil.example.com/x", ["csat.low"]).status_code == 403
    assert client.post(f"/admin/webhooks/{hook.id}/disable").status_code == 403
    hooks = world.ctx.services.webhooks.list(principal(world, "root"))
    assert not [h for h in hooks if "evil" in h.url]
    assert next(h for h in hooks if h.id == hook.id).active
