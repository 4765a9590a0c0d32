"""`GET /api/v1/search`, the lists (`GET /api/v1/conversations?scope=…`) and saved views
(`/api/v1/saved-views`) over HTTP: signed in, tenant- and role-scoped, masked by role, coded
errors — on SQLite and PostgreSQL (the `world` fixture)."""

from __future__ import annotations

from typing import Any


def _conversation(world: Any, who: str | None, team: str, text: str, **kw: Any) -> int:
    user = world.users[who] if who else None
    customer = kw.pop("customer", None)
    conv = world.store.create_conversation(world.teams[team].tenant_id, team_id=world.teams[team].id,
                                           agent_id=user.id if user else None,
                                           customer_id=customer.id if customer else None, **kw)
    world.store.append_message(conv.id, "customer", text)
    return conv.id


def test_search_finds_what_the_caller_may_open(world: Any) -> None:
    mine = _conversation(world, "agent_a1", "a1", "我的电费单上多扣了两百块，请帮我查一下电表读数")
    teammate = _conversation(world, "agent_a1b", "a1", "电表读数和上个月差太多了")
    other_team = _conversation(world, "agent_a2", "a2", "电表读数怎么一直不变")
    tenant_b = _conversation(world, "agent_b1", "b1", "电表读数异常，乙公司客户")

    def found(who: str) -> set[int]:
        r = world.client(who).get("/api/v1/search", params={"q": "电表读数", "kind": "conversation"})
        assert r.status_code == 200, r.text
        return {x["id"] for x in r.json()["results"]["conversation"]}

    assert found("agent_a1") == {mine}
    assert found("sup_a1") >= {mine, teammate} and not found("sup_a1") & {other_team, tenant_b}
    assert found("admin_a") >= {mine, teammate, other_team} and tenant_b not in found("admin_a")
    assert found("agent_b1") == {tenant_b} and found("sup_b1") == {tenant_b}
    body = world.client("agent_a1").get("/api/v1/search", params={"q": "电表读数"}).json()
    assert body["terms"] == ["电表", "读数"] and set(body["results"]) == {"conversation", "ticket", "customer"}
    hit = body["results"]["conversation"][0]
    assert hit["link"] == f"/console/{mine}" and hit["speaker"] == "customer"
    assert [hit["snippet"][s:e] for s, e in hit["highlights"]] == ["电表读数"]   # adjacent words: one mark


def test_search_masks_personal_data_for_admins_and_auditors(world: Any) -> None:
    customer, _ = world.store.upsert_customer(world.tenants["a"].id, phone="13912345670", display_name="陈美玲")
    conv = _conversation(world, "agent_a1", "a1", "我是陈美玲，手机13912345670，宽带一直掉线", customer=customer)
    seen = world.client("agent_a1").get("/api/v1/search", params={"q": "掉线 宽带"}).json()
    assert seen["masked"] is False and "13912345670" in seen["results"]["conversation"][0]["snippet"]
    person = world.client("agent_a1").get("/api/v1/search", params={"q": "陈美玲", "kind": "customer"}).json()
    assert person["results"]["customer"][0]["title"] == "陈美玲"
    for who in ("admin_a", "auditor_a"):
        body = world.client(who).get("/api/v1/search", params={"q": "宽带 掉线"}).json()
        assert body["masked"] is True
        text = next(r for r in body["results"]["conversation"] if r["id"] == conv)["snippet"]
        assert "13912345670" not in text and "139****5670" in text
        person = world.client(who).get("/api/v1/search", params={"q": "陈美玲", "kind": "customer"}).json()
        assert person["results"]["customer"][0]["title"] == "陈**"
        assert "13912345670" not in str(person)
    audit = world.client("auditor_a").get("/api/v1/search", params={"q": "宽带 掉线"}).json()
    assert next(r for r in audit["results"]["conversation"] if r["id"] == conv)["link"] == f"/review/{conv}"


def test_bad_searches_are_coded_errors(world: Any) -> None:
    client = world.client("agent_a1")
    for params, code in (({}, "AF680"), ({"q": "   "}, "AF680"), ({"q": "？！。"}, "AF680"),
                         ({"q": "退" * 101}, "AF681"), ({"q": "退款", "kind": "orders"}, "AF682")):
        r = client.get("/api/v1/search", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["code"] == code
    r = client.get("/api/v1/search", params={"q": "退款", "limit": 500})
    assert r.status_code == 422 and r.json()["error"]["code"] == "AF431"
    anonymous = world.client().get("/api/v1/search", params={"q": "退款"})
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "AF437"


def test_search_and_views_are_in_the_openapi_document(world: Any) -> None:
    paths = world.client().get("/api/v1/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/search"]
    assert {"get", "post"} <= set(paths["/api/v1/saved-views"])
    assert "delete" in paths["/api/v1/saved-views/{view_id}"]
    assert "scope" in {p["name"] for p in paths["/api/v1/conversations"]["get"]["parameters"]}


def test_lists_by_scope(world: Any) -> None:
    queued = _conversation(world, None, "a1", "排队等待的客户：停电了")
    mine = _conversation(world, "agent_a1", "a1", "已分配的会话")
    closed = _conversation(world, "agent_a1", "a1", "已经结束的会话", status="closed")
    client = world.client("agent_a1")

    def listed(scope: str, **params: Any) -> set[int]:
        r = client.get("/api/v1/conversations", params={"scope": scope, "page_size": 200, **params})
        assert r.status_code == 200, r.text
        return {c["id"] for c in r.json()["items"]}

    assert mine in listed("mine") and closed not in listed("mine")
    assert queued in listed("unassigned") and mine not in listed("unassigned")
    assert closed in listed("closed") and mine not in listed("closed")
    assert queued not in {c["id"] for c in world.client("agent_a2").get(
        "/api/v1/conversations", params={"scope": "unassigned"}).json()["items"]}
    for params, code in (({"scope": "closed", "status": "open"}, "AF684"),
                         ({"scope": "mine", "industry": "railway"}, "AF682"),
                         ({"scope": "mine", "agent_id": 1}, "AF682"),
                         ({"scope": "everything"}, "AF431")):
        r = client.get("/api/v1/conversations", params=params)
        assert r.status_code == 422 and r.json()["error"]["code"] == code, (params, r.text)


def test_saved_views_over_the_api(world: Any) -> None:
    _conversation(world, None, "a1", "等待中的投诉", channel="email")
    sup = world.client("sup_a1")
    r = sup.post("/api/v1/saved-views", json={"name": "邮件排队", "scope": "unassigned",
                                              "filters": {"channel": "email"}})
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["filters"] == {"channel": "email"} and view["scope"] == "unassigned"
    assert [v["name"] for v in sup.get("/api/v1/saved-views").json()] == ["邮件排队"]
    items = sup.get(f"/api/v1/saved-views/{view['id']}/conversations").json()["items"]
    assert items and all(c["channel"] == "email" and c["agent_id"] is None for c in items)
    again = sup.post("/api/v1/saved-views", json={"name": "邮件排队", "scope": "team"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "AF504"
    bad = sup.post("/api/v1/saved-views", json={"name": "", "scope": "team"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "AF683"
    bad = sup.post("/api/v1/saved-views", json={"name": "x", "scope": "team", "filters": {"emotion": "暴怒"}})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "AF010"
    # another user (same tenant or not) neither sees nor deletes it
    for who in ("sup_a2", "admin_a", "admin_b"):
        other = world.client(who)
        assert view["id"] not in {v["id"] for v in other.get("/api/v1/saved-views").json()}
        assert other.delete(f"/api/v1/saved-views/{view['id']}").status_code == 404
        assert other.get(f"/api/v1/saved-views/{view['id']}/conversations").status_code == 404
    token = world.token_client("sup_a1")
    assert token.get("/api/v1/saved-views").json() == []
    made = token.post("/api/v1/saved-views", json={"name": "令牌", "scope": "team"})
    assert made.status_code == 422 and made.json()["error"]["code"] == "AF505"
    assert sup.delete(f"/api/v1/saved-views/{view['id']}").status_code == 204
    assert sup.get("/api/v1/saved-views").json() == []
