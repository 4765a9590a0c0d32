"""Outgoing webhooks (issue 11): an admin registers a URL and events; escalations, ticket
events and low CSAT scores become deliveries, signed with HMAC-SHA256, retried with backoff
and logged; checked against a local receiver (httpx.MockTransport)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from anfu.service.webhooks import BACKOFF, MAX_ATTEMPTS, check_url, sign, verify


class Receiver:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.answers.pop(0) if self.answers else 200)


@pytest.fixture
def hooked(make_world: Any) -> Any:
    world = make_world()
    receiver = Receiver()
    world.ctx.services.webhooks.transport = httpx.MockTransport(receiver)
    return world, receiver


def test_register_sign_deliver_and_retry(hooked: Any) -> None:
    world, receiver = hooked
    admin = world.client("admin_a")
    created = admin.post("/api/v1/webhooks", json={"url": "https://crm.example.com/anfu",
                                                   "events": ["escalation.raised", "ticket.*", "csat.low"]})
    assert created.status_code == 201, created.text
    secret, hook_id = created.json()["secret"], created.json()["id"]
    assert secret.startswith("whsec_") and "secret" not in admin.get("/api/v1/webhooks").json()["items"][0]
    msg = world.client("agent_a1").post("/api/v1/messages", json={
        "conversation_ref": "hook-1", "text": "停电三天了还没人来修，再不来人我就打12345投诉！"}).json()
    conv = msg["conversation"]["id"]
    world.client("agent_a1").post("/api/v1/tickets", json={"conversation_id": conv})
    receiver.answers = [500]  # the first delivery fails once
    hooks = world.ctx.services.webhooks
    first = hooks.deliver_due()
    assert [d.event for d in first] == ["escalation.raised", "ticket.created"]
    assert [d.state for d in first] == ["pending", "delivered"]
    failed = first[0]
    assert failed.attempts == 1 and failed.last_status == 500
    assert failed.next_attempt_at - datetime.now(timezone.utc) > BACKOFF[0] - timedelta(seconds=5)
    assert hooks.deliver_due() == []  # not due yet
    later = datetime.now(timezone.utc) + BACKOFF[0] + timedelta(seconds=1)
    hooks.clock = lambda: later
    retried = hooks.deliver_due()
    assert [(d.event, d.state, d.attempts) for d in retried] == [("escalation.raised", "delivered", 2)]
    request = receiver.requests[-1]
    body = request.content
    assert request.headers["X-Anfu-Event"] == "escalation.raised"
    assert verify(secret, request.headers["X-Anfu-Timestamp"], body, request.headers["X-Anfu-Signature"],
                  now=later.timestamp())
    assert not verify("whsec_wrong", request.headers["X-Anfu-Timestamp"], body,
                      request.headers["X-Anfu-Signature"], now=later.timestamp())
    payload = json.loads(body)
    assert payload["event"] == "escalation.raised" and payload["data"]["conversation_id"] == conv
    assert payload["data"]["level"] >= 1
    log = admin.get(f"/api/v1/webhooks/{hook_id}/deliveries").json()["items"]
    assert {(d["event"], d["state"]) for d in log} == {("escalation.raised", "delivered"),
                                                       ("ticket.created", "delivered")}
    assert world.client("admin_b").get(f"/api/v1/webhooks/{hook_id}/deliveries").status_code == 404


def test_gives_up_after_the_last_try(hooked: Any) -> None:
    world, receiver = hooked
    world.client("admin_a").post("/api/v1/webhooks", json={"url": "https://crm.example.com/x",
                                                           "events": ["escalation.raised"]})
    world.client("agent_a1").post("/api/v1/messages", json={"conversation_ref": "hook-2",
                                                            "text": "再不来人我就打12345投诉！"})
    hooks = world.ctx.services.webhooks
    receiver.answers = [503] * MAX_ATTEMPTS
    now = datetime.now(timezone.utc)
    states = []
    for attempt in range(MAX_ATTEMPTS):
        hooks.clock = lambda now=now: now
        states += [(d.state, d.attempts) for d in hooks.deliver_due()]
        now = now + (BACKOFF[attempt] if attempt < len(BACKOFF) else timedelta(0)) + timedelta(seconds=1)
    assert states[-1] == ("failed", MAX_ATTEMPTS) and len(states) == MAX_ATTEMPTS


def test_low_csat_is_delivered(hooked: Any) -> None:
    world, receiver = hooked
    world.client("admin_a").post("/api/v1/webhooks", json={"url": "https://crm.example.com/csat",
                                                           "events": ["csat.low"]})
    conv = world.client("agent_a1").post("/api/v1/messages", json={
        "conversation_ref": "hook-3", "text": "电费怎么这么高？"}).json()["conversation"]["id"]
    agent = world.client("agent_a1")
    t = agent.post("/api/v1/tickets", json={"conversation_id": conv}).json()
    for stage in ("确认问题", "提供方案", "执行方案"):
        agent.post(f"/api/v1/tickets/{t['id']}/stage", json={"to": stage})
    agent.post(f"/api/v1/tickets/{t['id']}/resolve", json={})
    link = agent.get(f"/api/v1/tickets/{t['id']}/survey-link").json()["url"]
    token = link.rsplit("/", 1)[1]
    record, low = world.ctx.desk.answer_survey(token, 1, "还是没解决")
    assert low
    delivered = world.ctx.services.webhooks.deliver_due()
    assert [d.event for d in delivered] == ["csat.low"]
    assert json.loads(receiver.requests[-1].content)["data"]["score"] == 1


def test_admins_only_and_urls_checked(hooked: Any) -> None:
    world, _ = hooked
    body = {"url": "https://crm.example.com/y", "events": ["ticket.*"]}
    assert world.client("sup_a1").post("/api/v1/webhooks", json=body).status_code == 403
    assert world.client("auditor_a").get("/api/v1/webhooks").status_code == 403
    for url in ("ftp://crm.example.com/", "http://127.0.0.1:8080/x", "http://localhost/x", "http://10.0.0.5/x",
                "https://user:pw@crm.example.com/"):
        r = world.client("admin_a").post("/api/v1/webhooks", json={"url": url, "events": ["ticket.*"]})
        assert r.status_code == 422 and r.json()["error"]["code"] == "AF671", url
    r = world.client("admin_a").post("/api/v1/webhooks", json={"url": "https://crm.example.com/", "events": ["x.y"]})
    assert r.json()["error"]["code"] == "AF672"
    assert check_url("http://10.0.0.5/x", allow_private=True)
    hook = world.client("admin_a").post("/api/v1/webhooks", json=body).json()
    off = world.client("admin_a").delete(f"/api/v1/webhooks/{hook['id']}")
    assert off.status_code == 200 and off.json()["active"] is False
    assert world.client("admin_b").delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404


def test_signature_helpers() -> None:
    body = b'{"a":1}'
    signature = sign("s3cret", 1_700_000_000, body)
    assert signature.startswith("sha256=") and verify("s3cret", "1700000000", body, signature, now=1_700_000_100)
    assert not verify("s3cret", "1700000000", body, signature, now=1_700_001_000)  # too old
    assert not verify("s3cret", "1700000000", body + b" ", signature, now=1_700_000_000)


def test_a_deletion_request_removes_the_customers_deliveries(hooked: Any) -> None:
    world, receiver = hooked
    admin = world.client("admin_a")
    hook = admin.post("/api/v1/webhooks", json={"url": "https://crm.example.com/del",
                                                "events": ["escalation.raised"]}).json()
    msg = world.client("agent_a1").post("/api/v1/messages", json={
        "conversation_ref": "hook-del", "text": "再不来人我就打12345投诉！",
        "customer": {"phone": "13911112222"}}).json()
    world.ctx.services.webhooks.deliver_due()
    log = admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
    assert [d["event"] for d in log] == ["escalation.raised"]
    assert admin.delete(f"/api/v1/customers/{msg['conversation']['customer_id']}").status_code == 200
    assert admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"] == []
