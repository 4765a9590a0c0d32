"""Routing on the web pages (anfu/server/web/admin_teams.py and routing.py, issue 13): the
admin creates and renames a team, adds a power queue, switches auto-assignment on and sets an
agent's skills and cap; the agent signs in to routing (示闲) on the console; a 95598 outage chat
then lands with that agent; the wallboard's queue table highlights what waits; every page and
change is refused to the wrong role; a bad value shows its AF code; English is complete."""

from __future__ import annotations

import re
from typing import Any

import pytest

from anfu.security.passwords import hash_password
from tests.web.conftest import PASSWORD

OUTAGE = "你好，是95598吗？我们小区从早上八点就停电了，到现在还没来电，冰箱里的东西都要坏了，到底什么时候能修好？"


@pytest.fixture(scope="module")
def world(web: Any) -> Any:
    store = web.store
    tenant_id = web.users["li"].tenant_id
    root = store.create_user(tenant_id, "routing-admin", hash_password(PASSWORD), "admin", display_name="路由管理员")
    web.users["routing-admin"] = store.update_user(root.id, mfa_enabled=True)
    return web


def _chat(web: Any, ref: str, text: str = OUTAGE) -> dict[str, Any]:
    body = {"speaker": "customer", "text": text, "channel": "webchat", "industry": "power", "conversation_ref": ref}
    response = web.integration().post("/api/v1/messages", json=body)
    assert response.status_code == 201, response.text
    return response.json()["conversation"]


def test_admin_sets_up_routing_and_an_outage_chat_lands_with_the_available_agent(world: Any) -> None:
    admin = world.client("routing-admin")
    page = admin.get("/admin/teams")
    assert page.status_code == 200 and "班组与路由" in page.text and 'id="agents"' in page.text
    team_id = world.users["li"].team_id
    # create and rename a team; a duplicate name is refused with its code
    assert admin.post("/admin/teams", data={"name": "抢修夜班"}).status_code == 303
    night = next(t for t in world.store.list_teams(world.users["li"].tenant_id) if t.name == "抢修夜班")
    assert admin.post(f"/admin/teams/{night.id}", data={"name": "抢修夜班组"}).status_code == 303
    dup = admin.post(f"/admin/teams/{night.id}", data={"name": "95598一组"})
    assert dup.status_code == 409 and "AF504" in dup.text
    # the power queue of 95598一组, auto-assignment on
    r = admin.post(f"/admin/teams/{team_id}/queues", data={"name": "95598 停电报修", "industry": "power", "channel": ""})
    assert r.status_code == 303
    bad = admin.post(f"/admin/teams/{team_id}/queues", data={"name": "坏队列", "industry": "电力"})
    assert bad.status_code == 422 and "AF505" in bad.text
    assert admin.post(f"/admin/teams/{team_id}", data={"auto_assign": "1"}).status_code == 303
    page = admin.get("/admin/teams?done=team").text
    assert "95598 停电报修" in page and "自动分配：开" in page
    # li: power and web chat, cap 2; zhao: telecom only
    li, zhao = world.users["li"], world.users["zhao"]
    r = admin.post(f"/admin/agents/{li.id}", data={"team_id": str(team_id), "industries": ["power"],
                                                    "channels": ["webchat"], "max_open": "2"})
    assert r.status_code == 303
    r = admin.post(f"/admin/agents/{zhao.id}", data={"team_id": str(team_id), "industries": ["telecom"], "max_open": "5"})
    assert r.status_code == 303
    bad = admin.post(f"/admin/agents/{li.id}", data={"team_id": str(team_id), "max_open": "很多"})
    assert bad.status_code == 422 and "AF505" in bad.text
    profile = {p.username: p for p in world.ctx.services.routing.routes.agent_profiles(li.tenant_id)}
    assert (profile["li"].industries, profile["li"].channels, profile["li"].max_open) == (["power"], ["webchat"], 2)
    # nobody is available: the chat waits and the wallboard's queue table highlights it
    waiting = _chat(world, "wx-routing-1")
    assert waiting["agent_id"] is None and waiting["queue_id"] is not None
    wall = world.client("wang").get("/wallboard/queues")
    assert wall.status_code == 200
    row = re.search(r'<tr data-queue="%d" class="unassigned-row">(.*?)</tr>' % waiting["queue_id"], wall.text, re.S)
    assert row and "queue-unassigned" in row.group(1) and "95598 停电报修" in row.group(1)
    assert 'hx-get="/wallboard/queues"' in world.client("wang").get("/wallboard").text
    # li and zhao sign in to routing on the console: li (power) gets the waiting chat
    console = world.client("li").get("/console")
    assert 'hx-get="/routing/presence"' in console.text
    fragment = world.client("li").get("/routing/presence")
    assert fragment.status_code == 200 and 'data-presence="available"' in fragment.text
    world.client("zhao").post("/routing/presence", data={"presence": "available"})
    r = world.client("li").post("/routing/presence", data={"presence": "available"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'aria-pressed="true" data-presence="available"' in r.text
    assert world.store.get_conversation(waiting["id"]).agent_id == li.id
    nxt = _chat(world, "wx-routing-2", "又停电了，这个月第三次了！")
    assert nxt["agent_id"] == li.id
    third = _chat(world, "wx-routing-3", "停电了，什么时候来电？")
    assert third["agent_id"] is None          # li is at the cap, zhao has no power skill
    audit = world.client("routing-admin").get("/admin/audit", params={"action": "conversation.assigned"}).text
    assert "system:routing" in audit
    english = world.client("routing-admin", lang="en").get("/admin/teams").text
    assert "Teams and routing" in english and "Auto-assignment: on" in english and "Cap" in english


def test_routing_pages_refuse_the_wrong_roles(world: Any) -> None:
    team_id = world.users["li"].team_id
    for who in ("li", "wang", "qa"):
        client = world.client(who)
        assert client.get("/admin/teams").status_code == 403
        assert client.post("/admin/teams", data={"name": f"{who}的班组"}).status_code == 403
        assert client.post(f"/admin/teams/{team_id}", data={"auto_assign": "0"}).status_code == 403
        assert client.post(f"/admin/agents/{world.users['li'].id}", data={"max_open": "9"}).status_code == 403
    for who in ("wang", "qa", "routing-admin"):
        assert world.client(who).get("/routing/presence").status_code == 403
        assert world.client(who).post("/routing/presence", data={"presence": "available"}).status_code == 403
    assert world.client("li").get("/wallboard/queues").status_code == 403
    assert world.client("li").post("/routing/presence", data={"presence": "lunch"}).status_code == 422
    # no CSRF token: refused
    client = world.client("routing-admin")
    del client.headers["X-CSRF-Token"]
    assert client.post("/admin/teams", data={"name": "无令牌"}).status_code == 403
