"""Helpdesk connectors (issue 11): Chatwoot and Zammad webhooks replayed with payloads shaped
as those projects document them, analysed through the service layer, and the write-back
checked against a local fake of each helpdesk's API (httpx.MockTransport)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

CHATWOOT_TOKEN = "cw-hook-7f3a9c"
ZAMMAD_SECRET = "zm-hmac-51be02"


class FakeHelpdesk:
    """Records every API call and answers like the helpdesk does (200 + a JSON body)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, request.url.path, dict(request.headers), body))
        return httpx.Response(200, json={"id": len(self.calls), **(body if isinstance(body, dict) else {})})


@pytest.fixture
def helpdesk(make_world: Any) -> Any:
    world = make_world(
        chatwoot_url="https://chat.example.com", chatwoot_api_token="cw-api-token",
        chatwoot_webhook_token=CHATWOOT_TOKEN, chatwoot_tenant="tenant-a/班组a1",
        zammad_url="https://desk.example.com", zammad_api_token="zm-api-token",
        zammad_webhook_secret=ZAMMAD_SECRET, zammad_tenant="tenant-a/班组a1")
    fake = FakeHelpdesk()
    world.app.state.connector_transport = httpx.MockTransport(fake)
    return world, fake


def chatwoot_message(message_id: int, content: str, message_type: str = "incoming", private: bool = False,
                     labels: list[str] | None = None) -> dict[str, Any]:
    """`message_created` as Chatwoot's webhook documentation shows it."""
    contact = {"id": 42, "name": "王先生", "email": "wang@example.com", "phone_number": "+8613812345678",
               "type": "contact", "avatar": "", "thumbnail": "", "additional_attributes": {}}
    agent = {"id": 3, "name": "小李", "email": "li@example.com", "type": "user"}
    return {
        "event": "message_created", "id": message_id, "content": content,
        "created_at": "2026-12-06T08:00:00.000Z", "message_type": message_type, "content_type": "text",
        "content_attributes": {}, "source_id": None, "private": private,
        "sender": contact if message_type == "incoming" else agent,
        "contact": contact,
        "conversation": {"additional_attributes": {}, "can_reply": True, "channel": "Channel::WebWidget",
                         "contact_inbox": {"contact_id": 42, "inbox_id": 1, "source_id": "abc"},
                         "id": 17, "inbox_id": 1, "labels": labels or [],
                         "meta": {"sender": contact, "assignee": agent}, "status": "open",
                         "unread_count": 1, "agent_last_seen_at": 0, "contact_last_seen_at": 0,
                         "timestamp": 1765008000},
        "account": {"id": 9, "name": "国网客服"},
        "inbox": {"id": 1, "name": "网站在线客服"},
    }


def test_chatwoot_message_is_analysed_and_written_back(helpdesk: Any) -> None:
    world, fake = helpdesk
    anon = world.client()
    payload = chatwoot_message(1001, "停电三天了还没人来修！！再不来我就打12345投诉你们！",
                               labels=["vip", "anfu-level-0"])
    r = anon.post("/api/v1/connectors/chatwoot", params={"token": CHATWOOT_TOKEN}, json=payload)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["action"] == "analysed" and out["level"] >= 1 and out["emotion"] in ("angry", "dissatisfied")
    assert out["labels"] == [f"anfu-emotion-{out['emotion']}", f"anfu-level-{out['level']}"]
    (m1, p1, h1, note), (m2, p2, h2, labels) = fake.calls
    assert (m1, p1) == ("POST", "/api/v1/accounts/9/conversations/17/messages")
    assert h1["api_access_token"] == "cw-api-token"
    assert note["private"] is True and note["message_type"] == "outgoing"
    assert "情绪：" in note["content"] and f"升级：L{out['level']}" in note["content"]
    assert "推荐话术：" in note["content"] and "1. " in note["content"]
    assert (m2, p2) == ("POST", "/api/v1/accounts/9/conversations/17/labels")
    assert labels["labels"] == ["vip", *out["labels"]]  # other labels kept, ours replaced
    # the supervisor alert in Anfu: team a1's supervisor sees the alert and the conversation
    conv = out["conversation_id"]
    alerts = world.client("sup_a1").get("/api/v1/alerts", params={"conversation_id": conv}).json()["items"]
    assert len(alerts) == 1 and alerts[0]["level"] == out["level"]
    # the same webhook again (Chatwoot retries) writes nothing twice
    again = anon.post("/api/v1/connectors/chatwoot", params={"token": CHATWOOT_TOKEN}, json=payload)
    assert again.json()["action"] == "analysed" and len(fake.calls) == 2
    # the agent's public reply is the agent's turn; our own private note is ignored (no loop)
    reply = chatwoot_message(1002, "非常抱歉，抢修人员已经出发了。", message_type="outgoing")
    assert anon.post("/api/v1/connectors/chatwoot", params={"token": CHATWOOT_TOKEN},
                     json=reply).json()["action"] == "stored"
    echo = chatwoot_message(1003, note["content"], message_type="outgoing", private=True)
    assert anon.post("/api/v1/connectors/chatwoot", params={"token": CHATWOOT_TOKEN},
                     json=echo).json()["action"] == "ignored"
    messages = world.client("sup_a1").get(f"/api/v1/conversations/{conv}").json()["messages"]
    assert [m["speaker"] for m in messages] == ["customer", "agent"] and len(fake.calls) == 2


def test_chatwoot_conversation_events_and_auth(helpdesk: Any) -> None:
    world, fake = helpdesk
    anon = world.client()
    anon.post("/api/v1/connectors/chatwoot", params={"token": CHATWOOT_TOKEN},
              json=chatwoot_message(2001, "你好，我想查电费。"))
    # conversation events carry the conversation's fields at the top level, with "account_id"
    status = {"event": "conversation_status_changed", "id": 17, "status": "resolved", "inbox_id": 1,
              "account_id": 9, "channel": "Channel::WebWidget", "can_reply": True, "messages": [],
              "meta": {"sender": {"id": 42, "name": "王先生"}, "assignee": None}, "labels": [],
              "changed_attributes": [{"status": {"previous_value": "open", "current_value": "resolved"}}]}
    closed = anon.post("/api/v1/connectors/chatwoot", params={"token": CHATWOOT_TOKEN}, json=status)
    assert closed.status_code == 200 and closed.json()["action"] == "closed"
    conv = closed.json()["conversation_id"]
    assert world.client("sup_a1").get(f"/api/v1/conversations/{conv}").json()["conversation"]["status"] == "closed"
    assert anon.post("/api/v1/connectors/chatwoot", params={"token": CHATWOOT_TOKEN},
                     json={"event": "webwidget_triggered"}).json()["action"] == "ignored"
    wrong = anon.post("/api/v1/connectors/chatwoot", params={"token": "nope"}, json=status)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "AF676"
    bad = anon.post("/api/v1/connectors/chatwoot", params={"token": CHATWOOT_TOKEN},
                    json={"event": "message_created", "content": "x", "message_type": "incoming",
                          "conversation": {"id": "17"}, "account": {"id": 9}})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "AF677"
    assert anon.post("/api/v1/connectors/chatwoot", params={"token": CHATWOOT_TOKEN},
                     content=b"not json").json()["error"]["code"] == "AF677"


def zammad_payload(article_id: int, body: str, sender: str = "Customer", internal: bool = False,
                   state: str = "open") -> dict[str, Any]:
    """A trigger webhook's body as Zammad documents it (ticket + article)."""
    return {
        "ticket": {"id": 31, "number": "31001", "title": "电费异常", "state": state, "state_id": 2,
                   "priority": "2 normal", "group": {"id": 1, "name": "Users"},
                   "owner": {"id": 5, "firstname": "Li", "lastname": "Ming"},
                   "customer": {"id": 77, "firstname": "伟", "lastname": "张", "email": "zhang@example.com",
                                "mobile": "13912345678", "phone": ""},
                   "article_count": 1, "created_at": "2026-12-06T08:00:00.000Z",
                   "updated_at": "2026-12-06T08:00:00.000Z"},
        "article": {"id": article_id, "ticket_id": 31, "from": "张伟 <zhang@example.com>", "to": "",
                    "subject": "电费异常", "body": body, "content_type": "text/html", "internal": internal,
                    "sender": sender, "type": "email", "created_at": "2026-12-06T08:00:00.000Z",
                    "attachments": []},
    }


def _signed(payload: dict[str, Any], secret: str = ZAMMAD_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    signature = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return body, {"X-Hub-Signature": signature, "Content-Type": "application/json"}


def test_zammad_article_is_analysed_and_written_back(helpdesk: Any) -> None:
    world, fake = helpdesk
    anon = world.client()
    body, headers = _signed(zammad_payload(501, "<p>你们乱扣费！<br>这是第三次了，我要投诉到12315！</p>"))
    r = anon.post("/api/v1/connectors/zammad", content=body, headers=headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["action"] == "analysed" and out["level"] >= 1
    note_call, *tag_calls = fake.calls
    assert note_call[:2] == ("POST", "/api/v1/ticket_articles")
    assert note_call[2]["authorization"] == "Token token=zm-api-token"
    assert note_call[3]["ticket_id"] == 31 and note_call[3]["internal"] is True and note_call[3]["type"] == "note"
    assert "升级：L" in note_call[3]["body"] and "推荐话术：" in note_call[3]["body"]
    assert [(c[1], c[3]) for c in tag_calls] == [
        ("/api/v1/tags/add", {"object": "Ticket", "o_id": 31, "item": label}) for label in out["labels"]]
    messages = world.client("sup_a1").get(f"/api/v1/conversations/{out['conversation_id']}").json()["messages"]
    assert messages[0]["text"].startswith("你们乱扣费！") and "<p>" not in messages[0]["text"]
    # our own internal note comes back through the trigger: ignored
    body, headers = _signed(zammad_payload(502, note_call[3]["body"], sender="Agent", internal=True))
    assert anon.post("/api/v1/connectors/zammad", content=body, headers=headers).json()["action"] == "ignored"
    # the agent's public answer is stored as the agent's turn, nothing written back
    body, headers = _signed(zammad_payload(503, "<p>非常抱歉，已为您核查账单。</p>", sender="Agent"))
    assert anon.post("/api/v1/connectors/zammad", content=body, headers=headers).json()["action"] == "stored"
    assert len(fake.calls) == 1 + len(out["labels"])
    # a closed ticket without article closes the conversation
    closing = zammad_payload(0, "", state="closed")
    closing["article"] = {}
    body, headers = _signed(closing)
    assert anon.post("/api/v1/connectors/zammad", content=body, headers=headers).json()["action"] == "closed"


def test_zammad_closing_trigger_with_the_last_article_stores_it_and_closes(helpdesk: Any) -> None:
    """A trigger fired by closing the ticket carries the agent's last answer: the answer is
    stored as the agent's turn and the conversation is closed (before, only a trigger without
    an article closed it, so tickets closed with a final reply stayed open in Anfu)."""
    world, _ = helpdesk
    anon = world.client()
    body, headers = _signed(zammad_payload(701, "<p>电表昨天坏了，到现在还没人来修</p>"))
    opened = anon.post("/api/v1/connectors/zammad", content=body, headers=headers).json()
    body, headers = _signed(zammad_payload(702, "<p>师傅已上门更换电表，工单已关闭，如有问题请随时联系。</p>",
                                           sender="Agent", state="closed"))
    closed = anon.post("/api/v1/connectors/zammad", content=body, headers=headers).json()
    assert closed["action"] == "stored" and closed["why"] == "ticket closed"
    seen = world.client("sup_a1").get(f"/api/v1/conversations/{opened['conversation_id']}").json()
    assert seen["conversation"]["status"] == "closed"
    assert seen["messages"][-1]["speaker"] == "agent" and seen["messages"][-1]["text"].startswith("师傅已上门更换电表")
    # the same delivery replayed stores nothing twice and the conversation stays closed
    again = anon.post("/api/v1/connectors/zammad", content=body, headers=headers).json()
    assert again["why"] == ""
    assert len(world.client("sup_a1").get(f"/api/v1/conversations/{opened['conversation_id']}").json()["messages"]) == 2


def test_zammad_signature_and_configuration(helpdesk: Any, make_world: Any) -> None:
    world, fake = helpdesk
    body, headers = _signed(zammad_payload(601, "<p>停电了</p>"), secret="wrong")
    r = world.client().post("/api/v1/connectors/zammad", content=body, headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "AF676" and fake.calls == []
    unsigned = world.client().post("/api/v1/connectors/zammad", content=body,
                                   headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    off = make_world()  # no connector settings
    r = off.client().post("/api/v1/connectors/zammad", content=body, headers=headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "AF675"
    r = off.client().post("/api/v1/connectors/chatwoot", params={"token": "x"}, json={"event": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "AF675"


def test_deliveries_without_a_message_id_are_stored_once(helpdesk: Any) -> None:
    """A relay or a hand-made trigger may drop the message id. A redelivery of the same message
    (same creation time and content) is still stored once, and nothing is written back twice; a
    different message at the same time is its own turn; with neither id nor time, both copies
    are kept (two "好的" may both be real)."""
    world, fake = helpdesk
    anon = world.client()
    sup = world.client("sup_a1")

    def chatwoot(content: str, **changes: Any) -> dict[str, Any]:
        payload = chatwoot_message(0, content)
        del payload["id"]
        payload.update(changes)
        r = anon.post("/api/v1/connectors/chatwoot", params={"token": CHATWOOT_TOKEN}, json=payload)
        assert r.status_code == 200, r.text
        return r.json()

    first = chatwoot("停电三天了还没人来修，再不来我就打12345投诉！")
    calls = len(fake.calls)
    assert chatwoot("停电三天了还没人来修，再不来我就打12345投诉！")["conversation_id"] == first["conversation_id"]
    assert len(fake.calls) == calls  # the redelivery wrote no second note
    chatwoot("停电三天了还没人来修，再不来我就打12345投诉！", id="")  # an empty id is no id
    chatwoot("我家里还有老人，热得受不了了")  # another message, same second
    chatwoot("好的", created_at=None)
    chatwoot("好的", created_at=None)
    texts = [m["text"] for m in sup.get(f"/api/v1/conversations/{first['conversation_id']}").json()["messages"]]
    assert texts == ["停电三天了还没人来修，再不来我就打12345投诉！", "我家里还有老人，热得受不了了", "好的", "好的"]

    payload = zammad_payload(0, "<p>电费怎么突然翻倍了？我要投诉</p>")
    del payload["article"]["id"]
    body, headers = _signed(payload)
    opened = anon.post("/api/v1/connectors/zammad", content=body, headers=headers).json()
    anon.post("/api/v1/connectors/zammad", content=body, headers=headers)
    assert len(sup.get(f"/api/v1/conversations/{opened['conversation_id']}").json()["messages"]) == 1
