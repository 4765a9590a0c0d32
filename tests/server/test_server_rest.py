from __future__ import annotations

from typing import Any


def test_ingest_is_durable_idempotent_and_assessed(world: Any) -> None:
    client = world.client("agent_a1")
    body = {"conversation_ref": "chat-rest-1", "speaker": "customer", "client_msg_id": "rest-m1",
            "text": "停电三天了还没人来修，家里老人热得受不了，再不来人我就打12345投诉！",
            "customer": {"name": "刘女士", "phone": "13700001111"}}
    first = client.post("/api/v1/messages", json=body)
    assert first.status_code == 201, first.text
    data = first.json()
    assert data["created"] is True and data["message"]["seq"] == 1
    live = data["assessment"]
    assert live["emotion"] in ("angry", "dissatisfied", "anxious")
    assert live["intensity"] >= 2 and live["turn"]["escalation_risk"] is True
    assert live["escalation"]["level"] >= 1
    assert {"trajectory", "persona", "sop_stage", "suggestions"} <= set(live)
    assert [e["name"] for e in data["events"]].count("escalation.raised") == 1
    conv_id = data["conversation"]["id"]
    assert data["conversation"]["agent_id"] == world.users["agent_a1"].id

    # the body (serialised once by the route) is exactly the documented model, validated
    from anfu.server.schemas import MessageIngestPublic

    assert first.headers["content-type"] == "application/json"
    assert MessageIngestPublic.model_validate(data).model_dump(mode="json") == data

    again = client.post("/api/v1/messages", json=body)
    assert again.status_code == 200 and again.json()["created"] is False
    assert MessageIngestPublic.model_validate(again.json()).model_dump(mode="json") == again.json()
    assert again.json()["message"]["id"] == data["message"]["id"] and again.json()["events"] == []

    reply = client.post("/api/v1/messages", json={
        "conversation_id": conv_id, "speaker": "agent", "client_msg_id": "rest-m2",
        "text": "这是我们公司的规定，抢修要排队，您再等等吧。"})
    assert reply.status_code == 201
    assert reply.json()["assessment"]["presend"]["violation"] is True

    detail = client.get(f"/api/v1/conversations/{conv_id}").json()
    assert [m["seq"] for m in detail["messages"]] == [1, 2]
    assert len(detail["assessments"]) == 2 and detail["assessments"][-1]["upto_seq"] == 2

    events = client.get("/api/v1/events", params={"conversation_id": conv_id}).json()
    assert [e["name"] for e in events["items"]] == ["escalation.raised"]
    assert client.get("/api/v1/events", params={"after": events["next_after"],
                                                "conversation_id": conv_id}).json()["items"] == []


def test_list_filters_and_pagination(world: Any) -> None:
    client = world.client("agent_a1b")
    texts = ["你好，我想查一下这个月的电费账单。", "你们乱扣费！我要投诉到12315，还要曝光你们！",
             "宽带又断了，这都第三次了，到底能不能修好？"]
    for i, text in enumerate(texts):
        r = client.post("/api/v1/messages", json={"conversation_ref": f"list-{i}", "text": text,
                                                  "channel": "email" if i == 2 else "webchat"})
        assert r.status_code == 201
    everything = client.get("/api/v1/conversations", params={"page_size": 2}).json()
    assert everything["total"] == 3 and len(everything["items"]) == 2 and everything["pages"] == 2
    assert client.get("/api/v1/conversations", params={"page": 2, "page_size": 2}).json()["items"]
    emails = client.get("/api/v1/conversations", params={"channel": "email"}).json()
    assert emails["total"] == 1 and emails["items"][0]["channel"] == "email"
    hot = client.get("/api/v1/conversations", params={"min_level": 1}).json()
    assert hot["total"] >= 1 and all(c["escalation_level"] >= 1 for c in hot["items"])
    first = everything["items"][0]
    same = client.get("/api/v1/conversations", params={"emotion": first["emotion"]}).json()
    assert all(c["emotion"] == first["emotion"] for c in same["items"]) and same["total"] >= 1
    assert client.get("/api/v1/conversations", params={"status": "closed"}).json()["total"] == 0
    today = first["updated_at"][:10]
    assert client.get("/api/v1/conversations", params={"date_from": today}).json()["total"] == 3
    assert client.get("/api/v1/conversations", params={"date_to": "2000-01-01"}).json()["total"] == 0
    bad = client.get("/api/v1/conversations", params={"emotion": "furious"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "AF010"
    closed = client.patch(f"/api/v1/conversations/{first['id']}", json={"status": "closed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_one_timeline_across_channels(world: Any) -> None:
    client = world.client("sup_a1")
    phone = "13911112222"
    for ref, channel, text in (("tl-call", "call", "上个月电费怎么多了两百块？"),
                               ("tl-mail", "email", "我已经打过电话了，还是没人给我解释电费的问题。")):
        r = client.post("/api/v1/messages", json={"conversation_ref": ref, "channel": channel, "text": text,
                                                  "customer": {"phone": "+86 139-1111-2222"}})
        assert r.status_code == 201, r.text
    customer_id = world.store.upsert_customer(world.tenants["a"].id, phone=phone)[0].id
    timeline = client.get(f"/api/v1/customers/{customer_id}/timeline").json()
    assert [i["channel"] for i in timeline["items"]] == ["call", "email"]
    assert timeline["customer"]["phone"] == phone


def test_analyze_and_check_reply(world: Any) -> None:
    client = world.client("agent_a2")
    utt = client.post("/api/v1/analyze", json={"id": "u1", "text": "退款十天了还没到账，你们是不是骗子？"}).json()
    assert utt["id"] == "u1" and utt["emotion"] != "neutral" and "scores" in utt
    conv = client.post("/api/v1/analyze", json={"id": "c1", "turns": [
        {"speaker": "customer", "text": "话费多扣了58块，我从来没订过视频会员！"},
        {"speaker": "agent", "text": "非常抱歉，我马上帮您退订并申请退费。"},
        {"speaker": "customer", "text": "好的，谢谢你。"}]}).json()
    assert conv["id"] == "c1" and len(conv["turns"]) == 3 and "trajectory" in conv
    check = client.post("/api/v1/check-reply", json={
        "text": "不知道，这个不归我们管。",
        "context": [{"speaker": "customer", "text": "我家停电了，你们什么时候来修？"}]}).json()
    assert check["violation"] is True and check["findings"] and check["rewrite"]
    assert check["context"]["customer_text"] == "我家停电了，你们什么时候来修？"
    ok = client.post("/api/v1/check-reply", json={"text": "非常理解您的心情，我马上为您查询抢修进度。"}).json()
    assert ok["violation"] is False
    both = client.post("/api/v1/analyze", json={"text": "你好", "turns": [{"text": "你好"}]})
    assert both.status_code == 422 and both.json()["error"]["code"] == "AF431"
