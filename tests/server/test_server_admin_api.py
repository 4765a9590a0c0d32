"""The REST API for the rest of the workspace (issue 11): conversation routing (assign,
transfer, claim, close), supervisor alerts (list, acknowledge, assign), users, teams, API
tokens, the audit log, the canned-reply library (话术库) with its pre-send check, and the
analytics report with its exports; each with its role and tenant checks."""

from __future__ import annotations

from typing import Any


def _conversation(world: Any, who: str, ref: str, text: str = "你们乱扣费！我要投诉到12315！") -> dict[str, Any]:
    r = world.client(who).post("/api/v1/messages", json={"conversation_ref": ref, "text": text})
    assert r.status_code == 201, r.text
    return r.json()


def test_assign_transfer_claim_close(world: Any) -> None:
    conv = _conversation(world, "agent_a1", "routing-1")["conversation"]["id"]
    url = f"/api/v1/conversations/{conv}"
    agent_b = world.users["agent_a1b"].id
    assert world.client("agent_a1").post(f"{url}/assign", json={"agent_id": agent_b}).status_code == 403
    assert world.client("sup_a2").post(f"{url}/assign", json={"agent_id": agent_b}).status_code == 404
    outside = world.client("sup_a1").post(f"{url}/assign", json={"agent_id": world.users["agent_a2"].id})
    assert outside.status_code == 403
    r = world.client("sup_a1").post(f"{url}/assign", json={"agent_id": agent_b})
    assert r.status_code == 200 and r.json()["agent_id"] == agent_b
    assert world.client("agent_a1").get(url).status_code == 404
    claimed = world.client("sup_a1").post(f"{url}/claim")
    assert claimed.status_code == 200 and claimed.json()["agent_id"] == world.users["sup_a1"].id
    assert world.client("sup_a1").post(f"{url}/transfer", json={"team_id": world.teams["a2"].id}).status_code == 403
    moved = world.client("admin_a").post(f"{url}/transfer", json={"team_id": world.teams["a2"].id,
                                                                   "agent_id": world.users["agent_a2"].id})
    assert moved.status_code == 200 and moved.json()["team_id"] == world.teams["a2"].id
    assert world.client("sup_a1").get(url).status_code == 404 and world.client("sup_a2").get(url).status_code == 200
    assert world.client("auditor_a").post(f"{url}/close").status_code == 403
    closed = world.client("agent_a2").post(f"{url}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    actions = [e["action"] for e in world.client("auditor_a").get("/api/v1/audit", params={"page_size": 200})
               .json()["items"] if e["target"] == f"conversation:{conv}"]
    assert {"conversation.assigned", "conversation.claimed", "conversation.transferred",
            "conversation.closed"} <= set(actions)
    assert world.client("admin_b").post(f"{url}/close").status_code == 404


def test_alerts_list_acknowledge_assign(world: Any) -> None:
    data = _conversation(world, "agent_a1", "alerts-1", "停电三天了还没人来修，再不来人我就打12345投诉！")
    conv = data["conversation"]["id"]
    sup = world.client("sup_a1")
    alerts = sup.get("/api/v1/alerts", params={"conversation_id": conv}).json()["items"]
    assert len(alerts) == 1 and alerts[0]["state"] == "open" and alerts[0]["level"] >= 1 and alerts[0]["reasons"]
    alert = alerts[0]["id"]
    assert world.client("sup_a2").get("/api/v1/alerts", params={"conversation_id": conv}).json()["items"] == []
    assert world.client("sup_a2").post(f"/api/v1/alerts/{alert}/acknowledge", json={}).status_code == 404
    assert world.client("agent_a1").post(f"/api/v1/alerts/{alert}/acknowledge", json={}).status_code == 403
    assert world.client("auditor_a").post(f"/api/v1/alerts/{alert}/acknowledge", json={}).status_code == 403
    bad = sup.post(f"/api/v1/alerts/{alert}/assign", json={"user_id": world.users["agent_a2"].id})
    assert bad.status_code == 403
    assigned = sup.post(f"/api/v1/alerts/{alert}/assign", json={"user_id": world.users["agent_a1b"].id}).json()
    assert assigned["state"] == "assigned" and assigned["assigned_to"] == world.users["agent_a1b"].id
    acked = sup.post(f"/api/v1/alerts/{alert}/acknowledge", json={"note": "已介入"}).json()
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "user:sup_a1"
    assert sup.get("/api/v1/alerts", params={"state": "open", "conversation_id": conv}).json()["items"] == []
    assert world.client("admin_b").post(f"/api/v1/alerts/{alert}/acknowledge", json={}).status_code == 404
    # not an alert: a plain event id is missing as an alert
    events = world.client("sup_a1").get("/api/v1/events", params={"name": "alert.acknowledged"}).json()["items"]
    assert sup.post(f"/api/v1/alerts/{events[-1]['id']}/acknowledge", json={}).status_code == 404


def test_users_teams_tokens_audit(world: Any) -> None:
    admin = world.client("admin_a")
    everyone = {u["username"] for u in admin.get("/api/v1/users").json()["items"]}
    assert {"agent_a1", "sup_a1", "auditor_a", "admin_a"} <= everyone and "agent_b1" not in everyone
    team = {u["username"] for u in world.client("sup_a1").get("/api/v1/users").json()["items"]}
    assert team == {"agent_a1", "agent_a1b", "sup_a1"}
    assert world.client("agent_a1").get("/api/v1/users").status_code == 403
    assert world.client("auditor_a").get("/api/v1/users", params={"role": "admin"}).json()["items"][0]["username"] \
        == "admin_a"
    created = admin.post("/api/v1/users", json={"username": "temp_agent", "password": "Qing-Shui-He-2024!",
                                                "role": "agent", "team_id": world.teams["a1"].id})
    assert created.status_code == 201
    uid = created.json()["id"]
    moved = admin.patch(f"/api/v1/users/{uid}", json={"team_id": world.teams["a2"].id, "display_name": "临时"})
    assert moved.status_code == 200 and moved.json()["team_id"] == world.teams["a2"].id
    off = admin.patch(f"/api/v1/users/{uid}", json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert admin.patch(f"/api/v1/users/{world.users['admin_a'].id}", json={"active": False}).status_code == 403
    assert world.client("sup_a1").patch(f"/api/v1/users/{uid}", json={"active": True}).status_code == 403
    assert world.client("admin_b").patch(f"/api/v1/users/{uid}", json={"active": True}).status_code == 404
    teams = admin.post("/api/v1/teams", json={"name": "夜班"})
    assert teams.status_code == 201
    assert "夜班" in {t["name"] for t in world.client("agent_a1").get("/api/v1/teams").json()["items"]}
    assert "夜班" not in {t["name"] for t in world.client("agent_b1").get("/api/v1/teams").json()["items"]}
    assert world.client("sup_a1").post("/api/v1/teams", json={"name": "x"}).status_code == 403
    token = admin.post("/api/v1/auth/tokens", json={"name": "crm", "role": "supervisor"}).json()
    listed = admin.get("/api/v1/auth/tokens").json()["items"]
    assert any(t["id"] == token["id"] and t["prefix"] == token["prefix"] for t in listed)
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert world.client("sup_a1").get("/api/v1/auth/tokens").status_code == 403
    audit = world.client("auditor_a").get("/api/v1/audit", params={"action": "user.updated"}).json()
    assert audit["total"] >= 2 and all(e["action"] == "user.updated" for e in audit["items"])
    assert world.client("sup_a1").get("/api/v1/audit").status_code == 403
    assert world.client("admin_b").get("/api/v1/audit").json()["items"] == [] or all(
        e["target"] != f"user:{uid}" for e in world.client("admin_b").get("/api/v1/audit").json()["items"])


def test_canned_replies_pass_the_presend_check(world: Any) -> None:
    sup = world.client("sup_a1")
    good = sup.post("/api/v1/replies", json={"title": "停电致歉", "category": "outage", "emotion": "angry",
                                             "text": "非常理解您的心情，给您带来不便真的很抱歉，我马上为您联系抢修班组。"})
    assert good.status_code == 201, good.text
    rid = good.json()["id"]
    bad = sup.post("/api/v1/replies", json={"title": "规定", "text": "这是我们公司的规定，我也没办法。"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "AF670"
    assert "e.g.:" in bad.json()["error"]["message"]  # the compliant rewrite is offered
    edit_bad = sup.patch(f"/api/v1/replies/{rid}", json={"text": "你自己去营业厅问吧，不归我们管。"})
    assert edit_bad.status_code == 422 and edit_bad.json()["error"]["code"] == "AF670"
    assert world.client("agent_a1").get(f"/api/v1/replies/{rid}").json()["text"].startswith("非常理解")
    renamed = sup.patch(f"/api/v1/replies/{rid}", json={"title": "停电致歉（新）"})
    assert renamed.status_code == 200 and renamed.json()["updated_by"] == "user:sup_a1"
    assert world.client("agent_a1").post("/api/v1/replies", json={"title": "x", "text": "您好"}).status_code == 403
    assert world.client("auditor_a").patch(f"/api/v1/replies/{rid}", json={"title": "x"}).status_code == 403
    assert world.client("agent_b1").get(f"/api/v1/replies/{rid}").status_code == 404
    assert rid in [r["id"] for r in world.client("agent_a1").get("/api/v1/replies",
                                                                 params={"emotion": "angry"}).json()["items"]]
    sup.patch(f"/api/v1/replies/{rid}", json={"active": False})
    assert rid not in [r["id"] for r in world.client("agent_a1").get("/api/v1/replies").json()["items"]]
    assert rid in [r["id"] for r in sup.get("/api/v1/replies", params={"include_inactive": True}).json()["items"]]


def test_analytics_json_and_exports(world: Any) -> None:
    _conversation(world, "agent_a1", "analytics-1")
    sup = world.client("sup_a1")
    body = sup.get("/api/v1/analytics").json()
    assert "report" in body and body["report"] and "channels" in body["options"]
    filtered = sup.get("/api/v1/analytics", params={"channel": "email"}).json()
    assert filtered["report"] != body["report"]
    assert sup.get("/api/v1/analytics", params={"date_from": "2026-13-01"}).status_code == 422
    xlsx = sup.get("/api/v1/analytics/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    pdf = world.client("auditor_a").get("/api/v1/analytics/export.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    assert world.client("agent_a1").get("/api/v1/analytics/export.xlsx").status_code == 403
    assert sup.get("/api/v1/analytics/export.csv").status_code == 422
    exported = world.client("auditor_a").get("/api/v1/audit", params={"action": "analytics.exported"}).json()
    assert exported["total"] >= 2


def test_whisper_and_escalate(world: Any) -> None:
    conv = _conversation(world, "agent_a1", "whisper-1")["conversation"]["id"]
    url = f"/api/v1/conversations/{conv}"
    sent = world.client("sup_a1").post(f"{url}/whisper", json={"hint": "先道歉，再给出抢修时限"})
    assert sent.status_code == 201 and sent.json()["name"] == "supervisor.whispered"
    events = world.client("agent_a1").get("/api/v1/events", params={"conversation_id": conv,
                                                                    "name": "supervisor.whispered"}).json()
    assert [e["payload"]["text"] for e in events["items"]] == ["先道歉，再给出抢修时限"]
    assert world.client("agent_a1").post(f"{url}/whisper", json={"hint": "x"}).status_code == 403
    assert world.client("sup_a2").post(f"{url}/whisper", json={"hint": "x"}).status_code == 404
    assert world.client("sup_a1").post(f"{url}/whisper", json={"hint": ""}).status_code == 422
    up = world.client("agent_a1").post(f"{url}/escalate")
    assert up.status_code == 201 and up.json()["ticket_created"] is True
    again = world.client("agent_a1").post(f"{url}/escalate").json()
    assert again["ticket_id"] == up.json()["ticket_id"] and again["ticket_created"] is False
    escalated = world.client("sup_a1").get("/api/v1/events", params={"conversation_id": conv,
                                                                     "name": "conversation.escalated"}).json()
    assert len(escalated["items"]) == 2 and escalated["items"][0]["payload"]["reasons"][0].startswith("坐席")
    assert world.client("auditor_a").post(f"{url}/escalate").status_code == 403
    assert world.client("agent_b1").post(f"{url}/escalate").status_code == 404
