"""The REST API for everything the ticket pages do (issue 11): tickets end to end, filters,
role and object checks on reads and writes, bulk assignment; through the service layer's desk."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest


def _escalated(world: Any, who: str, ref: str) -> int:
    r = world.client(who).post("/api/v1/messages", json={
        "conversation_ref": ref, "text": "停电三天了还没人来修，再不来人我就打12345投诉！",
        "customer": {"phone": "13700002222"}})
    assert r.status_code == 201, r.text
    return r.json()["conversation"]["id"]


@pytest.fixture(scope="module")
def ticket(world: Any) -> dict[str, Any]:
    conv = _escalated(world, "agent_a1", "desk-api-1")
    r = world.client("agent_a1").post("/api/v1/tickets", json={"conversation_id": conv})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_from_conversation_is_idempotent(world: Any, ticket: dict[str, Any]) -> None:
    assert ticket["created"] is True and ticket["number"].startswith("TS-")
    assert ticket["status"] == "open" and ticket["stage"] == "接收反馈" and ticket["sla"]["state"] == "ok"
    assert ticket["owner_id"] == world.users["agent_a1"].id and ticket["cause"] in ("repair", "outage", "other")
    again = world.client("agent_a1").post("/api/v1/tickets", json={"conversation_id": ticket["conversation_id"]})
    assert again.status_code == 201 and again.json()["created"] is False and again.json()["id"] == ticket["id"]


def test_sop_pause_resume_note_resolve_followup_survey_reopen(world: Any) -> None:
    conv = _escalated(world, "agent_a1", "desk-api-flow")
    agent = world.client("agent_a1")
    t = agent.post("/api/v1/tickets", json={"conversation_id": conv}).json()
    url = f"/api/v1/tickets/{t['id']}"
    assert agent.post(f"{url}/respond", json={"note": "已致电客户"}).json()["first_response_at"]
    for stage in ("确认问题", "提供方案"):
        r = agent.post(f"{url}/stage", json={"to": stage})
        assert r.status_code == 200 and r.json()["stage"] == stage
    skip = agent.post(f"{url}/stage", json={"to": "跟进回访"})
    assert skip.status_code == 409 and skip.json()["error"]["code"] == "AF603"
    paused = agent.post(f"{url}/pause", json={"note": "等客户提供户号"}).json()
    assert paused["status"] == "waiting_customer" and paused["sla"]["state"] == "paused"
    assert agent.post(f"{url}/resume", json={}).json()["status"] == "open"
    noted = agent.post(f"{url}/notes", json={"note": "已联系抢修班组"})
    assert noted.status_code == 201 and noted.json()["history"][-1]["kind"] == "note"
    early = agent.post(f"{url}/resolve", json={})
    assert early.status_code == 409 and early.json()["error"]["code"] == "AF603"
    assert agent.get(f"{url}/survey-link").json()["error"]["code"] == "AF608"
    assert agent.get(f"{url}/followup").json()["error"]["code"] == "AF621"
    agent.post(f"{url}/stage", json={"to": "执行方案"})
    resolved = agent.post(f"{url}/resolve", json={"note": "已恢复供电"}).json()
    assert resolved["status"] == "resolved" and resolved["stage"] == "跟进回访"
    follow = agent.get(f"{url}/followup").json()
    assert follow["state"] == "scheduled" and follow["overdue"] is False
    link = agent.get(f"{url}/survey-link").json()["url"]
    path = urlsplit(link).path
    assert path.startswith("/survey/")
    done = agent.post(f"{url}/followup", json={"reached": True, "solved": True, "note": "客户确认已恢复"})
    assert done.status_code == 200 and done.json()["state"] == "done" and done.json()["problem_solved"] is True
    ledger = agent.get(f"{url}/ledger").json()
    assert ledger["data"]["rechecked_at"] and "fed_back" in ledger["missing"]
    fed = agent.post(f"{url}/ledger/feedback", json={"note": "反馈至抢修班组"}).json()
    assert "fed_back" not in fed["missing"]
    closed = agent.post(f"{url}/close", json={}).json()
    assert closed["status"] == "closed"
    reopened = agent.post(f"{url}/reopen", json={"reason": "客户来电称又停电了"}).json()
    assert reopened["status"] == "reopened" and reopened["stage"] == "确认问题" and reopened["reopen_count"] == 1
    kinds = [h["kind"] for h in reopened["history"]]
    assert kinds[0] == "created" and "responded" in kinds and "note" in kinds


def test_update_priority_cause_owner_and_filters(world: Any, ticket: dict[str, Any]) -> None:
    sup = world.client("sup_a1")
    url = f"/api/v1/tickets/{ticket['id']}"
    changed = sup.patch(url, json={"priority": "urgent", "cause": "billing",
                                   "owner_id": world.users["agent_a1b"].id, "note": "转交"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["priority"] == "urgent" and body["cause"] == "billing"
    assert body["owner_id"] == world.users["agent_a1b"].id and body["owner"] == "agent_a1b"
    listing = sup.get("/api/v1/tickets", params={"cause": "billing", "owner_id": world.users["agent_a1b"].id})
    assert [t["id"] for t in listing.json()["items"]] == [ticket["id"]]
    assert sup.get("/api/v1/tickets", params={"q": ticket["number"]}).json()["total"] == 1
    assert sup.get("/api/v1/tickets", params={"customer": ticket["customer_ref"]}).json()["total"] >= 1
    assert sup.get("/api/v1/tickets", params={"sla": "breached"}).json()["total"] == 0
    assert sup.get("/api/v1/tickets", params={"stage": "接收反馈", "status": "open",
                                              "team_id": world.teams["a1"].id}).json()["total"] >= 1
    assert sup.get("/api/v1/tickets", params={"sla": "late"}).status_code == 422
    # the previous owner no longer sees it; the new one does
    assert world.client("agent_a1").get(url).status_code == 404
    assert world.client("agent_a1b").get(url).status_code == 200
    # a supervisor cannot hand it outside the team
    outside = sup.patch(url, json={"owner_id": world.users["agent_a2"].id})
    assert outside.status_code == 403 and outside.json()["error"]["code"] == "AF417"


def test_roles_tenants_and_auditors(world: Any) -> None:
    conv = _escalated(world, "agent_a1", "desk-api-roles")
    t = world.client("agent_a1").post("/api/v1/tickets", json={"conversation_id": conv}).json()
    url = f"/api/v1/tickets/{t['id']}"
    for who in ("agent_a2", "sup_a2", "agent_b1", "sup_b1", "admin_b"):
        assert world.client(who).get(url).status_code == 404, who
        assert world.client(who).post(f"{url}/notes", json={"note": "x"}).status_code == 404, who
    auditor = world.client("auditor_a")
    assert auditor.get(url).status_code == 200
    before = auditor.get(url).json()["history"]
    for path, body in (("notes", {"note": "x"}), ("respond", {}), ("pause", {}), ("stage", {"to": "确认问题"})):
        r = auditor.post(f"{url}/{path}", json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "AF417", path
    assert auditor.patch(url, json={"priority": "low"}).status_code == 403
    assert auditor.post("/api/v1/tickets", json={"conversation_id": conv}).status_code == 403
    assert world.client("admin_a").get(url).json()["history"] == before
    assert world.client("agent_b1").get("/api/v1/tickets").json()["total"] == 0 or all(
        x["id"] != t["id"] for x in world.client("agent_b1").get("/api/v1/tickets").json()["items"])
    other = world.client("agent_b1").post("/api/v1/tickets", json={"conversation_id": conv})
    assert other.status_code == 404


def test_bulk_assign(world: Any) -> None:
    ids = []
    for i in range(2):
        conv = _escalated(world, "agent_a1", f"desk-api-bulk-{i}")
        ids.append(world.client("agent_a1").post("/api/v1/tickets", json={"conversation_id": conv}).json()["id"])
    target = world.users["agent_a1b"].id
    assert world.client("agent_a1").post("/api/v1/tickets/bulk-assign",
                                         json={"ticket_ids": ids, "owner_id": target}).status_code == 403
    r = world.client("sup_a1").post("/api/v1/tickets/bulk-assign", json={"ticket_ids": ids, "owner_id": target})
    assert r.status_code == 200, r.text
    assert [t["owner_id"] for t in r.json()["items"]] == [target, target]
    # one invisible ticket: nothing changes
    conv = _escalated(world, "agent_a2", "desk-api-bulk-other")
    foreign = world.client("agent_a2").post("/api/v1/tickets", json={"conversation_id": conv}).json()["id"]
    r = world.client("sup_a1").post("/api/v1/tickets/bulk-assign",
                                    json={"ticket_ids": [ids[0], foreign], "owner_id": world.users["agent_a1"].id})
    assert r.status_code == 404
    assert world.client("sup_a1").get(f"/api/v1/tickets/{ids[0]}").json()["owner_id"] == target


def test_ledger_overview(world: Any, ticket: dict[str, Any]) -> None:
    body = world.client("admin_a").get("/api/v1/ledger").json()
    ids = {i["ticket_id"] for i in body["items"]}
    assert ticket["id"] in ids
    assert set(body["gaps"]) == {"recorded", "handled", "rechecked", "fed_back"}
    assert body["gaps"]["rechecked"] >= 1 and sum(body["departments"].values()) == len(body["items"])
    assert all(i not in ids for i in {x["ticket_id"] for x in world.client("admin_b").get("/api/v1/ledger")
                                      .json()["items"]})
    agent_ids = {i["ticket_id"] for i in world.client("agent_a2").get("/api/v1/ledger").json()["items"]}
    assert ticket["id"] not in agent_ids


def test_links_that_leave_the_workspace_use_the_public_url(make_world: Any) -> None:
    """A survey link is sent to the customer: with ANFU_PUBLIC_URL set, a request carrying a
    forged Host header cannot make it (or the ticket page's link, or the webhook address on the
    connectors page) point at another site. Found by tests/security/test_probe_web.py."""
    world = make_world(public_url="https://anfu.example-95598.cn/")
    conv = _escalated(world, "agent_a1", "desk-public-url")
    agent = world.client("agent_a1")
    t = agent.post("/api/v1/tickets", json={"conversation_id": conv}).json()
    url = f"/api/v1/tickets/{t['id']}"
    agent.post(f"{url}/respond", json={"note": "已致电客户"})
    for stage in ("确认问题", "提供方案", "执行方案"):
        agent.post(f"{url}/stage", json={"to": stage})
    assert agent.post(f"{url}/resolve", json={"note": "已恢复供电"}).status_code == 200
    forged = {"Host": "evil.example"}
    link = agent.get(f"{url}/survey-link", headers=forged).json()["url"]
    assert link.startswith("https://anfu.example-95598.cn/survey/")
    page = agent.get(f"/tickets/{t['id']}", headers=forged).text
    assert "https://anfu.example-95598.cn/survey/" in page and "evil.example" not in page
    saved = world.client("admin_a").put("/api/v1/admin/connectors/chatwoot", json={
        "base_url": "https://chat.example-95598.cn", "account": "9", "api_token": "cw-api-token-1"})
    assert saved.status_code == 200, saved.text
    admin = world.client("admin_a").get("/admin/connectors", headers=forged)
    assert admin.status_code == 200 and "https://anfu.example-95598.cn/api/v1/connectors/chatwoot?tenant=" in admin.text
    assert "evil.example" not in admin.text


@pytest.mark.parametrize("bad", ["ftp://anfu.example", "anfu.example", "https://anfu.example/?next=x",
                                 "https://user:pw@anfu.example"])
def test_public_url_must_be_a_plain_http_address(bad: str) -> None:
    from pydantic import ValidationError

    from anfu.settings import Settings

    with pytest.raises(ValidationError, match="public URL"):
        Settings(public_url=bad)
