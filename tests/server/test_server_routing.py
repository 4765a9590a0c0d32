"""Routing over REST (anfu/server/routes/routing.py, issue 13): an admin sets up a power queue
with auto-assignment and an agent's skills and cap; the agent signs in to routing (示闲); a
95598 outage chat from the web-chat gateway's API token lands with that agent. Roles: only
admins configure, agents set only their own presence, auditors read. Tenants never mix: another
tenant's team, queue or agent answers 404. Bad input is a coded 422."""

from __future__ import annotations

from typing import Any

OUTAGE = "你好，是95598吗？我们小区从早上八点就停电了，到现在还没来电，冰箱里的东西都要坏了，到底什么时候能修好？"


def test_an_outage_chat_is_routed_to_the_available_power_agent(make_world: Any) -> None:
    world = make_world()
    admin = world.client("admin_a")
    team = world.teams["a1"]
    agent, other = world.users["agent_a1"], world.users["agent_a1b"]
    r = admin.patch(f"/api/v1/teams/{team.id}", json={"name": "电力抢修组", "auto_assign": True})
    assert r.status_code == 200, r.text
    assert r.json()["auto_assign"] is True and r.json()["name"] == "电力抢修组"
    r = admin.post("/api/v1/routing/queues", json={"team_id": team.id, "name": "95598 停电报修", "industry": "power"})
    assert r.status_code == 201, r.text
    queue = r.json()
    r = admin.patch(f"/api/v1/routing/agents/{agent.id}", json={"industries": ["power"], "channels": ["webchat"],
                                                                "max_open": 3})
    assert r.status_code == 200, r.text
    assert r.json()["industries"] == ["power"] and r.json()["max_open"] == 3 and r.json()["presence"] == "offline"
    # nobody available yet: the chat waits in the queue, highlighted in the figures
    gateway = world.token_client("admin_a")
    first = gateway.post("/api/v1/messages", json={"conversation_ref": "wx-0001", "industry": "power",
                                                   "text": OUTAGE, "customer": {"phone": "13800138000"}})
    assert first.status_code == 201, first.text
    waiting = first.json()["conversation"]
    assert (waiting["team_id"], waiting["queue_id"], waiting["agent_id"]) == (team.id, queue["id"], None)
    supervisor = world.client("sup_a1")
    figures = {f["queue_id"]: f for f in supervisor.get("/api/v1/routing/figures").json()["items"]}
    assert figures[queue["id"]]["unassigned"] == 1 and figures[queue["id"]]["waiting"] == 1
    # the agent becomes available (示闲): the waiting chat is theirs, the busy colleague gets nothing
    world.client("agent_a1b").put("/api/v1/routing/presence", json={"presence": "busy"})
    r = world.client("agent_a1").put("/api/v1/routing/presence", json={"presence": "available"})
    assert r.status_code == 200, r.text
    assert r.json()["open_count"] == 1
    mine = world.client("agent_a1").get(f"/api/v1/conversations/{waiting['id']}")
    assert mine.status_code == 200 and mine.json()["conversation"]["agent_id"] == agent.id
    # the next chat goes straight to them
    second = gateway.post("/api/v1/messages", json={"conversation_ref": "wx-0002", "industry": "power",
                                                    "text": "又停电了，这个月第三次了！"})
    assert second.json()["conversation"]["agent_id"] == agent.id
    assert other.id not in {first.json()["conversation"]["agent_id"], second.json()["conversation"]["agent_id"]}
    audit = admin.get("/api/v1/audit", params={"action": "conversation.assigned"}).json()["items"]
    assert {(e["actor"], e["detail"]["how"]) for e in audit} == {("system:routing", "auto")}
    assert len(audit) == 2
    agents = supervisor.get("/api/v1/routing/agents").json()["items"]
    assert {a["username"] for a in agents} == {"agent_a1", "agent_a1b"}
    assert world.client("agent_a1").get("/api/v1/routing/agents").json()["items"][0]["open_count"] == 2


def test_only_admins_configure_routing_and_tenants_never_mix(world: Any) -> None:
    admin_a, admin_b = world.client("admin_a"), world.client("admin_b")
    team_a, team_b = world.teams["a2"], world.teams["b1"]
    queue = admin_a.post("/api/v1/routing/queues", json={"team_id": team_a.id, "name": "电商售后队列",
                                                         "industry": "ecommerce", "channel": "webchat"}).json()
    agent_a = world.users["agent_a2"]
    for who in ("agent_a2", "sup_a2", "auditor_a"):
        client = world.client(who)
        assert client.post("/api/v1/routing/queues", json={"team_id": team_a.id, "name": f"{who}的队列"}).status_code == 403
        assert client.patch(f"/api/v1/teams/{team_a.id}", json={"auto_assign": True}).status_code == 403
        assert client.patch(f"/api/v1/routing/agents/{agent_a.id}", json={"max_open": 50}).status_code == 403
        assert client.delete(f"/api/v1/routing/queues/{queue['id']}").status_code == 403
    for who in ("sup_a2", "auditor_a", "admin_a"):
        r = world.client(who).put("/api/v1/routing/presence", json={"presence": "available"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "AF417"
    assert world.client("agent_a2").get("/api/v1/routing/figures").status_code == 403
    assert world.client("auditor_a").get("/api/v1/routing/figures").status_code == 200
    # tenant B's admin sees none of tenant A and reaches nothing of it
    assert queue["id"] not in {q["id"] for q in admin_b.get("/api/v1/routing/queues").json()["items"]}
    assert admin_b.patch(f"/api/v1/routing/queues/{queue['id']}", json={"name": "抢走"}).status_code == 404
    assert admin_b.delete(f"/api/v1/routing/queues/{queue['id']}").status_code == 404
    assert admin_b.patch(f"/api/v1/teams/{team_a.id}", json={"auto_assign": True}).status_code == 404
    assert admin_b.patch(f"/api/v1/routing/agents/{agent_a.id}", json={"max_open": 1}).status_code == 404
    assert admin_b.post("/api/v1/routing/queues", json={"team_id": team_a.id, "name": "跨租户"}).status_code == 404
    assert agent_a.id not in {a["user_id"] for a in admin_b.get("/api/v1/routing/agents").json()["items"]}
    r = admin_b.post("/api/v1/routing/queues", json={"team_id": team_b.id, "name": "电商售后队列"})
    assert r.status_code == 201   # queue names are unique per tenant only
    # a supervisor of another team sees their own team's queues only
    assert world.client("sup_a1").get("/api/v1/routing/queues").json()["items"] == []
    # queue changes
    r = admin_a.patch(f"/api/v1/routing/queues/{queue['id']}", json={"any_channel": True, "name": "电商全渠道"})
    assert r.status_code == 200 and r.json()["channel"] is None and r.json()["name"] == "电商全渠道"
    assert admin_a.delete(f"/api/v1/routing/queues/{queue['id']}").status_code == 200
    assert admin_a.delete(f"/api/v1/routing/queues/{queue['id']}").status_code == 404


def test_bad_routing_input_is_a_coded_422(world: Any) -> None:
    admin = world.client("admin_a")
    team = world.teams["a1"]
    agent = world.users["agent_a1"]
    cases = [
        ("post", "/api/v1/routing/queues", {"team_id": team.id, "name": "x", "industry": "电力"}),
        ("post", "/api/v1/routing/queues", {"team_id": team.id, "name": ""}),
        ("post", "/api/v1/routing/queues", {"team_id": team.id, "name": "x", "channel": "Web Chat"}),
        ("patch", f"/api/v1/routing/agents/{agent.id}", {"max_open": -1}),
        ("patch", f"/api/v1/routing/agents/{agent.id}", {"industries": ["power", "电力"]}),
        ("patch", f"/api/v1/routing/agents/{agent.id}", {"skills": ["power"]}),
        ("patch", f"/api/v1/teams/{team.id}", {"name": ""}),
    ]
    for method, path, body in cases:
        r = getattr(admin, method)(path, json=body)
        assert r.status_code == 422, (path, body, r.text)
        assert r.json()["error"]["code"] == "AF431"
    r = world.client("agent_a1").put("/api/v1/routing/presence", json={"presence": "lunch"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "AF431"
    r = admin.post("/api/v1/routing/queues", json={"team_id": team.id, "name": "重名队列"})
    assert r.status_code == 201
    r = admin.post("/api/v1/routing/queues", json={"team_id": team.id, "name": "重名队列"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "AF504"
    assert admin.patch("/api/v1/routing/agents/999999", json={"max_open": 2}).status_code == 404
    # a supervisor is not an agent: no routing profile
    assert admin.patch(f"/api/v1/routing/agents/{world.users['sup_a1'].id}", json={"max_open": 2}).status_code == 404
